"""A gunicorn worker killed with SIGKILL while it grades: nothing lost, nothing doubled.

The answer is committed as ``pending`` before grading starts; the worker dies in the
judge; the student's browser loses the connection. Sending the same form again (same
idempotency key) shows the stored answer as "Saved, being graded" and uses no extra try;
``grader regrade --pending`` grades it; gunicorn replaced the worker meanwhile.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.models import Attempt
from grader.models import Submission
from tests.faults.conftest import Faulty
from tests.faults.server import Gunicorn
from tests.faults.server import Student
from tests.faults.server import run_grader

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("gunicorn")]


def _rows(faults_db: Faulty, key: str) -> list[Submission]:
    with Session(faults_db.engine) as session:
        return list(session.scalars(select(Submission).where(Submission.idempotency_key == key)))


def _wait_for(path_glob: Path, pattern: str, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(path_glob.glob(pattern))
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no {pattern} in {path_glob} after {timeout} s")


def test_sigkill_mid_grading_loses_nothing(
    gunicorn: Gunicorn, faults_db: Faulty, tmp_path: Path
) -> None:
    student = Student(gunicorn.base_url, faults_db.students[0], faults_db.password)
    student.sign_in()
    page, forms = student.quiz(faults_db.quiz_id)
    assert page.status_code == 200
    form = forms[0]
    workdir = gunicorn.workdir
    flag = workdir / "slow"
    flag.write_text("60", encoding="utf-8")
    outcome: dict[str, object] = {}

    def send() -> None:
        try:
            outcome["response"] = student.submit(form, "0.5")
        except requests.RequestException as exc:
            outcome["error"] = exc

    sender = threading.Thread(target=send)
    try:
        sender.start()
        marker = _wait_for(workdir, "judging-*")
        pid = int(marker.name.split("-", 1)[1])
        assert pid in gunicorn.worker_pids()
        # The answer is durable before the judge runs.
        (stored,) = _rows(faults_db, form.idempotency_key)
        assert stored.status == "pending"
        os.kill(pid, signal.SIGKILL)
        sender.join(timeout=30)
        assert not sender.is_alive()
    finally:
        flag.unlink(missing_ok=True)
        for leftover in workdir.glob("judging-*"):
            leftover.unlink()
        sender.join(timeout=30)

    # The browser saw the connection drop, not a page.
    assert "error" in outcome, outcome
    assert isinstance(outcome["error"], requests.ConnectionError)

    # gunicorn replaces the worker; the others kept serving.
    gunicorn.wait_workers()
    assert pid not in gunicorn.worker_pids()

    # The student sends the same form again: the stored answer comes back, no second row.
    retry = student.submit(form, "0.5")
    assert retry.status_code == 302
    shown = student.get(retry.headers["Location"])
    assert shown.status_code == 200
    assert "Saved, being graded" in shown.text
    rows = _rows(faults_db, form.idempotency_key)
    assert len(rows) == 1
    assert rows[0].status == "pending"

    # The faults database is shared: an earlier outage test may have left answers pending
    # too (by design); the regrade finishes every one of them, ours included.
    with Session(faults_db.engine) as session:
        pending = session.scalar(
            select(func.count()).select_from(Submission).where(Submission.status == "pending")
        )
    done = run_grader(["regrade", "--pending", "--older-than", "0"], faults_db.url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"graded {pending} pending submissions, 0 failed" in done.stdout
    (graded,) = _rows(faults_db, form.idempotency_key)
    assert graded.status == "graded"
    assert graded.score is not None
    assert graded.feedback is not None
    final = student.get(f"/quizzes/{faults_db.quiz_id}")
    assert "Saved, being graded" not in final.text
    assert "Traceback" not in final.text

    # Exactly one answer on that part of that attempt: nothing half-written besides.
    with Session(faults_db.engine) as session:
        attempt = session.get(Attempt, form.attempt_id)
        assert attempt is not None
        parts = [s.part_id for s in attempt.submissions]
        assert parts.count(form.part_id) == 1
