"""A migrated PostgreSQL database with a course, and gunicorn serving it, for fault tests.

The database is a real one on the session's PostgreSQL server (real commits, no
rollback session): gunicorn's workers are other processes.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from grader.db import make_engine
from grader.migrate import upgrade
from tests.faults.server import Gunicorn
from tests.support.postgres import PostgresServer
from tests.support.student_world import PASSWORD
from tests.support.student_world import enrol
from tests.support.student_world import make_user
from tests.support.student_world import make_world


@dataclasses.dataclass(frozen=True)
class Faulty:
    url: str
    engine: Engine
    quiz_id: int
    students: tuple[str, ...]
    dbname: str
    password: str = PASSWORD


@pytest.fixture(scope="package")
def faults_db(pg_server: PostgresServer) -> Iterator[Faulty]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    dbname = f"faults_{worker}"
    url = pg_server.create_database(dbname)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            upgrade(conn)
        with Session(engine, expire_on_commit=False) as session:
            world = make_world(session, prefix="f", passwords=True, attempts_allowed=None)
            students = [world.student.email, world.other.email]
            for n in range(4):
                user = make_user(session, f"f-extra{n}@example.com", password=PASSWORD)
                enrol(session, world.course, user)
                students.append(user.email)
            session.commit()
            yield Faulty(url, engine, world.quiz.id, tuple(students), dbname)
    finally:
        engine.dispose()


@pytest.fixture(scope="package")
def gunicorn(faults_db: Faulty, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    workdir: Path = tmp_path_factory.mktemp("gunicorn")
    with Gunicorn(faults_db.url, workdir, workers=3) as server:
        yield server
