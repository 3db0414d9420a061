"""LTI login and launch: validate with ``grader.lti`` and map a launch onto grader.

* **Courses** are (deployment, context id) → our ``Course``, created on the first
  *instructor* launch; a learner launching first is told the course is not set up yet.
* Each launch brings the enrolment's role up to date (:mod:`grader.services.lti_accounts`).
* **Resource links** are (context, resource link id) → a quiz: set by deep linking (our
  ``quiz_id`` custom parameter, accepted only for a quiz of the link's own course) or chosen
  by an instructor on the link's first launch.
* The web layer then starts a *fresh* session for the user (no fixation).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grader.db import writes
from grader.errors import GraderError
from grader.lti import LaunchData
from grader.lti import LaunchError
from grader.lti import LaunchValidator
from grader.lti import LoginError
from grader.lti import LoginHandler
from grader.lti import LoginRedirect
from grader.lti import LtiError
from grader.lti import ToolConfig
from grader.lti.errors import ConfigError as LtiConfigError
from grader.lti.errors import UnknownDeployment
from grader.lti.jwks_client import KeyResolver
from grader.models import Course
from grader.models import Quiz
from grader.models import User
from grader.models import utcnow
from grader.models_lti import LtiContext
from grader.models_lti import LtiDeployment
from grader.models_lti import LtiLaunch
from grader.models_lti import LtiLineItem
from grader.models_lti import LtiLinkUser
from grader.models_lti import LtiRegistration
from grader.models_lti import LtiResourceLink
from grader.services import lti_registrations
from grader.services.lti_accounts import enrolment_role
from grader.services.lti_accounts import find_or_create_user
from grader.services.lti_accounts import set_enrolment
from grader.services.lti_stores import PURGE_STATES_AFTER
from grader.services.lti_stores import DbNonceStore
from grader.services.lti_stores import DbRegistrationStore
from grader.services.lti_stores import DbStateStore
from grader.services.lti_stores import from_timestamp
from grader.services.lti_stores import sha256_hex

logger = logging.getLogger(__name__)

QUIZ_ID_PARAM = "quiz_id"
"""The custom parameter our deep-linked resource links carry."""
LAUNCH_HANDLE_TTL = dt.timedelta(hours=2)


class LtiRefused(GraderError):
    """A login or launch we refuse; ``code`` is stable, ``message`` is for the person."""

    status = 400
    code = "lti_refused"

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


# Status and a plain-words explanation per refusal code.
_REFUSALS: dict[str, tuple[int, str]] = {
    "missing_state_cookie": (
        400,
        "Your browser did not send back the cookie this launch needs (third-party cookies "
        "may be blocked). Open the tool in a new window from your course and try again.",
    ),
    "state_mismatch": (400, "This launch belongs to another browser session. Relaunch it."),
    "unknown_state": (
        400,
        "This launch expired or was already used. Go back to your course and launch again.",
    ),
    "nonce_replayed": (
        400,
        "This launch was already used. Go back to your course and launch again.",
    ),
    "not_instructor": (403, "Only the course's instructors can add grader content."),
    "unknown_deployment": (
        403,
        "This course's LTI set-up is incomplete: grader was added to it in the course system, "
        "but grader's administrator has not approved it yet. Tell your instructor; the "
        "administrator sees it waiting for approval.",
    ),
    "expired": (400, "The launch expired. Go back to your course and launch again."),
}
_DEFAULT_REFUSAL = "The course system's launch could not be verified, so you are not signed in."


def refusal(exc: LtiError) -> LtiRefused:
    """Our error for a protocol refusal (the code is kept; the message is for people)."""
    status, message = _REFUSALS.get(exc.code, (400, _DEFAULT_REFUSAL))
    return LtiRefused(exc.code, message, status=status)


# --------------------------------------------------------------------------- tool config


def tool_config(config: Mapping[str, Any]) -> ToolConfig:
    """Our public URLs from ``LTI_BASE_URL`` (or ``PUBLIC_URL``)."""
    base = str(config.get("LTI_BASE_URL") or config.get("PUBLIC_URL") or "")
    try:
        return ToolConfig(base_url=base, title=str(config.get("LTI_TOOL_TITLE") or "grader"))
    except LtiConfigError as exc:
        raise LtiRefused("bad_tool_config", f"PUBLIC_URL: {exc.message}", status=500) from None


@writes
def initiate_login(
    session: Session,
    tool: ToolConfig,
    params: Mapping[str, Any],
    *,
    clock: Callable[[], float] = time.time,
) -> LoginRedirect:
    """OIDC initiation: store the state (committed) and say where to redirect.

    Raises:
        LtiRefused: an unknown platform, a missing parameter, an off-site target link.
    """
    handler = LoginHandler(
        tool=tool,
        registrations=DbRegistrationStore(session),
        states=DbStateStore(session),
        nonces=DbNonceStore(session),
        clock=clock,
    )
    try:
        redirect = handler.initiate(params)
    except LoginError as exc:
        session.rollback()
        raise LtiRefused(exc.code, f"This launch cannot start: {exc.message}.") from None
    session.commit()
    return redirect


# --------------------------------------------------------------------------- launch


@dataclasses.dataclass(frozen=True)
class LaunchOutcome:
    """Where a valid launch goes next.

    ``kind``: ``quiz`` (a learner to the quiz page), ``link`` (an instructor to the link
    page: choose or view the quiz), ``deep_link`` (an instructor to the picker),
    ``not_ready`` (a learner whose link has no quiz yet).
    """

    kind: str
    user: User
    handle: str
    course_id: int
    quiz_id: int | None = None


def _course_code(deployment_pk: int, context_id: str) -> str:
    return f"LTI-{sha256_hex(f'{deployment_pk}:{context_id}')[:16]}"


def _context_row(
    session: Session, deployment: LtiDeployment, launch: LaunchData, *, create: bool
) -> LtiContext | None:
    assert launch.context is not None
    context_id = launch.context.id
    row = session.scalar(
        select(LtiContext).where(
            LtiContext.lti_deployment_id == deployment.id, LtiContext.lms_context_id == context_id
        )
    )
    if row is None and create:
        title = (launch.context.title or launch.context.label or "LMS course").strip()[:200]
        try:
            with session.begin_nested():
                course = Course(code=_course_code(deployment.id, context_id), title=title)
                session.add(course)
                session.flush()
                row = LtiContext(
                    lti_deployment_id=deployment.id,
                    lms_context_id=context_id,
                    course_id=course.id,
                    title=(launch.context.title or "")[:500],
                    label=(launch.context.label or "")[:255],
                )
                session.add(row)
                session.flush()
        except IntegrityError:
            row = session.scalar(
                select(LtiContext).where(
                    LtiContext.lti_deployment_id == deployment.id,
                    LtiContext.lms_context_id == context_id,
                )
            )
            if row is None:
                raise
        else:
            logger.info("lti course created: course_id=%s context=%s", row.course_id, row.id)
    if row is None:
        return None
    # Service endpoints may change between launches (and differ per placement); keep the latest.
    if launch.ags is not None:
        row.lineitems_url = launch.ags.lineitems or row.lineitems_url
        row.ags_scopes = list(launch.ags.scopes)
    if launch.nrps is not None:
        row.memberships_url = launch.nrps.context_memberships_url
    if launch.context.title:
        row.title = launch.context.title[:500]
    return row


def _quiz_from_custom(session: Session, launch: LaunchData, course_id: int) -> int | None:
    raw = launch.custom.get(QUIZ_ID_PARAM)
    if not isinstance(raw, str) or not raw.strip().isdigit():
        return None
    quiz = session.get(Quiz, int(raw.strip()))
    # A copied LMS course keeps the old quiz ids: only a quiz of this very course counts.
    if quiz is None or quiz.course_id != course_id:
        return None
    return quiz.id


def _link_row(session: Session, context: LtiContext, launch: LaunchData) -> LtiResourceLink:
    assert launch.resource_link is not None
    link_id = launch.resource_link.id
    row = session.scalar(
        select(LtiResourceLink).where(
            LtiResourceLink.lti_context_id == context.id, LtiResourceLink.lms_link_id == link_id
        )
    )
    if row is None:
        try:
            with session.begin_nested():
                row = LtiResourceLink(
                    lti_context_id=context.id,
                    lms_link_id=link_id,
                    title=(launch.resource_link.title or "")[:500],
                )
                session.add(row)
                session.flush()
        except IntegrityError:
            row = session.scalar(
                select(LtiResourceLink).where(
                    LtiResourceLink.lti_context_id == context.id,
                    LtiResourceLink.lms_link_id == link_id,
                )
            )
            if row is None:
                raise
    if row.quiz_id is None:
        row.quiz_id = _quiz_from_custom(session, launch, context.course_id)
    if launch.ags is not None and launch.ags.lineitem:
        _remember_line_item(session, row, launch.ags.lineitem)
    session.flush()
    return row


def _remember_placement(
    session: Session, link: LtiResourceLink, user: User, now: dt.datetime
) -> None:
    """This student launched from this placement: their scores go here (lti_outbox)."""
    where = (LtiLinkUser.lti_resource_link_id == link.id, LtiLinkUser.user_id == user.id)
    if session.scalar(select(LtiLinkUser.id).where(*where)) is not None:
        return
    try:
        with session.begin_nested():
            session.add(
                LtiLinkUser(lti_resource_link_id=link.id, user_id=user.id, first_launch_at=now)
            )
            session.flush()
    except IntegrityError:  # the same student launched twice at once
        pass


def _remember_line_item(session: Session, link: LtiResourceLink, url: str) -> None:
    """The platform told us this link's line item (deep-linked links): store it."""
    item = session.scalar(select(LtiLineItem).where(LtiLineItem.lti_resource_link_id == link.id))
    if item is None:
        try:
            with session.begin_nested():
                session.add(LtiLineItem(lti_resource_link_id=link.id, url=url))
                session.flush()
        except IntegrityError:
            item = session.scalar(
                select(LtiLineItem).where(LtiLineItem.lti_resource_link_id == link.id)
            )
    if item is not None and item.url != url:
        item.url = url
        item.last_error = None
        item.updated_at = utcnow()


def _store_launch(
    session: Session,
    user: User,
    registration: LtiRegistration,
    deployment: LtiDeployment,
    launch: LaunchData,
    context: LtiContext,
    link: LtiResourceLink | None,
    role: str,
    now: dt.datetime,
) -> str:
    handle = secrets.token_urlsafe(24)
    session.execute(
        delete(LtiLaunch)
        .where(LtiLaunch.expires_at < now - PURGE_STATES_AFTER)
        .execution_options(synchronize_session=False)
    )
    settings = None
    if launch.deep_linking is not None:
        settings = dataclasses.asdict(launch.deep_linking)
    session.add(
        LtiLaunch(
            handle_hash=sha256_hex(handle),
            user_id=user.id,
            registration_id=registration.id,
            lti_deployment_id=deployment.id,
            message_type=launch.message_type,
            lti_context_id=context.id,
            lti_resource_link_id=link.id if link is not None else None,
            course_role=role,
            deep_linking=settings,
            created_at=now,
            expires_at=now + LAUNCH_HANDLE_TTL,
        )
    )
    return handle


def handle_launch(
    session: Session,
    form: Mapping[str, Any],
    cookies: Mapping[str, str],
    *,
    keys: KeyResolver,
    clock: Callable[[], float] = time.time,
) -> LaunchOutcome:
    """Validate a launch POST and map it to our user, course, enrolment and link (committed).

    Raises:
        LtiRefused: any protocol refusal (with the validator's code), or a launch we cannot
            serve: anonymous, no course context, no course role, a course not set up yet.
    """
    validator = LaunchValidator(
        registrations=DbRegistrationStore(session),
        states=DbStateStore(session),
        nonces=DbNonceStore(session),
        keys=keys,
        clock=clock,
    )
    try:
        launch = validator.validate(form, cookies)
    except UnknownDeployment as exc:
        session.rollback()
        lti_registrations.note_pending_deployment(
            session, exc.issuer, exc.client_id, exc.deployment_id
        )
        raise refusal(exc) from None
    except LaunchError as exc:
        session.rollback()
        raise refusal(exc) from None
    try:
        return _map_launch(session, launch, from_timestamp(clock()))
    except Exception:
        session.rollback()
        raise


@writes
def _map_launch(session: Session, launch: LaunchData, now: dt.datetime) -> LaunchOutcome:
    registration = session.scalar(
        select(LtiRegistration).where(
            LtiRegistration.issuer == launch.issuer, LtiRegistration.client_id == launch.client_id
        )
    )
    assert registration is not None, "validated launches have a registration"
    deployment = next(
        d for d in registration.deployments if d.deployment_id == launch.deployment_id
    )
    if launch.sub is None:
        raise LtiRefused(
            "anonymous", "This launch does not say who you are; grader needs a signed-in user."
        )
    if launch.context is None:
        raise LtiRefused("no_context", "Launch grader from inside a course.")
    role = enrolment_role(launch.roles)
    if role is None and not launch.roles.context:
        # LTI 1.3 allows ``roles: []`` (the platform asserts no role); we accept the launch
        # as valid but grant nothing, and say so rather than "not verified".
        raise LtiRefused(
            "no_course_role",
            "The course system did not say whether you teach or take this course (it sent "
            "no course role), so grader cannot open it for you. Ask your course's LMS "
            "administrator to send your role.",
            status=403,
        )
    if role is None:
        raise LtiRefused(
            "no_course_role",
            "Your role in this course is neither instructor nor learner, so there is "
            "nothing for you in grader here.",
            status=403,
        )
    context = _context_row(session, deployment, launch, create=role in ("instructor", "ta"))
    if context is None:
        raise LtiRefused(
            "course_not_ready",
            "Your instructor has not opened grader in this course yet. Please try again later.",
            status=409,
        )
    user = find_or_create_user(
        session,
        registration,
        launch.sub,
        name=launch.name,
        given_name=launch.given_name,
        family_name=launch.family_name,
        email=launch.email,
        is_test_user=launch.roles.is_test_user,
        now=now,
    )
    if not user.is_active:
        raise LtiRefused("account_disabled", "Your grader account is disabled.", status=403)
    set_enrolment(session, context.course_id, user.id, role)
    link = _link_row(session, context, launch) if launch.resource_link is not None else None
    if link is not None and role == "student":
        _remember_placement(session, link, user, now)
    handle = _store_launch(
        session, user, registration, deployment, launch, context, link, role, now
    )
    session.commit()
    staff = role in ("instructor", "ta")
    if launch.is_deep_linking:
        kind = "deep_link"
    elif staff:
        kind = "link"
    elif link is not None and link.quiz_id is not None:
        kind = "quiz"
    else:
        kind = "not_ready"
    logger.info(
        "lti launch mapped: user_id=%s course_id=%s role=%s kind=%s",
        user.id,
        context.course_id,
        role,
        kind,
    )
    return LaunchOutcome(
        kind=kind,
        user=user,
        handle=handle,
        course_id=context.course_id,
        quiz_id=link.quiz_id if link is not None else None,
    )
