"""Where students break first, on SQLite and PostgreSQL: a class of chain-rule students
answering through the real submit service, each breaking first at a different step with a
different diagnosis; the item analysis counts them per step and diagnosis, most common first,
and the gradebook keeps follow-through points apart from points for right answers."""

from __future__ import annotations

import csv
import dataclasses
import io

import pytest
from sqlalchemy.orm import Session

from grader.exercises import Variant
from grader.exercises.follow import implied
from grader.exercises.recipe import evaluate
from grader.models import Attempt
from grader.models import User
from grader.services import analysis
from grader.services import attempts
from grader.services import gradebook
from grader.services import submissions
from tests.support.follow_values import wrong_chain
from tests.support.student_world import REPO
from tests.support.student_world import World
from tests.support.student_world import enrol
from tests.support.student_world import load_exercise
from tests.support.student_world import make_quiz
from tests.support.student_world import make_user
from tests.support.student_world import make_world

#: per student: the answers, in order; "key" is the right answer, "mistake:<code>" the value
#: that mistake gives, "wrong" a value no mistake explains, "follow" the value right given
#: the student's own earlier answers
PLAN: list[list[tuple[str, str]]] = [
    [("dLdy", "mistake:sign_flipped"), ("dw2", "follow"), ("db2", "follow")],
    [("dLdy", "mistake:sign_flipped")],
    [("dLdy", "wrong"), ("dw1", "follow")],
    [("dLdy", "key"), ("dw1", "mistake:forgot_weight"), ("w1new", "follow")],
    [("dLdy", "key"), ("dw1", "mistake:forgot_weight")],
    [("dLdy", "key"), ("dw2", "key"), ("dw1", "mistake:forgot_weight")],
    [("dLdy", "key"), ("dw1", "wrong")],
    [("dLdy", "key"), ("dw2", "mistake:forgot_input")],
    [("dLdy", "key"), ("dw2", "key"), ("dw1", "key")],  # nothing wrong
]


@dataclasses.dataclass
class ChainClass:
    world: World
    students: list[User]
    attempts: list[Attempt]


def value_for(variant: Variant, pid: str, plan: str, given: dict[str, object]) -> object:
    part = variant.part(pid)
    if plan == "key":
        return part.key
    if plan == "wrong":
        return wrong_chain(variant, pid)[pid]  # wrong, and wrong for every later part
    if plan == "follow":
        assert part.follow is not None
        # each source as the student's own work gives it (skipped parts in between implied)
        typed = {k: f"{float(v):.9g}" for k, v in given.items()}  # type: ignore[arg-type]
        values = {s: implied(variant, s, typed)[0] for s in part.follow.sources}
        return evaluate(part.follow.recipe, values)
    code = plan.removeprefix("mistake:")
    return next(m.value for m in part.mistakes if m.code == code)


def chain_class(session: Session, prefix: str = "fw") -> ChainClass:
    """A chain-rule quiz (follow-through credit 1) answered by the students of ``PLAN``."""
    world = make_world(session, prefix=prefix, commit=False)
    exercise = load_exercise(session, REPO / "exercises" / "chain-rule-numeric.yaml")
    quiz = make_quiz(
        session, world.course, [exercise], attempts_allowed=None, follow_through_credit=1.0
    )
    students = []
    for i in range(len(PLAN)):
        user = make_user(session, f"{prefix}-student{i}@example.com")
        enrol(session, world.course, user)
        students.append(user)
    session.commit()
    world = dataclasses.replace(world, quiz=quiz, item=quiz.items[0], exercise=exercise)
    started = []
    for user, answers in zip(students, PLAN, strict=True):
        attempt = attempts.start_or_resume(session, user, quiz.items[0], secret="s3cret")
        variant = Variant.from_json(attempt.variant)
        given: dict[str, object] = {}
        for pid, plan in answers:
            given[pid] = value_for(variant, pid, plan, given)
            sub = submissions.submit(
                session,
                user=user,
                attempt=attempt,
                part_id=pid,
                raw_answer=f"{float(given[pid]):.9g}",  # type: ignore[arg-type]
                idempotency_key=None,
            )
            want = {"key": "correct", "follow": "consistent"}.get(plan, "incorrect")
            assert sub.verdict == want, (pid, plan, sub.feedback)
            if plan.startswith("mistake:"):
                assert sub.note == plan
        started.append(attempt)
    return ChainClass(world, students, started)


def test_first_wrong_steps_are_counted_per_step_and_diagnosis(db_session: Session) -> None:
    c = chain_class(db_session)
    _, items = analysis.quiz_analysis(db_session, c.world.instructor, c.world.quiz.id)
    (item,) = items
    variant = Variant.from_json(c.attempts[0].variant)
    feedback = {m.code: m.feedback for pid in ("dw1", "dw2") for m in variant.part(pid).mistakes}

    got = [
        (fw.part_id, fw.name, fw.count, [(n.note, n.count) for n in fw.causes])
        for fw in item.first_wrong_parts
    ]
    assert got == [
        ("dw1", "∂L/∂w1", 4, [("mistake:forgot_weight", 3), ("other", 1)]),
        ("dLdy", "∂L/∂y", 3, [("mistake:sign_flipped", 2), ("other", 1)]),
        ("dw2", "∂L/∂w2", 1, [("mistake:forgot_input", 1)]),
    ]
    labels = {n.note: n.label for fw in item.first_wrong_parts for n in fw.causes}
    assert labels["mistake:forgot_weight"] == feedback["forgot_weight"]
    assert labels["mistake:forgot_input"] == feedback["forgot_input"]
    assert labels["other"] == analysis.OTHER_LABEL
    # The flat list (step and diagnosis together) agrees, most common first.
    assert [(n.note, n.count) for n in item.first_wrong][:2] == [("dw1", 3), ("dLdy", 2)]

    parts = {p.part_id: p for p in item.parts}
    assert (parts["dLdy"].right, parts["dLdy"].follow, parts["dLdy"].wrong) == (6, 0, 3)
    assert (parts["dw2"].right, parts["dw2"].follow, parts["dw2"].wrong) == (2, 1, 1)
    assert (parts["dw1"].right, parts["dw1"].follow, parts["dw1"].wrong) == (1, 1, 4)
    assert (parts["w1new"].right, parts["w1new"].follow, parts["w1new"].wrong) == (0, 1, 0)
    assert (parts["db1"].right, parts["db1"].follow, parts["db1"].wrong) == (0, 0, 0)
    assert parts["dw1"].name == "∂L/∂w1"

    same = analysis.exercise_analysis(
        db_session, c.world.instructor, c.world.course.id, c.world.exercise.id
    )
    assert same is not None
    assert same.first_wrong_parts == item.first_wrong_parts


def test_the_gradebook_keeps_follow_through_points_apart(db_session: Session) -> None:
    c = chain_class(db_session, prefix="gb")
    book = gradebook.quiz_gradebook(db_session, c.world.instructor, c.world.quiz.id)
    cells = {row.user_id: row.cells[0] for row in book.rows}
    weights = gradebook.part_weights(c.world.item, gradebook.variant_parts(c.attempts[0].variant))
    first, third, fourth = (cells[c.students[i].id] for i in (0, 2, 3))
    assert first is not None
    assert third is not None
    assert fourth is not None
    # student 0: dLdy a half-credit mistake, dw2 and db2 by follow-through
    assert first.follow_points == pytest.approx(weights["dw2"] + weights["db2"])
    assert first.right_points == 0
    assert first.points == pytest.approx(first.follow_points + 0.5 * weights["dLdy"])
    # student 3: dLdy right, dw1 a quarter-credit mistake, w1new by follow-through
    assert fourth.right_points == pytest.approx(weights["dLdy"])
    assert fourth.follow_points == pytest.approx(weights["w1new"])
    assert fourth.points == pytest.approx(
        weights["dLdy"] + 0.25 * weights["dw1"] + weights["w1new"]
    )
    assert third.follow_points == pytest.approx(weights["dw1"])

    summary = book.summary
    every = [cell for cell in cells.values() if cell is not None]
    assert summary.points == pytest.approx(sum(x.points or 0.0 for x in every))
    assert summary.follow_points == pytest.approx(sum(x.follow_points for x in every))
    assert summary.right_points == pytest.approx(sum(x.right_points for x in every))
    assert summary.follow_points == pytest.approx(
        weights["dw2"] + weights["db2"] + weights["dw1"] + weights["w1new"]
    )
    assert 0 < summary.other_points < summary.points

    rows = list(
        csv.reader(
            io.StringIO(
                gradebook.export_csv(db_session, c.world.instructor, c.world.quiz.id).lstrip(
                    "\ufeff"
                )
            )
        )
    )
    header = rows[0]
    assert header[-1].startswith("of which follow-through")
    by_email = {r[0]: r for r in rows[1:]}
    line = by_email[c.students[0].email]
    assert float(line[-1]) == pytest.approx(round(first.follow_points, 4))
    assert float(line[-2]) == pytest.approx(round(first.points or 0.0, 4))
