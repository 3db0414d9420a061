"""Operations: finishing work a crash left behind, for ``grader regrade --pending``.

A submission is committed as ``pending`` before it is judged (see
:mod:`grader.services.submissions`); a worker killed or a database lost in between leaves
it so. :func:`grade_pending` grades those rows and says how many it left for later: rows
younger than ``older_than`` may still be in the hands of a live request, so by default
they are not touched (grading one twice would be harmless but would send its grade
event twice).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.models import Submission
from grader.models import utcnow
from grader.services import submissions


@dataclasses.dataclass(frozen=True)
class PendingReport:
    """What :func:`grade_pending` did, and what it left."""

    graded: int
    failed: int
    failed_ids: list[int]
    left_young: int
    left_over_limit: int

    def describe(self) -> str:
        text = f"graded {self.graded} pending submissions, {self.failed} failed"
        if self.failed_ids:
            shown = ", ".join(str(i) for i in self.failed_ids[:20])
            text += f" (ids {shown}{', ...' if len(self.failed_ids) > 20 else ''}; see the log)"
        if self.left_young:
            text += (
                f"; {self.left_young} younger than the cutoff left alone"
                " (a request may still be grading them)"
            )
        if self.left_over_limit:
            text += f"; {self.left_over_limit} left over the limit (run again)"
        return text


def count_pending(session: Session, *, before: dt.datetime | None = None) -> int:
    """Submissions still ``pending`` (created at or before ``before`` when given)."""
    query = select(func.count(Submission.id)).where(Submission.status == "pending")
    if before is not None:
        query = query.where(Submission.created_at <= before)
    return int(session.scalar(query) or 0)


def grade_pending(
    session: Session,
    *,
    older_than: dt.timedelta = dt.timedelta(seconds=30),
    limit: int | None = None,
    now: dt.datetime | None = None,
) -> PendingReport:
    """Grade pending submissions at least ``older_than`` old, oldest first.

    Each row is committed on its own; one that fails stays pending and is reported.
    """
    now = now or utcnow()
    cutoff = now - older_than
    eligible = count_pending(session, before=cutoff)
    young = count_pending(session) - eligible
    report = submissions.regrade_pending(session, older_than=older_than, limit=limit, now=now)
    over = max(0, eligible - report.graded - report.failed) if limit is not None else 0
    return PendingReport(
        graded=report.graded,
        failed=report.failed,
        failed_ids=list(report.failed_ids),
        left_young=young,
        left_over_limit=over,
    )
