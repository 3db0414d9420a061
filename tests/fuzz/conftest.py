"""Fuzzing tests report how many inputs they tried, at the end of the run.

Each test calls ``tally(record_property, surface, tried, server_errors)``; the numbers
travel with the test report (so xdist workers' counts reach the controller) and
``pytest_terminal_summary`` prints one line per surface.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.db import rollback_session

_TOTALS: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
KEY = "fuzz_tally"


def tally(record: Callable[[str, Any], None], surface: str, tried: int, failures: int) -> None:
    record(KEY, (surface, tried, failures))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Fixtures record at teardown; each report carries what was recorded so far.
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        if name == KEY:
            surface, tried, failures = value
            _TOTALS[surface][0] += tried
            _TOTALS[surface][1] += failures


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _TOTALS:
        return
    terminalreporter.section("hostile input tried")
    for surface, (tried, failures) in sorted(_TOTALS.items()):
        terminalreporter.write_line(
            f"{surface}: {tried} inputs, {failures} server errors or stack traces"
        )


@pytest.fixture
def pg_session(postgres_engine: Any) -> Any:
    """A rollback session on PostgreSQL only (the stricter database: lengths, NUL, types)."""
    yield from rollback_session(postgres_engine)


@pytest.fixture
def pg_app(postgres_engine: Any, pg_session: Any) -> Any:
    """The app on PostgreSQL with the rollback session, as tests/conftest.py's ``app``."""
    from grader import create_app
    from grader.db import ENGINE_KEY
    from grader.db import SESSIONMAKER_KEY

    app = create_app(
        {
            "ENV": "testing",
            "TESTING": True,
            "DATABASE_URL": postgres_engine.url.render_as_string(hide_password=False),
            "SECRET_KEY": "fuzz-secret-key-" + "x" * 32,
            "LOG_LEVEL": "CRITICAL",
        }
    )
    app.extensions[ENGINE_KEY].dispose()
    app.extensions[ENGINE_KEY] = postgres_engine
    app.extensions[SESSIONMAKER_KEY] = lambda: pg_session
    return app
