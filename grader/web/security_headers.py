"""``frame-ancestors``: only our own pages and the registered LMSs may frame grader.

:mod:`grader.web.security` sets the Content-Security-Policy (scripts only from our static
files), ``nosniff`` and the referrer policy, and the sign-in pages forbid framing
altogether. What it leaves open is who may *frame* the other pages: LTI launches show
quizzes inside the LMS's iframe, so framing cannot be refused, but it need not be open to
every site (clickjacking a student's "Submit answer"). This adds, to every HTML response
whose policy does not already say, ``frame-ancestors 'self'`` plus the origins of the
active LTI registrations (issuer and OIDC login URL) and any listed in the
``FRAME_ANCESTORS`` setting (space-separated origins, for an LMS that frames from another
host than its issuer, as Canvas does from each school's own domain).

The registrations are read at most once a minute per process, through the request's
session; when the database cannot answer, the last list (or just ``'self'``) is used, so an
error page never fails for want of a header.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from flask import Flask
from flask import Response
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from grader.db import get_session
from grader.models_lti import LtiRegistration
from grader.web import security

CACHE_SECONDS = 60.0
_CACHE_KEY = "grader.frame_ancestors"


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.origins: tuple[str, ...] = ()
        self.loaded_at: float | None = None


def origin(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or None."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if any(c in parts.netloc for c in " ;,'\"") or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def lms_origins() -> tuple[str, ...]:
    """Origins of the active LTI registrations, cached per process for a minute."""
    cache: _Cache = current_app.extensions[_CACHE_KEY]
    now = time.monotonic()
    with cache.lock:
        if cache.loaded_at is not None and now - cache.loaded_at < CACHE_SECONDS:
            return cache.origins
    try:
        rows = get_session().execute(
            select(LtiRegistration.issuer, LtiRegistration.auth_login_url).where(
                LtiRegistration.is_active.is_(True)
            )
        )
        found = sorted({o for row in rows for o in map(origin, row) if o is not None})
    except SQLAlchemyError:
        return cache.origins  # the database is down: keep what we knew
    with cache.lock:
        cache.origins = tuple(found)
        cache.loaded_at = now
    return cache.origins


def frame_ancestors() -> str:
    """The ``frame-ancestors`` directive for this app."""
    configured = str(current_app.config.get("FRAME_ANCESTORS") or "").split()
    extra = [o for o in map(origin, configured) if o is not None]
    sources = ["'self'", *dict.fromkeys([*lms_origins(), *extra])]
    return "frame-ancestors " + " ".join(sources)


def _add_frame_ancestors(response: Response) -> Response:
    if response.mimetype != "text/html":
        return response
    policy = response.headers.get("Content-Security-Policy") or security.CSP
    if "frame-ancestors" in policy:
        return response
    response.headers["Content-Security-Policy"] = f"{policy}; {frame_ancestors()}"
    return response


def init_app(app: Flask) -> None:
    """Register the header hook (any order relative to :func:`grader.web.security.init_app`)."""
    app.extensions[_CACHE_KEY] = _Cache()
    app.after_request(_add_frame_ancestors)
