"""API bearer tokens: issued once, stored as a SHA-256 hash, revocable, optionally course-scoped.

A token looks like ``grd_<43 url-safe characters>`` (256 random bits). Only its SHA-256
hex digest and its first 12 characters (the *prefix*, shown in lists so people can tell
tokens apart) are stored; the token itself is shown once, when it is made.

Checking a token is a lookup by its hash (a unique index). That is constant-time with
respect to the secret: an attacker learns nothing from timing about how much of a guess
matched, because the database compares digests of the guess, not the guess. A final
``hmac.compare_digest`` on the row found is belt and braces.

Who may make a token:

* the CLI (``grader create-token``, run by whoever runs the server) for any user;
* through the service with an ``actor``: an admin for anyone, or an instructor (site role
  ``instructor`` or staff of a course) for themselves. Students get tokens from the
  operator only, because a token acts with all of its owner's rights.

A course-scoped token reaches only that course: every API route that touches a course
calls :func:`require_course_scope`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import logging
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import begin_write
from grader.db import writes
from grader.errors import BadRequest
from grader.errors import Forbidden
from grader.errors import NotFound
from grader.errors import Unauthorized
from grader.models import ApiToken
from grader.models import Course
from grader.models import Enrolment
from grader.models import User
from grader.models import utcnow

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "grd_"  # noqa: S105 - a public marker, not a secret
PREFIX_LENGTH = 12
MAX_TOKEN_LENGTH = 128
MAX_NAME_LENGTH = 100
#: last_used_at is written at most this often per token (one write per request would make
#: every API read a database write on deadline night)
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)
STAFF_ROLES = ("instructor", "ta")


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    """A new token: the stored row and the secret, which is never available again."""

    row: ApiToken
    secret: str


def hash_token(raw: str) -> str:
    """The SHA-256 hex digest stored for a token."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _is_instructor_somewhere(session: Session, user: User) -> bool:
    if user.role in ("admin", "instructor"):
        return True
    return (
        session.scalar(
            select(Enrolment.id)
            .where(Enrolment.user_id == user.id, Enrolment.role.in_(STAFF_ROLES))
            .limit(1)
        )
        is not None
    )


@writes
def create_token(
    session: Session,
    *,
    user: User,
    name: str = "api",
    course_id: int | None = None,
    actor: User | None = None,
) -> IssuedToken:
    """Issue a token for ``user``; the secret is in the result and nowhere else.

    Args:
        user: whose rights the token carries.
        name: a label to tell tokens apart (e.g. "gradebook sync").
        course_id: limit the token to this course; the user must be a member of it.
        actor: who asks. None means a trusted caller (the CLI); otherwise only an admin
            (for anyone) or an instructor (for themselves) may issue tokens.

    Raises:
        BadRequest: empty or long name, inactive user, or the user is not in the course.
        Forbidden: the actor may not issue this token.
        NotFound: no such course.
    """
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise BadRequest(f"a token needs a name of 1 to {MAX_NAME_LENGTH} characters")
    if not user.is_active:
        raise BadRequest(f"user {user.id} is deactivated")
    if actor is not None and actor.role != "admin":
        if actor.id != user.id:
            raise Forbidden("you may issue API tokens for yourself only")
        if not _is_instructor_somewhere(session, actor):
            raise Forbidden("only instructors may issue API tokens")
    if course_id is not None:
        if session.get(Course, course_id) is None:
            raise NotFound(f"no course {course_id}")
        member = session.scalar(
            select(Enrolment.id).where(
                Enrolment.course_id == course_id, Enrolment.user_id == user.id
            )
        )
        if member is None and user.role != "admin":
            raise BadRequest(f"user {user.id} is not a member of course {course_id}")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        course_id=course_id,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:PREFIX_LENGTH],
    )
    session.add(row)
    session.commit()
    logger.info("api token issued token_id=%s user_id=%s course_id=%s", row.id, user.id, course_id)
    return IssuedToken(row=row, secret=secret)


def authenticate(session: Session, raw: str, *, now: dt.datetime | None = None) -> ApiToken:
    """The live token for a bearer string, with ``last_used_at`` brought up to date.

    Raises:
        Unauthorized: malformed, unknown, revoked, or its user is deactivated. The message
            is the same for all of them, so a caller cannot probe which.
    """
    refusal = Unauthorized("invalid or revoked API token")
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > MAX_TOKEN_LENGTH:
        raise refusal
    digest = hash_token(raw)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise refusal
    if row.revoked_at is not None:
        raise refusal
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise refusal
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        begin_write(session)
        row.last_used_at = now
        session.commit()
    return row


def token_user(session: Session, token: ApiToken) -> User:
    """The user a token acts for."""
    user = session.get(User, token.user_id)
    assert user is not None, f"token {token.id} has no user"
    return user


def require_course_scope(token: ApiToken, course_id: int) -> None:
    """Refuse a course-scoped token outside its course.

    Raises:
        Forbidden: the token is limited to another course.
    """
    if token.course_id is not None and token.course_id != course_id:
        raise Forbidden(
            f"this API token is limited to course {token.course_id}; "
            f"course {course_id} is out of its scope"
        )


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included."""
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def find_token(session: Session, ident: str) -> ApiToken:
    """A token by its numeric id or its prefix (``grd_AbCdEfGh``).

    Raises:
        NotFound: no token matches.
        BadRequest: the prefix matches more than one token.
    """
    ident = ident.strip()
    if ident.isdigit():
        row = session.get(ApiToken, int(ident))
        if row is None:
            raise NotFound(f"no API token {ident}")
        return row
    rows = list(session.scalars(select(ApiToken).where(ApiToken.prefix == ident[:PREFIX_LENGTH])))
    if not rows:
        raise NotFound(f"no API token with prefix {ident[:PREFIX_LENGTH]}")
    if len(rows) > 1:
        raise BadRequest(f"prefix {ident[:PREFIX_LENGTH]} matches several tokens; use the id")
    return rows[0]


@writes
def revoke_token(session: Session, token: ApiToken, *, actor: User | None = None) -> ApiToken:
    """Revoke a token (again is a no-op). Its next request answers 401.

    Raises:
        NotFound: the actor is neither the owner nor an admin (ids are not probed).
    """
    if actor is not None and actor.role != "admin" and actor.id != token.user_id:
        raise NotFound(f"no API token {token.id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.commit()
        logger.info("api token revoked token_id=%s user_id=%s", token.id, token.user_id)
    return token
