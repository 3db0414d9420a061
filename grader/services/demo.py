"""The demo course that ``make run`` creates, so a new user has something to click."""

from __future__ import annotations

import dataclasses
import logging
import os

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.models import Course
from grader.models import Enrolment
from grader.models import Exercise
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import User
from grader.services.accounts import create_user
from grader.services.accounts import find_user_by_email

logger = logging.getLogger(__name__)

DEMO_COURSE_CODE = "BP101"


@dataclasses.dataclass(frozen=True)
class DemoCredentials:
    course_title: str
    join_code: str
    instructor_email: str
    student_email: str
    password: str


def _ensure_user(session: Session, email: str, name: str, role: str, password: str) -> User:
    user = find_user_by_email(session, email)
    if user is None:
        user = create_user(
            session, email=email, name=name, password=password, role=role, commit=False
        )
    return user


def _ensure_enrolment(session: Session, course: Course, user: User, role: str) -> None:
    exists = session.scalar(
        select(Enrolment).where(Enrolment.course_id == course.id, Enrolment.user_id == user.id)
    )
    if exists is None:
        session.add(Enrolment(course_id=course.id, user_id=user.id, role=role))


#: the built-in exercises the demo quiz shows, when the library has been loaded
DEMO_EXERCISES = (
    "delta-rule-classic",
    "chain-rule-numeric",
    "chain-rule-symbolic",
    "softmax-cross-entropy",
    "concept-chain-rule",
)
DEMO_QUIZ_TITLE = "Backprop basics (demo)"


def _ensure_demo_quiz(session: Session, course: Course) -> None:
    """A published quiz over a few built-in exercises, so a new student has work to do.

    Skipped when the library is not loaded yet (``grader load-exercises`` first).
    """
    if session.scalar(select(Quiz.id).where(Quiz.course_id == course.id).limit(1)):
        return
    found = {
        exercise.slug: exercise
        for exercise in session.scalars(select(Exercise).where(Exercise.slug.in_(DEMO_EXERCISES)))
    }
    exercises = [found[slug] for slug in DEMO_EXERCISES if slug in found]
    if not exercises:
        logger.info("demo quiz skipped: the exercise library is not loaded")
        return
    quiz = Quiz(
        course_id=course.id,
        title=DEMO_QUIZ_TITLE,
        description="Work each problem by hand, then type your answer. "
        "Unreadable answers cost no try.",
        attempts_allowed=3,
        penalty_per_retry=0.1,
        late_policy={"mode": "none"},
        show_solutions="after_last_try",
        is_published=True,
    )
    quiz.items = [
        QuizItem(position=index, exercise_id=exercise.id, points=1.0)
        for index, exercise in enumerate(exercises, start=1)
    ]
    session.add(quiz)
    session.flush()


def seed_demo(session: Session) -> DemoCredentials:
    """Create (or find) the demo course, its instructor and student. Idempotent."""
    # A laptop demo: the password is printed on purpose. GRADER_DEMO_PASSWORD changes it.
    password = os.environ.get("GRADER_DEMO_PASSWORD", "backprop-demo")
    instructor = _ensure_user(
        session, "instructor@example.com", "Ada Instructor", "instructor", password
    )
    student = _ensure_user(session, "student@example.com", "Sam Student", "student", password)
    course = session.scalar(select(Course).where(Course.code == DEMO_COURSE_CODE))
    if course is None:
        course = Course(code=DEMO_COURSE_CODE, title="Backpropagation 101", join_code="BACKPROP")
        session.add(course)
        session.flush()
    _ensure_enrolment(session, course, instructor, "instructor")
    _ensure_enrolment(session, course, student, "student")
    _ensure_demo_quiz(session, course)
    session.commit()
    logger.info("demo course ready course_id=%s", course.id)
    return DemoCredentials(
        course_title=course.title,
        join_code=course.join_code or "",
        instructor_email=instructor.email,
        student_email=student.email,
        password=password,
    )
