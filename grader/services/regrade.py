"""Regrade a quiz after an exercise was fixed, as a background job.

For every attempt of the quiz the variant is generated again from the exercise's *current*
version with the attempt's own seed (same numbers, corrected key), stored on the attempt,
and every stored submission is judged again by ``grading.grade_submission``. Penalties and
late rules are the grading service's, so a regraded score equals what a fresh submission
would get.

The audit trail: the job's payload keeps, for every submission whose outcome changed,
the old and the new status, verdict, note and score and the exercise versions; manual
overrides are untouched (they still win); a submission the judge raises on keeps its
outcome and is listed in ``failed_submissions`` (the rest of the quiz is regraded); and the
old variant can be rebuilt from the old
``ExerciseVersion`` and the unchanged seed.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import writes
from grader.errors import Conflict
from grader.exercises import SpecError
from grader.exercises import generate
from grader.models import Attempt
from grader.models import Exercise
from grader.models import ExerciseVersion
from grader.models import Job
from grader.models import QuizItem
from grader.models import Submission
from grader.models import User
from grader.services import jobs
from grader.services.authoring import spec_of_source
from grader.services.grading import grade_submission
from grader.services.quizzes import get_quiz

logger = logging.getLogger(__name__)

JOB_KIND = jobs.REGRADE_QUIZ
#: commit and report progress after this many submissions
BATCH = 50
#: the payload keeps at most this many changes (the count is always exact)
MAX_CHANGES = 20_000

_FIELDS = ("status", "verdict", "note", "raw_score", "score")


def _submission_count(session: Session, quiz_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Submission)
            .join(Attempt, Attempt.id == Submission.attempt_id)
            .join(QuizItem, QuizItem.id == Attempt.quiz_item_id)
            .where(QuizItem.quiz_id == quiz_id)
        )
        or 0
    )


def active_regrade(session: Session, quiz_id: int) -> Job | None:
    """The queued or running regrade of this quiz, if any."""
    for job in session.scalars(
        select(Job)
        .where(Job.kind == JOB_KIND, Job.status.in_(("queued", "running")))
        .order_by(Job.id)
        .execution_options(populate_existing=True)
    ):
        if job.payload.get("quiz_id") == quiz_id:
            return job
    return None


def regrade_history(session: Session, quiz_id: int, *, limit: int = 50) -> list[Job]:
    """The quiz's regrade jobs, newest first (recent ones)."""
    recent = session.scalars(
        select(Job)
        .where(Job.kind == JOB_KIND)
        .order_by(Job.id.desc())
        .limit(limit * 4)
        .execution_options(populate_existing=True)
    )
    return [j for j in recent if j.payload.get("quiz_id") == quiz_id][:limit]


@writes
def start_regrade(session: Session, actor: User | None, quiz_id: int) -> Job:
    """Queue a regrade of the quiz (or return the one already queued or running)."""
    quiz = get_quiz(session, actor, quiz_id, manage=True)
    assert actor is not None
    running = active_regrade(session, quiz.id)
    if running is not None:
        return running
    job = jobs.enqueue(
        session,
        JOB_KIND,
        {"quiz_id": quiz.id},
        created_by_id=actor.id,
        total=_submission_count(session, quiz.id),
    )
    logger.info("regrade queued quiz_id=%s job_id=%s by user_id=%s", quiz.id, job.id, actor.id)
    return job


def get_regrade(session: Session, actor: User | None, quiz_id: int, job_id: int) -> Job:
    """A regrade job of a quiz the actor teaches."""
    get_quiz(session, actor, quiz_id)
    job = jobs.get_job(session, job_id)
    if job.kind != JOB_KIND or job.payload.get("quiz_id") != quiz_id:
        raise Conflict(f"job {job_id} is not a regrade of quiz {quiz_id}")
    return job


def _snapshot(sub: Submission) -> dict[str, Any]:
    return {name: getattr(sub, name) for name in _FIELDS}


def run_regrade_job(session: Session, job: Job, progress: jobs.Progress) -> None:
    """The job handler: regenerate every attempt's variant and rejudge its submissions."""
    quiz_id = int(job.payload["quiz_id"])
    items = session.execute(
        select(QuizItem, Exercise).join(Exercise).where(QuizItem.quiz_id == quiz_id)
    ).all()
    sources = dict(
        session.execute(
            select(ExerciseVersion.exercise_id, ExerciseVersion.source_yaml)
            .join(Exercise, Exercise.id == ExerciseVersion.exercise_id)
            .where(
                ExerciseVersion.exercise_id.in_([e.id for _, e in items]),
                ExerciseVersion.version == Exercise.current_version,
            )
        ).all()
    )
    specs = {}
    current = {}
    for item, exercise in items:
        try:
            specs[item.id] = spec_of_source(sources[exercise.id])
        except SpecError as exc:
            raise RuntimeError(f"exercise {exercise.slug} does not validate: {exc}") from None
        current[item.id] = exercise.current_version
    total = _submission_count(session, quiz_id)
    attempt_ids = list(
        session.scalars(
            select(Attempt.id)
            .join(QuizItem, QuizItem.id == Attempt.quiz_item_id)
            .where(QuizItem.quiz_id == quiz_id)
            .order_by(Attempt.id)
        )
    )
    changes: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    failed_subs: list[dict[str, Any]] = []
    changed = skipped = done = 0
    progress(0, total)
    for attempt_id in attempt_ids:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        old_version = attempt.exercise_version
        try:
            variant = generate(specs[attempt.quiz_item_id], attempt.seed)
        except SpecError as exc:
            # This seed cannot be built from the new version: keep the attempt as it was.
            failed.append({"attempt_id": attempt_id, "error": str(exc)[:500]})
            done += len(attempt.submissions)
            continue
        attempt.variant = variant.to_json()
        attempt.exercise_version = current[attempt.quiz_item_id]
        part_ids = {p.id for p in variant.parts}
        subs = session.scalars(
            select(Submission).where(Submission.attempt_id == attempt_id).order_by(Submission.id)
        ).all()
        for sub in subs:
            done += 1
            if sub.part_id not in part_ids:
                skipped += 1  # the fixed exercise dropped this part: keep the old outcome
                continue
            before = _snapshot(sub)
            try:
                with session.begin_nested():
                    grade_submission(session, sub, commit=False)
            except Exception as exc:  # one answer the judge cannot take keeps its outcome
                logger.warning("regrade of submission_id=%s failed: %s", sub.id, exc)
                session.refresh(sub)
                failed_subs.append({"submission_id": sub.id, "error": str(exc)[:500]})
                continue
            after = _snapshot(sub)
            if after != before:
                changed += 1
                if len(changes) < MAX_CHANGES:
                    changes.append(
                        {
                            "submission_id": sub.id,
                            "attempt_id": attempt_id,
                            "user_id": attempt.user_id,
                            "part_id": sub.part_id,
                            "exercise_version": [old_version, attempt.exercise_version],
                            "before": before,
                            "after": after,
                        }
                    )
            if done % BATCH == 0:
                progress(done, total)
        session.commit()
    job.payload = {
        **job.payload,
        "attempts": len(attempt_ids),
        "submissions": done,
        "changed": changed,
        "skipped": skipped,
        "failed_attempts": failed,
        "failed_submissions": failed_subs[:MAX_CHANGES],
        "failed_submission_count": len(failed_subs),
        "changes": changes,
    }
    progress(done, max(total, done))
    logger.info(
        "regrade done quiz_id=%s attempts=%s submissions=%s changed=%s",
        quiz_id,
        len(attempt_ids),
        done,
        changed,
    )


def changes_for_attempt(session: Session, quiz_id: int, attempt_id: int) -> list[dict[str, Any]]:
    """The regrade changes recorded for one attempt, oldest regrade first."""
    out = []
    for job in reversed(regrade_history(session, quiz_id)):
        for change in job.payload.get("changes", ()):
            if change.get("attempt_id") == attempt_id:
                out.append({**change, "job_id": job.id, "finished_at": job.finished_at})
    return out


def attempt_students(session: Session, attempt_ids: list[int]) -> dict[int, User]:
    """Whose attempts these are (the "what changed" table names the student), one query.

    Callers pass ids from a regrade they were allowed to see (``get_regrade`` checked).
    """
    if not attempt_ids:
        return {}
    rows = session.execute(
        select(Attempt.id, User)
        .join(User, User.id == Attempt.user_id)
        .where(Attempt.id.in_(attempt_ids))
    )
    return {attempt_id: user for attempt_id, user in rows}
