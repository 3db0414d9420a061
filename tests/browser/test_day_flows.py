"""Issue 17 in Chromium, at 1280 px and at 390 px (a phone): answers persist, nothing
typed is lost, times show in the reader's zone before they act, roster accounts get in,
instructors land on /teach, and no student page scrolls sideways on a phone."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from grader.models import Course
from grader.models import Enrolment
from grader.models import Exercise
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import utcnow
from grader.services.accounts import create_user

WIDTHS = [1280, 390]
PASSWORD = "day-flows-pass-1"
ZONE = "America/New_York"  # the reader's zone: times must not stay in UTC
_counter = itertools.count(1)


@dataclasses.dataclass(frozen=True)
class Day:
    course_id: int
    instructor_email: str
    quiz_id: int  # open, due in 3 days, late penalty 30 %
    late_quiz_id: int  # due 2 hours ago, late answers lose 30 %
    scheduled_quiz_id: int  # published, opens in 2 days
    closed_quiz_id: int  # due yesterday, no late answers: solutions and keys show


def _quiz(session: Any, course_id: int, title: str, slugs: list[str], **settings: Any) -> int:
    quiz = Quiz(course_id=course_id, title=title, is_published=True, **settings)
    session.add(quiz)
    session.flush()
    for position, slug in enumerate(slugs, start=1):
        exercise = session.scalar(select(Exercise).where(Exercise.slug == slug))
        session.add(QuizItem(quiz_id=quiz.id, position=position, exercise_id=exercise.id, points=1))
    session.flush()
    return quiz.id


@pytest.fixture(scope="module")
def day(live_server: Any) -> Day:
    # links are made on the public URL, which for this server is its own address
    live_server.app.config["PUBLIC_URL"] = live_server.base_url
    now = utcnow()
    with live_server.sessionmaker() as session:
        course = Course(code="DAY17", title="A day with grader", join_code="DAYJOIN")
        session.add(course)
        session.flush()
        prof = create_user(
            session,
            email="prof@day.test",
            name="Pat Professor",
            password=PASSWORD,
            role="instructor",
            commit=False,
        )
        session.add(Enrolment(course_id=course.id, user_id=prof.id, role="instructor"))
        late = {
            "mode": "penalty",
            "penalty": 0.3,
            "until": (now + dt.timedelta(days=5)).isoformat(),
        }
        quiz_id = _quiz(
            session,
            course.id,
            "Day quiz",
            ["chain-rule-symbolic", "matrix-deltas-232"],
            due_at=now + dt.timedelta(days=3),
            late_policy=late,
            attempts_allowed=3,
            show_solutions="after_last_try",
        )
        late_id = _quiz(
            session,
            course.id,
            "Late quiz",
            ["delta-rule-classic"],
            due_at=now - dt.timedelta(hours=2),
            late_policy={"mode": "penalty", "penalty": 0.3},
        )
        scheduled_id = _quiz(
            session,
            course.id,
            "Scheduled quiz",
            ["delta-rule-classic"],
            opens_at=now + dt.timedelta(days=2),
        )
        closed_id = _quiz(
            session,
            course.id,
            "Closed quiz",
            ["declarative-sigmoid-neuron", "matrix-deltas-232", "chain-rule-symbolic"],
            due_at=now - dt.timedelta(days=1),
            late_policy={"mode": "refuse"},
            show_solutions="after_due",
        )
        session.commit()
        return Day(course.id, prof.email, quiz_id, late_id, scheduled_id, closed_id)


def _student(live_server: Any, day: Day, *, password: str | None = PASSWORD) -> str:
    """A new student of the day's course (a fresh one per test: tries and drafts are theirs)."""
    email = f"student{next(_counter)}-{utcnow().timestamp():.0f}@day.test"
    with live_server.sessionmaker() as session:
        user = create_user(
            session, email=email, name=f"Student {email[:9]}", password=password, commit=False
        )
        session.add(Enrolment(course_id=day.course_id, user_id=user.id, role="student"))
        session.commit()
    return email


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def wpage(request: Any, browser: Any, live_server: Any) -> Any:
    """A page at 1280 px or 390 px wide, in the reader's own time zone."""
    width = request.param
    context = browser.new_context(
        base_url=live_server.base_url,
        viewport={"width": width, "height": 900},
        timezone_id=ZONE,
        locale="en-US",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.width = width  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()


WIDE_ELEMENTS = """
() => [...document.querySelectorAll("body *")]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter(el => !el.parentElement
    || el.parentElement.getBoundingClientRect().right <= window.innerWidth + 0.5)
  .map(el => el.tagName + "." + el.className + " " + Math.round(el.getBoundingClientRect().right))
  .slice(0, 5)
"""


def no_sideways_scroll(page: Any) -> None:
    """At 390 px nothing may be wider than the screen (every student page is checked)."""
    page.wait_for_load_state("load")
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    wide = page.evaluate(WIDE_ELEMENTS) if widths[0] > widths[1] else []
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]} px wide at {widths[1]} px: {wide}"


def _sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url)


def test_times_and_late_and_scheduled_quizzes_before_acting(wpage, live_server, day):
    page = wpage
    email = _student(live_server, day)
    page.goto("/auth/login")
    no_sideways_scroll(page)
    _sign_in(page, email)

    row = page.get_by_role("row", name=re.compile("Late quiz"))
    expect(row).to_contain_text("Late (−30\u202f%)")
    expect(row).not_to_contain_text("Open")
    scheduled = page.get_by_role("row", name=re.compile("Scheduled quiz"))
    expect(scheduled).to_contain_text("Opens later")
    # times are shown in the reader's zone (New York), the UTC text kept as a tooltip
    opening = scheduled.locator("time").first
    expect(opening).to_contain_text(re.compile(r"EST|EDT|GMT-[45]"))
    assert opening.get_attribute("title").endswith("UTC")
    no_sideways_scroll(page)

    page.goto(f"/quizzes/{day.scheduled_quiz_id}")
    expect(page.locator(".opens-at")).to_contain_text("This quiz opens at")
    no_sideways_scroll(page)

    page.goto(f"/quizzes/{day.late_quiz_id}")
    expect(page.locator(".notice-late")).to_contain_text("lose 30\u202f% of their credit")
    no_sideways_scroll(page)

    # a closed quiz: worked solutions and keys, readable (typeset, short numbers), on a phone too
    page.goto(f"/quizzes/{day.closed_quiz_id}")
    expect(page.locator(".solution").first).to_be_visible()
    expect(page.locator(".key .katex").first).to_be_visible()
    keys = " ".join(page.locator(".key").all_inner_texts())
    assert "**" not in keys
    assert not re.search(r"\d\.\d{9,}", keys), keys  # no 13-digit floats
    no_sideways_scroll(page)

    page.goto(f"/quizzes/{day.quiz_id}")
    expect(page.locator(".quiz-times")).to_contain_text("Late answers until")
    expect(page.locator(".quiz-times")).to_contain_text("lose 30\u202f% of the credit")
    expect(page.locator(".quiz-times time").first).to_contain_text(re.compile(r"EST|EDT|GMT-[45]"))


def test_answers_persist_and_survive_an_ended_sign_in(wpage, live_server, day):
    page = wpage
    email = _student(live_server, day)
    page.goto("/auth/login")
    _sign_in(page, email)
    page.goto(f"/quizzes/{day.quiz_id}")
    no_sideways_scroll(page)

    # the hints name what the part allows, in its shape, and no "*" rule
    hint = page.locator("label[for$='-dw2'] .format-hint")
    expect(hint).to_contain_text("you may also use h, y, z1, z2")
    expect(hint).not_to_contain_text("write multiplication with *")
    # (the matrix network is answered on its graph: the hint sits under the node's box)
    expect(page.locator("p.graph-hint[id$='-gradW1']")).to_contain_text(
        "3×2, like [[1, 2], [3, 4], [5, 6]]"
    )
    # distinct accessible names for the repeated buttons
    names = page.locator("form[data-answer-form] button").evaluate_all(
        "bs => bs.map(b => b.innerText + b.textContent)"
    )
    assert len(set(names)) == len(names)

    # an unreadable answer stays in the box, verbatim
    box = page.locator("input[data-part-id=dw2]")
    long_text = "2*(y - t)*softplus(z1"
    box.fill(long_text)
    box.press("Enter")
    page.wait_for_load_state("load")
    box = page.locator("input[data-part-id=dw2]")
    expect(box).to_have_value(long_text)
    expect(page.locator(".last-answer").first).to_contain_text("Not understood")

    # the sign-in ends in another tab; the student types and sends
    typed = "2*(y - t)*h + 0"
    box.fill(typed)
    page.context.clear_cookies()
    box.press("Enter")
    page.wait_for_url(re.compile(r"/auth/login"))
    expect(page.get_by_role("alert")).to_contain_text("your answer was not sent")
    no_sideways_scroll(page)
    _sign_in(page, email)
    # back at the part, the text restored in its box
    assert f"/quizzes/{day.quiz_id}#part-" in page.url, page.url
    box = page.locator("input[data-part-id=dw2]")
    expect(box).to_have_value(typed)
    expect(page.locator(".draft-note")).to_be_visible()
    expect(box).to_be_focused()
    no_sideways_scroll(page)

    page.goto(f"/quizzes/{day.quiz_id}/history")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your answers")
    expect(page.locator("td[data-label=Part]").first).to_have_text(re.compile(r"^Part \d$"))
    no_sideways_scroll(page)
    page.locator("td[data-label=When] a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("part")
    no_sideways_scroll(page)


def test_a_withdrawn_quiz_gives_the_typed_text_back(wpage, live_server, day):
    page = wpage
    email = _student(live_server, day)
    with live_server.sessionmaker() as session:
        quiz_id = _quiz(
            session, day.course_id, f"Soon withdrawn {page.width}", ["delta-rule-classic"]
        )
        session.commit()
    page.goto("/auth/login")
    _sign_in(page, email)
    page.goto(f"/quizzes/{quiz_id}")
    box = page.locator("input[data-part-id=w1]")
    box.fill("0.4242 my careful answer")
    with live_server.sessionmaker() as session:
        session.get(Quiz, quiz_id).is_published = False
        session.commit()
    box.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your answer was not recorded")
    expect(page.locator(".not-sent-reason")).to_contain_text("withdrew this quiz")
    expect(page.get_by_label("What you typed")).to_have_value("0.4242 my careful answer")
    no_sideways_scroll(page)


UNNAMED_CONTROLS = """
() => [...document.querySelectorAll("input, select, textarea")]
  .filter(el => el.type !== "hidden" && !el.hidden && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                && !el.getAttribute("aria-labelledby") && !el.title)
  .map(el => el.outerHTML.slice(0, 120))
"""


def test_a_roster_account_gets_in_through_the_instructors_link(wpage, browser, live_server, day):
    page = wpage
    email = _student(live_server, day, password=None)  # made from a roster: no password
    page.goto("/auth/login")
    _sign_in(page, day.instructor_email)
    assert page.url.endswith("/teach/")  # instructors land on their pages

    # every control on the instructor pages has a name a screen reader can say
    for path in (
        f"/teach/quizzes/{day.quiz_id}",
        f"/teach/courses/{day.course_id}",
        f"/teach/courses/{day.course_id}/quizzes/new",
        f"/teach/courses/{day.course_id}/exercises/new",
    ):
        page.goto(path)
        assert page.evaluate(UNNAMED_CONTROLS) == [], path
    page.goto(f"/teach/quizzes/{day.quiz_id}")
    expect(page.get_by_label("Points", exact=True)).to_have_value("1")  # a new item's default
    page.get_by_role("link", name="Preview as a student").click()
    expect(page.locator(".staff-preview")).to_contain_text("Student view.")

    page.goto(f"/teach/courses/{day.course_id}")
    row = page.get_by_role("row", name=re.compile(re.escape(email)))
    row.get_by_role("button", name=re.compile("Invite")).click()
    link = page.get_by_label(re.compile("Link for"))
    url = link.input_value()
    assert "/auth/set-password/" in url

    student = browser.new_context(
        base_url=live_server.base_url, viewport={"width": page.width, "height": 900}
    )
    try:
        phone = student.new_page()
        phone.goto(url)
        expect(phone.get_by_role("heading", level=1)).to_contain_text("choose your password")
        no_sideways_scroll(phone)
        phone.get_by_label("New password", exact=True).fill("my-own-password")
        phone.get_by_label("New password again").fill("my-own-password")
        phone.get_by_role("button", name="Set password and sign in").click()
        expect(phone.get_by_role("heading", name="My courses")).to_be_visible()
        no_sideways_scroll(phone)
        phone.goto(url)  # single use
        expect(phone.get_by_role("heading", level=1)).to_have_text("This link no longer works")

        phone.goto("/auth/forgot")
        no_sideways_scroll(phone)
        phone.goto("/auth/register")
        no_sideways_scroll(phone)
    finally:
        student.close()


SEGMENT_CROSSES_BOX = """
() => {
  // Liang-Barsky: does the segment (x1,y1)-(x2,y2) enter the box?
  function crosses(l, b) {
    const x1 = +l.getAttribute("x1"), y1 = +l.getAttribute("y1");
    const dx = +l.getAttribute("x2") - x1, dy = +l.getAttribute("y2") - y1;
    let t0 = 0, t1 = 1;
    const p = [-dx, dx, -dy, dy], q = [x1 - b.x, b.x + b.width - x1, y1 - b.y, b.y + b.height - y1];
    for (let i = 0; i < 4; i++) {
      if (p[i] === 0) { if (q[i] < 0) return false; continue; }
      const r = q[i] / p[i];
      if (p[i] < 0) { if (r > t1) return false; if (r > t0) t0 = r; }
      else { if (r < t0) return false; if (r < t1) t1 = r; }
    }
    return true;
  }
  const bad = [];
  const lines = [...document.querySelectorAll("line")];
  for (const label of document.querySelectorAll("text.grad, text.weight")) {
    const box = label.getBBox();
    for (const line of lines) if (crosses(line, box)) bad.push(label.textContent);
  }
  return bad;
}
"""


@pytest.mark.parametrize("slug", ["delta-rule-classic", "chain-rule-numeric", "shared-weight"])
def test_worked_solution_labels_do_not_cross_edge_lines(page, slug):
    """Measured by Chromium: no weight or gradient label's box meets any edge line."""
    from pathlib import Path

    from grader.exercises import generate
    from grader.exercises import load_spec_text

    source = (Path(__file__).resolve().parents[2] / "exercises" / f"{slug}.yaml").read_text()
    for seed in (1, 2, 3):
        svg = generate(load_spec_text(source), seed).solution_diagram_svg
        assert svg, slug
        page.set_content(f"<!doctype html><body>{svg}</body>")
        assert page.locator("text.grad").count() > 0
        assert page.evaluate(SEGMENT_CROSSES_BOX) == [], (slug, seed)
