"""The quiz builder: settings with zoned dates, items with points, order, publishing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import Forbidden
from grader.errors import NotFound
from grader.models import Attempt
from grader.services import enrolments
from grader.services import quizzes
from grader.services.accounts import create_user
from grader.services.library import save_exercise_source
from grader.services.quizzes import QuizSettings

SOURCE = (Path(__file__).resolve().parents[2] / "exercises" / "delta-rule-classic.yaml").read_text(
    encoding="utf-8"
)
UTC = dt.UTC


def test_local_times_become_utc() -> None:
    parse = quizzes.parse_local_datetime
    assert parse("2026-03-02T09:30", "Europe/Berlin") == dt.datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert parse("2026-07-02T09:30", "Europe/Berlin") == dt.datetime(2026, 7, 2, 7, 30, tzinfo=UTC)
    assert parse("2026-03-02T09:30", "") == dt.datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert parse("2026-03-02T09:30", "America/New_York") == dt.datetime(
        2026, 3, 2, 14, 30, tzinfo=UTC
    )
    assert parse("", "Europe/Berlin") is None
    with pytest.raises(BadRequest, match="time zone"):
        parse("2026-03-02T09:30", "Mars/Olympus")
    with pytest.raises(BadRequest, match="not a date"):
        parse("next tuesday", None)


def test_settings_are_checked() -> None:
    due = dt.datetime(2026, 3, 2, 12, tzinfo=UTC)
    good = QuizSettings(title="  Week   1 ", due_at=due, opens_at=due - dt.timedelta(days=7))
    assert quizzes.check_settings(good).title == "Week 1"
    bad = [
        dataclasses.replace(good, title=" "),
        dataclasses.replace(good, opens_at=due + dt.timedelta(hours=1)),
        dataclasses.replace(good, due_at=dt.datetime(2026, 3, 2, 12)),  # naive
        dataclasses.replace(good, attempts_allowed=0),
        dataclasses.replace(good, penalty_per_retry=1.5),
        dataclasses.replace(good, late_mode="maybe"),
        dataclasses.replace(good, late_mode="penalty", late_penalty=-0.1),
        dataclasses.replace(good, late_mode="penalty", late_until=due - dt.timedelta(hours=1)),
        dataclasses.replace(good, show_solutions="sometimes"),
    ]
    for settings in bad:
        with pytest.raises(BadRequest):
            quizzes.check_settings(settings)
    policy = dataclasses.replace(
        good, late_mode="penalty", late_penalty=0.25, late_until=due + dt.timedelta(days=1)
    ).late_policy()
    assert policy == {"mode": "penalty", "penalty": 0.25, "until": "2026-03-03T12:00:00+00:00"}


def test_build_a_quiz(db_session: Session) -> None:
    prof = create_user(db_session, email="prof@example.com", name="Prof", role="instructor")
    course = enrolments.create_course(db_session, prof, code="BP1", title="Backprop")
    other_course = enrolments.create_course(db_session, prof, code="BP2", title="Other")
    builtin, _ = save_exercise_source(db_session, SOURCE, builtin=True)
    foreign, _ = save_exercise_source(
        db_session,
        SOURCE.replace("id: delta-rule-classic", "id: bp2-own"),
        course_id=other_course.id,
    )
    db_session.commit()
    due = dt.datetime(2026, 3, 2, 12, tzinfo=UTC)
    quiz = quizzes.create_quiz(
        db_session,
        prof,
        course.id,
        QuizSettings(title="Week 1", due_at=due, attempts_allowed=None, penalty_per_retry=0.1),
    )
    assert quiz.is_published is False
    assert quiz.late_policy == {"mode": "refuse"}
    assert [e.slug for e in quizzes.available_exercises(db_session, prof, course.id)] == [
        "delta-rule-classic"
    ]
    with pytest.raises(Conflict, match="at least one"):
        quizzes.set_published(db_session, prof, quiz.id, True)
    with pytest.raises(NotFound):
        quizzes.add_item(db_session, prof, quiz.id, foreign.id)

    first = quizzes.add_item(db_session, prof, quiz.id, builtin.id, points=5)
    assert (first.position, first.points, first.part_points) == (1, 5.0, None)
    second = quizzes.add_item(
        db_session, prof, quiz.id, builtin.id, part_points={"y": 1, "w1": 2, "w2": 3}
    )
    assert (second.position, second.points) == (2, 6.0)
    with pytest.raises(BadRequest, match="no part zz"):
        quizzes.update_item(db_session, prof, quiz.id, second.id, part_points={"zz": 1, "y": 1})
    with pytest.raises(BadRequest, match="missing w2"):
        quizzes.update_item(db_session, prof, quiz.id, second.id, part_points={"y": 1, "w1": 1})
    with pytest.raises(BadRequest, match="points"):
        quizzes.add_item(db_session, prof, quiz.id, builtin.id, points=0)

    quizzes.move_item(db_session, prof, quiz.id, second.id, -1)
    assert [i.id for i in quiz.items] == [second.id, first.id]
    quizzes.move_item(db_session, prof, quiz.id, second.id, -1)  # already first: no change
    assert [i.position for i in quiz.items] == [1, 2]

    quizzes.set_published(db_session, prof, quiz.id, True)
    assert quiz.is_published
    edited = quizzes.update_quiz(
        db_session, prof, quiz.id, dataclasses.replace(QuizSettings.of(quiz), title="Week one")
    )
    assert (edited.title, edited.due_at, edited.attempts_allowed) == ("Week one", due, None)
    assert [(q.title, n) for q, n in quizzes.list_quizzes(db_session, prof, course.id)] == [
        ("Week one", 2)
    ]

    db_session.add(
        Attempt(quiz_item_id=first.id, user_id=prof.id, exercise_version=1, seed=1, variant={})
    )
    db_session.commit()
    with pytest.raises(Conflict, match="started"):
        quizzes.remove_item(db_session, prof, quiz.id, first.id)
    quizzes.remove_item(db_session, prof, quiz.id, second.id)
    assert [i.id for i in quiz.items] == [first.id]

    ta_enrolment, _ = enrolments.add_member(
        db_session, prof, course.id, email="ta@example.com", role="ta"
    )
    ta = ta_enrolment.user
    assert quizzes.get_quiz(db_session, ta, quiz.id) is quiz
    with pytest.raises(Forbidden):
        quizzes.update_quiz(db_session, ta, quiz.id, QuizSettings(title="mine now"))
