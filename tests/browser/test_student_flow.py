"""A student signs in, opens a quiz, sees the preview, answers wrong, then right."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from grader.models import Attempt
from grader.models import QuizItem
from grader.models import User


def _attempt_variant(live_server, seeded, position):
    with live_server.sessionmaker() as session:
        return session.scalar(
            select(Attempt.variant)
            .join(QuizItem, QuizItem.id == Attempt.quiz_item_id)
            .join(User, User.id == Attempt.user_id)
            .where(
                QuizItem.quiz_id == seeded.quiz_id,
                QuizItem.position == position,
                User.email == seeded.student_email,
            )
        )


def test_student_answers_with_preview_diagnosis_and_score(page, live_server, seeded, sign_in):
    sign_in(page, seeded.student_email, seeded.password)
    expect(page.get_by_role("heading", name="My courses")).to_be_visible()
    page.get_by_role("link", name="Week 1: gradients by hand").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Week 1: gradients by hand")
    # KaTeX typeset the prompt from our own static files
    expect(page.locator(".prompt .katex").first).to_be_visible()

    variant = _attempt_variant(live_server, seeded, 1)
    w1 = next(p for p in variant["parts"] if p["id"] == "w1")
    attempt_id = page.locator("input[data-part-id=w1]").get_attribute("data-attempt-id")
    box = page.locator(f"#answer-{attempt_id}-w1")

    # the live preview follows the typing
    box.fill("2*(")
    region = page.locator(f"#preview-{attempt_id}-w1")
    expect(region.locator(".preview-error")).to_be_visible()
    box.fill("1.5e-1")
    expect(region.locator(".preview-math .katex")).to_be_visible()

    # a wrong answer that is a known mistake: the diagnosis shows, a try is used
    mistake = w1["mistakes"][0]
    box.fill(str(mistake["value"]))
    box.press("Enter")
    feedback = page.locator(f"#feedback-{attempt_id}-w1")
    expect(feedback).to_contain_text(mistake["feedback"])
    part = page.locator(f"#part-{attempt_id}-w1")
    expect(part).to_contain_text("2 tries left")

    # the right answer: full credit minus one retry penalty (10%)
    part.get_by_label(re.compile("Your answer")).fill(w1["key_text"])
    part.get_by_role("button", name="Submit answer").click()
    expect(feedback).to_contain_text("Correct")
    expect(feedback).to_contain_text("1.8 / 2 points")
    # answered correctly: nothing more is asked, no try is offered
    expect(part).to_contain_text("Answered correctly: nothing more to do here.")
    expect(part.get_by_role("button", name="Submit answer")).to_have_count(0)


def test_symbolic_preview_typesets_and_lists_variables(page, seeded, sign_in):
    sign_in(page, seeded.student_email, seeded.password)
    page.goto(f"/quizzes/{seeded.quiz_id}")
    box = page.locator("input[data-part-id=dw2]")
    region = page.locator(f"#preview-{box.get_attribute('data-attempt-id')}-dw2")
    box.focus()
    page.keyboard.type("(y - t)*h")
    expect(region.locator(".katex")).to_be_visible()
    expect(region).to_contain_text("Variables: h, t, y")
    page.keyboard.type(" +")
    expect(region.locator(".preview-caret")).to_contain_text("^")
