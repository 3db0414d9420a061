"""A small course to test the student side against: people, an exercise, a quiz.

Used by the service, view and browser tests of the student side, and by the bench. Only
what the assertions need: users get no password unless asked (Argon2id is slow on
purpose), and the exercise is the built-in delta-rule one (numeric parts, known mistakes).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from grader.models import Course
from grader.models import Enrolment
from grader.models import Exercise
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import User
from grader.services.accounts import create_user
from grader.services.library import save_exercise_source

REPO = Path(__file__).resolve().parent.parent.parent
DELTA_RULE = REPO / "exercises" / "delta-rule-classic.yaml"
PASSWORD = "correct horse battery"


@dataclasses.dataclass
class World:
    course: Course
    instructor: User
    student: User
    other: User  # a second student of the same course
    exercise: Exercise
    quiz: Quiz
    item: QuizItem


def make_user(
    session: Session, email: str, *, role: str = "student", password: str | None = None
) -> User:
    return create_user(
        session,
        email=email,
        name=email.split("@")[0].title(),
        password=password,
        role=role,
        commit=False,
    )


def enrol(session: Session, course: Course, user: User, role: str = "student") -> None:
    session.add(Enrolment(course_id=course.id, user_id=user.id, role=role))
    session.flush()


def load_exercise(session: Session, path: Path = DELTA_RULE) -> Exercise:
    exercise, _ = save_exercise_source(
        session, path.read_text(encoding="utf-8"), source_name=str(path), builtin=True
    )
    return exercise


def make_quiz(session: Session, course: Course, exercises: list[Exercise], **settings: Any) -> Quiz:
    settings.setdefault("title", "Quiz 1")
    settings.setdefault("is_published", True)
    settings.setdefault("attempts_allowed", 3)
    settings.setdefault("penalty_per_retry", 0.0)
    settings.setdefault("late_policy", {})
    settings.setdefault("show_solutions", "after_due")
    quiz = Quiz(course_id=course.id, **settings)
    session.add(quiz)
    session.flush()
    for position, exercise in enumerate(exercises, start=1):
        session.add(QuizItem(quiz_id=quiz.id, position=position, exercise_id=exercise.id, points=5))
    session.flush()
    session.refresh(quiz)
    return quiz


def make_world(
    session: Session,
    *,
    prefix: str = "w",
    passwords: bool = False,
    commit: bool = True,
    **quiz_settings: Any,
) -> World:
    """A course with an instructor, two students and a one-item quiz (delta rule)."""
    password = PASSWORD if passwords else None
    course = Course(code=f"{prefix.upper()}101", title="Backprop 101", join_code=f"{prefix}-JOIN")
    session.add(course)
    session.flush()
    instructor = make_user(
        session, f"{prefix}-prof@example.com", role="instructor", password=password
    )
    student = make_user(session, f"{prefix}-sam@example.com", password=password)
    other = make_user(session, f"{prefix}-olive@example.com", password=password)
    enrol(session, course, instructor, "instructor")
    enrol(session, course, student)
    enrol(session, course, other)
    exercise = load_exercise(session)
    quiz = make_quiz(session, course, [exercise], **quiz_settings)
    if commit:
        session.commit()
    return World(course, instructor, student, other, exercise, quiz, quiz.items[0])


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)
