"""Operations commands: course archives and finishing pending grading.

* ``grader export --course CODE -o FILE.json [--with-passwords]`` writes one course
  (people, exercises with every version, quizzes, attempts with their variants,
  submissions, overrides) to a JSON archive, atomically.
* ``grader import FILE.json [--with-passwords]`` creates that course in this database with
  new ids; a bad, newer-format or conflicting archive is refused whole.
* ``grader regrade --pending [--older-than S] [--limit N]`` grades submissions a crash
  left ``pending`` (``grader worker`` and ``grader serve``'s embedded worker do the same
  for rows over 20 s old). Rows are claimed as the workers claim them, so it is safe while
  they run; a row whose grading failed waits out its backoff. Exits 1 when some failed.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from grader.db import SESSIONMAKER_KEY
from grader.errors import GraderError


def _session() -> Session:
    session: Session = current_app.extensions[SESSIONMAKER_KEY]()
    return session


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _database_error(exc: SQLAlchemyError) -> str:
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()
    return f"the database failed: {reason[0] if reason else type(exc).__name__}"


@click.command("export")
@click.option("--course", "code", required=True, help="The course code (as on its page).")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="The archive file to write (JSON).",
)
@click.option(
    "--with-passwords",
    is_flag=True,
    help="Include password hashes (Argon2id); keep such an archive as secret as the database.",
)
@with_appcontext
def export_command(code: str, output: str, with_passwords: bool) -> None:
    """Write a whole course to a JSON archive."""
    from grader.services import backup

    session = _session()
    try:
        archive = backup.export_course(session, code, with_passwords=with_passwords)
    except GraderError as exc:
        _fail(exc.message)
    except SQLAlchemyError as exc:
        _fail(_database_error(exc))
    finally:
        session.close()
    try:
        backup.write_archive(archive, output)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
    summary = backup.summarize(archive)
    click.echo(f"exported course {code} to {output}: {summary.describe()}")


@click.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--with-passwords",
    is_flag=True,
    help="Store the archive's password hashes for the users it creates.",
)
@with_appcontext
def import_command(path: str, with_passwords: bool) -> None:
    """Create a course from a JSON archive (new ids; all or nothing)."""
    from grader.services import backup

    session = _session()
    try:
        archive = backup.read_archive(path)
        if archive.get("with_passwords") and not with_passwords:
            click.echo(
                "note: the archive holds password hashes; they are not imported "
                "without --with-passwords",
                err=True,
            )
        report = backup.import_course(session, archive, with_passwords=with_passwords)
    except GraderError as exc:
        _fail(exc.message)
    except SQLAlchemyError as exc:
        _fail(_database_error(exc))
    finally:
        session.close()
    click.echo(
        f"imported course {report.summary.course_code} (id {report.course_id}): "
        f"{report.summary.describe()}; users {report.users_created} new, "
        f"{report.users_reused} existing; exercise versions {report.versions_added} new, "
        f"{report.versions_reused} existing"
    )


@click.command("regrade")
@click.option("--pending", is_flag=True, help="Grade submissions left pending by a crash.")
@click.option(
    "--older-than",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds; younger pending rows may still be graded by a live request.",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N rows.")
@with_appcontext
def regrade_command(pending: bool, older_than: float, limit: int | None) -> None:
    """Finish grading (bulk regrades of a quiz run from the instructor's gradebook)."""
    from grader.services import ops

    if not pending:
        raise click.UsageError(
            "say what to regrade: --pending (a quiz's bulk regrade starts from its gradebook)"
        )
    session = _session()
    try:
        report = ops.grade_pending(
            session, older_than=dt.timedelta(seconds=older_than), limit=limit
        )
    except SQLAlchemyError as exc:
        _fail(_database_error(exc))
    finally:
        session.close()
    click.echo(report.describe())
    if report.failed:
        sys.exit(1)


COMMANDS: list[click.Command] = [export_command, import_command, regrade_command]
