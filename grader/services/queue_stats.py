"""What the background queues hold and which workers are alive, for operations (/metrics).

:func:`queue_stats` answers, per kind of background work, how many items wait and how long
the oldest has waited, and, per worker process, how long ago it last stamped its heartbeat.
Five small queries; nothing is locked or written (the caller ends the read transaction).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.models import Job
from grader.models import Submission
from grader.models import WebhookDelivery
from grader.models import WorkerHeartbeat
from grader.models import utcnow
from grader.models_lti import LtiScore

#: the kinds :func:`queue_stats` reports, in this order
KINDS = ("lti_scores", "webhooks", "pending_submissions", "jobs")


@dataclasses.dataclass(frozen=True)
class QueueDepth:
    """One kind of work: items waiting (or in hand), and the oldest one's age in seconds."""

    kind: str
    depth: int
    oldest_age_seconds: float | None  # None when nothing waits


@dataclasses.dataclass(frozen=True)
class WorkerBeat:
    """One worker process and the seconds since its last heartbeat."""

    worker_id: str
    hostname: str
    pid: int
    role: str  # "worker" (grader worker) | "embedded" (a server's own thread)
    age_seconds: float


@dataclasses.dataclass(frozen=True)
class QueueStats:
    queues: tuple[QueueDepth, ...]
    workers: tuple[WorkerBeat, ...]

    def queue(self, kind: str) -> QueueDepth:
        return next(q for q in self.queues if q.kind == kind)


def _age(now: dt.datetime, oldest: dt.datetime | None) -> float | None:
    if oldest is None:
        return None
    if oldest.tzinfo is None:  # SQLite's func.min bypasses the column type
        oldest = oldest.replace(tzinfo=dt.UTC)
    return max(0.0, (now - oldest).total_seconds())


def queue_stats(session: Session, *, now: dt.datetime | None = None) -> QueueStats:
    """Depth and oldest age of each queue in :data:`KINDS`, and every worker's heartbeat age.

    Counted: LTI scores and webhook deliveries still ``pending`` (due or backing off),
    submissions still ``pending``, jobs ``queued`` or ``running``.
    """
    now = now or utcnow()
    sources = (
        ("lti_scores", LtiScore.created_at, LtiScore.status == "pending"),
        ("webhooks", WebhookDelivery.created_at, WebhookDelivery.status == "pending"),
        ("pending_submissions", Submission.created_at, Submission.status == "pending"),
        ("jobs", Job.created_at, Job.status.in_(("queued", "running"))),
    )
    queues = []
    for kind, created, waiting in sources:
        count, oldest = session.execute(
            select(func.count(), func.min(created)).where(waiting)
        ).one()
        queues.append(QueueDepth(kind, int(count or 0), _age(now, oldest)))
    workers = tuple(
        WorkerBeat(
            worker_id=row.id,
            hostname=row.hostname,
            pid=row.pid,
            role=row.role,
            age_seconds=_age(now, row.beat_at) or 0.0,
        )
        for row in session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.id))
    )
    return QueueStats(tuple(queues), workers)
