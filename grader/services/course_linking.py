"""Linking an LMS course to a grader course an instructor already has, and copying
quizzes between the courses they teach.

An instructor's first LTI launch from an unknown LMS course makes a new, empty grader
course for it (``grader.services.lti``). Instructors usually have a grader course with
their quizzes already: :func:`link_lms_course` points the LMS course at that one instead
(its LMS context rows and the members synced so far move over, and the empty course
made by the launch is deleted). :func:`copy_quiz` copies a quiz with its settings and
items (unpublished) into another course they teach; an exercise of the source course is
copied along under a new id, built-in ones are shared.
"""

from __future__ import annotations

import dataclasses
import logging
import re

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import writes
from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import NotFound
from grader.models import ApiToken
from grader.models import Course
from grader.models import Enrolment
from grader.models import Exercise
from grader.models import ExerciseVersion
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import User
from grader.models import Webhook
from grader.models_lti import LtiContext
from grader.services import enrolments
from grader.services.library import save_exercise_source

logger = logging.getLogger(__name__)

#: the code prefix of courses a launch made (``grader.services.lti._course_code``)
LTI_COURSE_PREFIX = "LTI-"
_ID_LINE = re.compile(r"^id:\s*.*$", re.M)


@dataclasses.dataclass(frozen=True)
class LinkOffer:
    """What the launch's landing page offers: link this LMS course to one of these."""

    lms_course: Course
    choices: list[Course]


def _is_fresh_lms_course(session: Session, course: Course) -> bool:
    """Made by a launch and still empty: no quizzes, exercises, API tokens or webhooks of
    its own (deleting it would cascade to them)."""
    if not course.code.startswith(LTI_COURSE_PREFIX):
        return False
    has_context = session.scalar(select(func.count()).where(LtiContext.course_id == course.id))
    owned = sum(
        session.scalar(select(func.count()).where(model.course_id == course.id)) or 0
        for model in (Quiz, Exercise, ApiToken, Webhook)
    )
    return bool(has_context) and not owned


def manageable_courses(session: Session, actor: User) -> list[Course]:
    """Courses the actor may change (instructor of, or every course for an admin)."""
    return [
        course
        for course, role in enrolments.staff_courses(session, actor)
        if role in ("instructor", "admin")
    ]


def link_offer(session: Session, actor: User, course_id: int) -> LinkOffer | None:
    """The offer to link, when ``course_id`` is a fresh LMS course the actor manages and
    they manage other courses; else None (nothing to ask)."""
    if not enrolments.can_manage(session, actor, course_id):
        return None
    course = session.get(Course, course_id)
    if course is None or not _is_fresh_lms_course(session, course):
        return None
    choices = [c for c in manageable_courses(session, actor) if c.id != course_id]
    if not choices:
        return None
    return LinkOffer(lms_course=course, choices=choices)


@writes
def link_lms_course(session: Session, actor: User, lms_course_id: int, target_id: int) -> Course:
    """Point the LMS course(s) of the fresh course ``lms_course_id`` at ``target_id``.

    Members synced so far move to the target (anyone enrolled there already keeps their
    role); the fresh course is then deleted. Committed.

    Raises:
        Forbidden / NotFound: the actor does not manage both courses.
        Conflict: the LMS course already has quizzes or exercises of its own.
    """
    enrolments.require_staff(session, actor, lms_course_id, manage=True)
    target = enrolments.require_staff(session, actor, target_id, manage=True)
    if lms_course_id == target_id:
        raise BadRequest("choose another course to link to")
    fresh = session.get(Course, lms_course_id)
    if fresh is None or not _is_fresh_lms_course(session, fresh):
        raise Conflict(
            "this course has quizzes, exercises, API tokens or webhooks of its own; "
            "it cannot be merged"
        )
    for context in session.scalars(select(LtiContext).where(LtiContext.course_id == fresh.id)):
        context.course_id = target.id
    present = set(
        session.scalars(select(Enrolment.user_id).where(Enrolment.course_id == target.id))
    )
    for enrolment in list(
        session.scalars(select(Enrolment).where(Enrolment.course_id == fresh.id))
    ):
        if enrolment.user_id in present:
            session.delete(enrolment)
        else:
            enrolment.course_id = target.id
    session.flush()
    session.delete(fresh)
    session.commit()
    logger.info(
        "lms course linked: course_id=%s merged into course_id=%s by user_id=%s",
        lms_course_id,
        target.id,
        actor.id,
    )
    return target


def _copy_exercise(session: Session, actor: User, exercise: Exercise, target: Course) -> Exercise:
    """A course exercise copied into ``target`` under a free id (same text otherwise)."""
    source = session.scalar(
        select(ExerciseVersion.source_yaml).where(
            ExerciseVersion.exercise_id == exercise.id,
            ExerciseVersion.version == exercise.current_version,
        )
    )
    if source is None:
        raise Conflict(f"exercise {exercise.slug} has no stored text to copy")
    base = f"{exercise.slug}-{target.code.lower()}"[:100]
    slug, n = base, 2
    taken = set(session.scalars(select(Exercise.slug).where(Exercise.slug.like(f"{base}%"))))
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    text, count = _ID_LINE.subn(f"id: {slug}", source, count=1)
    if not count:
        raise Conflict(f"exercise {exercise.slug} has no id line to change")
    copied, _ = save_exercise_source(
        session,
        text,
        source_name=f"copy of {exercise.slug}",
        course_id=target.id,
        author_id=actor.id,
    )
    return copied


@writes
def copy_quiz(session: Session, actor: User, quiz_id: int, target_id: int) -> Quiz:
    """A copy of the quiz in ``target_id``: settings, dates and items, unpublished.

    Raises:
        Forbidden / NotFound: the actor may not see the quiz or manage the target.
    """
    quiz = session.get(Quiz, quiz_id)
    if quiz is None:
        raise NotFound(f"no quiz {quiz_id}")
    enrolments.require_staff(session, actor, quiz.course_id)
    target = enrolments.require_staff(session, actor, target_id, manage=True)
    copy = Quiz(
        course_id=target.id,
        title=quiz.title if target.id != quiz.course_id else f"{quiz.title} (copy)",
        description=quiz.description,
        opens_at=quiz.opens_at,
        due_at=quiz.due_at,
        attempts_allowed=quiz.attempts_allowed,
        penalty_per_retry=quiz.penalty_per_retry,
        follow_through_credit=quiz.follow_through_credit,
        late_policy=dict(quiz.late_policy or {}),
        show_solutions=quiz.show_solutions,
        is_published=False,
    )
    session.add(copy)
    session.flush()
    copied: dict[int, Exercise] = {}
    for item in quiz.items:
        exercise = item.exercise
        if exercise.course_id not in (None, target.id):
            if exercise.id not in copied:
                copied[exercise.id] = _copy_exercise(session, actor, exercise, target)
            exercise = copied[exercise.id]
        session.add(
            QuizItem(
                quiz_id=copy.id,
                position=item.position,
                exercise_id=exercise.id,
                points=item.points,
                part_points=dict(item.part_points) if item.part_points else None,
            )
        )
    session.commit()
    logger.info(
        "quiz copied quiz_id=%s -> quiz_id=%s course_id=%s by user_id=%s",
        quiz.id,
        copy.id,
        target.id,
        actor.id,
    )
    return copy
