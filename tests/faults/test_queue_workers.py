"""Three real ``grader worker`` processes on one PostgreSQL database, against receivers that
fail and answer slowly: every outbox row is delivered exactly once and none is left behind.

The outbox holds 1,000 rows: 400 LTI scores (200 students x 2 links; one link's column
must first be created on the platform, by exactly one worker) for the fake LMS (a real HTTP
server on loopback that refuses the first score POSTs with 503 and stalls some token
requests), and 600 webhook deliveries for a receiver (a real HTTP server on loopback) that
answers 500 to some first tries, drops the connection of others and answers some slowly.
Beside them wait 40 submissions left ``pending`` (each must be graded by one worker and
give exactly one ``submission.graded`` event) and one that cannot be graded (it must back
off, not spin). The test reads the outcome from the receivers and from the database.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import make_engine
from grader.migrate import upgrade
from grader.models import Submission
from grader.models import Webhook
from grader.models import WebhookDelivery
from grader.models import WorkerHeartbeat
from grader.models import utcnow
from grader.models_lti import LtiScore
from grader.services import attempts
from grader.services.queue_stats import queue_stats
from tests.faults.server import GRADER
from tests.faults.server import REPO
from tests.faults.server import SECRET as APP_SECRET
from tests.lti.fake_platform import FakePlatform
from tests.lti_web.test_workers_postgres import SECRET as KEY_SECRET
from tests.lti_web.test_workers_postgres import _world
from tests.support.postgres import PostgresServer
from tests.support.student_world import enrol
from tests.support.student_world import make_user
from tests.support.student_world import make_world

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKERS = 3
LTI_STUDENTS = 200  # x 2 links = 400 score rows
WEBHOOK_ROWS = 600
PENDING = 40


class Receiver:
    """A webhook receiver on loopback that misbehaves on purpose, by delivery id:

    id % 10 == 3: the first POST gets 500; id % 10 == 7: every POST answers after 0.8 s;
    id % 17 == 0: the first POST's connection is closed without an answer. Only a 2xx
    answer counts as accepted; ``accepted`` counts them per event id.
    """

    def __init__(self) -> None:
        self.accepted: Counter[str] = Counter()
        self.payloads: dict[str, dict[str, object]] = {}
        self.posts = 0
        self._seen: set[int] = set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                delivery = int(self.headers["Grader-Delivery"])
                with receiver._lock:
                    receiver.posts += 1
                    first = delivery not in receiver._seen
                    receiver._seen.add(delivery)
                if first and delivery % 17 == 0:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if first and delivery % 10 == 3:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if delivery % 10 == 7:
                    time.sleep(0.8)
                payload = json.loads(body)
                with receiver._lock:
                    receiver.accepted[payload["event_id"]] += 1
                    receiver.payloads[payload["event_id"]] = payload
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def engine(pg_server: PostgresServer) -> Iterator[tuple[str, Engine]]:
    name = f"grader_queue_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    url = pg_server.create_database(name)
    engine = make_engine(url)
    with engine.begin() as conn:
        upgrade(conn)
    yield url, engine
    engine.dispose()
    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:{pg_server.port}/postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _outbox(session: Session, receiver: Receiver) -> tuple[list[int], int]:
    """Webhook rows, pending submissions and a poisoned one; (pending ids, poisoned id)."""
    world = make_world(session, prefix="q")
    hook = Webhook(course_id=world.course.id, url=receiver.url, secret="s" * 32, events=[])
    session.add(hook)
    session.flush()
    now = utcnow()
    session.add_all(
        WebhookDelivery(
            webhook_id=hook.id,
            event="submission.graded",
            payload={"event_id": uuid.uuid4().hex, "type": "submission.graded", "n": n},
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for n in range(WEBHOOK_ROWS)
    )
    session.commit()
    old = now - dt.timedelta(minutes=5)  # a crash left them; no request is grading them
    pending: list[int] = []
    for n in range(PENDING):
        user = make_user(session, f"q-pending{n}@example.com")
        enrol(session, world.course, user)
        attempt = attempts.start_or_resume(session, user, world.item, secret="s3cret")
        part = attempt.variant["parts"][0]
        sub = Submission(
            attempt_id=attempt.id,
            part_id=part["id"],
            raw_answer=part["key_text"],
            status="pending",
            created_at=old,
        )
        session.add(sub)
        session.flush()
        pending.append(sub.id)
    poisoned = Submission(
        attempt_id=attempt.id, part_id="no-such-part", raw_answer="1", status="pending"
    )
    poisoned.created_at = old
    session.add(poisoned)
    session.commit()
    return pending, poisoned.id


def _start_workers(url: str, workdir: Path) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(
        {
            "GRADER_ENV": "production",
            "GRADER_SECRET_KEY": APP_SECRET,
            "GRADER_LTI_KEY_SECRET": KEY_SECRET,
            "GRADER_DATABASE_URL": url,
            "GRADER_LOG_LEVEL": "INFO",
            "GRADER_PUBLIC_URL": "https://grader.test",  # production requires https
            "GRADER_WEBHOOK_ALLOW_PRIVATE_URLS": "true",  # the receiver is on loopback
            "GRADER_WORKER_IDLE_SECONDS": "0.3",
            "PYTHONPATH": str(REPO),
        }
    )
    procs = []
    for n in range(WORKERS):
        log = (workdir / f"worker{n}.log").open("wb")
        procs.append(
            subprocess.Popen(
                [GRADER, "worker"], env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT
            )
        )
        log.close()
    return procs


def _left(session: Session) -> tuple[int, int, int]:
    scores = session.scalar(
        select(func.count()).select_from(LtiScore).where(LtiScore.status == "pending")
    )
    hooks = session.scalar(
        select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "pending")
    )
    subs = session.scalar(
        select(func.count())
        .select_from(Submission)
        .where(Submission.status == "pending", Submission.part_id != "no-such-part")
    )
    session.rollback()
    return int(scores or 0), int(hooks or 0), int(subs or 0)


def test_three_workers_deliver_every_row_exactly_once(
    engine: tuple[str, Engine], tmp_path: Path
) -> None:
    url, db = engine
    with FakePlatform("canvas") as platform, Receiver() as receiver:
        with Session(db, expire_on_commit=False) as setup:
            _world(setup, platform, students=LTI_STUDENTS)
            pending_ids, poisoned_id = _outbox(setup, receiver)
        platform.fail_scores(40, status=503, retry_after="1")
        platform.stall_tokens(3, 0.5)
        procs = _start_workers(url, tmp_path)
        try:
            deadline = time.monotonic() + 240
            seen_workers: set[str] = set()
            with Session(db) as watch:
                while time.monotonic() < deadline:
                    stats = queue_stats(watch)
                    watch.rollback()
                    seen_workers |= {w.worker_id for w in stats.workers if w.role == "worker"}
                    if _left(watch) == (0, 0, 0):
                        break
                    for proc in procs:
                        assert proc.poll() is None, (tmp_path / "worker0.log").read_text()
                    time.sleep(0.5)
                assert _left(watch) == (0, 0, 0), "rows still pending after 240 s"
            assert len(seen_workers) == WORKERS  # each process stamped its heartbeat
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            codes = [proc.wait(timeout=60) for proc in procs]
        logs = "\n".join(p.read_text() for p in tmp_path.glob("worker*.log"))
        assert codes == [0] * WORKERS, logs

        # LTI: every (column, student) got exactly one accepted score; the fresh link got
        # exactly one new column although three workers raced for it.
        per_row = Counter((s.lineitem_num, s.user_id) for s in platform.scores)
        assert len(per_row) == 2 * LTI_STUDENTS
        assert set(per_row.values()) == {1}
        assert len(platform.line_items_for()) == 2
        assert len(platform.score_attempts) >= 2 * LTI_STUDENTS + 40  # the 503s happened

        # Webhooks: each event accepted exactly once (the faults made retries happen).
        with Session(db) as check:
            rows = check.scalars(select(WebhookDelivery)).all()
            statuses = Counter(r.status for r in rows)
            assert statuses == {"delivered": WEBHOOK_ROWS + PENDING}, statuses
            event_ids = {r.payload["event_id"] for r in rows}
            assert set(receiver.accepted) == event_ids
            assert set(receiver.accepted.values()) == {1}
            assert receiver.posts > len(event_ids)  # 500s and dropped connections retried

            # Pending submissions: each graded once, one submission.graded event each.
            graded = Counter(
                p["submission"]["id"]  # type: ignore[index]
                for p in receiver.payloads.values()
                if "submission" in p
            )
            assert set(graded) == set(pending_ids)
            assert set(graded.values()) == {1}
            subs = check.scalars(select(Submission).where(Submission.id.in_(pending_ids))).all()
            assert {s.status for s in subs} == {"graded"}
            assert {s.grading_attempts for s in subs} == {1}

            # The poisoned answer backed off instead of spinning: a few tries, not thousands.
            poisoned = check.get(Submission, poisoned_id)
            assert poisoned is not None
            assert poisoned.status == "pending"
            assert 1 <= poisoned.grading_attempts <= 3
            assert poisoned.grading_error
            assert "KeyError" in poisoned.grading_error
            assert logs.count("Traceback") <= 1

            statuses_lti = Counter(check.scalars(select(LtiScore.status)))
            assert statuses_lti == {"sent": 2 * LTI_STUDENTS}
            # A clean stop removes each worker's heartbeat row.
            assert check.scalar(select(func.count()).select_from(WorkerHeartbeat)) == 0
