"""``grader.db.begin_write`` on a real SQLite file: writers queue instead of failing.

Two sessions, two connections, one file (WAL), as two requests in two workers would be.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from grader.db import begin_write
from grader.db import make_engine
from grader.migrate import upgrade
from grader.models import LoginFailure
from grader.models import utcnow


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    engine = make_engine(f"sqlite:///{tmp_path}/writers.sqlite3")
    with engine.begin() as conn:
        upgrade(conn)
    yield engine
    engine.dispose()


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(LoginFailure)) or 0)


def _write(session: Session, key: str) -> None:
    session.add(LoginFailure(key_hash=key.ljust(64, "0"), created_at=utcnow()))
    session.commit()


def test_begin_write_takes_the_write_lock_at_begin(engine: Engine) -> None:
    said: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        said.append(statement)

    with Session(engine) as session:
        _count(session)  # an ordinary read first
        begin_write(session)
        _write(session, "a")
    assert said.count("BEGIN") == 1  # the read
    assert said.count("BEGIN IMMEDIATE") == 1  # the write


def test_a_reader_turned_writer_fails_and_begin_write_waits(engine: Engine) -> None:
    """The pitfall, then the cure: a transaction that read before another writer committed
    cannot write (SQLITE_BUSY at once); one started with begin_write waits its turn."""
    with Session(engine) as first, Session(engine) as second:
        _count(first)
        _count(second)
        _write(second, "b")
        first.add(LoginFailure(key_hash="c".ljust(64, "0"), created_at=utcnow()))
        with pytest.raises(OperationalError):
            first.commit()
        first.rollback()

    with Session(engine) as first, Session(engine) as second:
        _count(first)
        begin_write(second)  # holds the write lock
        _count(second)
        done: list[int] = []

        def write_first() -> None:
            begin_write(first)  # waits for second's commit
            done.append(_count(first))
            _write(first, "d")

        thread = threading.Thread(target=write_first)
        thread.start()
        time.sleep(0.3)
        assert done == []  # still waiting for the lock
        _write(second, "e")
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert done == [2]  # it read what the writer before it stored ("b" and "e")
    with Session(engine) as session:
        assert _count(session) == 3  # "b", "e", "d" ("c" was refused)
