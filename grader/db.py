"""Database engine and sessions (plain SQLAlchemy 2, no Flask-SQLAlchemy).

Services, the CLI and tests use sessions without an app context. In a request,
``get_session()`` opens one Session on ``g`` and teardown closes it. The factory lives
in ``app.extensions["grader.sessionmaker"]`` so tests can replace it with one bound to
a connection whose transaction they roll back.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from typing import ParamSpec
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy import MetaData
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import make_url
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

logger = logging.getLogger(__name__)

# Stable constraint names: Alembic can drop and alter them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model; one MetaData with the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


SESSIONMAKER_KEY = "grader.sessionmaker"
ENGINE_KEY = "grader.engine"
#: execution option begin_write() sets: the SQLite "begin" hook then emits BEGIN IMMEDIATE
_IMMEDIATE = "grader_begin_immediate"
#: inside a @writes service call: every transaction this thread begins is a writer's
_WRITING: ContextVar[bool] = ContextVar("grader_writing", default=False)
#: Session.info keys: the current transaction began as a writer (begin_write); the session
#: is checked for writes outside a writer's transaction (request sessions); it wrote
_WRITER = "grader.writer"
_GUARDED = "grader.guard_writes"
_WROTE = "grader.wrote"


def make_engine(url: str, *, echo: bool = False, **kwargs: Any) -> Engine:
    """Create an engine with the settings each backend needs.

    SQLite: WAL (readers never block the writer), foreign keys on, a busy timeout so
    concurrent workers wait instead of failing, and SQLAlchemy's documented pysqlite
    recipe so SAVEPOINT and transactional DDL work (tests roll back per test).
    PostgreSQL: pre-ping so a restarted server costs one retry, not an error page.
    """
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            # The embedded default lives under instance/; create it on first use.
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        if ":memory:" not in url and url not in {"sqlite://", "sqlite:///"}:
            # A threaded server (``grader serve``) holds one connection per request in
            # flight; a rush of answers queues on SQLite's write lock, not on the pool.
            kwargs.setdefault("pool_size", 20)
            kwargs.setdefault("max_overflow", 80)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, emit BEGIN (pysqlite's own handling breaks SAVEPOINT).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            if ":memory:" not in url and url not in {"sqlite://", "sqlite:///"}:
                cursor.execute("PRAGMA journal_mode=WAL")
                # In WAL mode NORMAL is durable across application crashes and skips
                # the per-commit fsync; only an OS crash or power cut can lose the last
                # commits. GRADER_DATABASE_URL=postgresql+... for stronger guarantees.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # BEGIN IMMEDIATE for transactions begin_write() opens: they take the write
            # lock now, waiting out the busy timeout behind the current writer.
            immediate = conn.get_execution_options().get(_IMMEDIATE, False) or _WRITING.get()
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, echo=echo, **kwargs)


def begin_write(session: Session) -> None:
    """Start the session's next transaction as a writer, holding the write lock from the start.

    Every service that writes on a request's path calls this before the reads its writes
    depend on (the tries left before storing an answer, the earlier tries before scoring
    one). What it does:

    * ends the transaction open so far (commits it: the request's reads, or nothing), so
      no write ever upgrades a transaction that began as a reader;
    * SQLite: the next transaction begins ``BEGIN IMMEDIATE``. SQLite has one writer at
      a time, and a deferred transaction that read first cannot become the writer once
      another one has committed (SQLITE_BUSY at once, whatever the busy timeout); an
      immediate one waits its turn (up to the busy timeout) and then reads the newest
      data. So concurrent writers queue instead of failing, and each decides on what
      the previous one stored;
    * PostgreSQL: an ordinary transaction (writers never block readers; concurrent ones
      are ordered where it matters by row locks, ``SELECT ... FOR UPDATE``).

    Sessions bound to one connection (the tests' rollback sessions) keep their outer
    transaction: there is no other writer to wait for.
    """
    if session.in_transaction():
        session.commit()
    session.info[_WRITER] = True  # until this next transaction ends
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        session.connection(execution_options={_IMMEDIATE: True})


P = ParamSpec("P")
R = TypeVar("R")


class WriteWithoutLock(RuntimeError):
    """A request's session wrote outside a writer's transaction (a programming error)."""


def writes(func: Callable[P, R]) -> Callable[P, R]:
    """Mark a service that writes: the whole call runs as the database's writer.

    On entry (unless an outer ``@writes`` call already holds the lock) it calls
    :func:`begin_write` on the service's session (its first argument, or that argument's
    ``session`` / ``_session``): the reads so far are committed and the next transaction
    takes the write lock from the start. While the call runs, every transaction this
    thread begins does so too (a service that commits twice stays a writer): on SQLite,
    ``BEGIN IMMEDIATE``.
    On return, a transaction that wrote nothing is ended, so the lock is not held while
    the page renders. Request sessions refuse writes made outside such a call
    (:func:`guard_writes`), so a new write path cannot forget it.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if _WRITING.get():
            return func(*args, **kwargs)
        session = _session_of(args, kwargs)
        begin_write(session)
        token = _WRITING.set(True)
        try:
            result = func(*args, **kwargs)
        finally:
            _WRITING.reset(token)
        if session.in_transaction() and not session.info.get(_WROTE) and _is_clean(session):
            session.commit()  # only reads since the last commit: let the lock go now
        return result

    return wrapper


def _session_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Session:
    first = args[0] if args else kwargs.get("session")
    for candidate in (first, getattr(first, "session", None), getattr(first, "_session", None)):
        if isinstance(candidate, Session):
            return candidate
    raise TypeError("a @writes service takes its Session first (or an object with one)")


def _is_clean(session: Session) -> bool:
    return not (session.new or session.dirty or session.deleted)


def guard_writes(session: Session, *, strict: bool = True) -> None:
    """Check this session's writes: each must happen in a writer's transaction
    (:func:`writes`, :func:`begin_write`). ``strict`` raises :class:`WriteWithoutLock`
    (``GRADER_ENV=testing``, so the suite finds a forgotten path); otherwise (development,
    production) the write goes ahead and an error is logged: a user is never refused."""
    session.info[_GUARDED] = strict


def _check_write(session: Session, what: str) -> None:
    session.info[_WROTE] = True
    strict = session.info.get(_GUARDED)
    if strict is None or _WRITING.get() or session.info.get(_WRITER):
        return
    message = (
        f"{what} outside a writer's transaction: decorate the service with "
        "grader.db.writes (or call begin_write first); on SQLite such a write fails "
        "with 'database is locked' when another writer commits meanwhile"
    )
    if strict:
        raise WriteWithoutLock(message)
    logger.error(message)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if _is_clean(session):
        return
    changed = [*session.new, *session.dirty, *session.deleted]
    _check_write(session, f"a flush of {type(changed[0]).__name__}")


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        _check_write(state.session, f"an {type(state.statement).__name__.upper()} statement")


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITER, None)
        session.info.pop(_WROTE, None)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A factory whose sessions keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def init_app(app: Any) -> None:
    """Create the engine and session factory and register the teardown."""
    engine = make_engine(app.config["DATABASE_URL"], echo=app.config["DATABASE_ECHO"])
    app.extensions[ENGINE_KEY] = engine
    app.extensions[SESSIONMAKER_KEY] = make_sessionmaker(engine)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """The request's Session, opened on first use."""
    from flask import current_app
    from flask import g

    if "db_session" not in g:
        factory: Callable[[], Session] = current_app.extensions[SESSIONMAKER_KEY]
        g.db_session = factory()
        # Requests run in parallel (gunicorn workers): their writes must hold the lock.
        guard_writes(g.db_session, strict=current_app.config.get("ENV") == "testing")
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    from flask import g

    session = g.pop("db_session", None)
    if session is None:
        return
    session.info.pop(_GUARDED, None)  # the tests' shared session writes freely between requests
    try:
        session.close()
    except SQLAlchemyError as exc:
        # The database went away after the response was built (a restart, a failover):
        # closing rolls back what is still open, and that fails on the dead connection.
        # The server rolled it back already and the connection is discarded; raising here
        # would replace the finished response with the WSGI server's bare 500.
        logger.warning("closing the request's session failed: %s", _first_line(exc))


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "down" for a health check
        logger.warning("database ping failed: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return False
    return True


def check_reachable(engine: Engine) -> None:
    """Raise ConfigError with one line saying what to set when the database is unreachable."""
    from grader.errors import ConfigError

    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # the driver's own error says why; we add what to do
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ConfigError(
            f"cannot reach the database at {engine.url.render_as_string(hide_password=True)} "
            f"({reason}); set GRADER_DATABASE_URL to a reachable sqlite:/// or "
            "postgresql+psycopg:// URL"
        ) from None
