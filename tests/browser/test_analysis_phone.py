"""The item-analysis page and the gradebook on a 390 px phone, in Chromium: the charts of
where students break first and of right / follow-through / wrong fit the screen (nothing
scrolls sideways) and are named for a screen reader."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from grader.exercises import Variant
from grader.models import Course
from grader.models import Enrolment
from grader.models import Exercise
from grader.models import Quiz
from grader.models import QuizItem
from grader.services import attempts
from grader.services import submissions
from grader.services.accounts import create_user
from tests.browser.test_day_flows import no_sideways_scroll
from tests.services.test_first_wrong_analysis import PLAN
from tests.services.test_first_wrong_analysis import value_for

PASSWORD = "analysis-phone-pass-1"


def _class(live_server: Any) -> tuple[str, int]:
    """A course whose students break first at different steps of the chain-rule exercise."""
    with live_server.sessionmaker() as session:
        course = Course(code="AN390", title="Analysis on a phone", join_code="AN390")
        session.add(course)
        session.flush()
        prof = create_user(
            session,
            email="prof@an390.test",
            name="Pat Analyst",
            password=PASSWORD,
            role="instructor",
            commit=False,
        )
        session.add(Enrolment(course_id=course.id, user_id=prof.id, role="instructor"))
        exercise = session.scalar(select(Exercise).where(Exercise.slug == "chain-rule-numeric"))
        assert exercise is not None
        quiz = Quiz(
            course_id=course.id,
            title="Backprop through one hidden unit, with a long title to wrap",
            is_published=True,
            late_policy={},
            follow_through_credit=1.0,
        )
        session.add(quiz)
        session.flush()
        item = QuizItem(quiz_id=quiz.id, position=1, exercise_id=exercise.id, points=5)
        session.add(item)
        students = []
        for i in range(len(PLAN)):
            user = create_user(session, email=f"s{i}@an390.test", name=f"Student {i}", commit=False)
            session.add(Enrolment(course_id=course.id, user_id=user.id, role="student"))
            students.append(user)
        session.commit()
        for user, answers in zip(students, PLAN, strict=True):
            attempt = attempts.start_or_resume(session, user, item, secret="phone")
            variant = Variant.from_json(attempt.variant)
            given: dict[str, object] = {}
            for pid, plan in answers:
                given[pid] = value_for(variant, pid, plan, given)
                submissions.submit(
                    session,
                    user=user,
                    attempt=attempt,
                    part_id=pid,
                    raw_answer=f"{float(given[pid]):.9g}",  # type: ignore[arg-type]
                    idempotency_key=None,
                )
        return prof.email, quiz.id


def test_analysis_and_gradebook_fit_a_phone(browser, live_server, sign_in):
    email, quiz_id = _class(live_server)
    context = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, email, PASSWORD)
        page.goto(f"/teach/quizzes/{quiz_id}/analysis")
        no_sideways_scroll(page)
        first_wrong = page.get_by_role("img", name=re.compile(r"^First wrong step in .*diagnosis"))
        expect(first_wrong).to_be_visible()
        box = first_wrong.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390
        outcomes = page.get_by_role("img", name=re.compile(r"^Right, follow-through and wrong"))
        expect(outcomes).to_be_visible()
        table = page.locator("table.first-wrong-table")
        expect(table.get_by_role("rowheader").first).to_contain_text("∂L/∂w1 · 4 in all")
        expect(page.get_by_role("figure").first).to_contain_text("Other: wrong")

        page.goto(f"/teach/quizzes/{quiz_id}/gradebook")
        no_sideways_scroll(page)
        expect(page.get_by_role("heading", name="How the points were earned")).to_be_visible()
    finally:
        context.close()
