"""The schema comes from Alembic, and the models agree with it on both databases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from grader.db import make_engine
from grader.migrate import MIGRATIONS_DIR
from grader.migrate import schema_differences
from grader.migrate import upgrade


def test_models_and_migrations_agree(db_engine):
    with db_engine.connect() as conn:
        assert schema_differences(conn) == []


def test_upgrade_builds_every_table(db_engine):
    tables = set(inspect(db_engine).get_table_names())
    assert {
        "users",
        "courses",
        "enrolments",
        "exercises",
        "exercise_versions",
        "quizzes",
        "quiz_items",
        "attempts",
        "submissions",
        "api_tokens",
        "alembic_version",
    } <= tables


def test_upgrade_twice_is_a_no_op(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path}/twice.sqlite3")
    with engine.begin() as conn:
        upgrade(conn)
    with engine.begin() as conn:
        upgrade(conn)
        assert schema_differences(conn) == []
    engine.dispose()


def test_every_revision_has_a_docstring_saying_why():
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = path.read_text()
        assert text.startswith('"""'), path.name
        assert len(text.split('"""')[1].strip()) > 20, path.name
