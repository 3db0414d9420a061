"""Regrading a quiz after an exercise fix, as a background job; the job queue itself."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import make_sessionmaker
from grader.errors import Forbidden
from grader.models import Job
from grader.models import Submission
from grader.services import authoring
from grader.services import gradebook
from grader.services import job_runner
from grader.services import jobs
from grader.services import regrade
from grader.services.grading import grade_submission
from tests.services.test_gradebook import SOURCE
from tests.services.test_gradebook import attempt as make_attempt
from tests.services.test_gradebook import build_class
from tests.services.test_gradebook import variant_json

# Version 1 has a bug: part w1 is keyed to the new w2. Version 2 fixes it.
BUGGY = SOURCE.replace("key: w1_new", "key: w2_new")


def _answer(session: Session, attempt_id: int, part_id: str, raw: str) -> Submission:
    sub = Submission(attempt_id=attempt_id, part_id=part_id, raw_answer=raw, status="pending")
    session.add(sub)
    session.flush()
    return grade_submission(session, sub)


def test_regrade_uses_the_fixed_version_and_keeps_the_audit_trail(db_session: Session) -> None:
    c = build_class(db_session, students=2, source=BUGGY)
    exercise = c.exercise
    fixed = variant_json(SOURCE, 1)
    right_w1 = fixed["parts"][1]["key_text"]
    ann, bob = c.students
    a_ann = make_attempt(db_session, c.items[0], ann, {}, seed=1, source=BUGGY)
    a_bob = make_attempt(db_session, c.items[0], bob, {}, seed=1, source=BUGGY)
    first = _answer(db_session, a_ann.id, "w1", right_w1)
    assert first.verdict != "correct"
    _answer(db_session, a_ann.id, "y", fixed["parts"][0]["key_text"])
    bob_w1 = _answer(db_session, a_bob.id, "w1", right_w1)
    gradebook.override_grade(db_session, c.prof, a_bob.id, "w1", points=0.5, reason="partial")

    authoring.save(db_session, c.prof, c.course.id, SOURCE, exercise_id=exercise.id)
    assert exercise.current_version == 2
    job = regrade.start_regrade(db_session, c.prof, c.quiz.id)
    assert (job.status, job.total) == ("queued", 3)
    assert regrade.start_regrade(db_session, c.prof, c.quiz.id).id == job.id  # no duplicate

    ran = job_runner.run_next_job(db_session)
    assert ran is not None
    assert ran.id == job.id
    assert (ran.status, ran.progress, ran.total, ran.error) == ("done", 3, 3, None)
    assert job_runner.run_next_job(db_session) is None

    db_session.refresh(first)
    assert (first.verdict, first.score) == ("correct", 1.0)
    assert a_ann.exercise_version == 2
    assert a_ann.variant == fixed
    payload = ran.payload
    assert (payload["attempts"], payload["submissions"], payload["changed"]) == (2, 3, 2)
    change = next(ch for ch in payload["changes"] if ch["submission_id"] == first.id)
    assert change["exercise_version"] == [1, 2]
    assert change["before"]["verdict"] != "correct"
    assert change["after"]["score"] == 1.0
    assert [
        ch["submission_id"] for ch in regrade.changes_for_attempt(db_session, c.quiz.id, a_ann.id)
    ] == [first.id]
    assert regrade.regrade_history(db_session, c.quiz.id) == [ran]

    # The manual override still wins over the regraded score.
    db_session.refresh(bob_w1)
    assert bob_w1.score == 1.0
    book = gradebook.quiz_gradebook(db_session, c.prof, c.quiz.id)
    cells = {r.user_id: r.cells[0] for r in book.rows}
    assert cells[bob.id].points == pytest.approx(0.5)  # type: ignore[union-attr]
    assert cells[ann.id].points == pytest.approx(1.0 + 2.0)  # type: ignore[union-attr]

    with pytest.raises(Forbidden):
        regrade.start_regrade(db_session, ann, c.quiz.id)


def test_a_failing_job_is_recorded(db_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(session: Session, job: Job, progress: jobs.Progress) -> None:
        progress(1, 4)
        raise RuntimeError("exercise does not validate")

    monkeypatch.setattr(jobs, "JOB_KINDS", (*jobs.JOB_KINDS, "boom"))
    monkeypatch.setitem(job_runner.HANDLERS, "boom", boom)
    job = jobs.enqueue(db_session, "boom", {})
    done = job_runner.run_next_job(db_session)
    assert done is not None
    assert (done.id, done.status) == (job.id, "failed")
    assert done.error == "RuntimeError: exercise does not validate"
    assert done.finished_at is not None
    with pytest.raises(ValueError, match="unknown job kind"):
        jobs.enqueue(db_session, "nope", {})


def test_every_job_kind_has_a_handler() -> None:
    assert set(job_runner.HANDLERS) == set(jobs.JOB_KINDS)


def test_two_workers_never_claim_the_same_job(db_engine: Engine) -> None:
    """Real commits on the test database: each worker gets its own job, nobody waits."""
    factory = make_sessionmaker(db_engine)
    with factory() as setup:
        ids = [jobs.enqueue(setup, regrade.JOB_KIND, {"quiz_id": -1}).id for _ in range(2)]
    holder, worker = factory(), factory()
    try:
        if db_engine.dialect.name == "postgresql":
            # Worker A is in the middle of claiming the first job (row locked, not committed).
            locked = holder.scalars(
                select(Job).where(Job.id == ids[0]).with_for_update(skip_locked=True)
            ).first()
            assert locked is not None
            claimed = jobs.claim_next(worker)
            assert claimed is not None
            assert claimed.id == ids[1]
            holder.rollback()
            again = jobs.claim_next(worker)
            assert again is not None
            assert again.id == ids[0]
        else:
            first = jobs.claim_next(holder)
            second = jobs.claim_next(worker)
            assert first is not None
            assert second is not None
            assert {first.id, second.id} == set(ids)
        assert jobs.claim_next(worker) is None
        assert jobs.requeue_stale(worker) == 0
    finally:
        holder.close()
        worker.close()
        with factory() as cleanup:
            cleanup.execute(delete(Job).where(Job.id.in_(ids)))
            cleanup.commit()
