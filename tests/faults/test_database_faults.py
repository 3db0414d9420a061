"""The database goes away, or turns read-only, under a real gunicorn: clear 503s, recovery.

PostgreSQL is stopped for a few seconds while students load quizzes and submit. Every
answer is a page (200/302) or a 503 that says the database is not answering and to try
again, with ``Retry-After``; never a 500, never a stack trace, never a dead worker. When
the server is back, requests succeed again without restarting gunicorn, and every answer
the students saw accepted is stored once, with a score after ``grader regrade --pending``.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from pathlib import Path

import psycopg
import pytest
import requests
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.models import Submission
from tests.faults.conftest import Faulty
from tests.faults.server import Gunicorn
from tests.faults.server import Student
from tests.faults.server import run_grader
from tests.support.postgres import PostgresServer

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("gunicorn")]

DOWN_MESSAGE = "The database is not answering right now"
MAX_ROUNDS = 300  # per client: bounded loops whatever the timing


@dataclasses.dataclass
class Outcome:
    at: float  # when the answer arrived
    what: str
    status: int | None  # None: no HTTP answer at all
    body: str
    retry_after: str | None
    key: str | None = None
    sent: float = 0.0  # when the request was sent


def _record(results: list[Outcome], lock: threading.Lock, outcome: Outcome) -> None:
    with lock:
        results.append(outcome)


def _traffic(
    student: Student,
    quiz_id: int,
    stop: threading.Event,
    results: list[Outcome],
    lock: threading.Lock,
) -> None:
    for n in range(MAX_ROUNDS):
        if stop.is_set():
            return
        for what in ("quiz", "submit", "health"):
            sent = time.monotonic()
            try:
                if what == "quiz":
                    response = student.get(f"/quizzes/{quiz_id}", timeout=15)
                    key = None
                elif what == "submit":
                    page, forms = student.quiz(quiz_id)
                    if not forms:
                        _record(results, lock, _outcome("quiz", page, sent=sent))
                        continue
                    sent = time.monotonic()  # the answer itself
                    form = forms[n % len(forms)]
                    key = form.idempotency_key
                    response = student.submit(form, f"0.{n % 10}", timeout=15)
                else:
                    response = student.get("/healthz", timeout=15)
                    key = None
                _record(results, lock, _outcome(what, response, key, sent=sent))
            except requests.RequestException as exc:
                outcome = Outcome(time.monotonic(), what, None, repr(exc), None, sent=sent)
                _record(results, lock, outcome)
        time.sleep(0.05)


def _outcome(
    what: str, response: requests.Response, key: str | None = None, *, sent: float
) -> Outcome:
    return Outcome(
        time.monotonic(),
        what,
        response.status_code,
        response.text,
        response.headers.get("Retry-After"),
        key,
        sent,
    )


def test_postgresql_stopped_mid_traffic(
    gunicorn: Gunicorn, faults_db: Faulty, pg_server: PostgresServer, tmp_path: Path
) -> None:
    students = [Student(gunicorn.base_url, e, faults_db.password) for e in faults_db.students[1:5]]
    for student in students:
        student.sign_in()
        assert student.quiz(faults_db.quiz_id)[0].status_code == 200
    results: list[Outcome] = []
    lock = threading.Lock()
    stop = threading.Event()
    threads = [
        threading.Thread(target=_traffic, args=(s, faults_db.quiz_id, stop, results, lock))
        for s in students
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        down_at = time.monotonic()
        pg_server.stop()
        time.sleep(3)
        pg_server.start()  # returns once the server accepts connections (pg_ctl -w)
        up_at = time.monotonic()
        # Watch the traffic after the restart until enough requests sent after it have
        # been answered (a loaded machine answers slowly; the bound is generous).
        deadline = up_at + 90
        while time.monotonic() < deadline:
            with lock:
                after = sum(1 for r in results if r.sent > up_at)
            if after >= 24:
                break
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        if not _is_up(pg_server):
            pg_server.start()
    assert not any(t.is_alive() for t in threads)

    by_status = collections.Counter(r.status for r in results)
    print(f"outage traffic: {dict(by_status)}")
    assert None not in by_status, [r.body for r in results if r.status is None][:3]
    assert set(by_status) <= {200, 302, 503}, (by_status, gunicorn.log())
    assert not [r for r in results if "Traceback" in r.body]
    unavailable = [r for r in results if r.status == 503]
    assert unavailable, f"no 503 while the database was down: {by_status}"
    for r in unavailable:
        # Only requests that met the outage: sent before the server was back, answered
        # after it went down (however slowly a loaded machine answered them).
        assert r.sent <= up_at, "a 503 for a request sent after the server was back"
        assert r.at >= down_at, "a 503 before the server went down"
        if r.what == "health":
            assert '"database": "unavailable"' in r.body or '"database":"unavailable"' in r.body
        else:
            assert DOWN_MESSAGE in r.body
            assert "try again" in r.body
            assert r.retry_after == "5"
    # Every request sent once the server was back succeeds: no restart of gunicorn, no
    # stale pooled connection surfacing as an error.
    recovered = [r for r in results if r.sent > up_at]
    assert len(recovered) >= 8
    assert all(r.status in (200, 302) for r in recovered), collections.Counter(
        r.status for r in recovered
    )

    # Nothing accepted was lost or doubled; what was left pending gets graded.
    accepted = {r.key for r in results if r.what == "submit" and r.status == 302}
    refused = {r.key for r in results if r.what == "submit" and r.status == 503}
    assert accepted
    done = run_grader(["regrade", "--pending", "--older-than", "0"], faults_db.url, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    with Session(faults_db.engine) as session:
        counts = dict(
            session.execute(
                select(Submission.idempotency_key, func.count())
                .where(Submission.idempotency_key.in_(accepted | refused))
                .group_by(Submission.idempotency_key)
            ).all()
        )
        ungraded = session.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.idempotency_key.in_(accepted), Submission.score.is_(None))
        )
    assert all(counts.get(key) == 1 for key in accepted), "an accepted answer is missing"
    assert all(counts.get(key, 0) <= 1 for key in refused)
    assert ungraded == 0


def _is_up(pg_server: PostgresServer) -> bool:
    try:
        with psycopg.connect(pg_server.url().replace("+psycopg", ""), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _admin(pg_server: PostgresServer, sql: str, dbname: str) -> None:
    with psycopg.connect(pg_server.url().replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]
        # Pooled connections keep their settings: end them so workers reconnect.
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        )


def _read_only(pg_server: PostgresServer, dbname: str, on: bool) -> None:
    if on:
        _admin(
            pg_server, f'ALTER DATABASE "{dbname}" SET default_transaction_read_only = on', dbname
        )
    else:
        _admin(pg_server, f'ALTER DATABASE "{dbname}" RESET default_transaction_read_only', dbname)


def _first_success(student: Student, path: str, tries: int = 20) -> requests.Response:
    """The first answer that is not a 503 (a terminated pooled connection costs one)."""
    response = student.get(path)
    for _ in range(tries):
        if response.status_code != 503:
            return response
        time.sleep(0.2)
        response = student.get(path)
    return response


def test_read_only_database_refuses_writes_and_recovers(
    gunicorn: Gunicorn, faults_db: Faulty, pg_server: PostgresServer
) -> None:
    student = Student(gunicorn.base_url, faults_db.students[5], faults_db.password)
    student.sign_in()
    assert student.quiz(faults_db.quiz_id)[0].status_code == 200
    _read_only(pg_server, faults_db.dbname, True)
    try:
        # Reading still works.
        page = _first_success(student, f"/quizzes/{faults_db.quiz_id}")
        assert page.status_code == 200
        forms = student.quiz(faults_db.quiz_id)[1]
        form = forms[0]
        refused = student.submit(form, "0.5")
        assert refused.status_code in (500, 503)
        assert "Traceback" not in refused.text
        assert "try again" in refused.text
        with Session(faults_db.engine) as session:
            assert not session.scalar(
                select(func.count())
                .select_from(Submission)
                .where(Submission.idempotency_key == form.idempotency_key)
            )
        assert student.get("/healthz").status_code == 200  # the app itself stays up
    finally:
        _read_only(pg_server, faults_db.dbname, False)
    # The same form goes through once the database accepts writes again.
    _first_success(student, "/healthz")
    accepted = student.submit(form, "0.5")
    for _ in range(20):
        if accepted.status_code != 503:
            break
        time.sleep(0.2)
        accepted = student.submit(form, "0.5")
    assert accepted.status_code == 302
    with Session(faults_db.engine) as session:
        rows = session.scalars(
            select(Submission).where(Submission.idempotency_key == form.idempotency_key)
        ).all()
    assert len(rows) == 1
    assert rows[0].score is not None


def test_read_only_database_answers_a_clear_503(
    gunicorn: Gunicorn, faults_db: Faulty, pg_server: PostgresServer
) -> None:
    student = Student(gunicorn.base_url, faults_db.students[5], faults_db.password)
    student.sign_in()
    form = student.quiz(faults_db.quiz_id)[1][0]
    _read_only(pg_server, faults_db.dbname, True)
    try:
        _first_success(student, f"/quizzes/{faults_db.quiz_id}")
        refused = student.submit(form, "0.5")
    finally:
        _read_only(pg_server, faults_db.dbname, False)
    assert refused.status_code == 503
    assert "read-only" in refused.text
    assert refused.headers.get("Retry-After")
