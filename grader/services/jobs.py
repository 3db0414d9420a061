"""Background jobs as rows in ``jobs``: enqueue, claim, run with progress, finish.

A worker calls :func:`run_next_job` in a loop. It claims the oldest queued job: on
PostgreSQL with ``SELECT ... FOR UPDATE SKIP LOCKED`` (several workers on several machines
never take the same row and never wait on each other); on SQLite, which has one writer at a
time anyway, with an ``UPDATE ... WHERE status = 'queued'`` whose row count says who won.
The handler commits its own work and reports progress; a handler that raises leaves the job
``failed`` with the error, and a job whose worker died can be put back with
:func:`requeue_stale` (handlers are written to be safe to run twice).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from grader.errors import NotFound
from grader.models import Job
from grader.models import utcnow

logger = logging.getLogger(__name__)

#: ``progress(done, total)``: the handler's way to report; it commits.
Progress = Callable[[int, int], None]
Handler = Callable[[Session, Job, Progress], None]

MAX_ERROR = 2000


def _handlers() -> dict[str, Handler]:
    # Imported here: regrade enqueues through this module, so a top-level import would
    # be circular.
    from grader.services import regrade

    return {regrade.JOB_KIND: regrade.run_regrade_job}


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    created_by_id: int | None = None,
    total: int = 0,
) -> Job:
    """Queue a job (committed: a worker may pick it up at once)."""
    if kind not in _handlers():
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, payload=payload, status="queued", total=total, created_by_id=created_by_id)
    session.add(job)
    session.commit()
    logger.info("job queued job_id=%s kind=%s", job.id, kind)
    return job


def get_job(session: Session, job_id: int) -> Job:
    """A job by id, fresh from the database (another worker may be updating it)."""
    job = session.get(Job, job_id, populate_existing=True)
    if job is None:
        raise NotFound(f"no job {job_id}")
    return job


def claim_next(session: Session) -> Job | None:
    """Mark the oldest queued job ``running`` and return it (None when the queue is empty)."""
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        job = session.scalars(
            select(Job)
            .where(Job.status == "queued")
            .order_by(Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if job is None:
            session.commit()
            return None
        job.status, job.started_at, job.error = "running", now, None
        session.commit()
        return job
    for _ in range(10):
        job_id = session.scalar(
            select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(1)
        )
        if job_id is None:
            session.commit()
            return None
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", started_at=now, error=None)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            return get_job(session, job_id)
    return None


def _progress(session: Session, job: Job) -> Progress:
    def report(done: int, total: int) -> None:
        job.progress, job.total = done, total
        session.commit()

    return report


def run_job(session: Session, job: Job) -> Job:
    """Run a claimed job's handler and record how it ended."""
    handler = _handlers().get(job.kind)
    job_id = job.id
    try:
        if handler is None:
            raise ValueError(f"no handler for job kind {job.kind!r}")
        handler(session, job, _progress(session, job))
    except Exception as exc:  # a failed job is recorded, never lost; the worker goes on
        session.rollback()
        logger.exception("job failed job_id=%s kind=%s", job_id, job.kind)
        job = get_job(session, job_id)
        job.status = "failed"
        job.error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
        job.finished_at = utcnow()
        session.commit()
        return job
    job.status = "done"
    job.progress = max(job.progress, job.total)
    job.finished_at = utcnow()
    session.commit()
    logger.info("job done job_id=%s kind=%s", job_id, job.kind)
    return job


def run_next_job(session: Session) -> Job | None:
    """Claim the oldest queued job and run it. Returns the finished job, or None when idle."""
    job = claim_next(session)
    if job is None:
        return None
    return run_job(session, job)


def run_pending(session: Session, *, limit: int = 1000) -> int:
    """Run queued jobs until none is left (or ``limit``); returns how many ran."""
    ran = 0
    while ran < limit and run_next_job(session) is not None:
        ran += 1
    return ran


def requeue_stale(session: Session, *, older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
    """Put back ``running`` jobs whose worker has been silent too long; returns how many."""
    cutoff = utcnow() - older_than
    result = session.execute(
        update(Job)
        .where(Job.status == "running", Job.started_at < cutoff)
        .values(status="queued", started_at=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        logger.warning("requeued %d stale jobs", count)
    return count
