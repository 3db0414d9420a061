"""Submitting an answer: store it first, then grade it.

``submit`` has two durability points, as the architecture prescribes: the answer is
committed as a ``pending`` row before the judge runs, and the grade is committed after.
Both are write transactions that hold the attempt's lock (``grader.db.begin_write``,
``grading.lock_attempt``): on SQLite concurrent answers queue for the write lock instead
of failing, and tries and penalties are decided in storage order (``grading``).
A crash (or a bug in the judge) in between leaves a pending row that
:func:`regrade_pending` finishes later; an answer the student saw accepted is never lost.

Double clicks and browser retries carry the same idempotency key (one per rendered
form), so they return the first submission instead of grading twice; the unique
constraint on (attempt, key) settles the race between two simultaneous requests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging

from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grader.db import begin_write
from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import NotFound
from grader.models import Attempt
from grader.models import Quiz
from grader.models import Submission
from grader.models import User
from grader.models import utcnow
from grader.services import grading
from grader.services import pending
from grader.services import permissions
from grader.services import quiz_access

logger = logging.getLogger(__name__)

#: longer answers are refused before they are stored (the judge caps at 5000 anyway)
MAX_ANSWER_LENGTH = 10_000
MAX_KEY_LENGTH = 64


def find_by_key(session: Session, attempt_id: int, idempotency_key: str) -> Submission | None:
    """The submission already stored under this key for this attempt."""
    return session.scalar(_by_key_query(), {"attempt_id": attempt_id, "key": idempotency_key})


@functools.cache
def _by_key_query() -> Select[Submission]:
    # Built once: every submit asks (building a statement costs more CPU than running it).
    return select(Submission).where(
        Submission.attempt_id == bindparam("attempt_id"),
        Submission.idempotency_key == bindparam("key"),
    )


def _tries_used(session: Session, attempt_id: int, part_id: str) -> int:
    count = session.scalar(
        select(func.count(Submission.id)).where(
            Submission.attempt_id == attempt_id,
            Submission.part_id == part_id,
            Submission.counts_as_try.is_(True),
            Submission.status.in_(("pending", "graded", "error")),
        )
    )
    return int(count or 0)


def _part_ids(attempt: Attempt) -> list[str]:
    return [p["id"] for p in attempt.variant.get("parts", [])]


def submit(
    session: Session,
    *,
    user: User,
    attempt: Attempt,
    part_id: str,
    raw_answer: str,
    idempotency_key: str | None,
    now: dt.datetime | None = None,
) -> Submission:
    """Store one answer to one part, then grade it.

    Returns the graded submission; or the earlier one stored under the same key; or,
    when grading itself failed, the stored ``pending`` one (it is logged, and
    :func:`regrade_pending` will finish it).

    Raises:
        NotFound: not the user's attempt, or no such part.
        Forbidden: staff trying to answer in a student's attempt.
        BadRequest: an oversized answer or key.
        Conflict: the quiz does not accept answers now, or no tries are left.
    """
    now = now or utcnow()
    permissions.require_attempt_owner(session, user, attempt)
    if part_id not in _part_ids(attempt):
        raise NotFound(f"attempt {attempt.id} has no part {part_id!r}")
    if idempotency_key is not None:
        idempotency_key = idempotency_key.strip() or None
    if idempotency_key is not None:
        if len(idempotency_key) > MAX_KEY_LENGTH:
            raise BadRequest(f"idempotency key longer than {MAX_KEY_LENGTH} characters")
        existing = find_by_key(session, attempt.id, idempotency_key)
        if existing is not None:
            return existing
    if len(raw_answer) > MAX_ANSWER_LENGTH:
        raise BadRequest(f"answers are limited to {MAX_ANSWER_LENGTH} characters")
    if "\x00" in raw_answer or "\x00" in (idempotency_key or ""):
        # PostgreSQL cannot store NUL in text; no answer needs one.
        raise BadRequest("answers cannot contain NUL characters")

    quiz = attempt.quiz_item.quiz
    if not grading.accepts_answers(quiz, now):
        raise Conflict(f"the quiz {quiz.title!r} does not accept answers now")
    # Stored one at a time per attempt: the write lock from the start on SQLite (writers
    # queue instead of failing), the attempt's row lock on PostgreSQL; so two tabs cannot
    # both use the last try, and each answer's place in the order is its storage order.
    begin_write(session)
    grading.lock_attempt(session, attempt.id)
    if idempotency_key is not None:
        existing = find_by_key(session, attempt.id, idempotency_key)
        if existing is not None:
            session.commit()
            return existing
    allowed = quiz.attempts_allowed
    if allowed is not None and _tries_used(session, attempt.id, part_id) >= allowed:
        session.commit()  # nothing written: end the transaction and its lock now
        raise Conflict(f"no tries left for part {part_id} (allowed: {allowed})")

    submission = Submission(
        attempt_id=attempt.id,
        part_id=part_id,
        raw_answer=raw_answer,
        idempotency_key=idempotency_key,
        status="pending",
        is_late=grading.is_late(quiz, now),
        created_at=now,
        # Claimed by this request (grader.services.pending): a worker takes it over only
        # after the grace period, and then this request's grade no longer lands.
        grading_attempts=pending.INLINE_CLAIM,
    )
    session.add(submission)
    try:
        session.commit()
    except IntegrityError:
        # The same key arrived twice at once; the other request stored it first.
        session.rollback()
        if idempotency_key is not None:
            existing = find_by_key(session, attempt.id, idempotency_key)
            if existing is not None:
                return existing
        raise
    # Read the id now: a failed grading flush expires the object, and touching it then
    # would raise PendingRollbackError instead of reporting the stored answer.
    submission_id = submission.id
    logger.info("stored submission_id=%s attempt_id=%s part=%s", submission_id, attempt.id, part_id)
    try:
        grading.grade_submission(
            session, submission, now=now, follow_up=True, claim=pending.INLINE_CLAIM
        )
    except Exception:
        # Stored but not graded: the student's answer is safe; regrade_pending finishes it.
        logger.exception("grading failed submission_id=%s; left pending", submission_id)
        session.rollback()
        refreshed = session.get(Submission, submission_id)
        assert refreshed is not None
        return refreshed
    return submission


@dataclasses.dataclass
class RegradeReport:
    """What :func:`regrade_pending` did."""

    graded: int = 0
    failed: int = 0
    failed_ids: list[int] = dataclasses.field(default_factory=list)


def regrade_pending(
    session: Session,
    *,
    older_than: dt.timedelta = dt.timedelta(seconds=0),
    limit: int | None = None,
    now: dt.datetime | None = None,
) -> RegradeReport:
    """Grade submissions left ``pending`` (a crash between storing and grading).

    Each row is claimed and committed on its own (:mod:`grader.services.pending`: safe with
    several workers), so a failing one is logged, backs off, and does not stop the rest.

    Args:
        older_than: skip rows younger than this (a request may still be grading them).
        limit: at most this many rows.
    """
    report = pending.grade_pending(session, older_than=older_than, limit=limit, now=now)
    return RegradeReport(
        graded=report.graded, failed=report.failed, failed_ids=list(report.failed_ids)
    )


def get_submission(session: Session, user: User, submission_id: int) -> Submission:
    """A submission the user may see (their own, or one in a course they teach).

    Raises:
        NotFound: no such submission, or not the user's to see.
    """
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound(f"no submission {submission_id}")
    if not permissions.can_view_attempt(session, user, submission.attempt):
        raise NotFound(f"no submission {submission_id}")
    return submission


@dataclasses.dataclass(frozen=True)
class HistoryRow:
    """One submission with the question it answered."""

    submission: Submission
    position: int
    title: str


def quiz_history(
    session: Session, user: User, quiz_id: int, now: dt.datetime | None = None
) -> tuple[Quiz, list[HistoryRow]]:
    """Every submission the user made in a quiz, newest first.

    Raises:
        NotFound: the quiz is not visible to the user.
    """
    quiz = quiz_access.get_quiz(session, user, quiz_id, now)
    items = {item.id: item for item in quiz.items}
    rows = session.execute(
        select(Submission, Attempt.quiz_item_id, Attempt.variant)
        .join(Attempt, Attempt.id == Submission.attempt_id)
        .where(Attempt.user_id == user.id, Attempt.quiz_item_id.in_(list(items)))
        .order_by(Submission.created_at.desc(), Submission.id.desc())
    )
    history = [
        HistoryRow(sub, items[item_id].position, variant.get("title", ""))
        for sub, item_id, variant in rows
    ]
    return quiz, history
