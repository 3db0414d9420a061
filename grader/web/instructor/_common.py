"""Small helpers the instructor views share: the actor, the session, redirects, forms."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from sqlalchemy.orm import Session

from grader.db import get_session
from grader.errors import BadRequest
from grader.models import User
from grader.web.security import require_user


def actor() -> User:
    """The signed-in user (views are ``login_required``; services check the role)."""
    return require_user()


def db() -> Session:
    return get_session()


def back(endpoint: str, anchor: str | None = None, **values: Any) -> Response:
    """Redirect (303: the browser follows with GET) to an instructor page."""
    url = url_for(endpoint, **values)
    if anchor:
        url += f"#{anchor}"
    return redirect(url, code=303)  # type: ignore[return-value]


def fail(message: str) -> None:
    """Show a refusal on the next page (the sentence from the service, capitalised)."""
    flash(message[:1].upper() + message[1:], "error")


def form_float(name: str, default: float | None = None) -> float:
    """A number from the form, or BadRequest naming the field."""
    raw = request.form.get(name, "").strip()
    if not raw and default is not None:
        return default
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        raise BadRequest(f"{name.replace('_', ' ')} must be a number, not {raw[:20]!r}") from None


def form_int(name: str) -> int:
    raw = request.form.get(name, "").strip()
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"{name.replace('_', ' ')} must be a whole number") from None
