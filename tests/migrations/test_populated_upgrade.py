"""Migrations run forward over a populated database without losing a row.

One database per backend walks the revision chain from the first revision to head. At
every revision it seeds rows into *every* table that exists there, with plain SQL built
from the reflected schema (the models describe head, not the past), filling every
column, foreign keys pointing at rows seeded in the same round. After each upgrade step
every row seeded so far must still be there, with the same value in every column that
still exists. A future data migration that rewrites a column on purpose lists it in
:data:`TRANSFORMED` with its revision.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import Connection
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Engine
from sqlalchemy import Float
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import MetaData
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import select

from grader.db import make_engine
from grader.migrate import alembic_config
from grader.migrate import upgrade
from tests.support.postgres import PostgresServer

ROWS_PER_TABLE = 3
T0 = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
#: {revision: {(table, column), ...}}: columns that revision rewrites on purpose
TRANSFORMED: dict[str, set[tuple[str, str]]] = {}

Seeded = dict[str, list[dict[str, Any]]]  # table -> rows (with their primary key)


def revisions() -> list[str]:
    """Every revision, oldest first (one linear chain)."""
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1, "the revision history has branched"
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/populated.sqlite3")
    else:
        server: PostgresServer = request.getfixturevalue("pg_server")
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        engine = make_engine(server.create_database(f"populated_{worker}"))
    try:
        yield engine
    finally:
        engine.dispose()


def reflect(conn: Connection) -> MetaData:
    meta = MetaData()
    meta.reflect(conn)
    return meta


def value_for(table: Table, column: Any, n: int, round_: int) -> Any:
    """A value of the column's type, distinct per row and round (unique constraints)."""
    kind = column.type
    tag = f"r{round_}-{table.name}-{column.name}-{n}"
    if isinstance(kind, Boolean):
        return n % 2 == 0
    if isinstance(kind, Integer):
        return 1000 * round_ + n + 1
    if isinstance(kind, Float | Numeric):
        return 1000 * round_ + n + 0.5
    if isinstance(kind, DateTime):
        value = T0 + dt.timedelta(days=round_, seconds=n)
        return value if getattr(kind, "timezone", False) else value.replace(tzinfo=None)
    if isinstance(kind, Date):
        return (T0 + dt.timedelta(days=round_ * 10 + n)).date()
    if isinstance(kind, JSON):
        return {"seeded": tag, "n": n, "list": [1, 2.5, "x"]}
    if isinstance(kind, LargeBinary):
        return tag.encode()
    if isinstance(kind, String | Text):
        length = getattr(kind, "length", None)
        # The distinct tail first survives truncation: "12-r0-table-col".
        text = f"{n}{round_}-{tag}"
        if "email" in column.name:
            text = f"{n}{round_}@{table.name}.example"
        return text[:length] if length else text
    raise AssertionError(f"no seed value for {table.name}.{column.name} ({kind!r})")


def seed(conn: Connection, meta: MetaData, round_: int) -> Seeded:
    """ROWS_PER_TABLE rows in every table, parents first; returns them with their ids."""
    seeded: Seeded = {}
    for table in meta.sorted_tables:
        if table.name == "alembic_version":
            continue
        pk = [c.name for c in table.primary_key.columns]
        rows = []
        for n in range(ROWS_PER_TABLE):
            row: dict[str, Any] = {}
            for column in table.columns:
                if column.primary_key and isinstance(column.type, Integer) and len(pk) == 1:
                    continue  # the database numbers it
                fks = list(column.foreign_keys)
                if fks:
                    parent = fks[0].column
                    targets = seeded[parent.table.name]
                    row[column.name] = targets[n % len(targets)][parent.name]
                else:
                    row[column.name] = value_for(table, column, n, round_)
            result = conn.execute(table.insert().values(**row).returning(*table.primary_key))
            row.update(result.one()._asdict())
            rows.append(row)
        seeded[table.name] = rows
    return seeded


def check_kept(conn: Connection, everything: list[tuple[str, Seeded]], revision: str) -> int:
    """Every seeded row is still there with its values; returns how many were checked."""
    meta = reflect(conn)
    allowed: set[tuple[str, str]] = set()
    for rev, columns in TRANSFORMED.items():
        if rev == revision:
            allowed |= columns
    checked = 0
    for seeded_at, seeded in everything:
        for name, rows in seeded.items():
            assert name in meta.tables, f"table {name} (seeded at {seeded_at}) was dropped"
            table = meta.tables[name]
            pk = [c.name for c in table.primary_key.columns]
            for row in rows:
                where = [table.c[k] == row[k] for k in pk]
                found = conn.execute(select(table).where(*where)).mappings().one_or_none()
                assert found is not None, f"{name} row {row} (seeded at {seeded_at}) lost"
                for column, value in row.items():
                    if column not in found or (name, column) in allowed:
                        continue
                    got = found[column]
                    if isinstance(got, dt.datetime) and isinstance(value, dt.datetime):
                        got, value = _utc(got), _utc(value)
                    assert got == value, (
                        f"{name}.{column} changed for {pk}={[row[k] for k in pk]} "
                        f"(seeded at {seeded_at}): {value!r} -> {got!r}"
                    )
                checked += 1
    return checked


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def test_every_revision_upgrades_a_populated_database(empty_engine: Engine) -> None:
    chain = revisions()
    assert len(chain) >= 2
    everything: list[tuple[str, Seeded]] = []
    for round_, revision in enumerate(chain):
        with empty_engine.begin() as conn:
            upgrade(conn, revision)
            if everything:
                check_kept(conn, everything, revision)
            seeded = seed(conn, reflect(conn), round_)
            assert seeded, f"no tables at {revision}"
            everything.append((revision, seeded))
    with empty_engine.begin() as conn:
        upgrade(conn, "head")
        checked = check_kept(conn, everything, chain[-1])
    expected = sum(len(rows) for _, seeded in everything for rows in seeded.values())
    assert checked == expected
    # Every table at head held seeded rows from the round its revision created it.
    with empty_engine.connect() as conn:
        tables = set(reflect(conn).tables) - {"alembic_version"}
    assert tables <= {name for _, seeded in everything for name in seeded}


@pytest.mark.parametrize("start", revisions()[:-1])
def test_each_older_revision_straight_to_head(empty_engine: Engine, start: str) -> None:
    """Seed at one older revision only, then jump to head in one go (the usual upgrade)."""
    with empty_engine.begin() as conn:
        upgrade(conn, start)
        seeded = seed(conn, reflect(conn), 0)
    with empty_engine.begin() as conn:
        upgrade(conn, "head")
        checked = check_kept(conn, [(start, seeded)], "head")
    assert checked == sum(len(rows) for rows in seeded.values())


def test_the_check_notices_a_lost_row_and_a_changed_value(tmp_path: Path) -> None:
    """The checker is not vacuous: a deleted row and an edited cell both fail it."""
    engine = make_engine(f"sqlite:///{tmp_path}/self-test.sqlite3")
    try:
        with engine.begin() as conn:
            upgrade(conn, revisions()[0])
            seeded = seed(conn, reflect(conn), 0)
            users = reflect(conn).tables["users"]
            conn.execute(
                users.update().where(users.c.id == seeded["users"][1]["id"]).values(name="x")
            )
        with engine.begin() as conn, pytest.raises(AssertionError, match=r"users\.name changed"):
            check_kept(conn, [("first", seeded)], "first")
        with engine.begin() as conn:
            submissions = reflect(conn).tables["submissions"]
            conn.execute(
                submissions.delete().where(submissions.c.id == seeded["submissions"][0]["id"])
            )
        seeded["users"][1]["name"] = "x"
        with (
            engine.begin() as conn,
            pytest.raises(AssertionError, match=r"submissions row .* lost"),
        ):
            check_kept(conn, [("first", seeded)], "first")
    finally:
        engine.dispose()
