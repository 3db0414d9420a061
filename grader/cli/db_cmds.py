"""Database and set-up commands: ``db upgrade``, ``seed-demo``, ``load-exercises``, ``serve``."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from grader.db import ENGINE_KEY
from grader.db import SESSIONMAKER_KEY
from grader.db import check_reachable
from grader.errors import GraderError


def _fail(exc: GraderError) -> None:
    click.echo(f"error: {exc.message}", err=True)
    sys.exit(1)


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database to the newest schema (safe to run again)."""
    from grader.migrate import upgrade

    engine = current_app.extensions[ENGINE_KEY]
    try:
        check_reachable(engine)
    except GraderError as exc:
        _fail(exc)
    with engine.begin() as conn:
        upgrade(conn, revision)
    click.echo(f"database at {engine.url.render_as_string(hide_password=True)} is at {revision}")


@db_group.command("check")
@with_appcontext
def db_check() -> None:
    """Exit non-zero when the models and the migrations disagree."""
    from grader.migrate import schema_differences

    engine = current_app.extensions[ENGINE_KEY]
    with engine.connect() as conn:
        diffs = schema_differences(conn)
    if diffs:
        for diff in diffs:
            click.echo(f"drift: {diff}", err=True)
        sys.exit(1)
    click.echo("models and migrations agree")


@click.command("load-exercises")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False))
@with_appcontext
def load_exercises(path: str | None) -> None:
    """Load or update the built-in exercise library into the database."""
    from grader.services.library import default_library_dir
    from grader.services.library import sync_builtin_exercises

    session = current_app.extensions[SESSIONMAKER_KEY]()
    try:
        report = sync_builtin_exercises(session, path or default_library_dir())
    except GraderError as exc:
        _fail(exc)
    finally:
        session.close()
    click.echo(
        f"exercises: {report.added} added, {report.updated} updated, {report.unchanged} unchanged"
    )


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Create the demo course, an instructor and a student (safe to run again)."""
    from grader.services.demo import seed_demo as seed

    session = current_app.extensions[SESSIONMAKER_KEY]()
    try:
        demo = seed(session)
    finally:
        session.close()
    click.echo(f"demo course: {demo.course_title} (join code {demo.join_code})")
    click.echo(f"  instructor: {demo.instructor_email} / password {demo.password}")
    click.echo(f"  student:    {demo.student_email} / password {demo.password}")


@click.command("serve")
@click.option("--host", default=None, help="default: GRADER_HOST, else 127.0.0.1")
@click.option("--port", default=None, type=int, help="default: GRADER_PORT, else 5000")
@with_appcontext
def serve(host: str | None, port: int | None) -> None:
    """Serve the app for development (use gunicorn with wsgi:app in production).

    With ``GRADER_EMBEDDED_WORKER`` on (development's default) it also does the background
    work ``grader worker`` does, in threads of this process.
    """
    from werkzeug.serving import run_simple

    from grader.config import address_url

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    host = host or str(app.config["HOST"])
    port = port or int(app.config["PORT"])
    if app.config.get("PUBLIC_URL_FOLLOWS_ADDRESS"):
        app.config["PUBLIC_URL"] = address_url(host, port)
    try:
        check_reachable(app.extensions[ENGINE_KEY])
    except GraderError as exc:
        _fail(exc)
    embedded = app.config.get("EMBEDDED_WORKER")
    if embedded or (embedded is None and app.config["ENV"] == "development"):
        from grader.web import embedded_worker

        embedded_worker.ensure_started(app)
        click.echo("background work runs in this process (GRADER_EMBEDDED_WORKER=false: off)")
    click.echo(f"grader is serving on http://{host}:{port}/  (Ctrl-C stops it)")
    run_simple(host, port, app, use_reloader=False, threaded=True)


COMMANDS: list[click.Command] = [db_group, load_exercises, seed_demo, serve]
