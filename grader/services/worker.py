"""Background work: the explicit list of steps, and the worker that runs them.

Every kind of background work is one :class:`Step` in :data:`STEPS` (renaming or removing
a step is a change to this list, never a silent lookup miss). Steps are grouped in lanes;
:class:`Worker` runs each lane in a thread of its own with its own database session, so a
slow LMS, a long regrade or a poisoned answer holds up only its own kind of work:

* ``lti``: the grade passback outbox (:func:`lti_outbox.send_pending`, a bounded number of
  scores sent at once);
* ``webhooks``: webhook deliveries (likewise concurrent, bounded);
* ``grading``: submissions left ``pending`` (:mod:`grader.services.pending`);
* ``jobs``: queued jobs (regrades), after putting back those whose worker died;
* ``housekeeping``: expired sign-ins, old failed logins, heartbeats of long-gone workers.

A lane loops at once while its steps find work, sleeps ``idle_seconds`` when they find none,
and backs off (doubling, up to a minute) while a step raises, so nothing spins. Every claim
is safe between workers (see each step's module), so ``grader worker`` processes on several
machines, a server's embedded worker thread and the web's regrade threads can all run at
once. A heartbeat thread stamps this process's row in ``worker_heartbeats``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete
from sqlalchemy import update
from sqlalchemy.orm import Session

from grader.models import WorkerHeartbeat
from grader.models import utcnow
from grader.services import auth as auth_service
from grader.services import job_runner
from grader.services import jobs
from grader.services import lti_outbox
from grader.services import pending
from grader.services import webhooks

logger = logging.getLogger(__name__)

#: seconds between heartbeats of a worker process
HEARTBEAT_EVERY = 10.0
#: heartbeat rows silent this long are deleted by housekeeping
FORGET_WORKERS_AFTER = dt.timedelta(days=1)
#: seconds between housekeeping runs
HOUSEKEEPING_EVERY = 600.0
#: the longest a failing lane waits before trying again
MAX_FAILURE_WAIT = 60.0


@dataclasses.dataclass(frozen=True)
class WorkerSettings:
    """How much a worker takes on; from ``GRADER_WORKER_*`` settings (:func:`settings_from`)."""

    lti_concurrency: int = 4
    webhook_concurrency: int = 4
    webhook_timeout: float = 5.0
    allow_private_webhooks: bool = False
    pending_grace: dt.timedelta = pending.DEFAULT_GRACE
    idle_seconds: float = 2.0
    batch: int = 50  # rows a step takes in one run before the lane looks again
    max_jobs: int = 1  # jobs one run of the jobs step takes


def settings_from(config: Mapping[str, Any]) -> WorkerSettings:
    """Worker settings from the app's configuration (absent keys keep the defaults)."""
    allow = config.get("WEBHOOK_ALLOW_PRIVATE_URLS")
    if allow is None:
        allow = config.get("ENV") in ("development", "testing")
    base = WorkerSettings()
    return WorkerSettings(
        lti_concurrency=int(config.get("WORKER_LTI_CONCURRENCY", base.lti_concurrency)),
        webhook_concurrency=int(config.get("WORKER_WEBHOOK_CONCURRENCY", base.webhook_concurrency)),
        allow_private_webhooks=bool(allow),
        pending_grace=dt.timedelta(
            seconds=float(
                config.get("WORKER_PENDING_GRACE_SECONDS", base.pending_grace.total_seconds())
            )
        ),
        idle_seconds=float(config.get("WORKER_IDLE_SECONDS", base.idle_seconds)),
    )


@dataclasses.dataclass
class Context:
    """What a step runs with: one session (its lane's), the LMS clients, the settings."""

    session: Session
    clients: lti_outbox.ServiceClients
    settings: WorkerSettings
    now: dt.datetime | None = None  # tests pin the clock; None: the real time


@dataclasses.dataclass(frozen=True)
class Step:
    """One kind of background work: ``run`` returns how many items it handled (0: idle)."""

    name: str
    lane: str
    run: Callable[[Context], int]
    housekeeping: bool = False  # run every HOUSEKEEPING_EVERY seconds, not every pass


def _lti_scores(ctx: Context) -> int:
    report = lti_outbox.send_pending(
        ctx.session,
        ctx.clients,
        now=ctx.now,
        limit=ctx.settings.batch,
        concurrency=ctx.settings.lti_concurrency,
    )
    return report.attempted + report.superseded + report.deferred


def _webhooks(ctx: Context) -> int:
    report = webhooks.deliver_pending(
        ctx.session,
        now=ctx.now,
        limit=ctx.settings.batch,
        timeout=ctx.settings.webhook_timeout,
        allow_private=ctx.settings.allow_private_webhooks,
        concurrency=ctx.settings.webhook_concurrency,
    )
    return report.attempted


def _pending_submissions(ctx: Context) -> int:
    report = pending.grade_pending(
        ctx.session, older_than=ctx.settings.pending_grace, limit=ctx.settings.batch, now=ctx.now
    )
    return report.handled


def _stale_jobs(ctx: Context) -> int:
    return jobs.requeue_stale(ctx.session, now=ctx.now)


def _jobs(ctx: Context) -> int:
    ran = 0
    while ran < ctx.settings.max_jobs and job_runner.run_next_job(ctx.session) is not None:
        ran += 1
    return ran


def _expired_sign_ins(ctx: Context) -> int:
    return auth_service.prune_expired_sessions(ctx.session, now=ctx.now)


def _old_login_failures(ctx: Context) -> int:
    now = ctx.now
    return auth_service.DatabaseLoginLimiter(ctx.session, clock=lambda: now or utcnow()).prune()


def _old_heartbeats(ctx: Context) -> int:
    cutoff = (ctx.now or utcnow()) - FORGET_WORKERS_AFTER
    result = ctx.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < cutoff))
    ctx.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


#: every kind of background work, in the order a single pass (``--once``) runs them
STEPS: tuple[Step, ...] = (
    Step("lti_scores", "lti", _lti_scores),
    Step("pending_submissions", "grading", _pending_submissions),
    Step("stale_jobs", "jobs", _stale_jobs),
    Step("jobs", "jobs", _jobs),
    Step("webhooks", "webhooks", _webhooks),
    Step("expired_sign_ins", "housekeeping", _expired_sign_ins, housekeeping=True),
    Step("old_login_failures", "housekeeping", _old_login_failures, housekeeping=True),
    Step("old_worker_heartbeats", "housekeeping", _old_heartbeats, housekeeping=True),
)


def _run_step(step: Step, ctx: Context) -> int | None:
    """Run one step; None when it raised (logged, rolled back)."""
    try:
        return step.run(ctx)
    except Exception:
        ctx.session.rollback()
        logger.exception("worker step %s failed", step.name)
        return None


def work_once(
    session: Session,
    clients: lti_outbox.ServiceClients,
    *,
    config: Mapping[str, Any],
    now: dt.datetime | None = None,
    housekeeping: bool = True,
    steps: tuple[Step, ...] = STEPS,
) -> dict[str, int]:
    """One pass over every step in one session; how many items each handled.

    A step that fails is logged, counts 0, and the others still run.
    """
    ctx = Context(session, clients, settings_from(config), now)
    done: dict[str, int] = {}
    for step in steps:
        if step.housekeeping and not housekeeping:
            continue
        done[step.name] = _run_step(step, ctx) or 0
    return done


def worker_id() -> str:
    """This process's id in ``worker_heartbeats``: host, pid and a random tail."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class Worker:
    """Runs every lane of :data:`STEPS` in threads until :meth:`stop`; see the module doc.

    ``sessions`` makes a new database session; ``role`` is ``worker`` (``grader worker``)
    or ``embedded`` (a server's own thread), as shown to operations.
    """

    def __init__(
        self,
        sessions: Callable[[], Session],
        clients: lti_outbox.ServiceClients,
        settings: WorkerSettings,
        *,
        role: str = "worker",
        steps: tuple[Step, ...] = STEPS,
    ) -> None:
        self.sessions = sessions
        self.clients = clients
        self.settings = settings
        self.role = role
        self.steps = steps
        self.id = worker_id()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def lanes(self) -> list[str]:
        return list(dict.fromkeys(step.lane for step in self.steps))

    def start(self) -> None:
        try:
            self._beat()
        except Exception:  # the database is away: lanes retry; the heartbeat thread too
            logger.warning("worker heartbeat failed at start", exc_info=True)
        for lane in self.lanes:
            thread = threading.Thread(
                target=self._run_lane, args=(lane,), name=f"grader-{lane}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        heart = threading.Thread(target=self._heartbeat, name="grader-heartbeat", daemon=True)
        heart.start()
        self._threads.append(heart)
        logger.info("worker %s started (%s): lanes %s", self.id, self.role, ", ".join(self.lanes))

    def stop(self, timeout: float = 30.0) -> None:
        """Ask every lane to stop after its current step; wait up to ``timeout`` seconds."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._forget()
        logger.info("worker %s stopped", self.id)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep until stopped or ``seconds`` pass; True when stopped."""
        return self._stop.wait(seconds)

    def _run_lane(self, lane: str) -> None:
        steps = [step for step in self.steps if step.lane == lane]
        last_housekeeping = -HOUSEKEEPING_EVERY
        failures = 0
        while not self._stop.is_set():
            housekeeping = time.monotonic() - last_housekeeping >= HOUSEKEEPING_EVERY
            if housekeeping:
                last_housekeeping = time.monotonic()
            busy = failed = False
            session = self.sessions()
            try:
                ctx = Context(session, self.clients, self.settings)
                for step in steps:
                    if self._stop.is_set() or (step.housekeeping and not housekeeping):
                        continue
                    handled = _run_step(step, ctx)
                    failed |= handled is None
                    busy |= bool(handled) and not step.housekeeping
            finally:
                session.close()
            if failed:
                failures += 1
                self._stop.wait(min(MAX_FAILURE_WAIT, self.settings.idle_seconds * 2**failures))
                continue
            failures = 0
            if not busy:
                self._stop.wait(self.settings.idle_seconds)

    def _beat(self) -> None:
        now = utcnow()
        with self.sessions() as session:
            updated = session.execute(
                update(WorkerHeartbeat).where(WorkerHeartbeat.id == self.id).values(beat_at=now)
            )
            if int(getattr(updated, "rowcount", 0) or 0) == 0:
                hostname, pid, _ = self.id.rsplit(":", 2)
                session.add(
                    WorkerHeartbeat(
                        id=self.id,
                        hostname=hostname,
                        pid=int(pid),
                        role=self.role,
                        started_at=now,
                        beat_at=now,
                    )
                )
            session.commit()

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_EVERY):
            try:
                self._beat()
            except Exception:  # the database is away: the age on /metrics shows it
                logger.warning("worker heartbeat failed", exc_info=True)

    def _forget(self) -> None:
        try:
            with self.sessions() as session:
                session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.id == self.id))
                session.commit()
        except Exception:  # stopping anyway; housekeeping removes the row a day later
            logger.warning("could not remove worker heartbeat %s", self.id, exc_info=True)
