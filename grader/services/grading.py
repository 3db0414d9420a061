"""Grading one stored submission, and the scoring rules every other service shares.

Rules (one place, so the student pages, the gradebook and the regrade job agree):

* **Judging** reads the variant stored with the attempt (``Variant.from_json``), never a
  regenerated one, so editing an exercise never changes a grade already given.
* **Invalid** answers (unreadable) and **undetermined** ones (the checker could not decide
  in its time budget) are stored with ``counts_as_try=False`` and a score of 0: they cost
  no attempt and no penalty.
* **Retry penalty**: each earlier graded try on the same part removes
  ``quiz.penalty_per_retry`` from the credit (subtractive, as STACK does, floored at 0):
  ``score = max(0, raw - penalty * previous_tries)``.
* **Late policy** (``quiz.late_policy``): ``{"mode": "refuse"}`` closes the quiz at its
  due date; ``{"mode": "penalty", "penalty": p, "until": iso}`` accepts late answers until
  ``until`` (forever when absent) and multiplies their credit by ``1 - p``;
  ``{"mode": "none"}`` accepts late answers without penalty (they are still marked late).
  An empty policy means ``refuse``: a due date closes the quiz unless the instructor says
  otherwise.
* **A part's credit** is its newest manual override if there is one, else the best score
  among its graded submissions (:func:`part_credit`).
* **Order**: tries and penalties are decided in the order answers are stored, one at a
  time per attempt (:func:`grade_submission`), on SQLite and PostgreSQL alike, so answers
  sent at the same instant score exactly as if they had been sent one after another.
* **A regrade never lowers a score the student has seen** (:func:`record_result`).

How an answer is read before it is sent (the live preview) is
``grader.services.answer_preview``; grading never imports the attempt or course services.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import time
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader import metrics
from grader.db import begin_write
from grader.exercises import Judgement
from grader.exercises import Variant
from grader.exercises import judge
from grader.exercises.follow import dependents
from grader.models import Attempt
from grader.models import GradeOverride
from grader.models import Quiz
from grader.models import Submission
from grader.models import utcnow
from grader.services import follow

logger = logging.getLogger(__name__)

FEEDBACK_SCHEMA_VERSION = 1
#: credits within this of 1 count as full credit (float noise in mistake credits)
SNAP = 1e-6
LATE_MODES = ("refuse", "penalty", "none")


# --------------------------------------------------------------------------- late policy


@dataclasses.dataclass(frozen=True)
class LatePolicy:
    """A quiz's late policy, parsed once with defaults for missing keys."""

    mode: str = "refuse"
    penalty: float = 0.0
    until: dt.datetime | None = None


def late_policy(quiz: Quiz) -> LatePolicy:
    """Parse ``quiz.late_policy``; unknown modes fall back to ``refuse`` (the safe side)."""
    raw: Mapping[str, Any] = quiz.late_policy or {}
    mode = raw.get("mode") or "refuse"
    if mode not in LATE_MODES:
        logger.warning("quiz_id=%s has unknown late mode %r; refusing late work", quiz.id, mode)
        mode = "refuse"
    penalty = min(max(float(raw.get("penalty") or 0.0), 0.0), 1.0)
    until = raw.get("until")
    until_at: dt.datetime | None = None
    if until:
        until_at = dt.datetime.fromisoformat(str(until))
        if until_at.tzinfo is None:
            until_at = until_at.replace(tzinfo=dt.UTC)
    return LatePolicy(mode=mode, penalty=penalty if mode == "penalty" else 0.0, until=until_at)


def closes_at(quiz: Quiz) -> dt.datetime | None:
    """The last moment the quiz accepts answers (None: it never closes)."""
    if quiz.due_at is None:
        return None
    policy = late_policy(quiz)
    if policy.mode == "refuse":
        return quiz.due_at
    return policy.until


def is_late(quiz: Quiz, when: dt.datetime) -> bool:
    """True after the due date."""
    return quiz.due_at is not None and when > quiz.due_at


def accepts_answers(quiz: Quiz, when: dt.datetime) -> bool:
    """Published, opened, and not closed at ``when``."""
    if not quiz.is_published:
        return False
    if quiz.opens_at is not None and when < quiz.opens_at:
        return False
    end = closes_at(quiz)
    return end is None or when <= end


# --------------------------------------------------------------------------- scoring


def final_score(raw: float, *, quiz: Quiz, previous_tries: int, late: bool) -> float:
    """Credit after the retry penalty and the late penalty, in 0..1."""
    score = max(0.0, raw - quiz.penalty_per_retry * previous_tries)
    if late:
        score *= 1.0 - late_policy(quiz).penalty
    if abs(score - 1.0) < SNAP:
        score = 1.0
    return min(max(score, 0.0), 1.0)


def part_credit(
    submissions: Iterable[Submission], override: GradeOverride | None = None
) -> float | None:
    """A part's credit (0..1): the newest override, else the best graded score, else None.

    ``override`` must be the newest override for the part (see :func:`newest_overrides`).
    """
    if override is not None:
        return override.score
    scores = [s.score for s in submissions if s.status == "graded" and s.score is not None]
    return max(scores) if scores else None


def newest_overrides(
    session: Session, attempt_ids: Iterable[int]
) -> dict[tuple[int, str], GradeOverride]:
    """The newest override per (attempt_id, part_id), in one query."""
    ids = list(attempt_ids)
    if not ids:
        return {}
    rows = session.scalars(_overrides_query(), {"attempt_ids": ids})
    return {(o.attempt_id, o.part_id): o for o in rows}


# Built once: every quiz page and submit runs these, and building a statement costs more
# CPU than running it (see grader.services.auth._live_sign_in_query).
@functools.cache
def _overrides_query() -> Select[GradeOverride]:
    return (
        select(GradeOverride)
        .where(GradeOverride.attempt_id.in_(bindparam("attempt_ids", expanding=True)))
        .order_by(GradeOverride.created_at, GradeOverride.id)
    )


@functools.cache
def _previous_tries_query() -> Select[int]:
    return select(func.count(Submission.id)).where(
        Submission.attempt_id == bindparam("attempt_id"),
        Submission.part_id == bindparam("part_id"),
        Submission.id < bindparam("submission_id"),
        Submission.status == "graded",
        Submission.counts_as_try.is_(True),
    )


def counts_as_try(status: str) -> bool:
    """Only answers the checker could read and decide use an attempt."""
    return status in ("correct", "incorrect", "consistent")


# --------------------------------------------------------------------------- grading


def feedback_json(result: Judgement) -> dict[str, Any]:
    """What the student is shown about one judged answer (stored on the submission)."""
    return {"schema_version": FEEDBACK_SCHEMA_VERSION, **result.feedback_fields()}


def previous_tries(session: Session, submission: Submission) -> int:
    """Graded tries on the same part stored before this submission."""
    count = session.scalar(
        _previous_tries_query(),
        {
            "attempt_id": submission.attempt_id,
            "part_id": submission.part_id,
            "submission_id": submission.id,
        },
    )
    return int(count or 0)


def lock_attempt(session: Session, attempt_id: int) -> None:
    """Hold the attempt's row lock until the transaction ends (PostgreSQL).

    Storing an answer and deciding its score both take it, inside a
    :func:`grader.db.begin_write` transaction, so answers to one attempt are stored and
    decided one at a time. SQLite has no row locks (the statement compiles without
    ``FOR UPDATE``): there the write lock ``BEGIN IMMEDIATE`` took orders every writer.
    """
    session.execute(_lock_attempt_query(), {"attempt_id": attempt_id})


@functools.cache
def _lock_attempt_query() -> Select[int]:
    return select(Attempt.id).where(Attempt.id == bindparam("attempt_id")).with_for_update()


@functools.cache
def _undecided_query() -> Select[Submission]:
    return (
        select(Submission)
        .where(
            Submission.attempt_id == bindparam("attempt_id"),
            Submission.part_id == bindparam("part_id"),
            Submission.id <= bindparam("submission_id"),
            Submission.status == "pending",
        )
        .order_by(Submission.id)
        # A row a worker is grading right now (grader.services.pending holds its lock
        # until the grade commits) is waited for, then left out: it is decided already.
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def judge_stored(submission: Submission, session: Session | None = None) -> Judgement:
    """The judge's result for a stored answer, against the attempt's stored variant.

    With a session, follow-through applies: an answer wrong against the key but right
    given the attempt's current (wrong) earlier answers is ``consistent``
    (:mod:`grader.services.follow`).

    Raises:
        KeyError: the stored variant has no such part (a corrupted row, a bug).
        Exception: whatever the judge raises.
    """
    variant = Variant.from_json(submission.attempt.variant)
    started = time.perf_counter()
    result = judge(variant, submission.part_id, submission.raw_answer)
    if session is not None:
        quiz = submission.attempt.quiz_item.quiz
        result = follow.follow_through(session, submission, variant, quiz, result)
    metrics.GRADING_SECONDS.observe(time.perf_counter() - started)
    return result


def grade_submission(
    session: Session,
    submission: Submission,
    *,
    commit: bool = True,
    now: dt.datetime | None = None,
    follow_up: bool = False,
    claim: int | None = None,
) -> Submission:
    """Judge a stored submission against its attempt's stored variant and record the result.

    Sets ``verdict``, ``raw_score``, ``note``, ``feedback``, ``counts_as_try``, ``status``
    and the final ``score`` (retry penalty per earlier graded try on that part, then the
    late penalty from the submission's stored ``is_late``).

    With ``commit`` (a new answer: ``submit``, the pending sweep) the answer is judged
    first, holding no lock (judging is CPU work, and a pure function of the stored
    variant and answer), then decided in one write transaction that holds the attempt's
    lock (:func:`lock_attempt`): any earlier answer to the same part still ``pending``
    is decided first, in storage order, so the tries and penalties follow the order the
    answers were stored, never the order their requests happened to finish. An answer
    someone else decided meanwhile (a parallel request, the worker) is returned as it
    is, never graded twice. With ``claim`` (the token of the claim ``submit`` took when it
    stored the answer, :data:`grader.services.pending.INLINE_CLAIM`) the answer is decided
    only if that claim still holds it: once a worker has taken it over (a request that
    judged for longer than the worker's grace period), the worker's result is the one
    that lands, exactly as between two workers.

    Without ``commit`` (a regrade, in the caller's transaction, over an attempt's
    submissions in id order) the submission is judged and scored in place. A score the
    student has already seen never goes down (:func:`record_result`).

    Args:
        commit: decide and commit as above; False leaves the transaction to the caller.
        now: the ``graded_at`` timestamp (tests pin it).
        follow_up: with ``commit``, then re-judge the answers to the parts that depend
            on this one (follow-through; :func:`rejudge_dependents`).
        claim: with ``commit``, decide only while the row's claim token is this one.

    Raises:
        KeyError: the stored variant has no such part (a corrupted row, a bug).
        Exception: whatever the judge raises; nothing is written then.
    """
    now = now or utcnow()
    if not commit:
        return record_result(session, submission, judge_stored(submission, session), now=now)
    submission_id = submission.id
    attempt_id, part_id = submission.attempt_id, submission.part_id
    result = judge_stored(submission, session)
    begin_write(session)
    lock_attempt(session, attempt_id)
    # One query: this answer and every earlier one to the part still undecided, oldest first.
    undecided = session.scalars(
        _undecided_query(),
        {"attempt_id": attempt_id, "part_id": part_id, "submission_id": submission_id},
    ).all()
    taken = claim is not None and bool(undecided) and undecided[-1].grading_attempts != claim
    if not undecided or undecided[-1].id != submission_id or taken:
        # Decided meanwhile (a parallel request, the worker), or a worker claimed it after
        # the grace period and will decide it: the stored decision (or the worker's) stands.
        if taken:
            logger.info("submission_id=%s was claimed by a worker; its grade stands", submission_id)
        session.commit()
        decided = session.get(Submission, submission_id, populate_existing=True)
        return decided if decided is not None else submission
    *earlier, current = undecided
    for other in earlier:
        try:
            other_result = judge_stored(other, session)
        except Exception:
            # Left pending (the sweep retries it); it counts as no try until it is decided.
            logger.exception("grading failed submission_id=%s; left pending", other.id)
            continue
        record_result(session, other, other_result, now=now)
    record_result(session, current, result, now=now)
    session.commit()
    if follow_up:
        rejudge_dependents(session, current, now=now)
    return current


def record_result(
    session: Session, submission: Submission, result: Judgement, *, now: dt.datetime
) -> Submission:
    """Store a judge's result on a submission, scored against the tries stored before it.

    **A score the student has seen never goes down.** When a submission that was already
    graded (its score was shown) is judged again (a regrade) and would now score less,
    the new verdict, note and feedback are recorded (so the regrade's report shows the
    instructor what changed and why) but the score, status and whether it counted as a
    try stay as the student saw them; the feedback says so. An instructor who means to
    lower it sets an override, which carries a reason.
    """
    seen = _seen_outcome(submission)
    # Counted before anything changes, so the count does not autoflush a half-set row.
    earlier = previous_tries(session, submission) if counts_as_try(result.status) else 0
    submission.verdict = result.status
    submission.raw_score = float(result.score)
    submission.note = result.note[:120]
    submission.feedback = feedback_json(result)
    submission.graded_at = now
    if counts_as_try(result.status):
        submission.status = "graded"
        submission.counts_as_try = True
        submission.score = final_score(
            float(result.score),
            quiz=submission.attempt.quiz_item.quiz,
            previous_tries=earlier,
            late=submission.is_late,
        )
    else:
        # Unreadable or undecidable: stored so the student sees why, free of charge.
        submission.status = "invalid" if result.status == "invalid" else "graded"
        submission.counts_as_try = False
        submission.raw_score = 0.0
        submission.score = 0.0
    if seen is not None and (submission.score or 0.0) < seen.score - SCORE_EPSILON:
        _keep_seen_score(submission, seen)
    session.flush()
    metrics.SUBMISSIONS_GRADED.labels(status=result.status).inc()
    logger.info(
        "graded submission_id=%s attempt_id=%s part=%s verdict=%s score=%s",
        submission.id,
        submission.attempt_id,
        submission.part_id,
        submission.verdict,
        submission.score,
    )
    return submission


#: score changes smaller than this are float noise, not a lower score
SCORE_EPSILON = 1e-9
KEPT_SCORE_NOTE = (
    "This answer was judged again after a correction and would now score less; "
    "you keep the score you were given."
)


@dataclasses.dataclass(frozen=True)
class _Seen:
    status: str
    score: float
    counts_as_try: bool


def _seen_outcome(submission: Submission) -> _Seen | None:
    """What the student was shown: a graded submission's score (None before grading)."""
    if submission.status != "graded" or submission.score is None:
        return None
    return _Seen(submission.status, submission.score, submission.counts_as_try)


def _keep_seen_score(submission: Submission, seen: _Seen) -> None:
    logger.warning(
        "regrade would lower submission_id=%s from %s to %s; the seen score is kept",
        submission.id,
        seen.score,
        submission.score,
    )
    feedback = dict(submission.feedback or {})
    feedback["kept_score"] = {"score": submission.score, "kept": seen.score}
    feedback["message"] = f"{feedback.get('message') or ''} {KEPT_SCORE_NOTE}".strip()
    submission.feedback = feedback
    submission.status = seen.status
    submission.score = seen.score
    submission.counts_as_try = seen.counts_as_try


def rejudge_dependents(
    session: Session, submission: Submission, *, now: dt.datetime | None = None
) -> int:
    """Re-judge every counted answer to the parts depending on ``submission``'s part.

    Called after an answer is graded: a dependent answer may become (or stop being)
    ``consistent``. Commits; returns how many submissions were re-judged.
    """
    variant = Variant.from_json(submission.attempt.variant)
    try:
        parts = dependents(variant, submission.part_id)
    except KeyError:
        return 0
    if not parts:
        return 0
    begin_write(session)
    lock_attempt(session, submission.attempt_id)  # as grading decides: one writer per attempt
    subs = session.scalars(
        select(Submission)
        .where(
            Submission.attempt_id == submission.attempt_id,
            Submission.part_id.in_(parts),
            Submission.status == "graded",
        )
        .order_by(Submission.id)
    ).all()
    for sub in subs:
        grade_submission(session, sub, commit=False, now=now, follow_up=False)
    session.commit()
    logger.info(
        "re-judged %d dependent submissions attempt_id=%s after part=%s",
        len(subs),
        submission.attempt_id,
        submission.part_id,
    )
    return len(subs)
