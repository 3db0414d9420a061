"""Password guessing against several gunicorn workers: one limit, shared by all of them.

Failures are rows in ``login_failures`` (grader.services.auth), so however the kernel
spreads an attacker's connections over the W workers, an (email, address) gets
MAX_FAILURES wrong passwords per window, then 429 with Retry-After from every worker.
Guesses sent all at once may slip one past the limit per other busy worker (the check
and the record are separate statements; the limiter's docstring says so), never more.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select

from grader.models import LoginFailure
from grader.services.auth import MAX_FAILURES
from tests.faults.conftest import Faulty
from tests.faults.server import Gunicorn
from tests.faults.server import Student

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("gunicorn")]


@pytest.fixture
def forget_failures(faults_db: Faulty) -> Iterator[None]:
    """The database outlives this test: leave no student locked out for the next ones."""
    yield
    with faults_db.engine.begin() as conn:
        conn.execute(delete(LoginFailure))


def _guess(guesser: Student, token: str) -> tuple[int, str | None, str]:
    response = guesser.post(
        "/auth/login",
        data={"csrf_token": token, "email": guesser.email, "password": guesser.password},
        allow_redirects=False,
    )
    return response.status_code, response.headers.get("Retry-After"), response.text


@pytest.mark.usefixtures("forget_failures")
def test_wrong_passwords_hit_429_after_the_limit_on_any_worker(
    gunicorn: Gunicorn, faults_db: Faulty
) -> None:
    guesser = Student(gunicorn.base_url, faults_db.students[2], "not-the-password")
    token = guesser.csrf()
    statuses = []
    # Enough tries that each worker takes several of them, whatever the kernel's choice.
    for _ in range(MAX_FAILURES + 3 * gunicorn.workers):
        status, retry_after, body = _guess(guesser, token)
        statuses.append(status)
        assert "Traceback" not in body
        if status == 429:
            assert retry_after is not None
            assert int(retry_after) > 0
    assert statuses == [401] * MAX_FAILURES + [429] * (len(statuses) - MAX_FAILURES)
    # Every worker knows: even the right password now waits, on each of several tries.
    owner = Student(gunicorn.base_url, faults_db.students[2], faults_db.password)
    owner_token = owner.csrf()
    for _ in range(2 * gunicorn.workers):
        assert _guess(owner, owner_token)[0] == 429
    # Another student (another key) signs in normally.
    Student(gunicorn.base_url, faults_db.students[3], faults_db.password).sign_in()


@pytest.mark.usefixtures("forget_failures")
def test_a_burst_of_guesses_gets_at_most_one_extra_per_busy_worker(
    gunicorn: Gunicorn, faults_db: Faulty
) -> None:
    guessers = [
        Student(gunicorn.base_url, "burst-nobody@example.com", f"guess-{n}")
        for n in range(3 * gunicorn.workers)
    ]
    tokens = [guesser.csrf() for guesser in guessers]
    with ThreadPoolExecutor(max_workers=len(guessers)) as pool:
        results = list(pool.map(_guess, guessers, tokens))
    statuses = [status for status, _, _ in results]
    assert set(statuses) <= {401, 429}, statuses
    assert MAX_FAILURES <= statuses.count(401) <= MAX_FAILURES + gunicorn.workers - 1, statuses
    assert all(int(after or 0) > 0 for status, after, _ in results if status == 429)
    with faults_db.engine.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(LoginFailure))
    assert stored == statuses.count(401)  # every refused guess was counted, once
