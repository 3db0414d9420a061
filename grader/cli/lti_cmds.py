"""LTI commands and the background worker.

* ``grader lti add-platform --issuer ... --client-id ... --auth-login-url ... --token-url ...
  --jwks-url ... --deployment-id ... [--name] [--profile canvas|moodle|blackboard|brightspace]``
  registers an LMS (or approves more deployments of one already registered).
* ``grader lti show-config`` prints what to paste into an LMS, and the Canvas JSON.
* ``grader lti rotate-keys [--prune-after-hours N]``: next key → active, active → retired.
* ``grader worker [--once] [--interval S]`` runs background work until SIGTERM or Ctrl-C:
  the steps and their lanes are :data:`grader.services.worker.STEPS`; this command only
  wires the app's database and settings to :class:`grader.services.worker.Worker`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import signal
import sys
import threading
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from grader.db import SESSIONMAKER_KEY
from grader.errors import GraderError
from grader.lti import canvas_developer_key_json
from grader.lti import paste_config
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


@click.command("worker")
@click.option("--once", is_flag=True, help="One pass over every step, then exit.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=None,
    help="Seconds a lane sleeps when it finds no work (default GRADER_WORKER_IDLE_SECONDS).",
)
@with_appcontext
def worker(once: bool, interval: float | None) -> None:
    """Run background work until stopped: LTI scores, pending grading, jobs, webhooks."""
    from grader.services import worker as worker_service

    config = current_app.config
    factory = current_app.extensions[SESSIONMAKER_KEY]
    clients = lti_outbox.ServiceClients(
        lti_keys.key_secret(config),
        allow_private_urls=bool(config.get("WEBHOOK_ALLOW_PRIVATE_URLS")),
    )
    try:
        if once:
            with factory() as session:
                done = worker_service.work_once(session, clients, config=config)
            click.echo(" ".join(f"{k}={v}" for k, v in done.items()))
            return
        settings = worker_service.settings_from(config)
        if interval is not None:
            settings = dataclasses.replace(settings, idle_seconds=interval)
        runner = worker_service.Worker(factory, clients, settings, role="worker")
        stop = threading.Event()

        def on_signal(_signum: int, _frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        runner.start()
        while not stop.wait(1.0):
            pass
        runner.stop()
    finally:
        clients.close()


COMMANDS = (lti, worker)
