"""Small HTTP helpers shared by the JWKS and service clients (no framework, requests only)."""

from __future__ import annotations

import email.utils
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests

from grader.url_guard import check_url

USER_AGENT = "grader-lti/1.0 (+LTI 1.3 tool)"
"""Sent on every outgoing call: some Moodle sites answer 403 to requests without a User-Agent."""

DEFAULT_TIMEOUT = (3.05, 10.0)
"""(connect, read) seconds; never wait on an LMS forever from a web request or worker."""


class BodyTooLargeError(ValueError):
    """The response exceeded the size cap."""


def check_http_url(url: str) -> None:
    """Refuse anything but absolute http(s) URLs (links we hand out; nothing is fetched)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("only absolute http(s) URLs are allowed")


def check_fetch_url(url: str, *, allow_private: bool = False) -> None:
    """A URL we are about to call: absolute http(s) on public addresses only (the shared
    SSRF guard, :mod:`grader.url_guard`; ``allow_private`` for development and tests).

    Raises:
        ValueError: the guard's :class:`~grader.url_guard.UnsafeUrl`, saying why.
    """
    check_url(url, allow_private=allow_private, what="LMS service URL")


def redirect_guard(*, allow_private: bool) -> Callable[..., None]:
    """A requests response hook refusing a redirect to a URL the guard refuses, so a public
    URL cannot bounce a fetch to a private address (each hop is checked before it is sent)."""

    def check(response: requests.Response, *args: object, **kwargs: object) -> None:
        del args, kwargs
        if response.is_redirect:
            target = urljoin(response.url, response.headers.get("Location", ""))
            check_fetch_url(target, allow_private=allow_private)

    return check


def read_capped(response: requests.Response, max_bytes: int) -> bytes:
    """Read a streamed body, refusing more than ``max_bytes``."""
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLargeError(f"body of {declared} bytes exceeds {max_bytes}")
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_content(chunk_size=65536):
        total += len(chunk)
        if total > max_bytes:
            raise BodyTooLargeError(f"body exceeds {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def read_json_capped(response: requests.Response, max_bytes: int) -> Any:
    """Read and parse a JSON body under a size cap."""
    return json.loads(read_capped(response, max_bytes))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def media_type(content_type: str | None) -> str:
    """``application/json; charset=utf-8`` → ``application/json``."""
    return (content_type or "").split(";", 1)[0].strip().lower()
