"""A deadline rush against real servers: simultaneous answers are all stored and graded,
none refused, and tries and penalties follow the order the answers were stored.

Three real servers, each in its own process: gunicorn (3 sync workers) and the
single-process development server ``grader serve`` (what ``make run`` starts) on a SQLite
file, and gunicorn on PostgreSQL. Students sign in through the real form and answer
through the real no-JavaScript forms, 100 answers released at the same instant by a
barrier. Then, four wrong answers and the right one at once to one part of a quiz with a
25 % penalty per retry and 5 tries: the right one must score exactly
``1 - 0.25 x (answers stored before it)``, as if they had been sent one after another.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import make_engine
from grader.migrate import upgrade
from grader.models import Attempt
from grader.models import Submission
from tests.faults.server import GRADER
from tests.faults.server import REPO
from tests.faults.server import SECRET
from tests.faults.server import AnswerForm
from tests.faults.server import Gunicorn
from tests.faults.server import Student
from tests.support.postgres import PostgresServer
from tests.support.postgres import free_port
from tests.support.processes import stop_process_group
from tests.support.student_world import PASSWORD
from tests.support.student_world import make_world

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("gunicorn")]

RUSH = 100
WRONG = "987654.321"  # far from every key and usual mistake of the delta rule


class DevServer:
    """``grader serve`` (werkzeug, threaded, one process) on a free port."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        env.update(
            {
                "GRADER_DATABASE_URL": database_url,
                "GRADER_SECRET_KEY": SECRET,
                "GRADER_LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(REPO),
            }
        )
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DevServer:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [GRADER, "serve", "--port", str(self.port)],
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log()
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return self
            time.sleep(0.2)
        self.__exit__()
        raise AssertionError(f"grader serve not ready:\n{self.log()}")

    def __exit__(self, *_exc: object) -> None:
        if self.proc is not None:
            stop_process_group(self.proc)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]


@pytest.fixture(
    params=[
        "gunicorn-sqlite",
        "serve-sqlite",
        pytest.param("gunicorn-postgresql", marks=pytest.mark.postgres),
    ]
)
def served(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, str, dict[str, int]]]:
    """(base URL, database URL, quiz ids) for a migrated database with two quizzes."""
    if request.param.endswith("postgresql"):
        pg: PostgresServer = request.getfixturevalue("pg_server")
        url = pg.create_database(f"rush_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    else:
        url = f"sqlite:///{tmp_path}/rush.sqlite3"
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            upgrade(conn)
        with Session(engine, expire_on_commit=False) as session:
            rush = make_world(session, prefix="r", passwords=True, attempts_allowed=None)
            race = make_world(
                session, prefix="p", passwords=True, attempts_allowed=5, penalty_per_retry=0.25
            )
            quizzes = {"rush": rush.quiz.id, "race": race.quiz.id}
    finally:
        engine.dispose()
    server: Gunicorn | DevServer
    if request.param.startswith("gunicorn"):
        server = Gunicorn(url, tmp_path, workers=3)
    else:
        server = DevServer(url, tmp_path)
    with server:
        yield server.base_url, url, quizzes


def _send_at_once(student: Student, jobs: list[tuple[AnswerForm, str, str]]) -> list[int | str]:
    """POST every (form, answer, key) at the same instant, one connection each."""
    barrier = threading.Barrier(len(jobs))
    results: list[int | str] = ["not sent"] * len(jobs)

    def one(index: int, form: AnswerForm, answer: str, key: str) -> None:
        http = requests.Session()
        http.cookies.update(student.http.cookies)
        data = {"csrf_token": form.csrf_token, "idempotency_key": key, "answer": answer}
        barrier.wait(timeout=120)
        try:
            response = http.post(
                student.base_url + form.action, data=data, allow_redirects=False, timeout=180
            )
            results[index] = response.status_code
        except requests.RequestException as exc:
            results[index] = repr(exc)

    threads = [threading.Thread(target=one, args=(i, *job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def _rows(url: str, keys: list[str]) -> list[Submission]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return list(
                session.scalars(
                    select(Submission)
                    .where(Submission.idempotency_key.in_(keys))
                    .order_by(Submission.id)
                )
            )
    finally:
        engine.dispose()


def test_a_deadline_rush_is_stored_graded_and_fair(
    served: tuple[str, str, dict[str, int]],
) -> None:
    base_url, url, quizzes = served

    # 100 answers from one student at the same instant, spread over the quiz's parts.
    student = Student(base_url, "r-sam@example.com", PASSWORD, timeout=60)
    student.sign_in()
    page, forms = student.quiz(quizzes["rush"])
    assert page.status_code == 200
    assert forms
    keys = [f"rush-{n}" for n in range(RUSH)]
    statuses = _send_at_once(
        student, [(forms[n % len(forms)], f"0.{n}", keys[n]) for n in range(RUSH)]
    )
    assert Counter(statuses) == {302: RUSH}, Counter(statuses)
    rows = _rows(url, keys)
    assert sorted(r.idempotency_key or "" for r in rows) == sorted(keys)  # each stored once
    assert Counter(r.status for r in rows) <= Counter({"graded": RUSH, "invalid": RUSH})
    assert not [r.id for r in rows if r.status == "pending" or r.score is None]

    # The penalty race: 4 wrong answers and the right one at once, for two students.
    for email in ("p-sam@example.com", "p-olive@example.com"):
        racer = Student(base_url, email, PASSWORD, timeout=60)
        racer.sign_in()
        page, forms = racer.quiz(quizzes["race"])
        assert page.status_code == 200
        form = next(f for f in forms if f.part_id == "w1")
        right = _right_answer(url, form.attempt_id)
        answers = [WRONG, WRONG, right, WRONG, WRONG]
        race_keys = [f"race-{email}-{n}" for n in range(len(answers))]
        statuses = _send_at_once(
            racer, [(form, answer, race_keys[n]) for n, answer in enumerate(answers)]
        )
        assert Counter(statuses) == {302: len(answers)}, Counter(statuses)
        stored = _rows(url, race_keys)  # in storage (id) order
        assert len(stored) == len(answers)
        assert all(r.status == "graded" and r.counts_as_try for r in stored)
        place = next(i for i, r in enumerate(stored) if r.raw_answer == right)
        for i, row in enumerate(stored):
            due = max(0.0, 1.0 - 0.25 * i) if i == place else 0.0
            assert row.score == pytest.approx(due), (i, place, [r.score for r in stored])


def _right_answer(url: str, attempt_id: int) -> str:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            attempt = session.get(Attempt, attempt_id)
            assert attempt is not None
            return str(next(p["key_text"] for p in attempt.variant["parts"] if p["id"] == "w1"))
    finally:
        engine.dispose()
