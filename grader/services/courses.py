"""Courses as a student sees them: my courses, joining by code, the quizzes I may open."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging

from sqlalchemy import ColumnElement
from sqlalchemy import Exists
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import selectinload

from grader.errors import BadRequest
from grader.errors import NotFound
from grader.models import Course
from grader.models import Enrolment
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import User
from grader.models import utcnow
from grader.services import attempts
from grader.services import grading
from grader.services import permissions

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


def _visible_filter(now: dt.datetime) -> ColumnElement[bool]:
    return (Quiz.is_published.is_(True)) & or_(Quiz.opens_at.is_(None), Quiz.opens_at <= now)


def visible_quizzes(
    session: Session,
    user: User,
    course: Course,
    now: dt.datetime | None = None,
    *,
    include_scheduled: bool = False,
) -> list[Quiz]:
    """The quizzes of a course the user may open: all of them for staff; published and
    opened ones for students (and published ones still to open, with
    ``include_scheduled``: the dashboard lists them with their opening time). Ordered by
    due date (undated last), then title."""
    now = now or utcnow()
    role = permissions.require_member(session, user, course.id)
    query = select(Quiz).where(Quiz.course_id == course.id)
    if role not in permissions.STAFF_ROLES:
        query = query.where(
            Quiz.is_published.is_(True) if include_scheduled else _visible_filter(now)
        )
    query = query.order_by(Quiz.due_at.is_(None), Quiz.due_at, Quiz.title, Quiz.id)
    return list(session.scalars(query))


def quiz_is_visible(session: Session, user: User, quiz: Quiz, now: dt.datetime) -> bool:
    """Members see published quizzes that have opened; staff and admins see all."""
    if permissions.is_admin(user):
        return True
    role = permissions.course_role(session, user, quiz.course_id)
    if role in permissions.STAFF_ROLES:
        return True
    if role is None:
        return False
    return quiz.is_published and (quiz.opens_at is None or quiz.opens_at <= now)


def scheduled_quiz(
    session: Session, user: User, quiz_id: int, now: dt.datetime | None = None
) -> Quiz | None:
    """A published quiz of the user's course that has not opened yet (its page says when
    it opens instead of "not found"); None for anything else."""
    now = now or utcnow()
    quiz = session.get(Quiz, quiz_id)
    if quiz is None or not quiz.is_published or quiz.opens_at is None or quiz.opens_at <= now:
        return None
    if permissions.course_role(session, user, quiz.course_id) is None:
        return None
    return quiz


def require_quiz_visible(session: Session, user: User, quiz: Quiz, now: dt.datetime) -> None:
    """Raises NotFound unless the user may open the quiz (unpublished quizzes stay hidden)."""
    if not quiz_is_visible(session, user, quiz, now):
        raise NotFound(f"no quiz {quiz.id}")


@functools.cache
def _quiz_query() -> Select[tuple[Quiz]]:
    # Built once (statements with loader options cost more CPU to build than to run).
    return (
        select(Quiz)
        .where(Quiz.id == bindparam("quiz_id"))
        .options(
            joinedload(Quiz.course),
            selectinload(Quiz.items).joinedload(QuizItem.exercise),
        )
    )


def get_quiz(session: Session, user: User, quiz_id: int, now: dt.datetime | None = None) -> Quiz:
    """A quiz the user may open, with its course, items and exercises loaded.

    Raises:
        NotFound: no such quiz, or not visible to the user.
    """
    # Two queries: the quiz with its course, then the items with their exercises (pages
    # show both, and every query costs the request about half a millisecond of CPU).
    quiz = session.scalar(_quiz_query(), {"quiz_id": quiz_id})
    if quiz is None:
        raise NotFound(f"no quiz {quiz_id}")
    require_quiz_visible(session, user, quiz, now or utcnow())
    return quiz


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
