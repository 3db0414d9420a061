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
* Sign-ins live in the database (``grader.services.auth``): the cookie session holds the
  user's id and a random token whose SHA-256 names the sign-in's row. ``current_user()``
  checks both with one query per request; ``sign_out()`` deletes the row, so a copy of
  the cookie is dead afterwards. Code that fakes a signed-in client (tests, benches, the
  load test) gets the cookie values from :func:`new_sign_in`.
* In production the cookie is ``Secure`` and every response sends
  ``Strict-Transport-Security`` (``GRADER_HSTS_SECONDS``).
"""

from __future__ import annotations

import datetime as dt
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
from sqlalchemy.orm import Session

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
#: the cookie session's keys: the user's id and the sign-in's token
USER_ID_KEY = "user_id"
SIGN_IN_KEY = "sid"

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> User | None:
    """The signed-in, active user, loaded once per request with one query; None when
    signed out, signed out elsewhere, expired or deactivated."""
    if "current_user" not in g:
        user_id = cookie_session.get(USER_ID_KEY)
        token = cookie_session.get(SIGN_IN_KEY)
        live = (
            auth_service.session_user(get_session(), token, user_id)
            if user_id is not None and token is not None
            else None
        )
        g.current_user = live.user if live is not None else None
        if live is not None:
            g.is_staff = live.is_staff_anywhere
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


def record_sign_in(
    db: Session,
    user_id: int,
    *,
    lifetime: dt.timedelta,
    user_agent: str | None = None,
    ip: str | None = None,
    replaces: object = None,
) -> dict[str, Any]:
    """Record a sign-in of ``user_id``; returns the values the cookie session needs."""
    token = auth_service.start_session(
        db, user_id, lifetime=lifetime, user_agent=user_agent, ip=ip, replaces=replaces
    )
    return {USER_ID_KEY: user_id, SIGN_IN_KEY: token}


def new_sign_in(
    app: Flask, user_id: int, *, lifetime: dt.timedelta | None = None
) -> dict[str, Any]:
    """A recorded sign-in of ``user_id`` as cookie-session values, outside any request.

    The supported way to fake a signed-in client (tests, benches, the load test); a
    bare ``user_id`` in the cookie no longer signs anyone in::

        with client.session_transaction() as cookie:
            cookie.update(security.new_sign_in(client.application, user.id))

    Uses the app's own session factory (the rollback session in tests) and the app's
    session lifetime unless ``lifetime`` is given.
    """
    with app.app_context():
        return record_sign_in(
            get_session(),
            user_id,
            lifetime=app.permanent_session_lifetime if lifetime is None else lifetime,
        )


def sign_in(user: User) -> None:
    """Start a fresh cookie session for ``user`` (nothing from before survives).

    The sign-in is recorded in the database; one this browser had before is ended.
    """
    previous = cookie_session.get(SIGN_IN_KEY)
    cookie_session.clear()
    g.pop("is_staff", None)
    cookie_session.update(
        record_sign_in(
            get_session(),
            user.id,
            lifetime=current_app.permanent_session_lifetime,
            user_agent=request.user_agent.string,
            ip=request.remote_addr,
            replaces=previous,
        )
    )
    g.current_user = user


def sign_out() -> None:
    """End this sign-in: its row is deleted, so a copy of the cookie is dead too.

    The row goes first: if the database refuses, the error page says so and the browser
    stays signed in (to try again) rather than looking signed out with its copy alive.
    """
    token = cookie_session.get(SIGN_IN_KEY)
    if token is not None:
        auth_service.end_session(get_session(), token)
    cookie_session.clear()
    g.current_user = None


def sign_out_everywhere() -> int:
    """End every sign-in of the current user; returns how many ended."""
    user = current_user()
    ended = auth_service.end_all_sessions(get_session(), user.id) if user is not None else 0
    cookie_session.clear()
    g.current_user = None
    return ended


def login_limiter() -> auth_service.DatabaseLoginLimiter:
    """The login limit every worker shares, on this request's database session."""
    factory: Callable[[Session], auth_service.DatabaseLoginLimiter] = current_app.extensions[
        LIMITER_KEY
    ]
    return factory(get_session())


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
            # The nav shows the name: after a failed flush (an error page) the user row is
            # expired and reloading it raises here, not halfway through the template.
            _ = user.name
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
    hsts = int(current_app.config.get("HSTS_SECONDS") or 0)
    if current_app.config.get("ENV") == "production" and hsts > 0:
        # Browsers ignore it over plain HTTP, so sending it always is safe behind any proxy.
        response.headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
    if cookie_session.get(USER_ID_KEY) is not None and response.mimetype == "text/html":
        # Pages for a signed-in person are theirs alone: never cache them in shared caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """CSRF on every POST, headers on every response, the user in every template."""
    csrf.init_app(app)
    # A factory taking the request's Session; tests may swap in other limits or a clock.
    app.extensions[LIMITER_KEY] = auth_service.DatabaseLoginLimiter
    app.context_processor(_nav)
    app.after_request(_headers)
