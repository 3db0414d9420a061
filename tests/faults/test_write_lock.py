"""Every writing service runs as the database's writer, and a write path cannot forget to.

* The walk: every function in ``grader/services`` that commits is a ``@writes`` service or
  calls ``begin_write`` itself, or is listed below as background work with the reason.
* The guard: a request's session refuses a write made outside a writer's transaction
  (strict under GRADER_ENV=testing), on both databases.
* The lock: on a real SQLite file, a ``@writes`` call holds the write lock from its start
  to its end, across its own commits, and a nested one does not commit its caller's work.

``test_write_lock_workers.py`` sends the writes at once through real gunicorn workers.
"""

from __future__ import annotations

import ast
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import WriteWithoutLock
from grader.db import begin_write
from grader.db import guard_writes
from grader.db import make_engine
from grader.db import make_sessionmaker
from grader.db import writes
from grader.migrate import upgrade
from grader.models import Course

SERVICES = Path(__file__).resolve().parents[2] / "grader" / "services"
WORKER = "background worker (its own session, never a request's): claims are conditional "
#: committing functions that are not request paths, and why they need no writer's lock
BACKGROUND = {
    "accounts.create_user": "commit=False inside writers (enrolments, registration); "
    "commits itself only from the CLI",
    "demo.seed_demo": "the CLI (make run), one process",
    "library.sync_builtin_exercises": "the CLI (load-exercises), one process",
    "jobs.claim_next": WORKER + "UPDATEs; in a request only inside job_runner's @writes",
    "jobs.progress_reporter": WORKER + "UPDATEs; in a request only inside job_runner's @writes",
    "jobs.finish": WORKER + "UPDATEs; in a request only inside job_runner's @writes",
    "jobs.requeue_stale": WORKER + "UPDATEs, retried by the lane's backoff",
    "regrade.run_regrade_job": "a job handler: runs inside job_runner.run_job (@writes)",
    "lti_outbox._claim": WORKER + "UPDATEs; no lock may be held over the LMS's HTTP",
    "lti_outbox.ensure_line_item": WORKER + "UPDATEs; no lock may be held over HTTP",
    "lti_outbox._settle": WORKER + "UPDATEs matching the claim's token",
    "lti_outbox._send_one": WORKER + "UPDATEs; no lock may be held over HTTP",
    "pending.claim_one": WORKER + "UPDATEs matching the claim's token",
    "pending.complete": WORKER + "UPDATEs matching the claim's token",
    "pending._record_failure": WORKER + "UPDATEs matching the claim's token",
    "webhooks._claim": WORKER + "UPDATEs; no lock may be held over HTTP",
    "webhooks._take": WORKER + "UPDATEs; no lock may be held over HTTP",
    "webhooks._load": WORKER + "UPDATEs; no lock may be held over HTTP",
    "webhooks._settle": WORKER + "UPDATEs matching the claim's token",
    "worker._old_heartbeats": "the worker's housekeeping, retried by the lane's backoff",
    "worker.Worker._beat": "the worker's heartbeat row, its own",
    "worker.Worker._forget": "the worker's heartbeat row, its own",
}


def committing_functions() -> dict[str, bool]:
    """``module.[Class.]function`` -> whether it takes the writer's lock, for every function
    in the services that calls ``.commit()``."""
    found: dict[str, bool] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef):
                calls = [n for n in ast.walk(child) if isinstance(n, ast.Call)]
                if not any(
                    isinstance(c.func, ast.Attribute) and c.func.attr == "commit" for c in calls
                ):
                    continue
                decorated = any(ast.unparse(d) == "writes" for d in child.decorator_list)
                locks = any(ast.unparse(c.func).endswith("begin_write") for c in calls)
                found[f"{prefix}{child.name}"] = decorated or locks

    for path in sorted(SERVICES.glob("*.py")):
        visit(ast.parse(path.read_text(encoding="utf-8")), f"{path.stem}.")
    return found


def test_every_service_that_commits_takes_the_write_lock() -> None:
    found = committing_functions()
    assert len(found) > 60  # the walk sees the services
    forgot = sorted(name for name, locks in found.items() if not locks and name not in BACKGROUND)
    assert forgot == [], (
        "these services commit without the writer's lock: decorate them with "
        "grader.db.writes (or call begin_write before their reads), or list them in "
        f"BACKGROUND with the reason: {forgot}"
    )
    # The list holds no name that no longer commits (or now takes the lock anyway).
    assert sorted(n for n in BACKGROUND if found.get(n, True)) == []


@writes
def add_course(session: Session, code: str, *, commit: bool = True) -> None:
    session.add(Course(code=code, title="T"))
    if commit:
        session.commit()


@writes
def add_two_courses(session: Session, code: str) -> None:
    add_course(session, f"{code}-a")  # commits
    session.add(Course(code=f"{code}-b", title="T"))  # a second transaction, still a writer
    session.commit()


def test_a_request_session_refuses_a_write_outside_a_writer(db_session: Session) -> None:
    guard_writes(db_session)
    db_session.add(Course(code="GUARD1", title="T"))
    with pytest.raises(WriteWithoutLock, match=r"grader\.db\.writes"):
        db_session.flush()
    db_session.rollback()
    add_two_courses(db_session, "GUARD2")
    begin_write(db_session)  # the lower-level way, for one transaction
    db_session.add(Course(code="GUARD3", title="T"))
    db_session.commit()
    db_session.add(Course(code="GUARD4", title="T"))  # that transaction is over
    with pytest.raises(WriteWithoutLock):
        db_session.commit()
    db_session.rollback()
    codes = set(db_session.scalars(select(Course.code).where(Course.code.like("GUARD%"))))
    assert codes == {"GUARD2-a", "GUARD2-b", "GUARD3"}


def test_in_production_the_write_goes_ahead_and_is_logged(
    db_session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    guard_writes(db_session, strict=False)
    db_session.add(Course(code="LENIENT", title="T"))
    with caplog.at_level(logging.ERROR, logger="grader.db"):
        db_session.commit()
    assert "outside a writer's transaction" in caplog.text
    assert db_session.scalar(select(Course.id).where(Course.code == "LENIENT")) is not None


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "lock.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        upgrade(conn)
    try:
        yield engine, path
    finally:
        engine.dispose()


def lock_is_free(path: Path) -> bool:
    """Whether another connection could become the writer right now (no waiting)."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return False
    else:
        other.execute("ROLLBACK")
        return True
    finally:
        other.close()


def test_a_writes_call_holds_the_lock_from_start_to_end(
    sqlite_file: tuple[Engine, Path],
) -> None:
    engine, path = sqlite_file
    seen: list[bool] = []

    @writes
    def service(session: Session) -> None:
        seen.append(lock_is_free(path))  # before any write: already the writer
        session.add(Course(code="L1", title="T"))
        session.commit()
        session.scalar(select(func.count()).select_from(Course))  # a new transaction...
        seen.append(lock_is_free(path))  # ...that is a writer's too

    session = make_sessionmaker(engine)()
    try:
        session.scalar(select(func.count()).select_from(Course))  # the request's reads
        assert lock_is_free(path)
        service(session)
        assert seen == [False, False]
        assert lock_is_free(path)  # a transaction that only read is ended on return
    finally:
        session.close()


def test_a_nested_writes_call_does_not_commit_its_caller_s_work(
    sqlite_file: tuple[Engine, Path],
) -> None:
    engine, _ = sqlite_file

    @writes
    def outer(session: Session) -> None:
        session.add(Course(code="OUTER", title="T"))
        add_course(session, "INNER", commit=False)  # nested: no begin_write, no commit
        session.rollback()

    with make_sessionmaker(engine)() as session:
        outer(session)
        assert session.scalar(select(func.count()).select_from(Course)) == 0
