"""Every way PostgreSQL can be unavailable answers the same 503, never a 500.

In process (the Flask test client) over a real PostgreSQL server. The states a server
really gets into are produced for real where a test can: connection refused (a closed
port), too many connections (a role whose connection limit is 0), a connection lost
between the last query and the end of the request (the backend terminated then: the
cause of the 500 once seen in ``test_postgresql_stopped_mid_traffic``, where closing the
request's session raised after the page was built). Starting up, shutting down, in
recovery and crashed are raised at connect time as the exact exceptions psycopg raises
for them (a server cannot be held in those states on demand). Each answer is compared
with the connection-refused one: the same page, the same problem+json.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask import g
from sqlalchemy import event
from sqlalchemy import text

from grader import create_app
from grader.db import ENGINE_KEY
from grader.web import security
from tests.faults.conftest import Faulty
from tests.support.postgres import PostgresServer
from tests.support.postgres import free_port

pytestmark = [pytest.mark.postgres]

DOWN_MESSAGE = "The database is not answering right now"
SECRET = "unavailable-states-" + "u" * 40


def _app(url: str) -> Flask:
    return create_app(
        {"ENV": "testing", "DATABASE_URL": url, "SECRET_KEY": SECRET, "LOG_LEVEL": "ERROR"}
    )


def _signed_in_client(app: Flask) -> Any:
    client = app.test_client()
    with client.session_transaction() as cookie:
        # The sign-in is looked up in the database on every request: that lookup fails.
        cookie.update({security.USER_ID_KEY: 1, security.SIGN_IN_KEY: "t" * 43})
    return client


def _answers(app: Flask) -> tuple[Any, Any]:
    """The HTML page (a student's quiz page) and the API's problem+json."""
    page = _signed_in_client(app).get("/quizzes/1", headers={"Accept": "text/html"})
    api = app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer grd_" + "x" * 40})
    return page, api


def _check(page: Any, api: Any) -> tuple[str, dict[str, Any]]:
    assert page.status_code == 503, page.get_data(as_text=True)[:500]
    assert page.headers["Retry-After"] == "5"
    html = page.get_data(as_text=True)
    assert DOWN_MESSAGE in html
    assert "Traceback" not in html
    assert api.status_code == 503, api.get_data(as_text=True)[:500]
    assert api.headers["Retry-After"] == "5"
    assert api.mimetype == "application/problem+json"
    problem = api.get_json()
    assert problem["type"] == "about:blank#service_unavailable"
    assert DOWN_MESSAGE in problem["detail"]
    return html, problem


@pytest.fixture
def refused() -> tuple[str, dict[str, Any]]:
    """The baseline: nothing listens on the port."""
    app = _app(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing")
    try:
        return _check(*_answers(app))
    finally:
        app.extensions[ENGINE_KEY].dispose()


CONNECT_ERRORS = {
    # what psycopg raises at connect time in each state (class, server message)
    "starting up": psycopg.errors.CannotConnectNow("the database system is starting up"),
    "in recovery": psycopg.errors.CannotConnectNow("the database system is in recovery mode"),
    "not yet accepting": psycopg.errors.CannotConnectNow(
        "the database system is not yet accepting connections"
    ),
    "shutting down": psycopg.errors.CannotConnectNow("the database system is shutting down"),
    "admin shutdown": psycopg.errors.AdminShutdown(
        "terminating connection due to administrator command"
    ),
    "crash shutdown": psycopg.errors.CrashShutdown(
        "terminating connection because of crash of another server process"
    ),
    "too many clients": psycopg.errors.TooManyConnections("sorry, too many clients already"),
    # libpq's connection failures come without a SQLSTATE, as plain OperationalError
    "starting up (no sqlstate)": psycopg.OperationalError(
        'connection failed: connection to server at "127.0.0.1" failed: '
        "FATAL:  the database system is starting up"
    ),
    # a connection psycopg has already closed
    "connection lost": psycopg.InterfaceError("the connection is lost"),
}


@pytest.mark.parametrize("state", list(CONNECT_ERRORS))
def test_each_unavailable_state_is_the_same_503(
    state: str, faults_db: Faulty, refused: tuple[str, dict[str, Any]]
) -> None:
    app = _app(faults_db.url)
    engine = app.extensions[ENGINE_KEY]

    @event.listens_for(engine, "do_connect")
    def _unavailable(*_args: Any) -> None:
        raise CONNECT_ERRORS[state]

    try:
        html, problem = _check(*_answers(app))
    finally:
        engine.dispose()
    assert problem == refused[1]
    assert _content(html) == _content(refused[0])


def _content(html: str) -> str:
    """The page without its per-response CSRF token."""
    import re

    return re.sub(r'name="csrf-token" content="[^"]*"', "", html)


@pytest.fixture
def limited_role(pg_server: PostgresServer, faults_db: Faulty) -> Iterator[str]:
    admin = pg_server.url().replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS limited")
        conn.execute("CREATE ROLE limited LOGIN CONNECTION LIMIT 0")
    try:
        yield faults_db.url.replace("postgres@", "limited@")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS limited")


def test_too_many_connections_for_real_is_the_same_503(
    limited_role: str, refused: tuple[str, dict[str, Any]]
) -> None:
    app = _app(limited_role)
    try:
        html, problem = _check(*_answers(app))
    finally:
        app.extensions[ENGINE_KEY].dispose()
    assert problem == refused[1]
    assert _content(html) == _content(refused[0])


def test_connection_lost_after_the_page_was_built_keeps_the_page(
    faults_db: Faulty, pg_server: PostgresServer
) -> None:
    """The server goes away between the request's last query and its end: the page the
    student was sent stays a 200 (closing the session fails on the dead connection; that
    used to escape teardown and become the WSGI server's own 500)."""
    app = _app(faults_db.url)
    engine = app.extensions[ENGINE_KEY]
    killed: list[int] = []
    armed: list[bool] = []  # set by the request (new_sign_in's app context is not one)

    @app.before_request
    def _arm() -> None:
        armed.append(True)

    @app.teardown_appcontext
    def _kill_backend(_exc: BaseException | None) -> None:
        # Registered after the app's own teardown, so it runs first (Flask runs them in
        # reverse): the session is still open on its connection.
        session = g.get("db_session")
        if session is None or killed or not armed:
            return
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin = pg_server.url().replace("+psycopg", "")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
            for _ in range(100):
                alive = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)
                ).fetchone()
                if alive is not None and alive[0] == 0:
                    break
                time.sleep(0.05)
        killed.append(pid)

    client = app.test_client()
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from grader.models import User

    with Session(engine) as session:
        student_id = session.scalar(select(User.id).where(User.email == faults_db.students[0]))
    assert student_id is not None
    with client.session_transaction() as cookie:
        cookie.update(security.new_sign_in(app, student_id))
    try:
        page = client.get("/")
        assert killed, "the backend was not terminated"
        assert page.status_code == 200
        # The next request gets a fresh connection and works.
        killed.append(0)
        assert client.get("/").status_code == 200
    finally:
        engine.dispose()
