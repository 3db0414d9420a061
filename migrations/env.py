"""Alembic environment: grader's metadata, URL from grader's config, batch mode for SQLite.

Callers that already hold a connection (tests, ``grader db upgrade``) pass it in
``config.attributes["connection"]`` so the migration runs on it.

SQLite: a batch operation copies the table, drops the original and renames the copy; with
foreign keys on, that drop deletes every row referencing the table (ON DELETE CASCADE) or
fails (RESTRICT). So the whole run happens with foreign keys off (SQLite's own recipe for
rebuilding a table), then ``PRAGMA foreign_key_check`` must find nothing, or the run is
rolled back with the violations named. SQLite ignores that pragma inside a transaction,
and callers hand us a connection inside one (``with engine.begin()``): the caller's
transaction is committed first (what it did so far is kept), and the migrations run in
one transaction of their own on the same connection, after which a fresh one is open for
the caller, with foreign keys on again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from grader import models  # noqa: F401 - registers every table on Base.metadata
from grader.config import load_config
from grader.db import Base
from grader.db import make_engine

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging_config"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _configure(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch copies the table
        compare_type=True,
        compare_server_default=True,
        transaction_per_migration=True,
    )


class ForeignKeyViolation(RuntimeError):
    """Rows left pointing at rows (or tables) that are gone: the migration is rolled back."""


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Run the body with foreign keys off, in one transaction, checked before it commits."""
    if connection.in_nested_transaction():
        raise RuntimeError("run SQLite migrations outside a SAVEPOINT (they commit)")
    outer = None if connection.in_transaction() else connection.begin()
    raw = connection.exec_driver_sql
    enforced = raw("PRAGMA foreign_keys").scalar()
    dbapi = connection.connection.dbapi_connection
    if dbapi.in_transaction:  # type: ignore[union-attr]
        raw("COMMIT")  # the pragma is a no-op inside a transaction
    raw("PRAGMA foreign_keys=OFF")
    raw("BEGIN")
    try:
        yield
        violations = raw("PRAGMA foreign_key_check").all()
        if violations:
            shown = ", ".join(
                f"{table} rowid {rowid} -> {parent}" for table, rowid, parent, _ in violations[:20]
            )
            raise ForeignKeyViolation(
                f"the migration left {len(violations)} rows breaking a foreign key "
                f"(rolled back): {shown}"
            )
        raw("COMMIT")
    except BaseException:
        # SQLite may have ended the transaction itself (a failed COMMIT, some errors):
        # a ROLLBACK then would raise and hide the error that matters.
        if dbapi.in_transaction:  # type: ignore[union-attr]
            raw("ROLLBACK")
        raise
    finally:
        raw(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
        raw("BEGIN")  # the transaction SQLAlchemy (the caller's block, or ours) still holds
        if outer is not None:
            outer.commit()  # empty: the migrations committed or rolled back above


def _run(connection: Connection) -> None:
    _configure(connection)
    if connection.dialect.name != "sqlite":
        with context.begin_transaction():
            context.run_migrations()
        return
    with _sqlite_foreign_keys_off(connection), context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or load_config()["DATABASE_URL"]
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or load_config()["DATABASE_URL"]
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
        if conn.in_transaction():
            conn.commit()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
