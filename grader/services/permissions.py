"""Who may see and do what on the student side, checked here rather than in the views.

* a site ``admin`` may see everything;
* course ``instructor`` and ``ta`` members see their course's quizzes, attempts and
  submissions (the instructor pages check their own, finer rules);
* a ``student`` sees only their own attempts and submissions, and only published quizzes
  that have opened, and only while enrolled: every check asks the enrolment table, so
  removing someone from a course takes effect on their next request.

Something a user may not even know exists (another student's submission, an unpublished
quiz) answers NotFound, so ids cannot be probed; a refusal the user can understand (a
course they are not enrolled in) answers Forbidden.
"""

from __future__ import annotations

import functools

from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.errors import Forbidden
from grader.errors import NotFound
from grader.models import Attempt
from grader.models import Enrolment
from grader.models import QuizItem
from grader.models import User

#: course roles that count as staff on the student side
STAFF_ROLES = ("instructor", "ta")


def is_admin(user: User) -> bool:
    """Site administrators may see every course."""
    return user.role == "admin" and user.is_active


def course_role(session: Session, user: User, course_id: int) -> str | None:
    """The user's role in the course (``instructor``, ``ta``, ``student``) or None."""
    return session.scalar(_role_query(), {"course_id": course_id, "user_id": user.id})


@functools.cache
def _role_query() -> Select[str]:
    # Built once: most requests ask, and building a statement costs more CPU than running
    # this one (see grader.services.auth._live_sign_in_query).
    return select(Enrolment.role).where(
        Enrolment.course_id == bindparam("course_id"), Enrolment.user_id == bindparam("user_id")
    )


def is_course_staff(session: Session, user: User, course_id: int) -> bool:
    """True for the course's instructors and TAs, and for admins."""
    return is_admin(user) or course_role(session, user, course_id) in STAFF_ROLES


def require_member(session: Session, user: User, course_id: int) -> str:
    """The user's role in the course; admins count as ``instructor``.

    Raises:
        Forbidden: the user is not enrolled in the course.
    """
    if is_admin(user):
        return "instructor"
    role = course_role(session, user, course_id)
    if role is None:
        raise Forbidden(f"you are not enrolled in course {course_id}")
    return role


def require_staff(session: Session, user: User, course_id: int) -> str:
    """Like :func:`require_member`, but only instructors, TAs and admins pass.

    Raises:
        Forbidden: the user is not staff of the course.
    """
    role = require_member(session, user, course_id)
    if role not in STAFF_ROLES:
        raise Forbidden(f"only the course's instructors and TAs may do this (course {course_id})")
    return role


def attempt_course_id(session: Session, attempt: Attempt) -> int:
    """The course an attempt belongs to (one small query when not loaded)."""
    from grader.models import Quiz

    course_id = session.scalar(
        select(Quiz.course_id)
        .join(QuizItem, QuizItem.quiz_id == Quiz.id)
        .where(QuizItem.id == attempt.quiz_item_id)
    )
    assert course_id is not None, f"attempt {attempt.id} has no quiz"
    return course_id


def attempt_role(session: Session, user: User, attempt: Attempt) -> str | None:
    """The user's role in the course the attempt belongs to (one query); None when the
    user is not (or no longer) a member."""
    return session.scalar(
        _attempt_role_query(), {"quiz_item_id": attempt.quiz_item_id, "user_id": user.id}
    )


@functools.cache
def _attempt_role_query() -> Select[str]:
    from grader.models import Quiz

    return (
        select(Enrolment.role)
        .join(Quiz, Quiz.course_id == Enrolment.course_id)
        .join(QuizItem, QuizItem.quiz_id == Quiz.id)
        .where(QuizItem.id == bindparam("quiz_item_id"), Enrolment.user_id == bindparam("user_id"))
    )


def _may_view(user: User, attempt: Attempt, role: str | None) -> bool:
    if not user.is_active:
        return False
    if is_admin(user):
        return True
    if role is None:
        return False
    return attempt.user_id == user.id or role in STAFF_ROLES


def can_view_attempt(session: Session, user: User, attempt: Attempt) -> bool:
    """Members see their own attempts; staff of the course and admins see everyone's.

    Membership is checked every time (an attempt, its submissions and its preview): a
    student removed from the course loses access to their attempts at once.
    """
    return _may_view(user, attempt, attempt_role(session, user, attempt))


def require_view_attempt(session: Session, user: User, attempt: Attempt) -> None:
    """Raises NotFound (not Forbidden: ids must not be probed) unless the user may see it."""
    if not can_view_attempt(session, user, attempt):
        raise NotFound(f"no attempt {attempt.id}")


def require_attempt_owner(session: Session, user: User, attempt: Attempt) -> None:
    """Only the student whose attempt it is, still a member of the course, may answer in it.

    Raises:
        NotFound: someone else's attempt for a student, or the course's former member's.
        Forbidden: staff looking at a student's attempt (they may see it, not answer it).
    """
    role = attempt_role(session, user, attempt)
    if attempt.user_id == user.id and user.is_active and role is not None:
        return
    if _may_view(user, attempt, role):
        raise Forbidden("only the student may answer in their own attempt")
    raise NotFound(f"no attempt {attempt.id}")
