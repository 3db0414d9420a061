"""The rollback session the database fixtures share."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Engine
from sqlalchemy.orm import Session


def rollback_session(engine: Engine) -> Iterator[Session]:
    """A Session whose commits become savepoints inside a transaction rolled back afterwards."""
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
