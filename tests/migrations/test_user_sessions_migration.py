"""Revision 0005: ``user_sessions`` and ``login_failures`` arrive empty, indexed, and go.

The populated-upgrade walk (test_populated_upgrade.py) already seeds and keeps rows in
every table; this checks what that walk cannot: the indexes the hot queries need, that a
user's sign-ins go with the user (ON DELETE CASCADE on both databases), and that the
revision downgrades cleanly.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine
from sqlalchemy import MetaData
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select

from grader.db import make_engine
from grader.migrate import alembic_config
from grader.migrate import schema_differences
from grader.migrate import upgrade
from tests.migrations.test_populated_upgrade import revisions
from tests.support.postgres import PostgresServer

NEW_TABLES = {"user_sessions", "login_failures"}
REV_0004 = "34725e81859c"
REV_0005 = "8905a3f9f272"
T0 = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = make_engine(f"sqlite:///{tmp_path}/sessions.sqlite3")
    else:
        server: PostgresServer = request.getfixturevalue("pg_server")
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        made = make_engine(server.create_database(f"sessions_migration_{worker}"))
    try:
        yield made
    finally:
        made.dispose()


def test_0005_follows_0004() -> None:
    chain = revisions()
    assert chain[chain.index(REV_0004) + 1] == REV_0005


def test_upgrade_adds_the_tables_with_their_indexes_and_cascade(engine: Engine) -> None:
    with engine.begin() as conn:
        upgrade(conn, REV_0004)
        assert not NEW_TABLES & set(inspect(conn).get_table_names())
        meta = MetaData()
        meta.reflect(conn, only=["users"])
        users = meta.tables["users"]
        user_id = conn.execute(
            users.insert()
            .values(email="kept@example.com", name="Kept", role="student", created_at=T0)
            .returning(users.c.id)
        ).scalar_one()
    with engine.begin() as conn:
        upgrade(conn, REV_0005)
        found = inspect(conn)
        indexes = {
            table: {tuple(ix["column_names"]) for ix in found.get_indexes(table)}
            for table in NEW_TABLES
        }
        assert ("user_id",) in indexes["user_sessions"]
        assert ("expires_at",) in indexes["user_sessions"]
        assert ("key_hash", "created_at") in indexes["login_failures"]
        assert ("created_at",) in indexes["login_failures"]
        (fk,) = found.get_foreign_keys("user_sessions")
        assert fk["referred_table"] == "users"
        assert fk["options"].get("ondelete") == "CASCADE"
        meta = MetaData()
        meta.reflect(conn, only=["users", *NEW_TABLES])
        sessions = meta.tables["user_sessions"]
        for n in range(2):
            conn.execute(
                sessions.insert().values(
                    id=f"{n:064x}", user_id=user_id, created_at=T0, expires_at=T0
                )
            )
        assert conn.scalar(select(func.count()).select_from(meta.tables["login_failures"])) == 0
        conn.execute(meta.tables["users"].delete().where(meta.tables["users"].c.id == user_id))
        assert conn.scalar(select(func.count()).select_from(sessions)) == 0


def test_downgrade_drops_only_the_new_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        upgrade(conn, REV_0005)
        tables = set(inspect(conn).get_table_names())
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), REV_0004)
        assert set(inspect(conn).get_table_names()) == tables - NEW_TABLES
    with engine.begin() as conn:
        upgrade(conn)
        assert set(inspect(conn).get_table_names()) >= NEW_TABLES
        assert schema_differences(conn) == []
