"""An instructor edits an exercise (an error shows at its line, then is fixed), previews seed
7, builds a quiz, and sees the gradebook fill in after a student answers."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from grader.exercises import generate
from grader.exercises import load_spec_text
from grader.models import Quiz
from grader.models import User
from grader.services import attempts
from grader.services import submissions


def test_instructor_authors_builds_and_grades(page, live_server, seeded, sign_in):
    sign_in(page, seeded.instructor_email, seeded.password)
    page.get_by_role("link", name="Instructor").click()
    page.get_by_role("link", name=re.compile("BR101")).click()
    page.get_by_role("link", name="Exercises", exact=True).click()
    page.get_by_role("link", name="Copy One delta-rule update on a linear neuron").click()

    editor = page.get_by_label("Exercise (YAML)")
    status = page.locator("#spec-status")
    expect(status).to_contain_text("No problems found.")
    source = editor.input_value()
    assert source.startswith("id: delta-rule-classic-copy\n")

    # An error appears at its line as the instructor types.
    broken = source.replace("    points: 2\n    hints", "    points: -2\n    hints")
    line = broken.splitlines().index("    points: -2") + 1
    editor.fill(broken)
    expect(status.get_by_role("link", name=f"Line {line}")).to_be_visible()
    expect(status).to_contain_text("parts[1].points")
    expect(page.locator(".gutter span.err")).to_have_text(str(line))
    status.get_by_role("link", name=f"Line {line}").click()
    expect(editor).to_be_focused()

    # Fixed: the problems go away.
    editor.fill(source.replace("title: One delta-rule update", "title: Delta rule, our version"))
    expect(status).to_contain_text("No problems found.")
    expect(page.locator(".gutter span.err")).to_have_count(0)

    # The preview of seed 7 shows the key the library computes for seed 7.
    page.get_by_label("Seed").fill("7")
    page.get_by_role("button", name="Preview", exact=True).click()
    pane = page.locator("#preview-pane")
    expect(pane.get_by_role("heading", level=2)).to_contain_text("Seed 7")
    key = generate(load_spec_text(source), 7).part("w1").key_text
    expect(pane.locator('code[data-key="w1"]')).to_have_text(key)
    expect(pane.locator(".katex").first).to_be_visible()
    expect(pane).to_contain_text("Worked solution")

    page.get_by_role("button", name="Save as new version").click()
    expect(page.get_by_text("Saved as version 1.")).to_be_visible()

    # Build a quiz with the new exercise and publish it.
    page.get_by_role("link", name="BR101").click()
    page.get_by_role("link", name="New quiz").click()
    page.get_by_label("Title").fill("Browser quiz")
    page.get_by_label(re.compile("^Due")).fill("2030-01-15T12:00")
    page.get_by_role("button", name="Create quiz").click()
    expect(page.get_by_text("Quiz created.")).to_be_visible()
    picker = page.get_by_label("Exercise", exact=True)
    ours = picker.locator("option", has_text="Delta rule, our version").get_attribute("value")
    picker.select_option(value=ours)
    page.get_by_label("Points", exact=True).fill("5")
    page.get_by_role("button", name="Add to quiz").click()
    expect(page.get_by_text("Exercise added.")).to_be_visible()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published: students can see it now.")).to_be_visible()

    # A student answers through the service layer.
    with live_server.sessionmaker() as session:
        quiz = session.scalar(select(Quiz).where(Quiz.title == "Browser quiz"))
        assert quiz is not None
        assert quiz.due_at is not None
        student = session.scalar(select(User).where(User.email == seeded.student_email))
        assert student is not None
        attempt = attempts.start_or_resume(session, student, quiz.items[0])
        y = next(p for p in attempt.variant["parts"] if p["id"] == "y")
        submissions.submit(
            session,
            user=student,
            attempt=attempt,
            part_id="y",
            raw_answer=y["key_text"],
            idempotency_key="browser-1",
        )

    page.get_by_role("link", name="Gradebook", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gradebook · Browser quiz")
    row = page.get_by_role("row", name=re.compile("Sam Student"))
    expect(row.get_by_role("cell").first).to_have_text("1")  # y is 1 of the 5 points
    expect(row.locator("td.total")).to_have_text("1")
    row.get_by_role("link", name="1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sam Student")
    expect(page.locator("#part-y")).to_contain_text("Correct")
