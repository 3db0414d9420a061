"""Migrations run backwards over a populated database without losing a row of what stays.

On SQLite a batch operation (most of our downgrades drop columns that way) copies the
table, drops the original and renames the copy; with foreign keys on, that drop deletes
every row that references the table (ON DELETE CASCADE). ``migrations/env.py`` turns
foreign keys off around the whole run and checks them afterwards. This walks the chain
from head down to the first revision one step at a time, seeding rows into every table
at every revision (the same seeding as the upgrade walk), and after each step every row
seeded so far in a table that still exists must still be there, with the same value in
every column that still exists. Then back up to head, still losing nothing, and down to
the base and up again, where the models must agree with the schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine
from sqlalchemy import inspect
from sqlalchemy import text

from grader.db import make_engine
from grader.migrate import alembic_config
from grader.migrate import schema_differences
from grader.migrate import upgrade
from tests.migrations.test_populated_upgrade import Seeded
from tests.migrations.test_populated_upgrade import empty_engine  # noqa: F401 - fixture
from tests.migrations.test_populated_upgrade import reflect
from tests.migrations.test_populated_upgrade import revisions
from tests.migrations.test_populated_upgrade import seed


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def surviving(engine: Engine, everything: list[tuple[str, Seeded]]) -> list[tuple[str, Seeded]]:
    """The seeded rows cut to the tables and columns that exist now.

    A dropped table's rows are gone with it, and a dropped column's values are not
    expected back when a later upgrade adds the column again (it comes back with its
    default).
    """
    with engine.connect() as conn:
        meta = reflect(conn)
    kept: list[tuple[str, Seeded]] = []
    for seeded_at, seeded in everything:
        cut: Seeded = {}
        for name, rows in seeded.items():
            if name not in meta.tables:
                continue
            columns = set(meta.tables[name].columns.keys())
            cut[name] = [{k: v for k, v in row.items() if k in columns} for row in rows]
        kept.append((seeded_at, cut))
    return kept


def count(everything: list[tuple[str, Seeded]]) -> int:
    return sum(len(rows) for _, seeded in everything for rows in seeded.values())


def check(engine: Engine, everything: list[tuple[str, Seeded]], revision: str) -> int:
    from tests.migrations.test_populated_upgrade import check_kept

    with engine.connect() as conn:
        checked = check_kept(conn, everything, revision)
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            # Foreign keys are back on for whoever uses the connection next.
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    return checked


def test_every_revision_downgrades_a_populated_database(empty_engine: Engine) -> None:  # noqa: F811
    chain = revisions()
    with empty_engine.begin() as conn:
        upgrade(conn, "head")
        everything: list[tuple[str, Seeded]] = [("head", seed(conn, reflect(conn), 0))]
    for round_, revision in enumerate(reversed(chain[:-1]), start=1):
        downgrade(empty_engine, revision)
        everything = surviving(empty_engine, everything)
        assert check(empty_engine, everything, revision) == count(everything)
        with empty_engine.begin() as conn:
            everything.append((f"down to {revision}", seed(conn, reflect(conn), round_)))
    # The first revision's tables hold rows seeded at every step of the way down.
    assert {seeded_at for seeded_at, seeded in everything if seeded.get("submissions")} == {
        "head",
        *(f"down to {revision}" for revision in chain[:-1]),
    }
    for revision in chain[1:]:
        with empty_engine.begin() as conn:
            upgrade(conn, revision)
        assert check(empty_engine, everything, revision) == count(everything)
    downgrade(empty_engine, "base")
    with empty_engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    with empty_engine.begin() as conn:
        upgrade(conn, "head")
        assert schema_differences(conn) == []


def scripts_with(tmp_path: Path, extra: str) -> Path:
    """A throwaway script location: our env.py and first revision, then ``extra`` after it."""
    first = revisions()[0]
    scripts = tmp_path / "scripts"
    (scripts / "versions").mkdir(parents=True)
    source = Path(alembic_config().get_main_option("script_location") or "")
    (scripts / "env.py").write_text((source / "env.py").read_text())
    (scripts / "script.py.mako").write_text((source / "script.py.mako").read_text())
    for path in (source / "versions").glob("*.py"):
        if f'revision: str = "{first}"' in path.read_text():
            (scripts / "versions" / path.name).write_text(path.read_text())
    header = (
        '"""A revision made up for a test."""\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n"
        'revision = "extra"\n'
        f'down_revision = "{first}"\n'
        "branch_labels = None\n"
        "depends_on = None\n"
    )
    (scripts / "versions" / "extra.py").write_text(header + extra)
    return scripts


def run(engine: Engine, scripts: Path, direction: str, revision: str) -> None:
    with engine.begin() as conn:
        cfg = alembic_config(conn)
        cfg.set_main_option("script_location", str(scripts))
        getattr(command, direction)(cfg, revision)


@pytest.fixture
def first_populated(tmp_path: Path) -> Iterator[tuple[Engine, Seeded]]:
    engine = make_engine(f"sqlite:///{tmp_path}/first.sqlite3")
    try:
        with engine.begin() as conn:
            upgrade(conn, revisions()[0])
            seeded = seed(conn, reflect(conn), 0)
        yield engine, seeded
    finally:
        engine.dispose()


def test_a_batch_on_a_referenced_table_keeps_the_rows_that_reference_it(
    tmp_path: Path, first_populated: tuple[Engine, Seeded]
) -> None:
    """What env.py is for: rebuilding ``users`` (every course's members, attempts and
    tokens reference it, ON DELETE CASCADE) up and down deletes nothing."""
    engine, seeded = first_populated
    scripts = scripts_with(
        tmp_path,
        "def upgrade():\n"
        '    with op.batch_alter_table("users") as batch:\n'
        '        batch.add_column(sa.Column("nickname", sa.String(20), nullable=True))\n'
        "def downgrade():\n"
        '    with op.batch_alter_table("users") as batch:\n'
        '        batch.drop_column("nickname")\n',
    )
    everything = [("first", seeded)]
    assert {"enrolments", "attempts", "api_tokens"} <= set(seeded)
    run(engine, scripts, "upgrade", "extra")
    assert check(engine, everything, "extra") == count(everything)
    run(engine, scripts, "downgrade", revisions()[0])
    assert check(engine, everything, "first") == count(everything)


def test_a_migration_that_would_orphan_rows_fails_and_changes_nothing(
    tmp_path: Path, first_populated: tuple[Engine, Seeded]
) -> None:
    """The check after a run is not vacuous: dropping ``users`` under rows that point at
    it is refused with the violations named, and the database stays where it was."""
    engine, seeded = first_populated
    scripts = scripts_with(
        tmp_path, 'def upgrade():\n    op.drop_table("users")\ndef downgrade():\n    pass\n'
    )
    with pytest.raises(Exception, match=r"rows breaking a foreign key .*-> users"):
        run(engine, scripts, "upgrade", "extra")
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version == revisions()[0]
    assert check(engine, [("first", seeded)], "first") == count([("first", seeded)])
