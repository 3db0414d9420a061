"""A quiz whose solutions show "right after answering" shows nothing before an answer.

In real Chromium: a student opens such a quiz and the page holds no answer and no worked
solution; after a graded answer to one part, that part's answer appears and no other;
the worked solution (which covers every part) appears once every part has an answer.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from grader.models import Attempt
from grader.models import Course
from grader.models import Enrolment
from grader.models import Exercise
from grader.models import Quiz
from grader.models import QuizItem
from grader.services.accounts import create_user
from tests.browser.conftest import PASSWORD
from tests.browser.conftest import LiveServer

WRONG = "987654.321"  # far from every key of the delta rule


@pytest.fixture(scope="module")
def always_quiz(live_server: LiveServer) -> Iterator[tuple[int, str]]:
    with live_server.sessionmaker() as session:
        course = Course(code="SOL101", title="Solutions right after answering", join_code="SOLS")
        session.add(course)
        session.flush()
        student = create_user(
            session, email="ana@browser.test", name="Ana Student", password=PASSWORD, commit=False
        )
        session.add(Enrolment(course_id=course.id, user_id=student.id, role="student"))
        quiz = Quiz(
            course_id=course.id,
            title="Solutions always",
            is_published=True,
            attempts_allowed=3,
            penalty_per_retry=0.0,
            late_policy={},
            show_solutions="always",
        )
        session.add(quiz)
        session.flush()
        exercise = session.scalar(select(Exercise).where(Exercise.slug == "delta-rule-classic"))
        assert exercise is not None
        session.add(QuizItem(quiz_id=quiz.id, position=1, exercise_id=exercise.id, points=5))
        session.commit()
        yield quiz.id, student.email


def _variant(live_server: LiveServer, attempt_id: int) -> dict:  # type: ignore[type-arg]
    with live_server.sessionmaker() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        return dict(attempt.variant)


def test_always_shows_no_answer_before_answering(page, live_server, always_quiz, sign_in):
    quiz_id, email = always_quiz
    sign_in(page, email, PASSWORD)
    page.goto(f"/quizzes/{quiz_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Solutions always")
    box = page.locator("input[data-part-id=w1]")
    attempt_id = int(box.get_attribute("data-attempt-id") or "0")
    variant = _variant(live_server, attempt_id)
    parts = [p["id"] for p in variant["parts"]]
    assert len(parts) > 1

    # Before any answer: no answer, no worked solution, not even in the page's HTML.
    expect(page.locator(".key")).to_have_count(0)
    expect(page.get_by_role("heading", name="Worked solution")).to_have_count(0)
    html = page.content()
    assert variant["solution_md"][:40] not in html
    for part in variant["parts"]:
        assert f"<code>{part['key_text']}</code>" not in html

    # A graded answer to w1 shows w1's answer, and only w1's.
    box.fill(WRONG)
    box.press("Enter")
    expect(page.locator(f"#feedback-{attempt_id}-w1")).to_be_visible()
    w1 = next(p for p in variant["parts"] if p["id"] == "w1")
    expect(page.locator(f"#part-{attempt_id}-w1 .key")).to_contain_text(w1["key_text"])
    expect(page.locator(".key")).to_have_count(1)
    expect(page.get_by_role("heading", name="Worked solution")).to_have_count(0)

    # Every part answered: the worked solution too.
    for part_id in parts:
        if part_id == "w1":
            continue
        field = page.locator(f"#answer-{attempt_id}-{part_id}")
        field.fill(WRONG)
        field.press("Enter")
        expect(page.locator(f"#feedback-{attempt_id}-{part_id}")).to_be_visible()
    expect(page.locator(".key")).to_have_count(len(parts))
    expect(page.get_by_role("heading", name="Worked solution")).to_be_visible()
