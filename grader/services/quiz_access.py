"""Which quizzes a user may open: members see published quizzes that have opened,
staff and admins see all. Used by the course, attempt and submission services, so it
imports none of them.
"""

from __future__ import annotations

import datetime as dt
import functools

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import joinedload
from sqlalchemy.orm import selectinload

from grader.errors import NotFound
from grader.models import Course
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import User
from grader.models import utcnow
from grader.services import permissions


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
def _quiz_query() -> Select[Quiz]:
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
