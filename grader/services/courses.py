"""Courses as a student sees them: my courses, joining by code, the dashboard.

Which quizzes a user may open is ``grader.services.quiz_access`` (re-exported here for
the views); attempts use it too, without importing this module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy import ColumnElement
from sqlalchemy import Exists
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grader.db import begin_write
from grader.errors import BadRequest
from grader.models import Course
from grader.models import Enrolment
from grader.models import Quiz
from grader.models import User
from grader.models import utcnow
from grader.services import attempts
from grader.services import grading
from grader.services import permissions
from grader.services.quiz_access import get_quiz as get_quiz
from grader.services.quiz_access import quiz_is_visible as quiz_is_visible
from grader.services.quiz_access import require_quiz_visible as require_quiz_visible
from grader.services.quiz_access import scheduled_quiz as scheduled_quiz
from grader.services.quiz_access import visible_quizzes as visible_quizzes

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class MyCourse:
    """A course and the user's role in it."""

    course: Course
    role: str


def courses_for_user(session: Session, user: User) -> list[MyCourse]:
    """The user's courses by title (admins see every course, as instructor)."""
    if permissions.is_admin(user):
        courses = session.scalars(select(Course).order_by(Course.title, Course.id))
        return [MyCourse(c, "instructor") for c in courses]
    rows = session.execute(
        select(Course, Enrolment.role)
        .join(Enrolment, Enrolment.course_id == Course.id)
        .where(Enrolment.user_id == user.id)
        .order_by(Course.title, Course.id)
    )
    return [MyCourse(course, role) for course, role in rows]


#: site roles for whom the instructor pages are always of use
SITE_STAFF_ROLES = ("admin", "instructor")


def teaches_anywhere(user_id: ColumnElement[int] | int) -> Exists:
    """``EXISTS`` a staff enrolment of ``user_id`` (a value, or a column to correlate)."""
    return exists().where(Enrolment.user_id == user_id, Enrolment.role.in_(permissions.STAFF_ROLES))


def is_staff_anywhere(session: Session, user: User) -> bool:
    """Whether the instructor pages are of any use to this user (for the nav link)."""
    if user.role in SITE_STAFF_ROLES:
        return True
    return bool(session.scalar(select(teaches_anywhere(user.id))))


def find_course_by_join_code(session: Session, code: str) -> Course | None:
    """Join codes compare case-insensitively and ignore surrounding spaces."""
    code = code.strip()
    if not code:
        return None
    return session.scalar(select(Course).where(func.upper(Course.join_code) == code.upper()))


def join_by_code(session: Session, user: User, code: str, *, commit: bool = True) -> Course:
    """Enrol the user as a student of the course with this join code.

    Joining twice is harmless (the existing enrolment, whatever its role, is kept).

    Raises:
        BadRequest: no course has this code.
    """
    if commit:
        begin_write(session)
    course = find_course_by_join_code(session, code)
    if course is None:
        raise BadRequest("no course has that join code; check it with your instructor")
    if permissions.course_role(session, user, course.id) is None:
        session.add(Enrolment(course_id=course.id, user_id=user.id, role="student"))
        try:
            session.flush()
        except IntegrityError:
            # Submitted twice at once: the other request enrolled the user already.
            session.rollback()
            return course
        logger.info("user_id=%s joined course_id=%s by code", user.id, course.id)
    if commit:
        session.commit()
    return course


# --------------------------------------------------------------------------- dashboard


@dataclasses.dataclass(frozen=True)
class QuizSummary:
    """One line of the dashboard: the quiz, its state for this user, the score so far."""

    quiz: Quiz
    state: str  # "open" | "late" | "closed" | "upcoming" | "draft"
    closes_at: dt.datetime | None
    score: attempts.QuizScore

    @property
    def late_penalty(self) -> float:
        """The fraction of credit a late answer loses (0 when none)."""
        return grading.late_policy(self.quiz).penalty


@dataclasses.dataclass(frozen=True)
class CourseSummary:
    course: Course
    role: str
    quizzes: list[QuizSummary]


def _state(quiz: Quiz, now: dt.datetime) -> str:
    if not quiz.is_published:
        return "draft"
    if quiz.opens_at is not None and now < quiz.opens_at:
        return "upcoming"
    if not grading.accepts_answers(quiz, now):
        return "closed"
    return "late" if grading.is_late(quiz, now) else "open"


def dashboard(session: Session, user: User, now: dt.datetime | None = None) -> list[CourseSummary]:
    """The user's courses with the quizzes they may open and their scores so far."""
    now = now or utcnow()
    summaries = []
    for mine in courses_for_user(session, user):
        quizzes = visible_quizzes(session, user, mine.course, now, include_scheduled=True)
        scores = attempts.quiz_scores(session, user, quizzes)
        summaries.append(
            CourseSummary(
                course=mine.course,
                role=mine.role,
                quizzes=[
                    QuizSummary(q, _state(q, now), grading.closes_at(q), scores[q.id])
                    for q in quizzes
                ],
            )
        )
    return summaries
