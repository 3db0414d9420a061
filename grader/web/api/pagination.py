"""Cursor pagination for list endpoints.

Every list is ordered by ``id`` ascending and answers::

    {"items": [...], "next_cursor": "aWQ6NDI" | null}

with, when there is a next page, ``Link: <...?limit=50&cursor=aWQ6NDI>; rel="next"``.
``limit`` is 1..200 (default 50); ``cursor`` is opaque (it encodes the last id seen), so
a page never skips or repeats rows when rows are added meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from typing import TypeVar
from urllib.parse import urlencode

from flask import Response
from flask import jsonify
from flask import request

from grader.errors import BadRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class PageRequest:
    limit: int
    after: int  # the last id of the previous page; 0 for the first page


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a cursor stands for.

    Raises:
        BadRequest: not a cursor this API made.
    """
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    kind, _, value = text.partition(":")
    if kind != "id" or not (value.isascii() and value.isdigit()) or len(value) > 12:
        raise BadRequest("cursor is not valid: pass back the next_cursor of the previous page")
    return int(value)


def page_request() -> PageRequest:
    """``limit`` and ``cursor`` from the query string, checked."""
    raw_limit = request.args.get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        if (
            not (raw_limit.isascii() and raw_limit.isdigit())
            or not 1 <= int(raw_limit) <= MAX_LIMIT
        ):
            raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}")
        limit = int(raw_limit)
    cursor = request.args.get("cursor")
    after = decode_cursor(cursor) if cursor else 0
    return PageRequest(limit, after)


def paginate(
    rows: Iterable[T],
    to_json: Callable[[T], dict[str, Any]],
    *,
    key: Callable[[T], int] = lambda row: row.id,  # type: ignore[attr-defined]
) -> Response:
    """One page of ``rows`` (any order; sorted by ``key`` here) as the list response."""
    page = page_request()
    ordered = sorted((r for r in rows if key(r) > page.after), key=key)
    chunk = ordered[: page.limit]
    more = len(ordered) > page.limit
    next_cursor = encode_cursor(key(chunk[-1])) if more and chunk else None
    response = jsonify({"items": [to_json(r) for r in chunk], "next_cursor": next_cursor})
    if next_cursor is not None:
        args = request.args.to_dict(flat=False)
        args["limit"] = [str(page.limit)]
        args["cursor"] = [next_cursor]
        url = f"{request.base_url}?{urlencode(args, doseq=True)}"
        response.headers["Link"] = f'<{url}>; rel="next"'
    return response
