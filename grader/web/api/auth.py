"""Bearer-token authentication, course scope and the per-token rate limit.

Every API request but the OpenAPI document needs ``Authorization: Bearer grd_...``.
The limiter (``grader.services.ratelimit``) keys authenticated requests by token and
everything else (no token, a bad token, the public document) by client address, so a
script guessing tokens is slowed down as much as one hammering a real one.

Settings (``app.config``, read on first use): ``API_RATE_LIMIT_PER_MINUTE`` (default
300) and ``API_RATE_LIMIT_BURST`` (default 60).
"""

from __future__ import annotations

from flask import Response
from flask import current_app
from flask import g
from flask import request

from grader.db import get_session
from grader.errors import NotFound
from grader.errors import Unauthorized
from grader.models import ApiToken
from grader.models import User
from grader.services import tokens
from grader.services.ratelimit import TokenBucketLimiter
from grader.web.api.blueprint import bp

LIMITER_KEY = "grader.api_limiter"
DEFAULT_PER_MINUTE = 300
DEFAULT_BURST = 60
#: endpoints anyone may fetch without a token
PUBLIC_ENDPOINTS = frozenset({"api.openapi_document"})


def limiter() -> TokenBucketLimiter:
    """The app's API limiter, built from its config on first use."""
    found = current_app.extensions.get(LIMITER_KEY)
    if found is None:
        per_minute = float(current_app.config.get("API_RATE_LIMIT_PER_MINUTE", DEFAULT_PER_MINUTE))
        burst = int(current_app.config.get("API_RATE_LIMIT_BURST", DEFAULT_BURST))
        found = TokenBucketLimiter(rate=per_minute / 60.0, burst=burst)
        current_app.extensions[LIMITER_KEY] = found
    return found


def _client_key() -> str:
    return f"addr:{request.remote_addr or 'unknown'}"


@bp.before_request
def authenticate() -> None:
    """Resolve the bearer token into ``g.api_token`` and ``g.api_user``, or refuse."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.strip().partition(" ")
    raw = raw.strip()
    if request.endpoint in PUBLIC_ENDPOINTS:
        limiter().hit(_client_key())
        return
    if scheme.lower() != "bearer" or not raw:
        limiter().hit(_client_key())
        raise Unauthorized("send an API token in the header 'Authorization: Bearer grd_...'")
    session = get_session()
    try:
        token = tokens.authenticate(session, raw)
    except Unauthorized:
        limiter().hit(_client_key())
        raise
    limiter().hit(f"token:{token.id}")
    g.api_token = token
    g.api_user = tokens.token_user(session, token)


@bp.after_request
def _api_headers(response: Response) -> Response:
    """No caching of API answers (tokens, grades); a 401 says which scheme to use."""
    response.headers.setdefault("Cache-Control", "no-store")
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="grader"'
    return response


def api_user() -> User:
    """The user the request's token acts for."""
    user: User = g.api_user
    return user


def api_token() -> ApiToken:
    """The request's token."""
    token: ApiToken = g.api_token
    return token


def require_course(course_id: int) -> None:
    """Refuse (403) a course-scoped token outside its course, for routes naming a course."""
    tokens.require_course_scope(api_token(), course_id)


def require_object_in_scope(course_id: int, what: str) -> None:
    """For routes naming an object (quiz, attempt, submission): a course-scoped token sees
    objects of other courses as absent (404), the same answer as for a missing id."""
    token = api_token()
    if token.course_id is not None and token.course_id != course_id:
        raise NotFound(f"no {what}")
