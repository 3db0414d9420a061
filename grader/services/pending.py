"""Grading submissions left ``pending``: claimed one at a time, retried with backoff, then
marked ``error`` for the instructor.

A submission is committed as ``pending`` before the judge runs (see
:mod:`grader.services.submissions`); a crash, a lost database or a judge that raises in
between leaves it so. Workers (``grader worker`` and the embedded thread of ``grader serve``)
finish such rows here, and several may run at once:

* **Claim.** A worker takes one due row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; a
  conditional UPDATE on SQLite), adds one to ``grading_attempts`` (the claim's token) and
  pushes ``grade_after`` forward by :data:`LEASE`, then commits: no transaction stays open
  while it waits for anything else.
* **Complete.** Before grading, the worker re-takes the row with a conditional UPDATE that
  matches its token and ``pending`` (this also locks it until the grade commits): a row
  another worker re-claimed after the lease, or a live request graded meanwhile, is left
  alone. So two workers never grade one row, and never send two ``submission.graded``
  events for it.
* **Requests claim too.** ``submit`` stores a new answer already claimed with token
  :data:`INLINE_CLAIM` and decides it only while that token holds (``grade_submission``'s
  ``claim``). A worker takes such a row over only after the grace period (it may be a
  request whose judging or database wait outlasted it), with the next token; from then
  on the request's result is dropped and the worker's lands. Exactly one grade, and one
  ``submission.graded`` event, whichever finishes first.
* **Fail.** A judge that raises costs the row one try: it waits :func:`backoff` (30 s,
  doubling) before the next, so a poisoned answer never makes workers spin; after
  :data:`MAX_TRIES` it becomes ``error`` with the reason in ``grading_error`` and a message
  in ``feedback``, which the student's and the instructor's pages show. An ``error`` row is
  a used try (as a pending one is) until an instructor's regrade or override settles it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy import ColumnElement
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from grader.models import Submission
from grader.models import utcnow
from grader.services import grading

logger = logging.getLogger(__name__)

#: how long a claim holds a row (grading one answer takes seconds at most)
LEASE = dt.timedelta(minutes=2)
#: tries before a submission whose grading raised is marked ``error``
MAX_TRIES = 5
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(minutes=30)
#: rows younger than this may still be graded by the request that stored them
DEFAULT_GRACE = dt.timedelta(seconds=20)
#: the claim token a request holds on the answer it stores and grades inline (its own
#: judging is the row's first try: :data:`MAX_TRIES` counts it)
INLINE_CLAIM = 1
MAX_ERROR = 2000
ERROR_MESSAGE = (
    "This answer could not be graded automatically. It is kept, and your instructor can "
    "see it and grade it."
)


def backoff(tries: int) -> dt.timedelta:
    """Wait after failed try number ``tries``: 30 s, 60 s, 2 min ... capped at 30 min."""
    return min(BACKOFF_BASE * (2 ** max(0, min(tries, 20) - 1)), BACKOFF_CAP)


@dataclasses.dataclass
class PendingReport:
    """What one :func:`grade_pending` run did."""

    graded: int = 0
    retried: int = 0  # failed, will be tried again after the backoff
    errored: int = 0  # failed for the last time: now ``error``
    lost: int = 0  # claimed, but another worker or a request had it by completion
    failed_ids: list[int] = dataclasses.field(default_factory=list)

    @property
    def failed(self) -> int:
        return self.retried + self.errored

    @property
    def handled(self) -> int:
        return self.graded + self.retried + self.errored + self.lost


def _due(now: dt.datetime, cutoff: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Submission.status == "pending",
        Submission.created_at <= cutoff,
        or_(Submission.grade_after.is_(None), Submission.grade_after <= now),
    )


def claim_one(
    session: Session, *, now: dt.datetime, cutoff: dt.datetime, after_id: int = 0
) -> tuple[int, int] | None:
    """Claim the oldest due pending row with an id above ``after_id``; (id, token) or None.

    Commits either way.
    """
    due = (*_due(now, cutoff), Submission.id > after_id)
    query = select(Submission.id, Submission.grading_attempts).where(*due).order_by(Submission.id)
    postgres = session.get_bind().dialect.name == "postgresql"
    for _ in range(5):
        if postgres:
            found = session.execute(
                query.limit(1).with_for_update(skip_locked=True, of=Submission)
            ).first()
        else:
            found = session.execute(query.limit(1)).first()
            session.commit()  # end the read: the claim below starts its own write
        if found is None:
            session.commit()
            return None
        submission_id, tries = int(found[0]), int(found[1])
        won = session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.grading_attempts == tries, *due)
            .values(grading_attempts=tries + 1, grade_after=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if int(getattr(won, "rowcount", 0) or 0) == 1:
            return submission_id, tries + 1
        due = (*_due(now, cutoff), Submission.id > submission_id)
        query = (
            select(Submission.id, Submission.grading_attempts).where(*due).order_by(Submission.id)
        )
    return None


def _still_mine(session: Session, submission_id: int, token: int, now: dt.datetime) -> bool:
    """Re-take the row for this claim (and lock it until commit); False when it is gone."""
    held = session.execute(
        update(Submission)
        .where(
            Submission.id == submission_id,
            Submission.status == "pending",
            Submission.grading_attempts == token,
        )
        .values(grade_after=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(held, "rowcount", 0) or 0) == 1


def complete(
    session: Session, submission_id: int, token: int, *, now: dt.datetime, report: PendingReport
) -> None:
    """Grade a claimed row if this claim still holds it; record a failure otherwise."""
    try:
        if not _still_mine(session, submission_id, token, now):
            session.rollback()
            report.lost += 1
            logger.info("pending submission_id=%s no longer ours; left alone", submission_id)
            return
        submission = session.get(Submission, submission_id, populate_existing=True)
        assert submission is not None
        grading.grade_submission(session, submission, commit=False, now=now)
        session.commit()
    except Exception as exc:  # the judge or a corrupted row: one try used, recorded below
        session.rollback()
        _record_failure(session, submission_id, token, exc, now=now, report=report)
        return
    report.graded += 1
    try:  # follow-through: the parts depending on this answer are judged again
        grading.rejudge_dependents(session, submission, now=now)
    except Exception:  # the answer itself is graded; a later regrade settles the rest
        session.rollback()
        logger.exception("re-judging dependents of submission_id=%s failed", submission_id)


def _record_failure(
    session: Session,
    submission_id: int,
    token: int,
    exc: Exception,
    *,
    now: dt.datetime,
    report: PendingReport,
) -> None:
    reason = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
    mine = (
        Submission.id == submission_id,
        Submission.status == "pending",
        Submission.grading_attempts == token,
    )
    if token >= MAX_TRIES:
        values: dict[str, object] = {
            "status": "error",
            "grading_error": reason,
            "grade_after": None,
            "graded_at": now,
            "feedback": {"status": "error", "message": ERROR_MESSAGE},
        }
    else:
        values = {"grading_error": reason, "grade_after": now + backoff(token)}
    done = session.execute(
        update(Submission)
        .where(*mine)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if int(getattr(done, "rowcount", 0) or 0) != 1:
        report.lost += 1
        return
    report.failed_ids.append(submission_id)
    if token >= MAX_TRIES:
        report.errored += 1
        logger.error(
            "grading submission_id=%s failed %d times; marked error: %s",
            submission_id,
            token,
            reason,
            exc_info=exc,
        )
    else:
        report.retried += 1
        # One line, no traceback: the traceback is logged once, on the last try.
        logger.warning(
            "grading submission_id=%s failed (try %d of %d, next in %s): %s",
            submission_id,
            token,
            MAX_TRIES,
            backoff(token),
            reason,
        )


def grade_pending(
    session: Session,
    *,
    older_than: dt.timedelta = DEFAULT_GRACE,
    limit: int | None = 50,
    now: dt.datetime | None = None,
) -> PendingReport:
    """Claim and grade due pending rows one at a time, oldest first (at most ``limit``).

    Args:
        older_than: skip rows younger than this (their request may still be grading them).
        limit: at most this many claims (None: until none is due).
    """
    now = now or utcnow()
    cutoff = now - older_than
    report = PendingReport()
    after = 0
    while limit is None or report.handled < limit:
        claimed = claim_one(session, now=now, cutoff=cutoff, after_id=after)
        if claimed is None:
            break
        submission_id, token = claimed
        after = submission_id
        complete(session, submission_id, token, now=now, report=report)
    if report.handled:
        logger.info(
            "pending submissions: graded=%s retried=%s errored=%s lost=%s",
            report.graded,
            report.retried,
            report.errored,
            report.lost,
        )
    return report
