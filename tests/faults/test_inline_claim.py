"""A request that grades its answer for longer than the worker's grace period: exactly one
grade lands, and one ``submission.graded`` event.

``submit`` stores the answer claimed (token 1) and decides it only while that claim holds;
a worker takes a row over after the grace period with the next token, exactly as between
two workers (:mod:`grader.services.pending`). The two graders are driven in each order in
one process, on real SQLite and PostgreSQL databases with real commits (two sessions, two
connections): the request's judge runs the worker's steps before it returns, so "the
worker acted while the request was still judging" happens every time, with no sleeps.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import make_engine
from grader.db import make_sessionmaker
from grader.migrate import upgrade
from grader.models import Submission
from grader.models import Webhook
from grader.models import WebhookDelivery
from grader.services import attempts
from grader.services import grading
from grader.services import pending
from grader.services import submissions
from grader.services import webhooks  # noqa: F401 - installs the outbox listeners
from tests.support.postgres import PostgresServer
from tests.support.student_world import World
from tests.support.student_world import make_world

STORED = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
#: the worker's clock: past the grace period of the row the request stored at STORED
LATER = STORED + pending.DEFAULT_GRACE + dt.timedelta(seconds=1)
WORKER_DONE = LATER + dt.timedelta(seconds=1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = make_engine(f"sqlite:///{tmp_path}/claims.sqlite3")
    else:
        server: PostgresServer = request.getfixturevalue("pg_server")
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        made = make_engine(server.create_database(f"inline_claim_{worker}"))
    with made.begin() as conn:
        upgrade(conn)
    try:
        yield made
    finally:
        made.dispose()


class Graders:
    """The request's session and the worker's, on their own connections."""

    def __init__(self, engine: Engine) -> None:
        factory = make_sessionmaker(engine)
        self.request: Session = factory()
        self.worker: Session = factory()
        self.world: World = make_world(self.request)
        self.request.add(
            Webhook(
                course_id=self.world.course.id,
                url="http://127.0.0.1:9/x",
                secret="s" * 32,
                events=[],
            )
        )
        self.request.commit()
        self.attempt = attempts.start_or_resume(
            self.request, self.world.student, self.world.item, secret="s3cret"
        )
        self.part = self.attempt.variant["parts"][0]
        self.claimed: tuple[int, int] | None = None
        self.report = pending.PendingReport()

    def close(self) -> None:
        self.request.close()
        self.worker.close()

    # the worker's two steps, as grade_pending runs them
    def worker_claims(self) -> None:
        self.claimed = pending.claim_one(
            self.worker, now=LATER, cutoff=LATER - pending.DEFAULT_GRACE
        )

    def worker_completes(self) -> None:
        assert self.claimed is not None
        submission_id, token = self.claimed
        pending.complete(self.worker, submission_id, token, now=WORKER_DONE, report=self.report)

    def submit(self) -> Submission:
        return submissions.submit(
            self.request,
            user=self.world.student,
            attempt=self.attempt,
            part_id=self.part["id"],
            raw_answer=str(self.part["key_text"]),
            idempotency_key=None,
            now=STORED,
        )

    def outcome(self, submission_id: int) -> tuple[Submission, int]:
        with Session(self.request.get_bind()) as fresh:
            row = fresh.get(Submission, submission_id)
            assert row is not None
            events = sum(
                1
                for d in fresh.scalars(select(WebhookDelivery))
                if d.payload.get("submission", {}).get("id") == submission_id
            )
            return row, events


@pytest.fixture
def graders(engine: Engine) -> Iterator[Graders]:
    made = Graders(engine)
    try:
        yield made
    finally:
        made.close()


def while_the_request_judges(
    monkeypatch: pytest.MonkeyPatch, graders: Graders, *steps: Callable[[], None]
) -> list[str]:
    """Run the worker's ``steps`` inside the request's first call of the judge (the
    worker's own judging runs normally). Returns who judged, in order."""
    real = grading.judge
    judged: list[str] = []

    def judge(*args: Any) -> Any:
        result = real(*args)
        if not judged:
            judged.append("request")
            for step in steps:
                step()
        else:
            judged.append("worker")
        return result

    monkeypatch.setattr(grading, "judge", judge)
    return judged


def test_a_worker_that_takes_over_and_finishes_first_is_the_one_grade(
    graders: Graders, monkeypatch: pytest.MonkeyPatch
) -> None:
    judged = while_the_request_judges(
        monkeypatch, graders, graders.worker_claims, graders.worker_completes
    )
    returned = graders.submit()
    assert judged == ["request", "worker"]
    assert graders.claimed == (returned.id, pending.INLINE_CLAIM + 1)
    assert (graders.report.graded, graders.report.lost) == (1, 0)
    row, events = graders.outcome(returned.id)
    assert (row.status, row.verdict, row.graded_at) == ("graded", "correct", WORKER_DONE)
    assert row.grading_attempts == pending.INLINE_CLAIM + 1
    assert events == 1
    # The request shows the student the grade that landed.
    assert (returned.status, returned.graded_at) == ("graded", WORKER_DONE)


def test_a_request_that_finishes_after_the_takeover_leaves_the_grade_to_the_worker(
    graders: Graders, monkeypatch: pytest.MonkeyPatch
) -> None:
    judged = while_the_request_judges(monkeypatch, graders, graders.worker_claims)
    returned = graders.submit()
    # The request judged, found its claim taken, and wrote nothing.
    row, events = graders.outcome(returned.id)
    assert (row.status, row.graded_at, events) == ("pending", None, 0)
    assert returned.status == "pending"
    graders.worker_completes()
    assert judged == ["request", "worker"]
    assert (graders.report.graded, graders.report.lost) == (1, 0)
    row, events = graders.outcome(returned.id)
    assert (row.status, row.verdict, row.graded_at) == ("graded", "correct", WORKER_DONE)
    assert events == 1


def test_a_request_that_finishes_first_leaves_the_worker_nothing(
    graders: Graders, monkeypatch: pytest.MonkeyPatch
) -> None:
    judged = while_the_request_judges(monkeypatch, graders)
    returned = graders.submit()
    graders.worker_claims()
    assert graders.claimed is None  # graded: nothing due
    assert judged == ["request"]
    row, events = graders.outcome(returned.id)
    assert (row.status, row.graded_at, row.grading_attempts) == (
        "graded",
        STORED,
        pending.INLINE_CLAIM,
    )
    assert events == 1


def test_within_the_grace_period_no_worker_claims_the_request_s_answer(
    graders: Graders, monkeypatch: pytest.MonkeyPatch
) -> None:
    early: list[tuple[int, int] | None] = []

    def worker_tries_too_early() -> None:
        early.append(
            pending.claim_one(graders.worker, now=STORED, cutoff=STORED - pending.DEFAULT_GRACE)
        )

    while_the_request_judges(monkeypatch, graders, worker_tries_too_early)
    returned = graders.submit()
    assert early == [None]
    row, events = graders.outcome(returned.id)
    assert (row.status, row.graded_at, events) == ("graded", STORED, 1)
