"""The exercise editor: live validation with lines, preview of any seed, save = new version."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import Forbidden
from grader.exercises import generate
from grader.models import Attempt
from grader.models import ExerciseVersion
from grader.models import Quiz
from grader.models import QuizItem
from grader.services import authoring
from grader.services import enrolments
from grader.services.accounts import create_user
from grader.services.library import save_exercise_source

SOURCE = (Path(__file__).resolve().parents[2] / "exercises" / "delta-rule-classic.yaml").read_text(
    encoding="utf-8"
)
OWN = SOURCE.replace("id: delta-rule-classic", "id: bp1-delta")


def test_validation_reports_each_problem_at_its_line() -> None:
    assert authoring.validate_source(SOURCE) == []
    broken = SOURCE.replace("    points: 2\n    hints", "    points: -2\n    hints")
    problems = authoring.validate_source(broken)
    line = broken.splitlines().index("    points: -2") + 1
    assert problems[0] == {
        "line": line,
        "field": "parts[1].points",
        "message": problems[0]["message"],
    }
    assert "greater than 0" in problems[0]["message"]
    yaml_error = authoring.validate_source("id: x\ntitle: [unclosed\n")
    assert yaml_error
    assert yaml_error[0]["line"] in (2, 3)
    with pytest.raises(BadRequest):
        authoring.validate_source("x" * (authoring.MAX_SOURCE_CHARS + 1))


def test_preview_shows_key_solution_and_mistakes_for_any_seed() -> None:
    seven = authoring.preview(SOURCE, 7)
    assert seven.errors == []
    assert seven.variant is not None
    assert seven.variant.seed == 7
    assert seven.variant.to_json() == authoring.preview(SOURCE, 7).variant.to_json()  # type: ignore[union-attr]
    w1 = seven.variant.part("w1")
    assert w1.key_text
    assert {m.code for m in w1.mistakes} >= {"sign_flipped", "forgot_input"}
    assert seven.variant.solution_md
    assert authoring.preview(SOURCE, 8).variant.params != seven.variant.params  # type: ignore[union-attr]
    bad = authoring.preview("id: x\n", 7)
    assert bad.variant is None
    assert bad.errors
    with pytest.raises(BadRequest, match="seed"):
        authoring.parse_seed("-1")
    with pytest.raises(BadRequest, match="whole number"):
        authoring.parse_seed("seven")


def test_save_makes_versions_and_issued_attempts_keep_their_variant(db_session: Session) -> None:
    prof = create_user(db_session, email="prof@example.com", name="Prof", role="instructor")
    course = enrolments.create_course(db_session, prof, code="BP1", title="Backprop")
    exercise, written = authoring.save(db_session, prof, course.id, OWN)
    assert written
    assert (exercise.course_id, exercise.current_version) == (course.id, 1)
    quiz = Quiz(course_id=course.id, title="Q")
    db_session.add(quiz)
    db_session.flush()
    item = QuizItem(quiz_id=quiz.id, position=1, exercise_id=exercise.id, points=5)
    db_session.add(item)
    db_session.flush()
    v1 = generate(authoring.spec_of_source(OWN), 3).to_json()
    db_session.add(
        Attempt(quiz_item_id=item.id, user_id=prof.id, exercise_version=1, seed=3, variant=v1)
    )
    db_session.commit()

    edited = OWN.replace("What is the output $y$?", "What does the neuron output?")
    _, written = authoring.save(db_session, prof, course.id, edited, exercise_id=exercise.id)
    assert written
    _, again = authoring.save(db_session, prof, course.id, edited, exercise_id=exercise.id)
    assert not again
    versions = db_session.scalars(
        select(ExerciseVersion.version).where(ExerciseVersion.exercise_id == exercise.id)
    ).all()
    assert sorted(versions) == [1, 2]
    assert exercise.current_version == 2
    attempt = db_session.scalar(select(Attempt).where(Attempt.quiz_item_id == item.id))
    assert attempt is not None
    assert attempt.variant == v1
    assert attempt.exercise_version == 1
    assert [v.version for v in authoring.versions(db_session, prof, course.id, exercise.id)] == [
        2,
        1,
    ]

    with pytest.raises(BadRequest) as renamed:
        authoring.save(
            db_session,
            prof,
            course.id,
            edited.replace("id: bp1-delta", "id: other"),
            exercise_id=exercise.id,
        )
    assert renamed.value.detail["errors"][0]["field"] == "id"
    with pytest.raises(BadRequest) as invalid:
        authoring.save(
            db_session, prof, course.id, edited.replace("family: delta_rule", "family: x")
        )
    assert invalid.value.detail["errors"][0]["field"] == "family"
    with pytest.raises(Conflict):
        authoring.save(db_session, prof, course.id, OWN)  # a *new* exercise with a taken id


def test_the_library_is_read_only_for_instructors(db_session: Session) -> None:
    prof = create_user(db_session, email="prof@example.com", name="Prof", role="instructor")
    course = enrolments.create_course(db_session, prof, code="BP1", title="Backprop")
    builtin, _ = save_exercise_source(db_session, SOURCE, builtin=True)
    db_session.commit()
    rows = authoring.list_exercises(db_session, prof, course.id)
    assert [(r.exercise.slug, r.editable) for r in rows] == [("delta-rule-classic", False)]
    with pytest.raises(Forbidden, match="read-only"):
        authoring.save(db_session, prof, course.id, SOURCE, exercise_id=builtin.id)
    copy = authoring.copy_source(db_session, prof, course.id, builtin.id)
    assert copy.startswith("id: delta-rule-classic-copy\n")
    exercise, _ = authoring.save(db_session, prof, course.id, copy)
    assert exercise.course_id == course.id
    assert "bp1-new-exercise" in authoring.starter_source(db_session, prof, course.id)
    assert authoring.validate_source(authoring.starter_source(db_session, prof, course.id)) == []
