"""Two rollback sessions at once, one per database, for tests that move data between them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session


def _rollback_session(engine: Engine) -> Iterator[Session]:
    with engine.connect() as conn:
        trans = conn.begin()
        session = Session(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            session.close()
            trans.rollback()


@pytest.fixture
def sqlite_session(sqlite_engine: Engine) -> Iterator[Session]:
    yield from _rollback_session(sqlite_engine)


@pytest.fixture
def pg_session(postgres_engine: Engine) -> Iterator[Session]:
    yield from _rollback_session(postgres_engine)
