"""Run queued jobs: the handler of each job kind, in one explicit table.

Apart from :mod:`grader.services.jobs` (the queue) because handlers enqueue through the
queue; the runner imports both, and neither imports the runner (no import circle).
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from grader.db import writes
from grader.models import Job
from grader.services import regrade
from grader.services.jobs import JOB_KINDS
from grader.services.jobs import MAX_ERROR
from grader.services.jobs import Handler
from grader.services.jobs import claim_next
from grader.services.jobs import finish
from grader.services.jobs import get_job
from grader.services.jobs import heartbeat
from grader.services.jobs import progress_reporter

logger = logging.getLogger(__name__)

#: job kind -> its handler (a test checks this covers :data:`grader.services.jobs.JOB_KINDS`)
HANDLERS: dict[str, Handler] = {regrade.JOB_KIND: regrade.run_regrade_job}

__all__ = ["HANDLERS", "JOB_KINDS", "run_job", "run_next_job", "run_pending"]


@writes
def run_job(session: Session, job: Job) -> Job:
    """Run a claimed job's handler and record how it ended."""
    handler = HANDLERS.get(job.kind)
    job_id, token, kind = job.id, job.attempts, job.kind
    try:
        if handler is None:
            raise ValueError(f"no handler for job kind {kind!r}")
        with heartbeat(session, job_id, token):
            handler(session, job, progress_reporter(session, job))
    except Exception as exc:  # a failed job is recorded, never lost; the worker goes on
        session.rollback()
        logger.exception("job failed job_id=%s kind=%s", job_id, kind)
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
        finish(session, job_id, token, status="failed", error=error)
        return get_job(session, job_id)
    finish(
        session,
        job_id,
        token,
        status="done",
        progress=max(job.progress, job.total),
        payload=job.payload,
    )
    logger.info("job done job_id=%s kind=%s", job_id, kind)
    return get_job(session, job_id)


@writes
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
