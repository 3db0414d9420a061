"""CSRF, security headers and the signed-in user, for every blueprint.

* ``CSRFProtect`` guards every POST: forms carry ``csrf_token()``; our own JavaScript
  sends the token from ``<meta name="csrf-token">`` in the ``X-CSRFToken`` header.
  Token-authenticated JSON APIs exempt themselves with ``csrf.exempt``.
* Each response gets a Content-Security-Policy unless a view set its own: scripts only
  from our static files (no inline script, no CDN), images also as ``data:`` URIs (the
  variant diagrams), styles may be inline (KaTeX positions glyphs with style attributes).
  Pages are not stopped from being framed: an LMS shows LTI launches in an iframe; the
  sign-in pages, the clickjacking target, forbid it themselves.
* ``current_user()`` is the signed-in, active user (or None); ``login_required`` sends
  anyone else to the sign-in page and back afterwards.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from typing import TypeVar
from urllib.parse import urlsplit

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import redirect
from flask import request
from flask import session as cookie_session
from flask import url_for
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import SQLAlchemyError

from grader.db import get_session
from grader.models import User
from grader.services import auth as auth_service
from grader.services import courses as course_service

csrf = CSRFProtect()

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)
#: endpoints the nav's "Instructor" link may point at, first found wins
INSTRUCTOR_ENDPOINTS = ("instructor.index", "instructor.dashboard", "instructor.courses")
LIMITER_KEY = "grader.login_limiter"

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> User | None:
    """The signed-in user, loaded once per request; None when signed out or deactivated."""
    if "current_user" not in g:
        user_id = cookie_session.get("user_id")
        g.current_user = (
            auth_service.active_user(get_session(), user_id) if user_id is not None else None
        )
    user: User | None = g.current_user
    return user


def require_user() -> User:
    """The signed-in user inside a ``login_required`` view."""
    user = current_user()
    assert user is not None, "require_user() outside login_required"
    return user


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site (no open redirects), else None."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def login_required(view: F) -> F:
    """Send signed-out visitors to the sign-in page, then back here."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            if request.path.startswith("/api/"):
                from grader.errors import Unauthorized

                raise Unauthorized("sign in first")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def sign_in(user: User) -> None:
    """Start a fresh cookie session for ``user`` (nothing from before survives)."""
    cookie_session.clear()
    cookie_session["user_id"] = user.id
    g.current_user = user


def sign_out() -> None:
    cookie_session.clear()
    g.current_user = None


def login_limiter() -> auth_service.LoginLimiter:
    limiter: auth_service.LoginLimiter = current_app.extensions[LIMITER_KEY]
    return limiter


def instructor_url() -> str | None:
    """The instructor pages' entry, when that blueprint is registered."""
    for endpoint in INSTRUCTOR_ENDPOINTS:
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    return None


def _nav() -> dict[str, Any]:
    try:
        user = current_user()
        show_instructor = False
        if user is not None:
            if "is_staff" not in g:
                g.is_staff = course_service.is_staff_anywhere(get_session(), user)
            show_instructor = bool(g.is_staff)
    except SQLAlchemyError:
        # The error page for a database outage still renders, with a signed-out nav.
        return {"current_user": None, "instructor_url": None}
    return {
        "current_user": user,
        "instructor_url": instructor_url() if show_instructor else None,
    }


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if cookie_session.get("user_id") is not None and response.mimetype == "text/html":
        # Pages for a signed-in person are theirs alone: never cache them in shared caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """CSRF on every POST, headers on every response, the user in every template."""
    csrf.init_app(app)
    app.extensions[LIMITER_KEY] = auth_service.LoginLimiter()
    app.context_processor(_nav)
    app.after_request(_headers)
