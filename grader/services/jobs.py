"""Background jobs as rows in ``jobs``: enqueue, claim, run with progress, finish.

A worker calls :func:`grader.services.job_runner.run_next_job` in a loop (the runner holds
the handlers, so handlers may enqueue through this module without an import circle). It
claims the oldest queued job: on
PostgreSQL with ``SELECT ... FOR UPDATE SKIP LOCKED`` (several workers on several machines
never take the same row and never wait on each other); on SQLite, which has one writer at a
time anyway, with an ``UPDATE ... WHERE status = 'queued'`` whose row count says who won.
Each claim adds one to ``attempts``: that number is the claim's token, and the job is
finished (``done`` or ``failed``) only by an UPDATE that matches it, so a worker whose
claim was taken back does nothing when it ends.

While the handler runs, a small thread stamps ``heartbeat_at`` every
:data:`HEARTBEAT_EVERY`; :func:`requeue_stale` (every worker pass calls it) queues again a
``running`` job silent for :data:`STALE_AFTER` (its worker died: a restarted gunicorn
worker, a killed ``grader worker``), and fails one that died :data:`MAX_CLAIMS` times.
Handlers are written to be safe to run twice. The handler commits its own work and reports
progress; a handler that raises leaves the job ``failed`` with the error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from sqlalchemy import and_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from grader.db import writes
from grader.errors import NotFound
from grader.models import Job
from grader.models import utcnow

logger = logging.getLogger(__name__)

#: ``progress(done, total)``: the handler's way to report; it commits.
Progress = Callable[[int, int], None]
Handler = Callable[[Session, Job, Progress], None]

MAX_ERROR = 2000
#: how often a running job's heartbeat is stamped
HEARTBEAT_EVERY = dt.timedelta(seconds=15)
#: a running job whose heartbeat is older than this has lost its worker
STALE_AFTER = dt.timedelta(minutes=2)
#: claims (deaths of its worker) before a job is failed instead of queued again
MAX_CLAIMS = 3


#: the kinds of job the queue accepts; :data:`grader.services.job_runner.HANDLERS` runs each
REGRADE_QUIZ = "regrade_quiz"
JOB_KINDS: tuple[str, ...] = (REGRADE_QUIZ,)


@writes
def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    created_by_id: int | None = None,
    total: int = 0,
) -> Job:
    """Queue a job (committed: a worker may pick it up at once)."""
    if kind not in JOB_KINDS:
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
    """Mark the oldest queued job ``running`` and return it (None when the queue is empty).

    The returned job's ``attempts`` is this claim's token (see :func:`finish`).
    """
    now = utcnow()
    query = select(Job.id, Job.attempts).where(Job.status == "queued").order_by(Job.id).limit(1)
    postgres = session.get_bind().dialect.name == "postgresql"
    for _ in range(10):
        if postgres:
            found = session.execute(query.with_for_update(skip_locked=True, of=Job)).first()
        else:
            found = session.execute(query).first()
            session.commit()  # end the read: the claim below starts its own write
        if found is None:
            session.commit()
            return None
        job_id, claims = int(found[0]), int(found[1])
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued", Job.attempts == claims)
            .values(
                status="running", started_at=now, heartbeat_at=now, error=None, attempts=claims + 1
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if int(getattr(claimed, "rowcount", 0) or 0) == 1:
            return get_job(session, job_id)
    return None


def progress_reporter(session: Session, job: Job) -> Progress:
    def report(done: int, total: int) -> None:
        job.progress, job.total = done, total
        session.commit()

    return report


def finish(session: Session, job_id: int, token: int, **values: Any) -> bool:
    """Record how a claimed job ended, if that claim still holds it; commits."""
    done = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "running", Job.attempts == token)
        .values(finished_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if int(getattr(done, "rowcount", 0) or 0) != 1:
        logger.warning("job_id=%s was taken back from this worker; its ending is not kept", job_id)
        return False
    return True


@contextlib.contextmanager
def heartbeat(session: Session, job_id: int, token: int) -> Iterator[None]:
    """Stamp the job's ``heartbeat_at`` from a thread of its own while the block runs."""
    engine = session.get_bind().engine  # a Connection's too: beats use their own
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_EVERY.total_seconds()):
            try:
                with engine.begin() as conn:
                    conn.execute(
                        update(Job)
                        .where(Job.id == job_id, Job.status == "running", Job.attempts == token)
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:  # a missed beat is retried; a long outage makes the job stale
                logger.warning("heartbeat of job_id=%s failed", job_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"grader-job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def requeue_stale(
    session: Session, *, older_than: dt.timedelta = STALE_AFTER, now: dt.datetime | None = None
) -> int:
    """Queue again ``running`` jobs whose heartbeat stopped (their worker died).

    A job whose worker died :data:`MAX_CLAIMS` times is ``failed`` instead, so one that
    kills its worker cannot loop. Returns how many jobs were queued again or failed.
    """
    cutoff = (now or utcnow()) - older_than
    silent = (
        Job.status == "running",
        or_(
            Job.heartbeat_at < cutoff,
            and_(Job.heartbeat_at.is_(None), Job.started_at < cutoff),
        ),
    )
    failed = session.execute(
        update(Job)
        .where(*silent, Job.attempts >= MAX_CLAIMS)
        .values(
            status="failed",
            finished_at=utcnow(),
            error=f"its worker stopped {MAX_CLAIMS} times while running it",
        )
        .execution_options(synchronize_session=False)
    )
    queued = session.execute(
        update(Job)
        .where(*silent)
        .values(status="queued", started_at=None, heartbeat_at=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    count = int(getattr(queued, "rowcount", 0) or 0) + int(getattr(failed, "rowcount", 0) or 0)
    if count:
        logger.warning("requeued or failed %d stale jobs", count)
    return count
