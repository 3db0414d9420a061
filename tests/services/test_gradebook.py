"""The gradebook: scores per cell, constant query count, overrides with history, CSV export."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from grader.errors import BadRequest
from grader.errors import Forbidden
from grader.exercises import generate
from grader.models import Attempt
from grader.models import Course
from grader.models import Enrolment
from grader.models import Exercise
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import Submission
from grader.models import User
from grader.services import enrolments
from grader.services import gradebook
from grader.services.accounts import create_user
from grader.services.authoring import spec_of_source
from grader.services.library import save_exercise_source

SOURCE = (Path(__file__).resolve().parents[2] / "exercises" / "delta-rule-classic.yaml").read_text(
    encoding="utf-8"
)


@dataclasses.dataclass
class Class:
    course: Course
    prof: User
    students: list[User]
    exercise: Exercise
    quiz: Quiz
    items: list[QuizItem]


def build_class(
    session: Session,
    students: int = 2,
    items: int = 1,
    *,
    source: str = SOURCE,
    names: Any = None,
    prefix: str = "",
) -> Class:
    """A course with an instructor, students and a quiz of delta-rule items (5 points each)."""
    prof = create_user(session, email=f"{prefix}prof@example.com", name="Prof", role="instructor")
    course = enrolments.create_course(session, prof, code=f"{prefix}BP1", title="Backprop")
    if prefix:
        source = source.replace("id: delta-rule-classic", f"id: {prefix}delta")
    exercise, _ = save_exercise_source(session, source, course_id=course.id)
    quiz = Quiz(course_id=course.id, title="Week 1", is_published=True)
    session.add(quiz)
    session.flush()
    quiz_items = []
    for position in range(1, items + 1):
        item = QuizItem(quiz_id=quiz.id, position=position, exercise_id=exercise.id, points=5)
        session.add(item)
        quiz_items.append(item)
    people = []
    for i in range(students):
        name = names[i] if names else f"Student {i:03d}"
        user = User(email=f"{prefix}s{i:03d}@example.com", name=name, role="student")
        session.add(user)
        people.append(user)
    session.flush()
    session.add_all(Enrolment(course_id=course.id, user_id=u.id, role="student") for u in people)
    session.commit()
    return Class(course, prof, people, exercise, quiz, quiz_items)


_VARIANTS: dict[tuple[str, int], dict[str, Any]] = {}


def variant_json(source: str, seed: int) -> dict[str, Any]:
    if (source, seed) not in _VARIANTS:
        _VARIANTS[(source, seed)] = generate(spec_of_source(source), seed).to_json()
    return _VARIANTS[(source, seed)]


def attempt(
    session: Session,
    item: QuizItem,
    user: User,
    scores: dict[str, float | None],
    *,
    seed: int = 1,
    source: str = SOURCE,
    version: int = 1,
) -> Attempt:
    """An attempt with one graded submission per part (``None`` adds a pending one)."""
    row = Attempt(
        quiz_item_id=item.id,
        user_id=user.id,
        exercise_version=version,
        seed=seed,
        variant=variant_json(source, seed),
    )
    session.add(row)
    session.flush()
    for part_id, score in scores.items():
        session.add(
            Submission(
                attempt_id=row.id,
                part_id=part_id,
                raw_answer="0",
                status="pending" if score is None else "graded",
                verdict=None if score is None else ("correct" if score == 1 else "incorrect"),
                raw_score=score,
                score=score,
                note=None
                if score is None
                else ("correct" if score == 1 else "mistake:sign_flipped"),
            )
        )
    session.flush()
    return row


@contextlib.contextmanager
def count_queries(session: Session) -> Iterator[list[str]]:
    """Every SQL statement the session's connection runs inside the block."""
    statements: list[str] = []
    engine = session.get_bind().engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # The test session turns commits into savepoints: not the code's queries.
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_cells_weight_parts_and_overrides_win(db_session: Session) -> None:
    c = build_class(db_session, students=3, items=2, names=["Zed", "Amy", "=cmd|' /C calc'!A0"])
    zed, amy, evil = c.students
    first, second = c.items
    second.part_points = {"y": 1.0, "w1": 1.0, "w2": 2.0}
    second.points = 4.0
    # Exercise part points are y=1, w1=2, w2=2: item 1's 5 points split 1:2:2.
    attempt(db_session, first, zed, {"y": 1.0, "w1": 0.25, "w2": None})
    a2 = attempt(db_session, second, zed, {"w2": 0.5})
    attempt(db_session, first, amy, {"y": 0.0})
    db_session.commit()

    book = gradebook.quiz_gradebook(db_session, c.prof, c.quiz.id)
    assert [col.max_points for col in book.columns] == [5.0, 4.0]
    assert book.max_total == 9.0
    assert [r.name for r in book.rows] == ["=cmd|' /C calc'!A0", "Amy", "Zed"]
    rows = {r.name: r for r in book.rows}
    z1, z2 = rows["Zed"].cells
    assert z1 is not None
    assert z2 is not None
    assert z1.points == pytest.approx(1.0 + 0.25 * 2.0)
    assert (z1.submissions, z1.pending) == (3, 1)
    assert z2.points == pytest.approx(1.0)
    assert rows["Zed"].total == pytest.approx(2.5)
    assert rows["Amy"].cells[0].points == 0.0  # type: ignore[union-attr]
    assert rows["Amy"].cells[1] is None
    assert rows[evil.name].cells == [None, None]

    gradebook.override_grade(db_session, c.prof, a2.id, "w2", points=2.0, reason="typo in key")
    gradebook.override_grade(db_session, c.prof, a2.id, "w2", points=1.5, reason="second look")
    gradebook.override_grade(db_session, c.prof, a2.id, "y", points=1.0, reason="fair answer")
    book = gradebook.quiz_gradebook(db_session, c.prof, c.quiz.id)
    cell = {r.name: r for r in book.rows}["Zed"].cells[1]
    assert cell is not None
    assert cell.overridden
    assert cell.points == pytest.approx(1.5 + 1.0)

    detail = gradebook.attempt_detail(db_session, c.prof, a2.id)
    w2 = next(p for p in detail.parts if p.part_id == "w2")
    assert [o.reason for o, _ in w2.overrides] == ["second look", "typo in key"]
    assert [name for _, name in w2.overrides] == ["Prof", "Prof"]
    assert (w2.auto_credit, w2.credit, w2.weight) == (0.5, 0.75, 2.0)
    assert detail.points == pytest.approx(2.5)
    assert w2.key_text

    with pytest.raises(BadRequest, match="why"):
        gradebook.override_grade(db_session, c.prof, a2.id, "w2", points=1, reason="  ")
    with pytest.raises(BadRequest, match="between 0 and 2"):
        gradebook.override_grade(db_session, c.prof, a2.id, "w2", points=2.5, reason="bonus")

    text = gradebook.export_csv(db_session, c.prof, c.quiz.id)
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text[1:])))
    assert table[0] == [
        "email",
        "name",
        "1. One delta-rule update on a linear neuron (5)",
        "2. One delta-rule update on a linear neuron (4)",
        "total (9)",
        "of which follow-through (points)",
    ]
    assert table[1] == ["s002@example.com", "'=cmd|' /C calc'!A0", "", "", "0", "0"]
    assert table[3] == ["s000@example.com", "Zed", "1.5", "2.5", "4", "0"]
    assert len(table) == 4
    course_book = gradebook.course_gradebook(db_session, c.prof, c.course.id)
    assert [row[3] for row in course_book.rows] == [[None], [0.0], [4.0]]


def test_formula_cells_are_neutralised() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert gradebook.safe_cell(text) == "'" + text
    assert gradebook.safe_cell("Ana") == "Ana"
    assert gradebook.safe_cell(None) == ""


def _fill(session: Session, c: Class) -> None:
    for i, user in enumerate(c.students):
        for item in c.items:
            a = attempt(session, item, user, {"y": 1.0, "w1": 0.25}, seed=i % 3)
            if i % 2:
                gradebook.override_grade(session, c.prof, a.id, "w2", points=1, reason="r")
    session.commit()


def test_the_gradebook_runs_a_constant_number_of_queries(db_session: Session) -> None:
    counts = []
    for students in (3, 30):
        c = build_class(db_session, students=students, items=2, prefix=f"n{students}")
        _fill(db_session, c)
        db_session.expire_all()
        with count_queries(db_session) as statements:
            book = gradebook.quiz_gradebook(db_session, c.prof, c.quiz.id)
        assert len(book.rows) == students
        assert book.graded_cells == 2 * students
        db_session.expire_all()
        with count_queries(db_session) as course_statements:
            gradebook.course_gradebook(db_session, c.prof, c.course.id)
        counts.append((len(statements), len(course_statements)))
    assert counts[0] == counts[1], counts
    assert counts[0][0] <= 10, "\n".join(s[:100] for s in statements)


def test_students_and_strangers_are_refused(db_session: Session) -> None:
    c = build_class(db_session, students=1)
    a = attempt(db_session, c.items[0], c.students[0], {"y": 1.0})
    db_session.commit()
    student = c.students[0]
    for call in (
        lambda: gradebook.quiz_gradebook(db_session, student, c.quiz.id),
        lambda: gradebook.course_gradebook(db_session, student, c.course.id),
        lambda: gradebook.attempt_detail(db_session, student, a.id),
        lambda: gradebook.override_grade(db_session, student, a.id, "y", points=1, reason="me"),
        lambda: gradebook.export_csv(db_session, student, c.quiz.id),
    ):
        with pytest.raises(Forbidden):
            call()


def test_formula_cells_after_a_semicolon_or_tab_are_neutralised() -> None:
    """A spreadsheet in a ``;`` locale splits on ``;`` whatever the quoting says."""
    cases = {
        'Mal;=HYPERLINK("http://evil","x")': 'Mal;\'=HYPERLINK("http://evil","x")',
        "a; +1": "a; '+1",
        "a;-2;@SUM(A1)": "a;'-2;'@SUM(A1)",
        "x\t=1": "x\t'=1",
        " =1+1": "' =1+1",
        "Anne-Marie; Jo": "Anne-Marie; Jo",
    }
    for text, safe in cases.items():
        assert gradebook.safe_cell(text) == safe
    for text in ("=1", "+1", "-1", "@x", "\tx", "\rx"):
        assert gradebook.safe_cell(text).startswith("'")
