"""Answering on the graph in Chromium (issue 16 item 3), at 1280 px and at 390 px, with the
keyboard only: Tab reaches the boxes in backward order, each box is judged when the student
leaves it or presses Enter, a later value computed from a wrong earlier one is judged
``consistent`` naming that value, and the first wrong node is marked in the form and on
the diagram; at 390 px nothing scrolls sideways and the form sits below the diagram."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func
from sqlalchemy import select

from grader.exercises import Variant
from grader.exercises.recipe import evaluate
from grader.models import Attempt
from grader.models import Course
from grader.models import Enrolment
from grader.models import Exercise
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import Submission
from grader.models import utcnow
from grader.services.accounts import create_user
from tests.browser.test_day_flows import no_sideways_scroll

WIDTHS = [1280, 390]
PASSWORD = "graph-pass-123"
#: the chain rule's boxes in backward order (output to inputs)
ORDER = ["y", "dLdy", "dw2", "db2", "h", "dLdh", "dw1", "w1new", "db1"]
_counter = itertools.count(1)


@pytest.fixture(scope="module")
def graph_quiz(live_server: Any) -> tuple[int, int]:
    """(course id, quiz id): a quiz with the chain-rule exercise, unlimited tries."""
    with live_server.sessionmaker() as session:
        course = Course(code="GR16", title="Backprop on the graph", join_code="GRAPHJOIN")
        session.add(course)
        session.flush()
        quiz = Quiz(
            course_id=course.id,
            title="On the graph",
            is_published=True,
            attempts_allowed=None,
            late_policy={},
            show_solutions="after_due",
        )
        session.add(quiz)
        session.flush()
        exercise = session.scalar(select(Exercise).where(Exercise.slug == "chain-rule-numeric"))
        assert exercise is not None
        session.add(QuizItem(quiz_id=quiz.id, position=1, exercise_id=exercise.id, points=5))
        session.commit()
        return course.id, quiz.id


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def gpage(request: Any, browser: Any, live_server: Any) -> Any:
    context = browser.new_context(
        base_url=live_server.base_url, viewport={"width": request.param, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.width = request.param  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()


def _student(live_server: Any, course_id: int) -> tuple[str, int]:
    email = f"graph{next(_counter)}-{utcnow().timestamp():.0f}@graph.test"
    with live_server.sessionmaker() as session:
        user = create_user(session, email=email, name="Gia Graph", password=PASSWORD, commit=False)
        session.add(Enrolment(course_id=course_id, user_id=user.id, role="student"))
        session.commit()
        return email, user.id


def _sign_in_by_keyboard(page: Any, email: str) -> None:
    page.get_by_label("Email").focus()  # the login page's first field
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/auth/login" not in url)


def _focused_id(page: Any) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id || ''")


def _tab_to(page: Any, element_id: str, limit: int = 60) -> None:
    """Press Tab from where the focus is until ``element_id`` has it."""
    for _ in range(limit):
        if _focused_id(page) == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def _shift_tab_to(page: Any, element_id: str, limit: int = 20) -> None:
    """Press Shift+Tab until ``element_id`` has the focus."""
    for _ in range(limit):
        if _focused_id(page) == element_id:
            return
        page.keyboard.press("Shift+Tab")
    raise AssertionError(f"Shift+Tab never reached #{element_id}")


def _type_into_focused(page: Any, text: str) -> None:
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def _num(value: Any) -> str:
    return f"{float(value):.6g}"


def test_fill_the_chain_rule_node_by_node_with_the_keyboard(
    gpage: Any, live_server: Any, graph_quiz: tuple[int, int]
) -> None:
    page = gpage
    course_id, quiz_id = graph_quiz
    email, user_id = _student(live_server, course_id)
    page.goto("/auth/login")
    _sign_in_by_keyboard(page, email)
    page.goto(f"/quizzes/{quiz_id}")
    with live_server.sessionmaker() as session:
        attempt = session.scalar(select(Attempt).where(Attempt.user_id == user_id))
        assert attempt is not None
        aid, variant = attempt.id, Variant.from_json(attempt.variant)
    box = {part: f"graph-{aid}-{part}" for part in ORDER}

    # The form sits beside the diagram at 1280 px and below it at 390 px.
    figure = page.locator(".graph-figure").bounding_box()
    form = page.locator("form[data-graph-form]").bounding_box()
    if page.width == 390:
        assert form["y"] >= figure["y"] + figure["height"] - 1
        no_sideways_scroll(page)
    else:
        assert form["x"] >= figure["x"] + figure["width"] - 1
        assert form["y"] < figure["y"] + figure["height"]

    # Tab order follows the backward pass: from the page's top to the first box, then on.
    _tab_to(page, box["y"])
    seen = [box["y"]]
    for _ in ORDER[1:]:
        page.keyboard.press("Tab")
        seen.append(_focused_id(page))
    assert seen == [box[p] for p in ORDER]
    # every box has a label a screen reader reads, naming the node
    expect(page.get_by_label("gradient at node h: ∂L/∂h")).to_have_attribute("id", box["dLdh"])
    expect(page.get_by_label("forward value at node y: y")).to_have_attribute("id", box["y"])

    def verdict(part: str) -> Any:
        return page.locator(f"#graph-verdict-{aid}-{part}")

    # y wrong: judged when the student tabs on
    y_wrong = round(float(variant.part("y").key) * 1.5 + 0.2, 4)
    _shift_tab_to(page, box["y"])
    _type_into_focused(page, str(y_wrong))
    page.keyboard.press("Tab")
    expect(verdict("y")).to_contain_text("Incorrect")
    fieldset_y = page.locator(f"fieldset#node-{aid}-y")
    expect(fieldset_y).to_have_class("graph-node is-first-wrong")
    expect(page.locator('.graph-mark[data-node="y"]')).to_have_class("graph-mark is-first-wrong")
    expect(page.locator(f"#graph-live-{aid}")).to_contain_text("First wrong node: y. Your y = ")

    # ∂L/∂y computed from that y, sent with Enter: consistent, naming the earlier value
    assert _focused_id(page) == box["dLdy"]
    dLdy = evaluate(variant.part("dLdy").follow.recipe, {"y": y_wrong})
    _type_into_focused(page, _num(dLdy))
    page.keyboard.press("Enter")
    expect(verdict("dLdy")).to_contain_text("Right, given your earlier answer")
    expect(verdict("dLdy")).to_contain_text(
        f"Right, given your y = {y_wrong}; that value was wrong."
    )

    # ∂L/∂w2 from the student's ∂L/∂y (h not answered yet: its key), then ∂L/∂b2, by Tab
    page.keyboard.press("Tab")
    assert _focused_id(page) == box["dw2"]
    dw2 = evaluate(variant.part("dw2").follow.recipe, {"dLdy": dLdy, "h": variant.part("h").key})
    _type_into_focused(page, _num(dw2))
    page.keyboard.press("Tab")
    expect(verdict("dw2")).to_contain_text("Right, given your ∂L/∂y = ")
    db2 = evaluate(variant.part("db2").follow.recipe, {"dLdy": dLdy})
    _type_into_focused(page, _num(db2))
    page.keyboard.press("Tab")
    expect(verdict("db2")).to_contain_text("Right, given your")
    # h right
    assert _focused_id(page) == box["h"]
    _type_into_focused(page, variant.part("h").key_text)
    page.keyboard.press("Tab")
    expect(verdict("h")).to_have_text("Correct.")
    expect(page.locator(f"#graph-hint-{aid}-h")).to_contain_text(" · 0.5 / 0.5 points")
    expect(page.locator(f"#{box['h']}")).to_have_attribute("readonly", "")
    # the first wrong node is still y: everything after it follows from it
    expect(fieldset_y).to_have_class("graph-node is-first-wrong")
    expect(page.locator(f"fieldset#node-{aid}-h")).to_have_class("graph-node")
    expect(page.locator(".graph-mark.is-first-wrong")).to_have_count(1)

    # Enter's change and the form's submit are one send: ∂L/∂y was stored once
    with live_server.sessionmaker() as session:
        count = session.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.attempt_id == aid, Submission.part_id == "dLdy")
        )
    assert count == 1

    # Back to y with Shift+Tab and fix it: ∂L/∂y is now simply wrong, and y's node (where
    # ∂L/∂y sits) is still the first wrong one, now for ∂L/∂y, with its diagnosis.
    for _ in range(5):
        page.keyboard.press("Shift+Tab")
    assert _focused_id(page) == box["y"]
    _type_into_focused(page, variant.part("y").key_text)
    page.keyboard.press("Enter")
    expect(verdict("y")).to_have_text("Correct.")
    expect(page.locator(f"#graph-live-{aid}")).to_contain_text("Your ∂L/∂y = ")
    expect(verdict("dLdy")).not_to_contain_text("Right, given")
    expect(fieldset_y).to_have_class("graph-node is-first-wrong")
    if page.width == 390:
        no_sideways_scroll(page)


def test_without_javascript_the_graph_form_still_submits(
    browser: Any, live_server: Any, graph_quiz: tuple[int, int]
) -> None:
    course_id, quiz_id = graph_quiz
    context = browser.new_context(
        base_url=live_server.base_url,
        viewport={"width": 390, "height": 900},
        java_script_enabled=False,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        email, user_id = _student(live_server, course_id)
        page.goto("/auth/login")
        _sign_in_by_keyboard(page, email)
        page.goto(f"/quizzes/{quiz_id}")
        with live_server.sessionmaker() as session:
            attempt = session.scalar(select(Attempt).where(Attempt.user_id == user_id))
            aid, variant = attempt.id, Variant.from_json(attempt.variant)
        _tab_to(page, f"graph-{aid}-y")
        page.keyboard.type(variant.part("y").key_text)
        page.keyboard.press("Tab")
        page.keyboard.type(_num(-float(variant.part("dLdy").key)))
        page.keyboard.press("Enter")  # no script: the whole form posts and the page returns
        page.wait_for_url(lambda url: url.endswith(f"#graph-{aid}"))
        expect(page.locator(f"#graph-verdict-{aid}-y")).to_have_text("Correct.")
        expect(page.locator(f"#graph-verdict-{aid}-dLdy")).to_contain_text("Partly right")
        expect(page.locator(f"fieldset#node-{aid}-y")).to_have_class("graph-node is-first-wrong")
        no_sideways_scroll(page)
    finally:
        context.close()


def test_the_gate_graph_and_the_matrix_network_fit_a_phone(
    browser: Any, live_server: Any, graph_quiz: tuple[int, int]
) -> None:
    """At 390 px: both other graph exercises show their nodes in the stored backward order,
    a box judged on Tab, and nothing wider than the screen."""
    course_id, _ = graph_quiz
    with live_server.sessionmaker() as session:
        quiz = Quiz(
            course_id=course_id,
            title="Gates and matrices",
            is_published=True,
            late_policy={},
            show_solutions="after_due",
        )
        session.add(quiz)
        session.flush()
        for position, slug in enumerate(("computational-graph", "matrix-deltas-232"), start=1):
            exercise = session.scalar(select(Exercise).where(Exercise.slug == slug))
            session.add(
                QuizItem(quiz_id=quiz.id, position=position, exercise_id=exercise.id, points=5)
            )
        session.commit()
        quiz_id = quiz.id
    context = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 390, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        email, user_id = _student(live_server, course_id)
        page.goto("/auth/login")
        _sign_in_by_keyboard(page, email)
        page.goto(f"/quizzes/{quiz_id}")
        with live_server.sessionmaker() as session:
            attempts = session.scalars(
                select(Attempt).where(Attempt.user_id == user_id).order_by(Attempt.id)
            ).all()
            stored = [(a.id, Variant.from_json(a.variant)) for a in attempts]
        assert len(stored) == 2
        no_sideways_scroll(page)
        for aid, variant in stored:
            nodes = variant.extra["graph"]["nodes"]
            legends = page.locator(f"#graph-{aid} fieldset legend")
            expect(legends).to_have_count(len(nodes))
            for i, node in enumerate(nodes):
                expect(legends.nth(i)).to_contain_text(f"Node {node['label']}")
            first = next(n for n in nodes if n["forward"] or n["gradient"])
            part = (first["forward"] or first["gradient"])["part"]
            _tab_to(page, f"graph-{aid}-{part}", limit=120)
            key = variant.part(part).key
            wrong = (
                f"{-float(key) - 1:.4g}"
                if isinstance(key, float)
                else "[" + ", ".join(f"{-float(v) - 1:.4g}" for v in key) + "]"
            )
            _type_into_focused(page, wrong)
            page.keyboard.press("Tab")
            expect(page.locator(f"#graph-verdict-{aid}-{part}")).to_contain_text("Incorrect")
            expect(page.locator(f"fieldset#node-{aid}-{first['id']}")).to_have_class(
                "graph-node is-first-wrong"
            )
        no_sideways_scroll(page)
    finally:
        context.close()
