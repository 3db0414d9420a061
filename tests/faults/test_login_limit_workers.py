"""Password guessing against several gunicorn workers: the limit holds per worker.

The limiter is kept in each process (grader.services.auth says so): with W workers an
address gets at most W x MAX_FAILURES wrong passwords per window before every worker
answers 429. This test pins that bound, so a change to a shared limit shows up here.
"""

from __future__ import annotations

import pytest

from grader.services.auth import MAX_FAILURES
from tests.faults.conftest import Faulty
from tests.faults.server import Gunicorn
from tests.faults.server import Student

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("gunicorn")]


def test_wrong_passwords_hit_429_within_workers_times_the_limit(
    gunicorn: Gunicorn, faults_db: Faulty
) -> None:
    guesser = Student(gunicorn.base_url, faults_db.students[2], "not-the-password")
    token = guesser.csrf()
    statuses = []
    bound = gunicorn.workers * MAX_FAILURES + 1
    for _ in range(bound + 2 * gunicorn.workers):
        response = guesser.post(
            "/auth/login",
            data={"csrf_token": token, "email": guesser.email, "password": guesser.password},
            allow_redirects=False,
        )
        statuses.append(response.status_code)
        assert "Traceback" not in response.text
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) > 0
    assert set(statuses) <= {401, 429}
    assert statuses.count(401) <= gunicorn.workers * MAX_FAILURES
    assert 429 in statuses[:bound]
    # Another student signs in normally. (That the right password is refused too while
    # limited is tested in-process, tests/services/test_auth.py: across workers, which
    # worker takes the next connection, and so whether it counted the guesses, is
    # up to the kernel.)
    Student(gunicorn.base_url, faults_db.students[3], faults_db.password).sign_in()
