"""The queue's rules, one at a time, on SQLite and PostgreSQL (a pinned clock):

a claim is checked when the work ends (a worker that lost its row does nothing), failures
back off and end as a visible ``error``, a job whose worker died is resumed from its
heartbeat, one answer the judge cannot take does not fail a regrade, and
:func:`queue_stats` tells depth, age and heartbeats.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from grader.models import Job
from grader.models import Submission
from grader.models import Webhook
from grader.models import WebhookDelivery
from grader.models import WorkerHeartbeat
from grader.services import attempts
from grader.services import grading
from grader.services import job_runner
from grader.services import jobs
from grader.services import pending
from grader.services import regrade
from grader.services import webhooks
from grader.services import worker as worker_service
from grader.services.queue_stats import queue_stats
from tests.support.student_world import World
from tests.support.student_world import make_world
from tests.web.test_student_views import login_as

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def _pending(session: Session, world: World, answer: str | None = None) -> Submission:
    attempt = attempts.start_or_resume(session, world.student, world.item, secret="s3cret")
    part = attempt.variant["parts"][0]
    sub = Submission(
        attempt_id=attempt.id,
        part_id=part["id"],
        raw_answer=answer if answer is not None else part["key_text"],
        status="pending",
        created_at=NOW - dt.timedelta(minutes=5),
    )
    session.add(sub)
    session.commit()
    return sub


def _hook(session: Session, world: World) -> Webhook:
    hook = Webhook(
        course_id=world.course.id, url="http://127.0.0.1:9/x", secret="s" * 32, events=[]
    )
    session.add(hook)
    session.commit()
    return hook


def _events(session: Session, submission_id: int) -> int:
    rows = session.scalars(select(WebhookDelivery)).all()
    return sum(1 for r in rows if r.payload.get("submission", {}).get("id") == submission_id)


def test_a_worker_whose_claim_was_taken_back_grades_nothing(db_session: Session) -> None:
    world = make_world(db_session)
    _hook(db_session, world)
    sub = _pending(db_session, world)
    first = pending.claim_one(db_session, now=NOW, cutoff=NOW)
    assert first == (sub.id, 1)
    # Still leased: nobody else can take it.
    assert pending.claim_one(db_session, now=NOW + dt.timedelta(seconds=5), cutoff=NOW) is None
    # The first worker stalls past its lease; a second worker claims and grades it.
    later = NOW + pending.LEASE + dt.timedelta(seconds=1)
    second = pending.claim_one(db_session, now=later, cutoff=NOW)
    assert second == (sub.id, 2)
    report = pending.PendingReport()
    pending.complete(db_session, sub.id, 2, now=later, report=report)
    assert report.graded == 1
    # The first worker wakes up and completes its stale claim: nothing happens.
    stale = pending.PendingReport()
    pending.complete(db_session, sub.id, 1, now=later, report=stale)
    assert (stale.graded, stale.lost) == (0, 1)
    db_session.expire_all()
    assert db_session.get(Submission, sub.id).status == "graded"
    assert _events(db_session, sub.id) == 1  # one submission.graded event, not two


def test_a_failing_answer_backs_off_then_shows_an_error(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(db_session)
    sub = _pending(db_session, world)

    def crash(*_args: object) -> None:
        raise OverflowError("the judge blew up")

    monkeypatch.setattr(grading, "judge", crash)
    clock = NOW
    for tries in range(1, pending.MAX_TRIES + 1):
        report = pending.grade_pending(db_session, now=clock, older_than=dt.timedelta(0))
        assert report.failed_ids == [sub.id]
        db_session.expire_all()
        row = db_session.get(Submission, sub.id)
        assert row.grading_attempts == tries
        assert "OverflowError: the judge blew up" in (row.grading_error or "")
        if tries < pending.MAX_TRIES:
            assert row.status == "pending"
            assert row.grade_after == clock + pending.backoff(tries)
            # Waiting out the backoff: the next pass finds nothing to do (no spinning).
            soon = clock + pending.backoff(tries) - dt.timedelta(seconds=1)
            assert pending.grade_pending(db_session, now=soon).handled == 0
            clock += pending.backoff(tries)
    assert row.status == "error"
    assert row.feedback == {"status": "error", "message": pending.ERROR_MESSAGE}
    assert pending.grade_pending(db_session, now=clock + dt.timedelta(days=1)).handled == 0


def test_the_attempt_pages_show_an_answer_that_could_not_be_graded(client, db_session) -> None:  # type: ignore[no-untyped-def]
    world = make_world(db_session)
    sub = _pending(db_session, world)
    db_session.execute(
        update(Submission)
        .where(Submission.id == sub.id)
        .values(status="error", feedback={"status": "error", "message": pending.ERROR_MESSAGE})
    )
    db_session.commit()
    login_as(client, world.instructor)
    page = client.get(f"/teach/attempts/{sub.attempt_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Could not be graded" in html
    assert pending.ERROR_MESSAGE in html
    book = client.get(f"/teach/quizzes/{world.quiz.id}/gradebook")
    assert book.status_code == 200
    assert "(an answer could not be graded)" in book.get_data(as_text=True)
    login_as(client, world.student)
    page = client.get(f"/quizzes/{world.quiz.id}")
    assert page.status_code == 200
    assert "Could not be graded" in page.get_data(as_text=True)


def test_a_webhook_outcome_is_kept_only_by_the_claim_that_holds_the_row(
    db_session: Session,
) -> None:
    world = make_world(db_session)
    hook = _hook(db_session, world)
    delivery = WebhookDelivery(
        webhook_id=hook.id,
        event="submission.graded",
        payload={"event_id": "e1"},
        status="pending",
        attempts=0,
        next_attempt_at=NOW,
        created_at=NOW,
    )
    db_session.add(delivery)
    db_session.commit()
    lease = dt.timedelta(seconds=40)
    assert webhooks._claim(db_session, NOW, 10, lease) == [delivery.id]
    (old,) = webhooks._load(db_session, [delivery.id])
    later = NOW + lease + dt.timedelta(seconds=1)
    assert webhooks._claim(db_session, later, 10, lease) == [delivery.id]  # lease ran out
    (new,) = webhooks._load(db_session, [delivery.id])
    assert (old.token, new.token) == (1, 2)
    report = webhooks.DeliveryReport()
    webhooks._settle(db_session, old, ("HTTP 500", False), NOW, report)  # the stale claim
    assert report.attempted == 0
    webhooks._settle(db_session, new, (None, False), later, report)
    assert report.delivered == 1
    db_session.expire_all()
    row = db_session.get(WebhookDelivery, delivery.id)
    assert (row.status, row.last_error, row.attempts) == ("delivered", None, 2)


def test_a_job_whose_worker_died_is_resumed_from_its_heartbeat(db_session: Session) -> None:
    world = make_world(db_session)
    job = jobs.enqueue(db_session, regrade.JOB_KIND, {"quiz_id": world.quiz.id})
    for death in range(1, jobs.MAX_CLAIMS + 1):
        claimed = jobs.claim_next(db_session)
        assert claimed is not None
        assert (claimed.id, claimed.attempts) == (job.id, death)
        beat = claimed.heartbeat_at
        assert beat is not None
        # Alive: a recent heartbeat keeps it running.
        assert jobs.requeue_stale(db_session, now=beat + dt.timedelta(seconds=30)) == 0
        # The worker dies: no heartbeat for longer than STALE_AFTER.
        silent = beat + jobs.STALE_AFTER + dt.timedelta(seconds=1)
        assert jobs.requeue_stale(db_session, now=silent) == 1
        # The dead claim's ending, should it come, is not kept.
        assert not jobs.finish(db_session, job.id, death, status="done")
        status = jobs.get_job(db_session, job.id).status
        assert status == ("queued" if death < jobs.MAX_CLAIMS else "failed")
    assert "stopped 3 times" in (jobs.get_job(db_session, job.id).error or "")


def test_a_regrade_survives_an_answer_the_judge_cannot_take(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(db_session)
    good = _pending(db_session, world)
    grading.grade_submission(db_session, good)
    other = attempts.start_or_resume(db_session, world.other, world.item, secret="s3cret")
    bad = Submission(attempt_id=other.id, part_id=good.part_id, raw_answer="1", status="pending")
    db_session.add(bad)
    db_session.commit()
    real = grading.judge

    def picky(variant, part_id, raw):  # type: ignore[no-untyped-def]
        if raw == "1":
            raise OverflowError("too big")
        return real(variant, part_id, raw)

    monkeypatch.setattr(grading, "judge", picky)
    job = regrade.start_regrade(db_session, world.instructor, world.quiz.id)
    done = job_runner.run_next_job(db_session)
    assert done is not None
    assert (done.id, done.status) == (job.id, "done")
    assert done.payload["failed_submissions"] == [{"submission_id": bad.id, "error": "too big"}]
    db_session.expire_all()
    assert db_session.get(Submission, good.id).status == "graded"
    assert db_session.get(Submission, bad.id).status == "pending"  # kept as it was


def test_queue_stats_tell_depth_age_and_heartbeats(db_session: Session) -> None:
    world = make_world(db_session)
    _pending(db_session, world)
    jobs.enqueue(db_session, regrade.JOB_KIND, {"quiz_id": world.quiz.id})
    db_session.add(
        WorkerHeartbeat(
            id="host:1:ab",
            hostname="host",
            pid=1,
            role="worker",
            started_at=NOW - dt.timedelta(hours=1),
            beat_at=NOW - dt.timedelta(seconds=7),
        )
    )
    db_session.commit()
    stats = queue_stats(db_session, now=NOW)
    assert [q.kind for q in stats.queues] == [
        "lti_scores",
        "webhooks",
        "pending_submissions",
        "jobs",
    ]
    subs = stats.queue("pending_submissions")
    assert (subs.depth, subs.oldest_age_seconds) == (1, 300.0)
    assert stats.queue("jobs").depth == 1
    assert stats.queue("webhooks") == stats.queue("webhooks").__class__("webhooks", 0, None)
    (beat,) = stats.workers
    assert (beat.worker_id, beat.role, beat.age_seconds) == ("host:1:ab", "worker", 7.0)


def test_every_step_runs_in_a_pass_and_names_are_unique(db_session: Session) -> None:
    names = [step.name for step in worker_service.STEPS]
    assert len(names) == len(set(names))
    clients = worker_service.lti_outbox.ServiceClients("steps-secret")
    try:
        done = worker_service.work_once(db_session, clients, config={}, now=NOW)
    finally:
        clients.close()
    assert list(done) == names


def test_a_failing_lane_backs_off_instead_of_spinning(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    calls = 0
    ran = threading.Event()

    def broken(_ctx: worker_service.Context) -> int:
        nonlocal calls
        calls += 1
        ran.set()
        raise RuntimeError("always")

    from grader.db import make_sessionmaker

    runner = worker_service.Worker(
        make_sessionmaker(sqlite_engine),
        worker_service.lti_outbox.ServiceClients("lane-secret"),
        worker_service.WorkerSettings(idle_seconds=0.01),
        steps=(worker_service.Step("broken", "broken", broken),),
    )
    runner.start()
    try:
        assert ran.wait(10)
        runner.wait(1.0)
    finally:
        runner.stop()
    # Spinning would be thousands of calls a second; backing off doubles each wait.
    assert 1 <= calls <= 12
    with Session(sqlite_engine) as check:
        assert check.scalar(select(func.count()).select_from(WorkerHeartbeat)) == 0


def test_a_worker_pass_resumes_a_regrade_a_dead_web_worker_left_running(
    db_session: Session,
) -> None:
    world = make_world(db_session)
    sub = _pending(db_session, world)
    grading.grade_submission(db_session, sub)
    job = regrade.start_regrade(db_session, world.instructor, world.quiz.id)
    claimed = jobs.claim_next(db_session)  # a gunicorn worker's thread took it, then died
    assert claimed is not None
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    db_session.execute(
        update(Job).where(Job.id == job.id).values(started_at=long_ago, heartbeat_at=long_ago)
    )
    db_session.commit()
    # Blocked for good before: a new regrade of the quiz returned the dead one.
    assert regrade.start_regrade(db_session, world.instructor, world.quiz.id).id == job.id
    clients = worker_service.lti_outbox.ServiceClients("resume-secret")
    try:
        done = worker_service.work_once(db_session, clients, config={})
    finally:
        clients.close()
    assert (done["stale_jobs"], done["jobs"]) == (1, 1)
    finished = jobs.get_job(db_session, job.id)
    assert (finished.status, finished.attempts, finished.error) == ("done", 2, None)
