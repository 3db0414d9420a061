"""SQLite full or read-only: the request fails with a clear 503, and the app recovers.

In process, on a real SQLite file (WAL). Each pooled connection gets, on checkout,
``PRAGMA max_page_count`` pinned to the file's current size (the database is full: any
growth fails with SQLITE_FULL) or ``PRAGMA query_only`` (every write fails with
SQLITE_READONLY), then normal settings again. Root can write a chmod-ed file, so the
pragmas stand in for a full disk and a read-only file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from grader import create_app
from grader.db import ENGINE_KEY
from grader.migrate import upgrade
from grader.models import Attempt
from grader.models import Submission
from grader.services import attempts
from grader.web import security
from tests.support.student_world import World
from tests.support.student_world import make_world

LARGE_ANSWER = "0.5" + " " * 9000  # needs new pages: cannot fit in free space


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[tuple[Flask, World, dict[str, Any]]]:
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": f"sqlite:///{tmp_path}/faults.sqlite3",
            "SECRET_KEY": "sqlite-faults-" + "s" * 40,
            "WTF_CSRF_ENABLED": False,
            "LOG_LEVEL": "ERROR",
        }
    )
    engine = app.extensions[ENGINE_KEY]
    with engine.begin() as conn:
        upgrade(conn)
    with Session(engine, expire_on_commit=False) as session:
        world = make_world(session, prefix="sq", attempts_allowed=None)
        attempts.start_or_resume(
            session, world.student, world.item, secret=app.config["SECRET_KEY"]
        )
    mode: dict[str, Any] = {"fault": None}

    @event.listens_for(engine, "checkout")
    def _fault(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        if mode["fault"] == "full":
            pages = cursor.execute("PRAGMA page_count").fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count = {int(pages)}")
        else:
            cursor.execute("PRAGMA max_page_count = 1073741823")
        cursor.execute(f"PRAGMA query_only = {'ON' if mode['fault'] == 'read-only' else 'OFF'}")
        cursor.close()

    try:
        yield app, world, mode
    finally:
        engine.dispose()


def _client(app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    values = security.new_sign_in(app, world.student.id)
    with client.session_transaction() as cookie:
        cookie.update(values)
    return client


def _attempt_id(app: Flask, world: World) -> int:
    with Session(app.extensions[ENGINE_KEY]) as session:
        attempt_id = session.scalar(select(Attempt.id).where(Attempt.user_id == world.student.id))
    assert attempt_id is not None
    return attempt_id


def _stored(app: Flask, key: str) -> int:
    with Session(app.extensions[ENGINE_KEY]) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Submission)
                .where(Submission.idempotency_key == key)
            )
            or 0
        )


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_sqlite_fault_is_a_clear_503_then_recovers(
    sqlite_app: tuple[Flask, World, dict[str, Any]], fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    app, world, mode = sqlite_app
    client = _client(app, world)
    attempt_id = _attempt_id(app, world)
    url = f"/attempts/{attempt_id}/parts/y"
    form = {"answer": LARGE_ANSWER, "idempotency_key": f"key-{fault}"}

    mode["fault"] = fault
    refused = client.post(url, data=form)
    assert refused.status_code == 503, refused.get_data(as_text=True)[:500]
    body = refused.get_data(as_text=True)
    # Each fault says what is wrong, and that the answer was not saved.
    said = {"full": "out of space", "read-only": "read-only"}[fault]
    assert said in body
    assert "not saved" in body
    assert "try again" in body
    assert "Traceback" not in body
    assert refused.headers["Retry-After"] == "5"
    cause = {"full": "database or disk is full", "read-only": "readonly database"}[fault]
    assert cause in caplog.text  # the fault we meant, not another error
    # Reading still works while writes fail.
    assert client.get(f"/quizzes/{world.quiz.id}").status_code == 200
    assert _stored(app, f"key-{fault}") == 0

    mode["fault"] = None
    accepted = client.post(url, data=form)
    assert accepted.status_code == 302
    assert _stored(app, f"key-{fault}") == 1
    again = client.post(url, data=form)  # the student's retry of the same form
    assert again.status_code == 302
    assert _stored(app, f"key-{fault}") == 1


def test_database_lost_between_storing_and_grading(
    sqlite_app: tuple[Flask, World, dict[str, Any]],
) -> None:
    """The grade's write fails as a dropped connection would (seen for real in the
    PostgreSQL outage test): the stored answer stays pending and the student is told."""
    app, world, mode = sqlite_app
    engine = app.extensions[ENGINE_KEY]
    client = _client(app, world)
    attempt_id = _attempt_id(app, world)

    @event.listens_for(engine, "before_cursor_execute")
    def _drop(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if mode["fault"] == "lost" and statement.startswith("UPDATE submissions"):
            raise OperationalError(statement, None, sqlite3.OperationalError("disk I/O error"))

    mode["fault"] = "lost"
    response = client.post(
        f"/attempts/{attempt_id}/parts/y", data={"answer": "0.5", "idempotency_key": "lost"}
    )
    mode["fault"] = None
    assert response.status_code in (302, 503), response.status_code
    with Session(engine) as session:
        (row,) = session.scalars(select(Submission).where(Submission.idempotency_key == "lost"))
        assert row.status == "pending"


def test_no_free_connection_is_a_503_not_a_500(tmp_path: Path) -> None:
    """Every pooled connection busy for the pool's whole timeout: the same 503 as a
    database that is down (not the generic 500 of an unexpected error)."""
    from grader.db import SESSIONMAKER_KEY
    from grader.db import make_engine
    from grader.db import make_sessionmaker

    url = f"sqlite:///{tmp_path}/pool.sqlite3"
    app = create_app({"ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": "pool-" + "p" * 40})
    app.extensions[ENGINE_KEY].dispose()
    engine = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    app.extensions[ENGINE_KEY] = engine
    app.extensions[SESSIONMAKER_KEY] = make_sessionmaker(engine)
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie.update({security.USER_ID_KEY: 1, security.SIGN_IN_KEY: "t" * 43})
    try:
        with engine.connect():  # the only connection, held
            response = client.get("/quizzes/1", headers={"Accept": "text/html"})
    finally:
        engine.dispose()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "The database is not answering right now" in response.get_data(as_text=True)
