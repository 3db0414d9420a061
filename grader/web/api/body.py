"""Request validation with clear 400s: content type, JSON syntax, fields and their types.

Oversized bodies never get here: Flask refuses anything over ``MAX_CONTENT_LENGTH`` with
413, which ``grader.web.errors`` answers as problem+json on API paths.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from flask import request
from werkzeug.exceptions import UnsupportedMediaType

from grader.errors import BadRequest
from grader.web.ids import MAX_ID


@dataclasses.dataclass(frozen=True)
class Field:
    """One expected member of a JSON object body."""

    name: str
    kind: type  # str, int or list (of str)
    required: bool = True
    max_length: int | None = None
    choices: tuple[str, ...] | None = None


def _decode_json() -> Any:
    data = request.get_data(cache=True)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 text") from None
    if not text.strip():
        raise BadRequest("the body is empty; send a JSON object")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise BadRequest("the body is nested too deeply") from None


def is_json_request() -> bool:
    return request.mimetype == "application/json" or request.mimetype.endswith("+json")


def json_object(fields: list[Field]) -> dict[str, Any]:
    """The request's JSON object, checked against ``fields`` (unknown members refused).

    Raises:
        UnsupportedMediaType: the body is not ``application/json`` (415).
        BadRequest: bad JSON, not an object, a missing/unknown member or a wrong type.
    """
    if not is_json_request():
        raise UnsupportedMediaType("send the body as application/json")
    body = _decode_json()
    return check_object(body, fields)


def check_object(body: Any, fields: list[Field]) -> dict[str, Any]:
    """Check an already-decoded body against ``fields``."""
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a JSON object, not {_json_type(body)}")
    known = {f.name for f in fields}
    unknown = sorted(k for k in body if k not in known)
    if unknown:
        raise BadRequest(
            f"unknown member {unknown[0]!r}; expected: {', '.join(sorted(known))}",
            detail={"field": unknown[0]},
        )
    result: dict[str, Any] = {}
    for f in fields:
        if f.name not in body or body[f.name] is None:
            if f.required:
                raise BadRequest(f"{f.name!r} is required", detail={"field": f.name})
            continue
        value = body[f.name]
        _check_type(f, value)
        result[f.name] = value
    return result


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _check_type(f: Field, value: Any) -> None:
    def wrong(expected: str) -> BadRequest:
        return BadRequest(
            f"{f.name!r} must be {expected}, not {_json_type(value)}", detail={"field": f.name}
        )

    if f.kind is str:
        if not isinstance(value, str):
            raise wrong("a string")
        if "\x00" in value:
            # PostgreSQL text cannot hold NUL; refuse it here rather than fail on insert.
            raise BadRequest(f"{f.name!r} contains a NUL character", detail={"field": f.name})
        if f.max_length is not None and len(value) > f.max_length:
            raise BadRequest(
                f"{f.name!r} has at most {f.max_length} characters", detail={"field": f.name}
            )
        if f.choices is not None and value not in f.choices:
            raise BadRequest(
                f"{f.name!r} must be one of {', '.join(f.choices)}", detail={"field": f.name}
            )
    elif f.kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("an integer")
        if not 0 <= value <= MAX_ID:
            raise BadRequest(f"{f.name!r} is out of range", detail={"field": f.name})
    elif f.kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong("an array of strings")
        if any("\x00" in v for v in value):
            raise BadRequest(f"{f.name!r} contains a NUL character", detail={"field": f.name})
        if f.max_length is not None and len(value) > f.max_length:
            raise BadRequest(
                f"{f.name!r} has at most {f.max_length} entries", detail={"field": f.name}
            )
        if f.choices is not None:
            bad = [v for v in value if v not in f.choices]
            if bad:
                raise BadRequest(
                    f"{f.name!r} entries must be drawn from {', '.join(f.choices)}",
                    detail={"field": f.name},
                )
    else:  # pragma: no cover - a programming error in a Field list
        raise TypeError(f"unsupported field kind {f.kind}")


def int_arg(name: str) -> int | None:
    """An optional positive integer query parameter.

    Raises:
        BadRequest: present but not a whole number in range.
    """
    raw = request.args.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
        raise BadRequest(f"{name} must be a positive whole number")
    return int(raw)


def int_args(name: str) -> list[int]:
    """A repeated positive integer query parameter (``?quiz_id=1&quiz_id=2``)."""
    values = []
    for raw in request.args.getlist(name):
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
            raise BadRequest(f"{name} must be a positive whole number")
        values.append(int(raw))
    return values


def choice_arg(name: str, choices: tuple[str, ...], default: str | None = None) -> str:
    """A query parameter restricted to ``choices``."""
    raw = request.args.get(name, default)
    if raw is None:
        raise BadRequest(f"{name} is required: one of {', '.join(choices)}")
    if raw not in choices:
        raise BadRequest(f"{name} must be one of {', '.join(choices)}")
    return raw
