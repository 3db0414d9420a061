"""The login limit in ``login_failures``: the same rules as before, shared by every worker.

Most tests run on the rollback session with a fake clock. The sharing and concurrency
tests use real commits on separate connections (as gunicorn workers would), with keys of
their own that they delete afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import uuid
from collections.abc import Callable
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader import create_app
from grader.db import ENGINE_KEY
from grader.db import SESSIONMAKER_KEY
from grader.errors import TooManyRequests
from grader.errors import Unauthorized
from grader.models import LoginFailure
from grader.services import accounts
from grader.services import auth
from tests.support.student_world import PASSWORD
from tests.support.student_world import make_user

T0 = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with tiny costs: these tests are about the limit, not the hash's strength."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def _stored(session: Session, key: str | None = None) -> int:
    query = select(func.count()).select_from(LoginFailure)
    if key is not None:
        query = query.where(LoginFailure.key_hash == hashlib.sha256(key.encode()).hexdigest())
    return int(session.scalar(query) or 0)


def test_blocks_after_max_failures_and_says_when_to_retry(db_session: Session) -> None:
    clock = Clock()
    limiter = auth.DatabaseLoginLimiter(db_session, max_failures=3, window_seconds=60, clock=clock)
    key = limiter.key(" Sam@Example.com", "10.0.0.1")
    assert key == limiter.key("sam@example.com", "10.0.0.1")
    for _ in range(3):
        limiter.check(key)
        limiter.record_failure(key)
        clock.advance(10)
    assert limiter.failures(key) == 3
    with pytest.raises(TooManyRequests) as exc:
        limiter.check(key)
    assert exc.value.retry_after == 31  # the first failure leaves the window in 30 s
    limiter.check(limiter.key("sam@example.com", "10.0.0.2"))  # another address is not blocked
    limiter.check(limiter.key("other@example.com", "10.0.0.1"))  # nor another email
    clock.advance(31)
    limiter.check(key)  # the window slid
    assert limiter.failures(key) == 2
    limiter.record_failure(key)
    limiter.reset(key)
    limiter.check(key)
    assert _stored(db_session, key) == 0


def test_keys_are_stored_hashed(db_session: Session) -> None:
    limiter = auth.DatabaseLoginLimiter(db_session)
    limiter.record_failure(limiter.key("secret-person@example.com", "192.0.2.7"))
    stored = db_session.scalars(select(LoginFailure.key_hash)).all()
    assert len(stored) == 1
    assert len(stored[0]) == 64
    assert "secret-person" not in stored[0]
    assert "192.0.2.7" not in stored[0]


def test_prune_deletes_only_failures_that_left_the_window(db_session: Session) -> None:
    clock = Clock()
    limiter = auth.DatabaseLoginLimiter(
        db_session, window_seconds=60, clock=clock, prune_every=10**9
    )
    for n in range(4):
        limiter.record_failure(f"old-{n}|-")
    clock.advance(61)
    limiter.record_failure("new|-")
    assert _stored(db_session) == 5
    assert limiter.prune() == 4
    assert _stored(db_session) == 1
    assert _stored(db_session, "new|-") == 1


def test_recording_prunes_now_and_then(db_session: Session) -> None:
    clock = Clock()
    limiter = auth.DatabaseLoginLimiter(db_session, window_seconds=60, clock=clock, prune_every=1)
    for n in range(3):
        limiter.record_failure(f"old-{n}|-")
    clock.advance(120)
    limiter.record_failure("new|-")  # prune_every=1: every failure prunes
    assert _stored(db_session) == 1


def test_authenticate_counts_in_the_database(db_session: Session) -> None:
    make_user(db_session, "ann@example.com", password=PASSWORD)
    db_session.commit()
    limiter = auth.DatabaseLoginLimiter(db_session, max_failures=2)
    key = limiter.key("ann@example.com", "1.2.3.4")
    for _ in range(2):
        with pytest.raises(Unauthorized, match=auth.WRONG_CREDENTIALS):
            auth.authenticate(db_session, "ann@example.com", "wrong", ip="1.2.3.4", limiter=limiter)
    assert _stored(db_session, key) == 2
    with pytest.raises(TooManyRequests):  # even the right password waits now
        auth.authenticate(db_session, "ann@example.com", PASSWORD, ip="1.2.3.4", limiter=limiter)
    other = auth.authenticate(
        db_session, "ann@example.com", PASSWORD, ip="5.6.7.8", limiter=limiter
    )
    assert other.email == "ann@example.com"


def test_a_success_clears_the_keys_failures(db_session: Session) -> None:
    make_user(db_session, "ann@example.com", password=PASSWORD)
    db_session.commit()
    limiter = auth.DatabaseLoginLimiter(db_session, max_failures=3)
    with pytest.raises(Unauthorized):
        auth.authenticate(db_session, "ann@example.com", "wrong", ip="1.2.3.4", limiter=limiter)
    auth.authenticate(db_session, "ann@example.com", PASSWORD, ip="1.2.3.4", limiter=limiter)
    assert _stored(db_session) == 0


def test_the_web_login_uses_the_shared_limit(app: Flask, db_session: Session) -> None:
    """Failures through one app are refused by another (another worker, same database)."""
    make_user(db_session, "ann@example.com", password=PASSWORD)
    db_session.commit()

    def guess(an_app: Flask, password: str) -> int:
        browser = an_app.test_client()
        html = browser.get("/auth/login").get_data(as_text=True)
        token = html.split('name="csrf-token" content="')[1].split('"')[0]
        response = browser.post(
            "/auth/login",
            data={"csrf_token": token, "email": "ann@example.com", "password": password},
        )
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) > 0
        return response.status_code

    settings = ("ENV", "TESTING", "DATABASE_URL", "SECRET_KEY")
    other = create_app({k: app.config[k] for k in settings})  # a second "worker"
    other.extensions[ENGINE_KEY].dispose()
    other.extensions[ENGINE_KEY] = app.extensions[ENGINE_KEY]
    other.extensions[SESSIONMAKER_KEY] = lambda: db_session
    statuses = [guess(app if n % 2 else other, "wrong password") for n in range(auth.MAX_FAILURES)]
    assert statuses == [401] * auth.MAX_FAILURES
    assert guess(app, "wrong password") == 429
    assert guess(other, "wrong password") == 429
    assert guess(other, PASSWORD) == 429


@pytest.fixture
def shared_key(db_engine: Engine) -> Iterator[str]:
    """A key of this test's own on the real (committed) tables, deleted afterwards."""
    key = f"{uuid.uuid4().hex}@example.com|198.51.100.1"
    yield key
    digest = hashlib.sha256(key.encode()).hexdigest()
    with db_engine.begin() as conn:
        conn.execute(delete(LoginFailure).where(LoginFailure.key_hash == digest))


def test_workers_share_one_count(db_engine: Engine, shared_key: str) -> None:
    def request(step: Callable[[auth.DatabaseLoginLimiter], object]) -> None:
        """One request on some worker: its own Session (connection) and a fresh limiter."""
        with Session(db_engine) as session:
            step(auth.DatabaseLoginLimiter(session, max_failures=4, prune_every=10**9))

    def refused(limiter: auth.DatabaseLoginLimiter) -> None:
        with pytest.raises(TooManyRequests):
            limiter.check(shared_key)

    for _ in range(3):
        request(lambda limiter: limiter.record_failure(shared_key))
    request(lambda limiter: limiter.check(shared_key))
    request(lambda limiter: limiter.record_failure(shared_key))
    request(refused)
    request(lambda limiter: limiter.reset(shared_key))
    request(lambda limiter: limiter.check(shared_key))


def test_a_slow_request_that_read_first_can_still_record(
    db_engine: Engine, shared_key: str
) -> None:
    """The request read (check, user lookup), another worker wrote meanwhile, then it writes."""
    with Session(db_engine) as slow, Session(db_engine) as fast:
        slow_limiter = auth.DatabaseLoginLimiter(slow, prune_every=10**9)
        slow_limiter.check(shared_key)
        auth.DatabaseLoginLimiter(fast, prune_every=10**9).record_failure(shared_key)
        slow_limiter.record_failure(shared_key)  # SQLite: no SQLITE_BUSY_SNAPSHOT
        assert slow_limiter.failures(shared_key) == 2


def test_concurrent_failures_are_each_recorded(db_engine: Engine, shared_key: str) -> None:
    """Each failure is its own short commit: racing workers neither fail nor lose one."""
    threads = 8
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with Session(db_engine) as session:
                limiter = auth.DatabaseLoginLimiter(session, prune_every=1)  # prunes race too
                barrier.wait(timeout=30)
                for _ in range(3):
                    limiter.record_failure(shared_key)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    running = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout=120)
    assert errors == []
    with Session(db_engine) as session:
        assert _stored(session, shared_key) == 3 * threads
        with pytest.raises(TooManyRequests):
            auth.DatabaseLoginLimiter(session).check(shared_key)
