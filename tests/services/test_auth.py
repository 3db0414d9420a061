"""Sign-in, registration with a join code, and the login rate limit."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import TooManyRequests
from grader.errors import Unauthorized
from grader.services import accounts
from grader.services import auth
from grader.services import courses
from tests.support.student_world import PASSWORD
from tests.support.student_world import make_user
from tests.support.student_world import make_world


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Argon2id with tiny costs: these tests are about the rules, not the hash's strength."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_limiter_blocks_after_max_failures_and_says_when_to_retry():
    clock = Clock()
    limiter = auth.LoginLimiter(max_failures=3, window_seconds=60, clock=clock)
    key = limiter.key(" Sam@Example.com", "10.0.0.1")
    assert key == limiter.key("sam@example.com", "10.0.0.1")
    for _ in range(3):
        limiter.check(key)
        limiter.record_failure(key)
        clock.now += 10
    with pytest.raises(TooManyRequests) as exc:
        limiter.check(key)
    assert exc.value.retry_after == 31  # the first failure leaves the window in 30 s
    limiter.check(limiter.key("sam@example.com", "10.0.0.2"))  # another address is not blocked
    clock.now += 31
    limiter.check(key)  # the window slid
    limiter.record_failure(key)
    limiter.reset(key)
    limiter.check(key)


def test_authenticate(db_session):
    make_user(db_session, "ann@example.com", password=PASSWORD)
    limiter = auth.LoginLimiter(max_failures=2)
    user = auth.authenticate(db_session, "ANN@example.com", PASSWORD, ip="1.2.3.4", limiter=limiter)
    assert user.email == "ann@example.com"
    for email, password in [
        ("ann@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
    ]:
        with pytest.raises(Unauthorized, match=auth.WRONG_CREDENTIALS):
            auth.authenticate(db_session, email, password, ip="1.2.3.4", limiter=limiter)
    with pytest.raises(Unauthorized):
        auth.authenticate(db_session, "ann@example.com", "wrong", ip="1.2.3.4", limiter=limiter)
    with pytest.raises(TooManyRequests):  # even the right password waits now
        auth.authenticate(db_session, "ann@example.com", PASSWORD, ip="1.2.3.4", limiter=limiter)


def test_deactivated_accounts_cannot_sign_in(db_session):
    user = make_user(db_session, "gone@example.com", password=PASSWORD)
    user.is_active = False
    with pytest.raises(Unauthorized):
        auth.authenticate(
            db_session, "gone@example.com", PASSWORD, ip=None, limiter=auth.LoginLimiter()
        )
    assert auth.active_user(db_session, user.id) is None


def test_register_with_join_code(db_session):
    world = make_world(db_session)
    user = auth.register_with_join_code(
        db_session, email="New@Example.com", name="Nia", password=PASSWORD, join_code="w-join"
    )
    assert user.email == "new@example.com"
    assert user.role == "student"
    assert [c.course.id for c in courses.courses_for_user(db_session, user)] == [world.course.id]
    with pytest.raises(Conflict):
        auth.register_with_join_code(
            db_session, email="new@example.com", name="Nia", password=PASSWORD, join_code="w-join"
        )
    with pytest.raises(BadRequest, match="join code"):
        auth.register_with_join_code(
            db_session, email="b@example.com", name="B", password=PASSWORD, join_code="bad"
        )
    with pytest.raises(BadRequest, match="characters"):
        auth.register_with_join_code(
            db_session, email="c@example.com", name="C", password="short", join_code="w-join"
        )
