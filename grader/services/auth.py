"""Signing in with a local account, registering with a course join code, server-side
sign-ins that signing out ends, and slowing down password guessing.

**Sign-ins** (:class:`~grader.models.UserSession`): each sign-in is a row keyed by the
SHA-256 of a random token that only the cookie holds (:func:`start_session`). A request
is signed in when :func:`session_user` finds the user *and* a live row in one query;
:func:`end_session` (sign out) and :func:`end_all_sessions` (sign out everywhere,
:func:`deactivate_user`) delete rows, so a copied cookie stops working at once. Rows
carry an absolute expiry (the app's session lifetime); expired rows are refused, and
deleted at that user's next sign-in or by :func:`prune_expired_sessions`. Nothing is
written per request.

**The login limit** (:class:`DatabaseLoginLimiter`, what the web app uses): at most
``max_failures`` wrong passwords per (email, client IP) in a sliding window, then
``TooManyRequests`` with the seconds until the oldest failure leaves the window. The
failures are rows in ``login_failures``, so every gunicorn worker (and every machine)
counts the same ones and a restart forgets nothing. :class:`LoginLimiter` keeps the same
rules in one process's memory, for scripts and tests that have no database.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import functools
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from grader.db import begin_write
from grader.db import writes
from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import TooManyRequests
from grader.errors import Unauthorized
from grader.models import Enrolment
from grader.models import LoginFailure
from grader.models import User
from grader.models import UserSession
from grader.models import utcnow
from grader.services import accounts
from grader.services.courses import SITE_STAFF_ROLES
from grader.services.courses import find_course_by_join_code
from grader.services.courses import teaches_anywhere

logger = logging.getLogger(__name__)

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
MAX_TRACKED_KEYS = 100_000
WRONG_CREDENTIALS = "wrong email or password"
#: one failure in this many also deletes every failure older than the window
PRUNE_EVERY = 16
#: a session token is 43 url-safe characters; anything much longer is not ours
MAX_SESSION_TOKEN_LENGTH = 128
USER_AGENT_LENGTH = 200
IP_LENGTH = 45


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _retry_after(oldest: float, window: float, now: float) -> int:
    return max(1, int(oldest + window - now) + 1)


def _too_many(retry_after: int) -> TooManyRequests:
    return TooManyRequests(
        "too many failed sign-ins; wait a few minutes and try again", retry_after=retry_after
    )


class Limiter(Protocol):
    """What :func:`authenticate` needs of a login limiter."""

    def key(self, email: str, ip: str | None) -> str: ...

    def check(self, key: str) -> None: ...

    def record_failure(self, key: str) -> None: ...

    def reset(self, key: str) -> None: ...


def limiter_key(email: str, ip: str | None) -> str:
    """The bucket: normalised email and client address."""
    return f"{email.strip().lower()}|{ip or '-'}"


class LoginLimiter:
    """Failed sign-ins per key in a sliding window, in this process's memory.

    Thread-safe and bounded in memory, but each process counts on its own and a restart
    forgets: the web app uses :class:`DatabaseLoginLimiter` instead.
    """

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    key = staticmethod(limiter_key)

    def _recent(self, key: str, now: float) -> collections.deque[float]:
        stamps = self._failures.get(key)
        if stamps is None:
            return collections.deque()
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return stamps

    def check(self, key: str) -> None:
        """Raises TooManyRequests (with Retry-After seconds) when the key is blocked."""
        with self._lock:
            now = self.clock()
            stamps = self._recent(key, now)
            if len(stamps) >= self.max_failures:
                raise _too_many(_retry_after(stamps[0], self.window, now))

    def record_failure(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            if len(self._failures) >= MAX_TRACKED_KEYS:
                # Under a flood, drop the stalest buckets rather than grow without bound.
                for stale in list(self._failures)[: MAX_TRACKED_KEYS // 10]:
                    del self._failures[stale]
            self._failures.setdefault(key, collections.deque()).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class DatabaseLoginLimiter:
    """:class:`LoginLimiter`'s rules over the ``login_failures`` table, shared by all workers.

    Bound to one Session (the request's). Each failure is its own short committed
    INSERT; :meth:`check` is one indexed count over (key_hash, created_at). Keys are
    stored as SHA-256 digests, so the table holds no email or address.

    The check and the record are separate statements, not one locked transaction:
    guesses racing in at the same instant can each pass the check before any of them is
    recorded, so a burst of concurrent requests may get a guess or two past
    ``max_failures``: at most one per other request in flight, so with W sync workers at
    most ``max_failures + W - 1`` (sequential guessing, on any number of workers, gets
    exactly ``max_failures``). That is a fair price for a limiter that takes no lock and
    works the same on SQLite and PostgreSQL; the Argon2id hash keeps each guess costly.
    """

    def __init__(
        self,
        session: Session,
        max_failures: int = MAX_FAILURES,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], dt.datetime] = utcnow,
        prune_every: int = PRUNE_EVERY,
    ) -> None:
        self.session = session
        self.max_failures = max_failures
        self.window = dt.timedelta(seconds=window_seconds)
        self.clock = clock
        self.prune_every = prune_every

    key = staticmethod(limiter_key)

    def failures(self, key: str) -> int:
        """How many failures ``key`` has in the window now."""
        count, _ = self._recent(key, self.clock())
        return count

    def _recent(self, key: str, now: dt.datetime) -> tuple[int, dt.datetime | None]:
        row = self.session.execute(
            select(func.count(), func.min(LoginFailure.created_at)).where(
                LoginFailure.key_hash == _sha256(key),
                LoginFailure.created_at > now - self.window,
            )
        ).one()
        return int(row[0] or 0), row[1]

    def check(self, key: str) -> None:
        """Raises TooManyRequests (with Retry-After seconds) when the key is blocked."""
        now = self.clock()
        count, oldest = self._recent(key, now)
        if count >= self.max_failures and oldest is not None:
            # Counting from the oldest failure in the window can under-state the wait when a
            # race let extra failures in; the next try then answers with the rest of it.
            raise _too_many(
                _retry_after(oldest.timestamp(), self.window.total_seconds(), now.timestamp())
            )

    @writes
    def record_failure(self, key: str) -> None:
        """Store one failure and commit it at once, so every worker sees it."""
        begin_write(self.session)
        self.session.add(LoginFailure(key_hash=_sha256(key), created_at=self.clock()))
        self.session.commit()
        if self.prune_every <= 1 or secrets.randbelow(self.prune_every) == 0:
            self.prune()

    @writes
    def reset(self, key: str) -> None:
        """Forget ``key``'s failures (a successful sign-in)."""
        begin_write(self.session)
        self.session.execute(delete(LoginFailure).where(LoginFailure.key_hash == _sha256(key)))
        self.session.commit()

    @writes
    def prune(self) -> int:
        """Delete failures that have left the window; returns how many.

        Best effort: when two workers prune at once and the database refuses one
        (a deadlock or a busy SQLite file), that one gives up; the next prune catches up.
        """
        try:
            result = self.session.execute(
                delete(LoginFailure).where(LoginFailure.created_at <= self.clock() - self.window)
            )
            self.session.commit()
        except OperationalError as exc:
            self.session.rollback()
            logger.warning("pruning login failures skipped: %s", type(exc.orig).__name__)
            return 0
        return int(getattr(result, "rowcount", 0) or 0)


_dummy_hash: str | None = None


def _burn_time(password: str) -> None:
    """Verify against a throwaway hash so unknown emails take as long as wrong passwords."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = accounts.hash_password("not-a-real-password")
    accounts.verify_password(User(password_hash=_dummy_hash), password)


def authenticate(
    session: Session, email: str, password: str, *, ip: str | None, limiter: Limiter
) -> User:
    """The active user with these credentials.

    Raises:
        TooManyRequests: too many recent failures for this email from this address.
        Unauthorized: unknown email, wrong password or a deactivated account (one
            message for all three, so accounts cannot be enumerated).
    """
    key = limiter.key(email, ip)
    limiter.check(key)
    user = accounts.find_user_by_email(session, email) if email.strip() else None
    if user is None:
        _burn_time(password)
        ok = False
    else:
        ok = accounts.verify_password(user, password) and user.is_active
    if not ok or user is None:
        limiter.record_failure(key)
        logger.info("failed sign-in ip=%s", ip)
        raise Unauthorized(WRONG_CREDENTIALS)
    limiter.reset(key)
    logger.info("signed in user_id=%s", user.id)
    return user


def register_with_join_code(
    session: Session, *, email: str, name: str, password: str, join_code: str
) -> User:
    """Create a student account enrolled in the course with this join code.

    Raises:
        BadRequest: no course has the code, a bad email, or a short password.
        Conflict: the email is registered already (sign in, then join from the dashboard).
    """
    begin_write(session)
    course = find_course_by_join_code(session, join_code)
    if course is None:
        session.commit()  # nothing written: end the transaction and its lock now
        raise BadRequest("no course has that join code; check it with your instructor")
    if not name.strip():
        raise BadRequest("please give your name")
    try:
        user = accounts.create_user(
            session, email=email, name=name, password=password, role="student", commit=False
        )
    except Conflict:
        # Hash anyway: a taken email must cost what a new one does, or the answer's time
        # tells who has an account.
        accounts.hash_password(password)
        raise Conflict(
            "that email is registered already: sign in, then join the course from your page"
        ) from None
    session.add(Enrolment(course_id=course.id, user_id=user.id, role="student"))
    session.commit()
    logger.info("registered user_id=%s in course_id=%s", user.id, course.id)
    return user


def active_user(session: Session, user_id: object) -> User | None:
    """The signed-in user from a session's stored id, or None if gone or deactivated."""
    if not isinstance(user_id, int):
        return None
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    return user


#: live sign-ins kept per user (browsers, devices, LMS launches); the oldest end first
MAX_SIGN_INS_PER_USER = 20


def start_session(
    session: Session,
    user_id: int,
    *,
    lifetime: dt.timedelta,
    user_agent: str | None = None,
    ip: str | None = None,
    replaces: object = None,
    now: dt.datetime | None = None,
) -> str:
    """Record a new sign-in of ``user_id``; returns the token for the cookie.

    The token is not stored (only its SHA-256) and is not available again. The user's
    expired sign-ins are deleted here, and so is the sign-in whose token ``replaces``
    names (the same browser signing in again, perhaps as someone else). Beyond
    ``MAX_SIGN_INS_PER_USER`` live sign-ins the oldest end: LMS launches arrive without
    our cookie (a cross-site POST), so they cannot name the sign-in they replace.
    """
    begin_write(session)
    now = now or utcnow()
    gone = UserSession.user_id == user_id
    gone &= UserSession.expires_at <= now
    if isinstance(replaces, str) and len(replaces) <= MAX_SESSION_TOKEN_LENGTH:
        gone |= UserSession.id == _sha256(replaces)
    session.execute(delete(UserSession).where(gone))
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id=_sha256(token),
            user_id=user_id,
            created_at=now,
            expires_at=now + lifetime,
            user_agent=(user_agent or "")[:USER_AGENT_LENGTH] or None,
            ip=(ip or "")[:IP_LENGTH] or None,
        )
    )
    session.flush()
    newest = (
        select(UserSession.id)
        .where(UserSession.user_id == user_id)
        .order_by(UserSession.created_at.desc(), UserSession.id)
        .limit(MAX_SIGN_INS_PER_USER)
    )
    session.execute(
        delete(UserSession).where(
            UserSession.user_id == user_id, UserSession.id.not_in(newest.scalar_subquery())
        )
    )
    session.commit()
    return token


@dataclasses.dataclass(frozen=True)
class LiveSignIn:
    """Who a request's cookie signs in, and whether the nav shows them the staff pages."""

    user: User
    is_staff_anywhere: bool


@functools.cache
def _live_sign_in_query() -> Select[User, bool]:
    """Built once: this runs on every request, and building the statement cost twice as
    much CPU as running it (0.8 of 1.2 ms)."""
    return (
        select(User, teaches_anywhere(User.id))
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.id == bindparam("token_hash"),
            User.id == bindparam("user_id"),
            User.is_active.is_(True),
            UserSession.expires_at > bindparam("now"),
        )
    )


def session_user(
    session: Session, token: object, user_id: object, *, now: dt.datetime | None = None
) -> LiveSignIn | None:
    """The active user of a live sign-in, or None: one query, the user joined to the row.

    ``token`` and ``user_id`` come from the cookie; a token of the wrong type, an ended or
    expired sign-in, another user's sign-in or a deactivated user all give None. The same
    query tells whether the user teaches anywhere (the nav's instructor link), since every
    page asks and a second query per request is measurable under load.
    """
    if not isinstance(token, str) or len(token) > MAX_SESSION_TOKEN_LENGTH:
        return None
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    row = session.execute(
        _live_sign_in_query(),
        {"token_hash": _sha256(token), "user_id": user_id, "now": now or utcnow()},
    ).first()
    if row is None:
        return None
    user, teaching = row
    return LiveSignIn(user, bool(teaching) or user.role in SITE_STAFF_ROLES)


def end_session(session: Session, token: object) -> None:
    """Sign out: delete the sign-in whose token this is (nothing when there is none)."""
    if not isinstance(token, str) or len(token) > MAX_SESSION_TOKEN_LENGTH:
        return
    begin_write(session)
    session.execute(delete(UserSession).where(UserSession.id == _sha256(token)))
    session.commit()


def end_all_sessions(session: Session, user_id: int) -> int:
    """Sign ``user_id`` out everywhere; returns how many sign-ins ended."""
    begin_write(session)
    result = session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    session.commit()
    ended = int(getattr(result, "rowcount", 0) or 0)
    logger.info("signed out everywhere user_id=%s sessions=%s", user_id, ended)
    return ended


def deactivate_user(session: Session, user: User) -> int:
    """Deactivate ``user`` and end every sign-in of theirs; returns how many ended.

    (A deactivated user's cookie is refused even without this, since :func:`session_user`
    checks ``is_active``; deleting the rows keeps reactivation from reviving old cookies.)
    """
    user.is_active = False
    session.flush()
    return end_all_sessions(session, user.id)


def prune_expired_sessions(session: Session, *, now: dt.datetime | None = None) -> int:
    """Delete every expired sign-in (of users who never signed in again); returns how many."""
    begin_write(session)
    result = session.execute(delete(UserSession).where(UserSession.expires_at <= (now or utcnow())))
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
