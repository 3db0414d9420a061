"""The ``grader`` command, run as a real subprocess like a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GRADER = str(Path(sys.executable).parent / "grader")


def run(args, env_extra, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(env_extra)
    return subprocess.run(
        [GRADER, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def test_db_upgrade_and_seed_demo_are_idempotent(tmp_path):
    env = {"GRADER_DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3"}
    for _ in range(2):
        assert run(["db", "upgrade"], env, tmp_path).returncode == 0
        seeded = run(["seed-demo"], env, tmp_path)
        assert seeded.returncode == 0, seeded.stderr
        assert "instructor@example.com" in seeded.stdout
        assert "student@example.com" in seeded.stdout
    check = run(["db", "check"], env, tmp_path)
    assert check.returncode == 0, check.stderr


def test_production_without_secret_stops_with_one_clear_line(tmp_path):
    result = run(["db", "upgrade"], {"GRADER_ENV": "production"}, tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "GRADER_SECRET_KEY" in lines[0]
    assert "Traceback" not in result.stderr


def test_unreachable_database_stops_with_one_clear_line(tmp_path):
    env = {"GRADER_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    result = run(["db", "upgrade"], env, tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "GRADER_DATABASE_URL" in lines[0]
