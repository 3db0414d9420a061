"""Signing in with a local account, registering with a course join code, and slowing
down password guessing.

The login rate limit is kept **in the process** (:class:`LoginLimiter`, one per app):
at most ``max_failures`` wrong passwords per (email, client IP) in a sliding window,
then ``TooManyRequests`` with the seconds until the oldest failure leaves the window.
It needs no table and no cleanup job. Its limits: each gunicorn worker counts on its
own (N workers allow N times the failures) and a restart forgets; both are acceptable
for slowing guessing against Argon2id hashes, and a shared limit would move into a
table claimed like the jobs.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import TooManyRequests
from grader.errors import Unauthorized
from grader.models import Enrolment
from grader.models import User
from grader.services import accounts
from grader.services.courses import find_course_by_join_code

logger = logging.getLogger(__name__)

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
MAX_TRACKED_KEYS = 100_000
WRONG_CREDENTIALS = "wrong email or password"


class LoginLimiter:
    """Failed sign-ins per key in a sliding window, thread-safe, bounded in memory."""

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

    @staticmethod
    def key(email: str, ip: str | None) -> str:
        """The bucket: normalised email and client address."""
        return f"{email.strip().lower()}|{ip or '-'}"

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
                retry_after = max(1, int(stamps[0] + self.window - now) + 1)
                raise TooManyRequests(
                    "too many failed sign-ins; wait a few minutes and try again",
                    retry_after=retry_after,
                )

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


_dummy_hash: str | None = None


def _burn_time(password: str) -> None:
    """Verify against a throwaway hash so unknown emails take as long as wrong passwords."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = accounts.hash_password("not-a-real-password")
    accounts.verify_password(User(password_hash=_dummy_hash), password)


def authenticate(
    session: Session, email: str, password: str, *, ip: str | None, limiter: LoginLimiter
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
    course = find_course_by_join_code(session, join_code)
    if course is None:
        raise BadRequest("no course has that join code; check it with your instructor")
    if not name.strip():
        raise BadRequest("please give your name")
    try:
        user = accounts.create_user(
            session, email=email, name=name, password=password, role="student", commit=False
        )
    except Conflict:
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
