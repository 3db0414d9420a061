"""LTI commands and the background worker.

* ``grader lti add-platform --issuer ... --client-id ... --auth-login-url ... --token-url ...
  --jwks-url ... --deployment-id ... [--name] [--profile canvas|moodle|blackboard|brightspace]``
  registers an LMS (or approves more deployments of one already registered).
* ``grader lti show-config`` prints what to paste into an LMS, and the Canvas JSON.
* ``grader lti rotate-keys [--prune-after-hours N]``: next key → active, active → retired.
* ``grader worker [--once] [--interval S]`` runs due background work until stopped: the LTI
  score outbox, pending submissions left ungraded by a crash, queued jobs (bulk regrades)
  and webhook deliveries. Every step claims its rows safely (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL), so one worker per machine can share the database with the others.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from grader.db import SESSIONMAKER_KEY
from grader.errors import GraderError
from grader.lti import canvas_developer_key_json
from grader.lti import paste_config
from grader.models import utcnow
from grader.services import auth as auth_service
from grader.services import lti_keys
from grader.services import lti_launch
from grader.services import lti_outbox
from grader.services import lti_registrations

logger = logging.getLogger(__name__)


def _session() -> Session:
    session: Session = current_app.extensions[SESSIONMAKER_KEY]()
    return session


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.group("lti")
def lti() -> None:
    """LTI 1.3: register LMS platforms, show our configuration, rotate keys."""


@lti.command("add-platform")
@click.option("--issuer", required=True, help="The platform's issuer (iss), exactly.")
@click.option("--client-id", required=True, help="Our client id on that platform.")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorization URL.")
@click.option("--token-url", required=True, help="The platform's OAuth2 token URL.")
@click.option("--jwks-url", required=True, help="The platform's key set (JWKS) URL.")
@click.option(
    "--deployment-id", "deployment_ids", multiple=True, help="An approved deployment (repeat)."
)
@click.option("--name", default="", help="A name for admins (default: the issuer).")
@click.option(
    "--profile",
    type=click.Choice(["generic", "canvas", "moodle", "blackboard", "brightspace"]),
    default="generic",
    show_default=True,
    help="Which LMS: sets its quirks (Brightspace's token audience).",
)
@click.option("--auth-audience", default=None, help="Token audience when not the token URL.")
@with_appcontext
def add_platform(
    issuer: str,
    client_id: str,
    auth_login_url: str,
    token_url: str,
    jwks_url: str,
    deployment_ids: tuple[str, ...],
    name: str,
    profile: str,
    auth_audience: str | None,
) -> None:
    """Register an LMS (issuer + client id), or approve more of its deployments."""
    session = _session()
    try:
        row, created = lti_registrations.add_platform(
            session,
            lti_registrations.PlatformInput(
                issuer=issuer,
                client_id=client_id,
                auth_login_url=auth_login_url,
                token_url=token_url,
                jwks_url=jwks_url,
                deployment_ids=deployment_ids,
                name=name,
                platform_family=profile,
                auth_audience=auth_audience,
            ),
        )
    except GraderError as exc:
        _fail(exc.message)
        return
    finally:
        session.close()
    deployments = ", ".join(d.deployment_id for d in row.deployments) or "none"
    click.echo(
        f"{'registered' if created else 'updated'} {row.name} (issuer {row.issuer}, "
        f"client id {row.client_id}); deployments: {deployments}"
    )
    if not row.deployments:
        click.echo(
            "warning: no deployment approved yet; launches are refused until one is", err=True
        )


@lti.command("show-config")
@click.option("--json", "as_json", is_flag=True, help="Only the Canvas developer-key JSON.")
@with_appcontext
def show_config(as_json: bool) -> None:
    """Print the URLs to paste into an LMS and the Canvas developer-key JSON."""
    tool = lti_launch.tool_config(current_app.config)
    canvas = json.dumps(canvas_developer_key_json(tool), indent=2)
    if as_json:
        click.echo(canvas)
        return
    for label, value in paste_config(tool).items():
        click.echo(f"{label}: {value}")
    click.echo("\nCanvas developer key (JSON):")
    click.echo(canvas)


@lti.command("rotate-keys")
@click.option(
    "--prune-after-hours",
    type=float,
    default=None,
    help="Also delete keys retired more than this many hours ago.",
)
@with_appcontext
def rotate_keys(prune_after_hours: float | None) -> None:
    """Rotate our signing keys: next → active, active → retired, plus a new next key."""
    session = _session()
    try:
        secret = lti_keys.key_secret(current_app.config)
        key = lti_keys.rotate_keys(session, secret)
        pruned = 0
        if prune_after_hours is not None:
            pruned = lti_keys.prune_retired(
                session, older_than=dt.timedelta(hours=prune_after_hours)
            )
        for row in lti_keys.key_rows(session):
            click.echo(f"{row.state:8} {row.kid}")
    except GraderError as exc:
        _fail(exc.message)
        return
    finally:
        session.close()
    click.echo(f"active key: {key.kid}" + (f"; pruned {pruned} retired key(s)" if pruned else ""))


# --------------------------------------------------------------------------- worker


#: seconds between deleting expired sign-ins and old failed-login rows
HOUSEKEEPING_EVERY = 600.0


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    """Another area's worker hook, when that area offers it."""
    try:
        imported = __import__(f"grader.services.{module}", fromlist=[name])
    except ImportError:
        return None
    found = getattr(imported, name, None)
    return found if callable(found) else None


def work_once(
    session: Session,
    clients: lti_outbox.ServiceClients,
    *,
    config: Any,
    now: dt.datetime | None = None,
    max_jobs: int = 5,
    housekeeping: bool = True,
) -> dict[str, int]:
    """One pass over every kind of due work; returns how many items each step handled.

    ``housekeeping`` also deletes expired sign-ins and old failed-login rows (the worker
    does it every few minutes, not on every pass). A step that fails is logged and
    skipped: the others still run.
    """
    done: dict[str, int] = {}

    def step(name: str, run: Callable[[], int]) -> None:
        try:
            done[name] = run()
        except Exception:
            session.rollback()
            logger.exception("worker step %s failed", name)
            done[name] = 0

    step("lti_scores", lambda: _lti(session, clients, now))
    regrade = _optional("submissions", "regrade_pending")
    if regrade is not None:
        step(
            "pending_submissions",
            lambda: _handled(regrade(session, older_than=dt.timedelta(minutes=2), limit=100)),
        )
    run_next_job = _optional("jobs", "run_next_job")
    if run_next_job is not None:

        def jobs() -> int:
            ran = 0
            while ran < max_jobs and run_next_job(session) is not None:
                ran += 1
            return ran

        step("jobs", jobs)
    deliver = _optional("webhooks", "deliver_pending")
    if deliver is not None:
        allow = config.get("WEBHOOK_ALLOW_PRIVATE_URLS")
        if allow is None:
            allow = config.get("ENV") in ("development", "testing")
        step("webhooks", lambda: _handled(deliver(session, allow_private=bool(allow))))
    if housekeeping:
        step("expired_sign_ins", lambda: auth_service.prune_expired_sessions(session, now=now))
        limiter = auth_service.DatabaseLoginLimiter(session, clock=lambda: now or utcnow())
        step("old_login_failures", limiter.prune)
    return done


def _lti(session: Session, clients: lti_outbox.ServiceClients, now: dt.datetime | None) -> int:
    report = lti_outbox.send_pending(session, clients, now=now)
    return report.attempted + report.superseded + report.deferred


def _handled(report: Any) -> int:
    """Items a step's report says it handled (``attempted``, or ``graded`` + ``failed``)."""
    attempted = getattr(report, "attempted", None)
    if isinstance(attempted, int):
        return attempted
    return int(getattr(report, "graded", 0)) + int(getattr(report, "failed", 0))


@click.command("worker")
@click.option("--once", is_flag=True, help="One pass over due work, then exit.")
@click.option(
    "--interval", type=float, default=2.0, show_default=True, help="Seconds to sleep when idle."
)
@with_appcontext
def worker(once: bool, interval: float) -> None:
    """Run background work: LTI scores, pending grading, queued jobs, webhooks."""
    stopping = False

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    if not once:
        signal.signal(signal.SIGTERM, stop)
    clients = lti_outbox.ServiceClients(
        lti_keys.key_secret(current_app.config),
        allow_private_urls=bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE_URLS")),
    )
    factory = current_app.extensions[SESSIONMAKER_KEY]
    last_housekeeping = -HOUSEKEEPING_EVERY
    try:
        while True:
            session: Session = factory()
            housekeeping = time.monotonic() - last_housekeeping >= HOUSEKEEPING_EVERY
            if housekeeping:
                last_housekeeping = time.monotonic()
            try:
                done = work_once(
                    session, clients, config=current_app.config, housekeeping=housekeeping
                )
            finally:
                session.close()
            busy = any(done.values())
            if busy:
                logger.info("worker pass: %s", ", ".join(f"{k}={v}" for k, v in done.items()))
            if once:
                click.echo(" ".join(f"{k}={v}" for k, v in done.items()))
                return
            if stopping:
                return
            if not busy:
                time.sleep(interval)
    except KeyboardInterrupt:
        return
    finally:
        clients.close()


COMMANDS = (lti, worker)
