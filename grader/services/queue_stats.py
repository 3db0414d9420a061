"""How much background work waits, and for how long: read at each ``/metrics`` scrape.

Read from the database rather than counted in memory, so every web worker reports the
same numbers and a restart loses nothing. Each queue is one indexed ``count``/``min``
query (the outbox tables are indexed on ``status``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm import Session

from grader.models import Job
from grader.models import Submission
from grader.models import WebhookDelivery
from grader.models import utcnow
from grader.models_lti import LtiScore


@dataclasses.dataclass(frozen=True)
class QueueStat:
    """One queue: rows waiting and the age of the oldest (0 when empty)."""

    queue: str
    depth: int
    oldest_age_seconds: float


_Queue = tuple[str, InstrumentedAttribute[str], tuple[str, ...], InstrumentedAttribute[dt.datetime]]
# (queue name, status column, waiting statuses, "since" column)
_QUEUES: tuple[_Queue, ...] = (
    ("lti_scores", LtiScore.status, ("pending",), LtiScore.changed_at),
    ("webhook_deliveries", WebhookDelivery.status, ("pending",), WebhookDelivery.created_at),
    ("jobs_queued", Job.status, ("queued",), Job.created_at),
    ("jobs_running", Job.status, ("running",), Job.created_at),
    ("pending_submissions", Submission.status, ("pending",), Submission.created_at),
)


def _age(oldest: dt.datetime | None, now: dt.datetime) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return max(0.0, (now - oldest).total_seconds())


def queue_stats(session: Session, *, now: dt.datetime | None = None) -> list[QueueStat]:
    """Depth and oldest age of every background queue (read-only; nothing is committed)."""
    now = now or utcnow()
    out: list[QueueStat] = []
    for name, status, waiting, since in _QUEUES:
        row = session.execute(
            select(func.count(), func.min(since)).where(status.in_(waiting))
        ).one()
        out.append(QueueStat(name, int(row[0] or 0), _age(row[1], now)))
    return out
