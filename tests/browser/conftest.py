"""Browser tests: real headless Chromium (Debian's) against a live server.

Fixtures, for every browser test (student and instructor side):

* ``live_server``: the app served by werkzeug in a thread on a throwaway SQLite file
  migrated with Alembic, with the built-in exercise library loaded
  (``sync_builtin_exercises``). Real commits: a server thread cannot share the rollback
  session of the other tests. ``live_server.base_url``; ``live_server.sessionmaker()``
  opens a Session on the same database to seed or check data.
* ``seeded``: a course (join code ``BROWSER``) with an instructor and a student
  (password ``seeded.password``) and a published quiz of two items, the delta-rule
  exercise (numeric) and the chain-rule exercise (symbolic), no due date, 3 tries.
* ``browser`` (session) and ``page`` (a fresh context per test: no shared cookies).
* ``sign_in(page, email, password)``: signs in through the form.

Chromium is Debian's ``/usr/bin/chromium`` (never ``playwright install``); without it
these tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from tests.support.requirements import chromium_path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "browser-pass-123"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test."""
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)


@dataclasses.dataclass
class LiveServer:
    base_url: str
    sessionmaker: sessionmaker[Session]
    app: Any

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from werkzeug.serving import make_server

    from grader import create_app
    from grader.db import ENGINE_KEY
    from grader.db import SESSIONMAKER_KEY
    from grader.migrate import upgrade
    from grader.services.library import default_library_dir
    from grader.services.library import sync_builtin_exercises

    path = tmp_path_factory.mktemp("live") / "browser.sqlite3"
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": f"sqlite:///{path}",
            "SECRET_KEY": "browser-tests-secret-" + "x" * 32,
            "LOG_LEVEL": "WARNING",
        }
    )
    with app.extensions[ENGINE_KEY].begin() as conn:
        upgrade(conn)
    factory: sessionmaker[Session] = app.extensions[SESSIONMAKER_KEY]
    with factory() as session:
        sync_builtin_exercises(session, default_library_dir())
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", factory, app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        app.extensions[ENGINE_KEY].dispose()


@dataclasses.dataclass(frozen=True)
class Seeded:
    course_id: int
    join_code: str
    quiz_id: int
    instructor_email: str
    student_email: str
    password: str
    exercise_slugs: tuple[str, ...]


@pytest.fixture(scope="session")
def seeded(live_server: LiveServer) -> Seeded:
    from grader.models import Course
    from grader.models import Enrolment
    from grader.models import Exercise
    from grader.models import Quiz
    from grader.models import QuizItem
    from grader.services.accounts import create_user

    slugs = ("delta-rule-classic", "chain-rule-symbolic")
    with live_server.sessionmaker() as session:
        course = Course(code="BR101", title="Backpropagation in the browser", join_code="BROWSER")
        session.add(course)
        session.flush()
        instructor = create_user(
            session,
            email="prof@browser.test",
            name="Ada Instructor",
            password=PASSWORD,
            role="instructor",
            commit=False,
        )
        student = create_user(
            session, email="sam@browser.test", name="Sam Student", password=PASSWORD, commit=False
        )
        session.add_all(
            [
                Enrolment(course_id=course.id, user_id=instructor.id, role="instructor"),
                Enrolment(course_id=course.id, user_id=student.id, role="student"),
            ]
        )
        quiz = Quiz(
            course_id=course.id,
            title="Week 1: gradients by hand",
            is_published=True,
            attempts_allowed=3,
            penalty_per_retry=0.1,
            late_policy={},
            show_solutions="after_due",
        )
        session.add(quiz)
        session.flush()
        for position, slug in enumerate(slugs, start=1):
            exercise = session.scalar(select(Exercise).where(Exercise.slug == slug))
            assert exercise is not None, f"built-in exercise {slug} missing"
            session.add(
                QuizItem(quiz_id=quiz.id, position=position, exercise_id=exercise.id, points=5)
            )
        session.commit()
        return Seeded(
            course_id=course.id,
            join_code="BROWSER",
            quiz_id=quiz.id,
            instructor_email=instructor.email,
            student_email=student.email,
            password=PASSWORD,
            exercise_slugs=slugs,
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 1100, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def sign_in() -> Callable[[Any, str, str], None]:
    def _sign_in(page: Any, email: str, password: str) -> None:
        page.goto("/auth/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/auth/login" not in url)

    return _sign_in
