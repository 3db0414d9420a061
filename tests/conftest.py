"""Shared fixtures: real SQLite and PostgreSQL schemas built by Alembic, per-test rollback.

``db_engine`` is parametrized over both backends; tests that take ``db_session`` (or
``app``/``client``) therefore run twice. The PostgreSQL server is started once per test
session (per xdist worker) from Debian's binaries and stopped at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from grader.db import make_engine
from grader.migrate import upgrade
from tests.support.db import rollback_session
from tests.support.postgres import PostgresServer
from tests.support.postgres import postgres_server
from tests.support.requirements import unavailable


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    try:
        with postgres_server() as server:
            yield server
    except RuntimeError as exc:
        unavailable(f"PostgreSQL unavailable: {exc}")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _make_migrated_engine(url: str) -> Engine:
    engine = make_engine(url)
    with engine.begin() as conn:
        upgrade(conn)
    return engine


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("sqlite") / f"grader-{_worker()}.sqlite3"
    engine = _make_migrated_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_engine(pg_server: PostgresServer) -> Iterator[Engine]:
    url = pg_server.create_database(f"grader_tests_{_worker()}")
    engine = _make_migrated_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated engine, once for SQLite and once for PostgreSQL."""
    name = "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def db_session(db_engine: Engine) -> Iterator[Session]:
    """A Session whose commits become savepoints inside a transaction rolled back afterwards."""
    yield from rollback_session(db_engine)


@pytest.fixture
def app(db_engine: Engine, db_session: Session):  # type: ignore[no-untyped-def]
    """The app with its sessionmaker replaced by the rollback session."""
    from grader import create_app
    from grader.db import ENGINE_KEY
    from grader.db import SESSIONMAKER_KEY

    app = create_app(
        {
            "ENV": "testing",
            "TESTING": True,
            "DATABASE_URL": db_engine.url.render_as_string(hide_password=False),
            "SECRET_KEY": "test-secret-key-" + "x" * 32,
        }
    )
    app.extensions[ENGINE_KEY].dispose()
    app.extensions[ENGINE_KEY] = db_engine
    app.extensions[SESSIONMAKER_KEY] = lambda: db_session
    return app


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()
