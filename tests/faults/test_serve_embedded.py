"""The embedded default finishes its own work: ``grader serve`` (what ``make run`` starts) on
SQLite grades an answer a crash left ``pending``, with no ``grader worker`` running, and
says so in ``worker_heartbeats`` while it serves. With ``GRADER_EMBEDDED_WORKER=false`` it
leaves the answer alone.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from pathlib import Path

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import make_engine
from grader.migrate import upgrade
from grader.models import Submission
from grader.models import WorkerHeartbeat
from grader.models import utcnow
from grader.services import attempts
from tests.faults.server import GRADER
from tests.faults.server import REPO
from tests.support.postgres import free_port
from tests.support.student_world import make_world


def _crashed_answer(url: str) -> int:
    engine = make_engine(url)
    with engine.begin() as conn:
        upgrade(conn)
    with Session(engine, expire_on_commit=False) as session:
        world = make_world(session, prefix="emb")
        attempt = attempts.start_or_resume(session, world.student, world.item, secret="s3cret")
        part = attempt.variant["parts"][0]
        sub = Submission(
            attempt_id=attempt.id,
            part_id=part["id"],
            raw_answer=part["key_text"],
            status="pending",
            created_at=utcnow() - dt.timedelta(minutes=10),  # its request died long ago
        )
        session.add(sub)
        session.commit()
        submission_id = sub.id
    engine.dispose()
    return submission_id


def _serve(url: str, tmp_path: Path, **env_extra: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(
        {
            "GRADER_ENV": "development",
            "GRADER_DATABASE_URL": url,
            "GRADER_LOG_LEVEL": "INFO",
            "GRADER_WORKER_IDLE_SECONDS": "0.2",
            "PYTHONPATH": str(REPO),
            **env_extra,
        }
    )
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [GRADER, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc, port
        except requests.RequestException:
            pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError((tmp_path / "serve.log").read_text())


def _status(url: str, submission_id: int) -> tuple[str, list[str]]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            sub = session.get(Submission, submission_id)
            assert sub is not None
            roles = list(session.scalars(select(WorkerHeartbeat.role)))
            return sub.status, roles
    finally:
        engine.dispose()


def test_grader_serve_grades_a_pending_answer_with_no_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/embedded.sqlite3"
    submission_id = _crashed_answer(url)
    proc, _port = _serve(url, tmp_path)
    try:
        deadline = time.monotonic() + 60
        status, roles = _status(url, submission_id)
        while status == "pending" and time.monotonic() < deadline:
            time.sleep(0.2)
            status, roles = _status(url, submission_id)
        assert status == "graded", (tmp_path / "serve.log").read_text()
        assert roles == ["embedded"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    log = (tmp_path / "serve.log").read_text()
    assert "background work runs in this process" in log
    assert "Traceback" not in log


def test_the_embedded_worker_can_be_turned_off(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/off.sqlite3"
    submission_id = _crashed_answer(url)
    proc, port = _serve(url, tmp_path, GRADER_EMBEDDED_WORKER="false")
    try:
        # A request to the server, then a look: no worker row, the answer still pending.
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        assert _status(url, submission_id) == ("pending", [])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "background work runs in this process" not in (tmp_path / "serve.log").read_text()
