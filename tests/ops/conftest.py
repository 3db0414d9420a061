"""Two rollback sessions at once, one per database, for tests that move data between them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.support.db import rollback_session


@pytest.fixture
def sqlite_session(sqlite_engine: Engine) -> Iterator[Session]:
    yield from rollback_session(sqlite_engine)


@pytest.fixture
def pg_session(postgres_engine: Engine) -> Iterator[Session]:
    yield from rollback_session(postgres_engine)
