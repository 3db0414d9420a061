"""After a launch: the launched link's page (choose its quiz) and deep-linking answers.

A stored launch is found by its handle, only for the user it signed in and only while fresh;
a deep-linking request is answered once, with one resource link per chosen quiz whose line
item carries the quiz's real points.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import writes
from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import Forbidden
from grader.errors import NotFound
from grader.lti import DeepLinkingResponse
from grader.lti import LaunchData
from grader.lti import LineItemSpec
from grader.lti import LtiError
from grader.lti import ResourceLinkItem
from grader.lti import Roles
from grader.lti import ToolConfig
from grader.lti import build_deep_linking_response
from grader.lti import claims as c
from grader.lti.launch import DeepLinkingSettings
from grader.models import Course
from grader.models import Quiz
from grader.models import User
from grader.models import utcnow
from grader.models_lti import LtiContext
from grader.models_lti import LtiDeployment
from grader.models_lti import LtiLaunch
from grader.models_lti import LtiRegistration
from grader.models_lti import LtiResourceLink
from grader.models_lti import LtiScore
from grader.services import lti_keys
from grader.services import lti_outbox  # installs the score recorder on import
from grader.services import permissions
from grader.services.lti_launch import QUIZ_ID_PARAM
from grader.services.lti_stores import registration_from_row
from grader.services.lti_stores import sha256_hex

logger = logging.getLogger(__name__)

LINE_ITEM_TAG = "grader"


@dataclasses.dataclass(frozen=True)
class LaunchView:
    """A stored launch as the follow-up pages need it."""

    row: LtiLaunch
    course: Course
    link: LtiResourceLink | None
    registration: LtiRegistration


def get_launch(
    session: Session, actor: User | None, handle: str, *, now: dt.datetime | None = None
) -> LaunchView:
    """The launch behind ``handle``, only for the user it signed in, only while fresh.

    Raises:
        NotFound: unknown, expired, or another user's launch (indistinguishable on purpose).
    """
    now = now or utcnow()
    row = session.scalar(select(LtiLaunch).where(LtiLaunch.handle_hash == sha256_hex(handle)))
    if row is None or actor is None or row.user_id != actor.id or row.expires_at <= now:
        raise NotFound("this launch expired; launch grader again from your course")
    context = session.get(LtiContext, row.lti_context_id) if row.lti_context_id else None
    if context is None:
        raise NotFound("this launch has no course")
    course = session.get(Course, context.course_id)
    registration = session.get(LtiRegistration, row.registration_id)
    assert course is not None
    assert registration is not None
    link = (
        session.get(LtiResourceLink, row.lti_resource_link_id) if row.lti_resource_link_id else None
    )
    return LaunchView(row=row, course=course, link=link, registration=registration)


def _require_staff_launch(session: Session, view: LaunchView, actor: User) -> None:
    if not permissions.is_course_staff(session, actor, view.course.id):
        raise Forbidden("only the course's instructors can do this")


def course_quizzes(session: Session, course_id: int) -> list[Quiz]:
    return list(session.scalars(select(Quiz).where(Quiz.course_id == course_id).order_by(Quiz.id)))


def link_has_scores(session: Session, link_id: int) -> bool:
    return bool(
        session.scalar(
            select(func.count(LtiScore.id)).where(LtiScore.lti_resource_link_id == link_id)
        )
    )


@writes
def choose_quiz(session: Session, actor: User, handle: str, quiz_id: int) -> LtiResourceLink:
    """An instructor points the launched link at a quiz of its course (committed).

    Raises:
        NotFound: the launch or the quiz (of this course).
        Forbidden: not staff of the course.
        Conflict: the link already sent grades for another quiz.
    """
    view = get_launch(session, actor, handle)
    _require_staff_launch(session, view, actor)
    if view.link is None:
        raise BadRequest("this launch is not for a link")
    quiz = session.get(Quiz, quiz_id)
    if quiz is None or quiz.course_id != view.course.id:
        raise NotFound(f"no quiz {quiz_id} in this course")
    link = view.link
    if link.quiz_id == quiz.id:
        return link
    if link.quiz_id is not None and link_has_scores(session, link.id):
        raise Conflict(
            "grades were already sent for this link; add a new link in your course instead"
        )
    link.quiz_id = quiz.id
    session.commit()
    logger.info("lti link %s now points at quiz_id=%s", link.id, quiz.id)
    return link


def deep_link_settings(view: LaunchView) -> DeepLinkingSettings:
    data = view.row.deep_linking
    if view.row.message_type != c.MESSAGE_DEEP_LINKING_REQUEST or not data:
        raise BadRequest("this launch is not a deep-linking request")
    fields = {f.name for f in dataclasses.fields(DeepLinkingSettings)}
    values = {k: v for k, v in data.items() if k in fields}
    for name in ("accept_types", "accept_presentation_document_targets"):
        values[name] = tuple(values.get(name) or ())
    return DeepLinkingSettings(**values)


@writes
def deep_link_response(
    session: Session,
    actor: User,
    handle: str,
    quiz_ids: Sequence[int],
    *,
    tool: ToolConfig,
    key_secret: str,
    script_nonce: str | None = None,
) -> DeepLinkingResponse:
    """The signed answer to a deep-linking request: one resource link per chosen quiz,
    each with a line item worth the quiz's real points (an empty list cancels). Committed:
    a launch answers once.

    Raises:
        NotFound: the launch (or a quiz not of this course).
        Forbidden: not staff. BadRequest: an empty quiz, or more than the platform accepts.
    """
    view = get_launch(session, actor, handle)
    _require_staff_launch(session, view, actor)
    settings = deep_link_settings(view)
    if view.row.used_at is not None:
        raise BadRequest("this deep-linking request was already answered; launch it again")
    quizzes: list[Quiz] = []
    for quiz_id in dict.fromkeys(quiz_ids):
        quiz = session.get(Quiz, quiz_id)
        if quiz is None or quiz.course_id != view.course.id:
            raise NotFound(f"no quiz {quiz_id} in this course")
        if lti_outbox.quiz_total_points(quiz) <= 0:
            raise BadRequest(f"the quiz {quiz.title!r} has no points yet; add exercises first")
        quizzes.append(quiz)
    if len(quizzes) > 1 and not settings.accept_multiple:
        raise BadRequest("your course accepts one quiz at a time")
    items = [
        ResourceLinkItem(
            title=quiz.title,
            url=tool.launch_url,
            custom={QUIZ_ID_PARAM: str(quiz.id)},
            line_item=LineItemSpec(
                score_maximum=lti_outbox.quiz_total_points(quiz),
                label=quiz.title,
                resource_id=f"quiz-{quiz.id}",
                tag=LINE_ITEM_TAG,
            )
            if settings.accept_lineitem
            else None,
        )
        for quiz in quizzes
    ]
    launch = LaunchData(
        message_type=c.MESSAGE_DEEP_LINKING_REQUEST,
        registration=registration_from_row(view.registration),
        deployment_id=session.get(LtiDeployment, view.row.lti_deployment_id).deployment_id,  # type: ignore[union-attr]
        sub=None,
        roles=Roles(),
        deep_linking=settings,
    )
    key = lti_keys.signing_key(session, key_secret)
    msg = f"Added {', '.join(q.title for q in quizzes)}" if quizzes else None
    try:
        response = build_deep_linking_response(
            launch, items, key=key, msg=msg, script_nonce=script_nonce
        )
    except LtiError as exc:
        raise BadRequest(exc.message) from None
    except ValueError as exc:  # an unusable return URL
        raise BadRequest(str(exc)) from None
    view.row.used_at = utcnow()
    session.commit()
    logger.info(
        "lti deep link answered: launch=%s quizzes=%s", view.row.id, [q.id for q in quizzes]
    )
    return response
