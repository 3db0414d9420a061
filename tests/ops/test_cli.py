"""The operations commands as an operator runs them: real subprocesses, real databases.

SQLite file → ``grader export`` → ``grader import`` into PostgreSQL → ``grader export``
again: equal modulo ids. Then ``grader regrade --pending`` and ``grader worker --once``
finish the submission a crash left pending.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import make_engine
from grader.migrate import upgrade
from grader.models import Submission
from grader.services import backup
from tests.ops import richcourse
from tests.support.postgres import PostgresServer

GRADER = str(Path(sys.executable).parent / "grader")
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def run(args: list[str], url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real ``grader`` executable (about 4 s each: used for the main path only)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update({"GRADER_DATABASE_URL": url, "GRADER_LOG_LEVEL": "WARNING"})
    return subprocess.run(
        [GRADER, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def invoke(args: list[str], url: str, _cwd: Path) -> subprocess.CompletedProcess[str]:
    """The same command line in this process (same code path, no interpreter start-up)."""
    from click.testing import CliRunner

    from grader.cli import main

    env = {"GRADER_DATABASE_URL": url, "GRADER_LOG_LEVEL": "WARNING"}
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def test_export_import_export_through_the_command_line(
    tmp_path: Path, pg_server: PostgresServer
) -> None:
    sqlite_url = f"sqlite:///{tmp_path}/source.sqlite3"
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        upgrade(conn)
    with Session(engine, expire_on_commit=False) as session:
        code = richcourse.build(session).code
    engine.dispose()
    pg_url = pg_server.create_database("ops_cli_target")
    pg_engine = make_engine(pg_url)
    try:
        with pg_engine.begin() as conn:
            upgrade(conn)

        first = tmp_path / "first.json"
        done = run(["export", "--course", code, "-o", str(first)], sqlite_url, tmp_path)
        assert done.returncode == 0, done.stderr
        assert f"exported course {code}" in done.stdout
        assert "10 attempts" in done.stdout

        done = run(["import", str(first)], pg_url, tmp_path)
        assert done.returncode == 0, done.stderr
        assert f"imported course {code}" in done.stdout

        second = tmp_path / "second.json"
        done = invoke(["export", "--course", code, "-o", str(second)], pg_url, tmp_path)
        assert done.returncode == 0, done.stderr
        a = json.loads(first.read_text(encoding="utf-8"))
        b = json.loads(second.read_text(encoding="utf-8"))
        assert backup.canonical(a) == backup.canonical(b)

        # The same archive again: refused whole, one clear message, no traceback.
        done = invoke(["import", str(first)], pg_url, tmp_path)
        assert done.returncode == 1
        assert "conflicts with this database; nothing was imported" in done.stderr
        assert "Traceback" not in done.stderr

        newer = tmp_path / "newer.json"
        newer.write_text(json.dumps(a | {"format_version": 2}), encoding="utf-8")
        done = invoke(["import", str(newer)], pg_url, tmp_path)
        assert done.returncode == 1
        assert "newer grader" in done.stderr

        done = invoke(
            ["export", "--course", "NOPE", "-o", str(tmp_path / "x.json")], pg_url, tmp_path
        )
        assert done.returncode == 1
        assert "no course with code 'NOPE'" in done.stderr
        assert not (tmp_path / "x.json").exists()

        # The pending submission travelled; the command line finishes it.
        done = invoke(["regrade"], pg_url, tmp_path)
        assert done.returncode == 2
        assert "--pending" in done.stderr
        done = run(["regrade", "--pending"], pg_url, tmp_path)
        assert done.returncode == 0, done.stderr
        assert "graded 1 pending submissions, 0 failed" in done.stdout
        with Session(pg_engine) as session:
            assert session.scalar(select(Submission).where(Submission.status == "pending")) is None

        # A fresh crash leftover: too young for the default cutoff, then the worker's turn.
        with Session(pg_engine) as session:
            sub = session.scalars(select(Submission).order_by(Submission.id)).first()
            assert sub is not None
            leftover = Submission(
                attempt_id=sub.attempt_id,
                part_id=sub.part_id,
                raw_answer="0.25",
                status="pending",
                created_at=dt.datetime.now(dt.UTC),
            )
            session.add(leftover)
            session.commit()
            leftover_id = leftover.id
        done = invoke(["regrade", "--pending"], pg_url, tmp_path)
        assert "graded 0 pending submissions" in done.stdout
        assert "1 younger than the cutoff left alone" in done.stdout
        with Session(pg_engine) as session:
            row = session.get(Submission, leftover_id)
            assert row is not None
            row.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
            session.commit()
        done = invoke(["worker", "--once"], pg_url, tmp_path)
        assert done.returncode == 0, done.stderr
        assert "pending_submissions=1" in done.stdout
        with Session(pg_engine) as session:
            row = session.get(Submission, leftover_id)
            assert row is not None
            assert row.status in ("graded", "invalid")
            assert row.score is not None
    finally:
        pg_engine.dispose()
