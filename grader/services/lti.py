"""LTI 1.3 Advantage wired to grader: registrations, login, launch, deep linking, status.

The protocol lives in ``grader.lti`` (no database, no Flask); this module gives it its
database-backed stores and applies our rules to a validated launch:

* **Registrations** are (issuer, client_id) with approved deployments, managed by admins
  (web page or ``grader lti add-platform``). Inactive registrations do not launch.
* **Login state and nonces** live in ``lti_login_states`` as SHA-256 hashes; the state is
  consumed with one ``UPDATE ... WHERE used_at IS NULL AND expires_at > now`` (atomic on both
  databases) and committed at once, so a failed or replayed launch can never use it again.
* **Users** are (registration, ``sub``) → our ``User``, created on first launch with the name
  and email the LMS sends. An LMS email that already belongs to another account is *not*
  linked to it (an LMS can assert any email); the new user gets a placeholder address.
* **Courses** are (deployment, context id) → our ``Course``, created on the first
  *instructor* launch; a learner launching first is told the course is not set up yet.
* **Course roles come from context roles only** (Instructor/ContentDeveloper → instructor,
  Instructor sub-roles such as TeachingAssistant → ta, Learner → student); institution and
  system roles grant nothing. Each launch brings the enrolment's role up to date.
* **Resource links** are (context, resource link id) → a quiz: set by deep linking (our
  ``quiz_id`` custom parameter, accepted only for a quiz of the link's own course) or chosen
  by an instructor on the link's first launch.
* The web layer then starts a *fresh* session for the user (no fixation).

Grade passback is in :mod:`grader.services.lti_outbox`, the roster in
:mod:`grader.services.lti_roster`, keys in :mod:`grader.services.lti_keys`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import Forbidden
from grader.errors import GraderError
from grader.errors import NotFound
from grader.errors import Unauthorized
from grader.lti import DeepLinkingResponse
from grader.lti import JwksClient
from grader.lti import LaunchData
from grader.lti import LaunchError
from grader.lti import LaunchValidator
from grader.lti import LineItemSpec
from grader.lti import LoginError
from grader.lti import LoginHandler
from grader.lti import LoginRedirect
from grader.lti import LoginState
from grader.lti import LtiError
from grader.lti import Registration
from grader.lti import ResourceLinkItem
from grader.lti import Roles
from grader.lti import ToolConfig
from grader.lti import build_deep_linking_response
from grader.lti import canvas_developer_key_json
from grader.lti import claims as c
from grader.lti import clear_state_cookie
from grader.lti import paste_config
from grader.lti.errors import ConfigError as LtiConfigError
from grader.lti.jwks_client import KeyResolver
from grader.lti.launch import DeepLinkingSettings
from grader.lti.registration import BRIGHTSPACE_TOKEN_AUDIENCE
from grader.models import Course
from grader.models import Enrolment
from grader.models import Quiz
from grader.models import User
from grader.models import utcnow
from grader.models_lti import PLATFORM_FAMILIES
from grader.models_lti import LtiContext
from grader.models_lti import LtiDeployment
from grader.models_lti import LtiLaunch
from grader.models_lti import LtiLineItem
from grader.models_lti import LtiLoginState
from grader.models_lti import LtiRegistration
from grader.models_lti import LtiResourceLink
from grader.models_lti import LtiScore
from grader.models_lti import LtiUser
from grader.services import accounts
from grader.services import lti_keys
from grader.services import lti_outbox  # installs the score recorder on import
from grader.services import permissions

logger = logging.getLogger(__name__)

QUIZ_ID_PARAM = "quiz_id"
"""The custom parameter our deep-linked resource links carry."""
LINE_ITEM_TAG = "grader"
LAUNCH_HANDLE_TTL = dt.timedelta(hours=2)
PURGE_STATES_AFTER = dt.timedelta(hours=1)
PLACEHOLDER_EMAIL_DOMAIN = "lti.invalid"
_INSTRUCTOR_ROLES = (c.ROLE_INSTRUCTOR, c.ROLE_CONTENT_DEVELOPER)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _from_ts(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


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


# --------------------------------------------------------------------------- stores


registration_from_row = lti_outbox.registration_of
quiz_total_points = lti_outbox.quiz_total_points


class DbRegistrationStore:
    """``RegistrationStore`` over ``lti_registrations`` (active ones only)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def find(self, issuer: str, client_id: str) -> Registration | None:
        row = self._session.scalar(
            select(LtiRegistration).where(
                LtiRegistration.issuer == issuer,
                LtiRegistration.client_id == client_id,
                LtiRegistration.is_active.is_(True),
            )
        )
        return registration_from_row(row) if row is not None else None

    def find_by_issuer(self, issuer: str) -> Sequence[Registration]:
        rows = self._session.scalars(
            select(LtiRegistration).where(
                LtiRegistration.issuer == issuer, LtiRegistration.is_active.is_(True)
            )
        )
        return [registration_from_row(r) for r in rows]


class DbStateStore:
    """``StateStore`` over ``lti_login_states``; ``consume`` is one atomic UPDATE, committed."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def put(self, record: LoginState) -> None:
        now = utcnow()
        self._session.execute(
            delete(LtiLoginState)
            .where(LtiLoginState.expires_at < now - PURGE_STATES_AFTER)
            .execution_options(synchronize_session=False)
        )
        self._session.add(
            LtiLoginState(
                state_hash=_hash(record.state),
                nonce_hash=_hash(record.nonce),
                nonce=record.nonce,
                issuer=record.issuer,
                client_id=record.client_id,
                target_link_uri=record.target_link_uri,
                deployment_id=record.deployment_id,
                expires_at=_from_ts(record.expires_at),
                created_at=now,
            )
        )
        self._session.flush()

    def consume(self, state: str, now: float) -> LoginState | None:
        moment = _from_ts(now)
        row = self._session.execute(
            update(LtiLoginState)
            .where(
                LtiLoginState.state_hash == _hash(state),
                LtiLoginState.used_at.is_(None),
                LtiLoginState.expires_at > moment,
            )
            .values(used_at=moment)
            .returning(
                LtiLoginState.id,
                LtiLoginState.nonce,
                LtiLoginState.issuer,
                LtiLoginState.client_id,
                LtiLoginState.target_link_uri,
                LtiLoginState.deployment_id,
                LtiLoginState.expires_at,
            )
            .execution_options(synchronize_session=False)
        ).first()
        if row is not None:
            # The plain nonce is no longer needed in the database once its login is consumed.
            self._session.execute(
                update(LtiLoginState)
                .where(LtiLoginState.id == row.id)
                .values(nonce=None)
                .execution_options(synchronize_session=False)
            )
        self._session.commit()
        if row is None or row.nonce is None:
            return None
        return LoginState(
            state=state,
            nonce=row.nonce,
            issuer=row.issuer,
            client_id=row.client_id,
            target_link_uri=row.target_link_uri,
            expires_at=row.expires_at.timestamp(),
            deployment_id=row.deployment_id,
        )


class DbNonceStore:
    """``NonceStore`` over the nonce hash of ``lti_login_states`` (the state row holds it)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def put(self, nonce: str, expires_at: float) -> None:
        """Nothing to do: ``DbStateStore.put`` stored the nonce's hash with its state."""
        del nonce, expires_at

    def consume(self, nonce: str, now: float) -> bool:
        moment = _from_ts(now)
        result = self._session.execute(
            update(LtiLoginState)
            .where(
                LtiLoginState.nonce_hash == _hash(nonce),
                LtiLoginState.nonce_used_at.is_(None),
                LtiLoginState.expires_at > moment,
            )
            .values(nonce_used_at=moment)
            .execution_options(synchronize_session=False)
        )
        self._session.commit()
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- registrations


@dataclasses.dataclass(frozen=True)
class PlatformInput:
    """What an admin gives to register a platform."""

    issuer: str
    client_id: str
    auth_login_url: str
    token_url: str
    jwks_url: str
    deployment_ids: tuple[str, ...] = ()
    name: str = ""
    platform_family: str = "generic"
    auth_audience: str | None = None


def require_admin(actor: User | None) -> User:
    if actor is None:
        raise Unauthorized("sign in first")
    if not permissions.is_admin(actor):
        raise Forbidden("only administrators manage LMS registrations")
    return actor


def _clean_ids(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        value = value.strip()
        if len(value) > 255:
            raise BadRequest("deployment ids are at most 255 characters")
        if value and value not in out:
            out.append(value)
    return out


def add_platform(session: Session, data: PlatformInput) -> tuple[LtiRegistration, bool]:
    """Register a platform, or add deployments to an existing (issuer, client_id).

    Returns the row and whether it was created. Committed.

    Raises:
        BadRequest: a missing value, a bad URL or an unknown platform family.
    """
    issuer, client_id = data.issuer.strip(), data.client_id.strip()
    family = (data.platform_family or "generic").strip().lower()
    if family not in PLATFORM_FAMILIES:
        raise BadRequest(f"platform family must be one of {', '.join(PLATFORM_FAMILIES)}")
    audience = (data.auth_audience or "").strip() or None
    if family == "brightspace" and audience is None:
        audience = BRIGHTSPACE_TOKEN_AUDIENCE
    try:
        checked = Registration(
            issuer=issuer,
            client_id=client_id,
            auth_login_url=data.auth_login_url.strip(),
            token_url=data.token_url.strip(),
            jwks_url=data.jwks_url.strip(),
            auth_audience=audience,
            platform_family=family,  # type: ignore[arg-type]
        )
    except LtiConfigError as exc:
        raise BadRequest(exc.message) from None
    for name, value in (("issuer", issuer), ("client id", client_id)):
        if len(value) > (500 if name == "issuer" else 255):
            raise BadRequest(f"the {name} is too long")
    deployments = _clean_ids(data.deployment_ids)
    row = session.scalar(
        select(LtiRegistration).where(
            LtiRegistration.issuer == issuer, LtiRegistration.client_id == client_id
        )
    )
    created = row is None
    if row is None:
        row = LtiRegistration(
            name=(data.name.strip() or issuer)[:200],
            issuer=checked.issuer,
            client_id=checked.client_id,
            auth_login_url=checked.auth_login_url,
            token_url=checked.token_url,
            jwks_url=checked.jwks_url,
            auth_audience=checked.auth_audience,
            platform_family=family,
        )
        session.add(row)
        session.flush()
    known = {d.deployment_id for d in row.deployments}
    for deployment_id in deployments:
        if deployment_id not in known:
            row.deployments.append(LtiDeployment(deployment_id=deployment_id))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("this platform was registered at the same moment; reload") from None
    logger.info(
        "lti registration %s: id=%s issuer=%s client_id=%s deployments=%s",
        "created" if created else "updated",
        row.id,
        row.issuer,
        row.client_id,
        len(row.deployments),
    )
    return row, created


def list_registrations(session: Session) -> list[LtiRegistration]:
    return list(session.scalars(select(LtiRegistration).order_by(LtiRegistration.id)))


def get_registration(session: Session, registration_id: int) -> LtiRegistration:
    row = session.get(LtiRegistration, registration_id)
    if row is None:
        raise NotFound(f"no LMS registration {registration_id}")
    return row


def add_deployment(session: Session, registration_id: int, deployment_id: str) -> LtiRegistration:
    row = get_registration(session, registration_id)
    ids = _clean_ids([deployment_id])
    if not ids:
        raise BadRequest("give a deployment id")
    if ids[0] not in {d.deployment_id for d in row.deployments}:
        row.deployments.append(LtiDeployment(deployment_id=ids[0]))
        session.commit()
    return row


def remove_deployment(session: Session, registration_id: int, deployment_pk: int) -> None:
    """Remove an approved deployment that never launched (used ones stay: they hold data)."""
    row = get_registration(session, registration_id)
    deployment = next((d for d in row.deployments if d.id == deployment_pk), None)
    if deployment is None:
        raise NotFound("no such deployment")
    used = session.scalar(
        select(func.count(LtiContext.id)).where(LtiContext.lti_deployment_id == deployment.id)
    )
    if used:
        raise Conflict("this deployment has courses; deactivate the registration instead")
    row.deployments.remove(deployment)
    session.commit()


def set_active(session: Session, registration_id: int, active: bool) -> LtiRegistration:
    row = get_registration(session, registration_id)
    row.is_active = active
    session.commit()
    return row


# --------------------------------------------------------------------------- login


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


def enrolment_role(roles: Roles) -> str | None:
    """Our course role from the LTI *context* roles only (None: no course role)."""
    if any(r in _INSTRUCTOR_ROLES for r in roles.context):
        return "instructor"
    if roles.is_instructor:  # Instructor sub-roles: TeachingAssistant, Grader, ...
        return "ta"
    if roles.is_learner:
        return "student"
    return None


def _display_name(name: str | None, given: str | None, family: str | None) -> str:
    full = (name or " ".join(p for p in (given, family) if p) or "").strip()
    return full[:200] or "LMS user"


def _placeholder_email(registration_id: int, sub: str) -> str:
    return f"lti-{registration_id}-{_hash(sub)[:20]}@{PLACEHOLDER_EMAIL_DOMAIN}"


def find_or_create_user(
    session: Session,
    registration: LtiRegistration,
    sub: str,
    *,
    name: str | None = None,
    given_name: str | None = None,
    family_name: str | None = None,
    email: str | None = None,
    is_test_user: bool = False,
    now: dt.datetime | None = None,
    from_launch: bool = True,
) -> User:
    """Our user for (registration, sub), created on first sight (flushed, not committed).

    ``from_launch=False`` (the roster) never clears the test-user flag a launch set: NRPS
    lists context roles only, so it cannot tell Canvas' Test Student apart.
    """
    now = now or utcnow()
    link = session.scalar(
        select(LtiUser).where(LtiUser.registration_id == registration.id, LtiUser.sub == sub)
    )
    if link is not None:
        user = session.get(User, link.user_id)
        assert user is not None
        if from_launch:
            link.last_launch_at = now
            link.is_test_user = is_test_user
        elif is_test_user:
            link.is_test_user = True
        display = _display_name(name, given_name, family_name)
        if (name or given_name or family_name) and user.name != display:
            user.name = display
        session.flush()
        return user
    address = accounts.normalize_email(email) if email and "@" in email else ""
    if (
        not address
        or len(address) > 320
        or accounts.find_user_by_email(session, address) is not None
    ):
        address = _placeholder_email(registration.id, sub)
    placeholder = _placeholder_email(registration.id, sub)
    created: User | None = None
    for candidate in dict.fromkeys([address, placeholder]):
        created = User(
            email=candidate,
            name=_display_name(name, given_name, family_name),
            password_hash=None,
            role="student",
        )
        try:
            with session.begin_nested():
                session.add(created)
                session.flush()
                session.add(
                    LtiUser(
                        registration_id=registration.id,
                        sub=sub,
                        user_id=created.id,
                        is_test_user=is_test_user,
                        last_launch_at=now if from_launch else None,
                    )
                )
                session.flush()
        except IntegrityError:
            # The same person launched twice at once (the other request created them), or
            # someone took the email meanwhile (then the placeholder address is used).
            link = session.scalar(
                select(LtiUser).where(
                    LtiUser.registration_id == registration.id, LtiUser.sub == sub
                )
            )
            if link is not None:
                found = session.get(User, link.user_id)
                assert found is not None
                return found
            if candidate == placeholder:
                raise
            continue
        break
    assert created is not None
    logger.info("lti user created: user_id=%s registration_id=%s", created.id, registration.id)
    return created


def set_enrolment(session: Session, course_id: int, user_id: int, role: str) -> bool:
    """Enrol with ``role`` or bring an existing enrolment's role up to date (flushed).

    Returns True when something changed.
    """
    enrolment = session.scalar(
        select(Enrolment).where(Enrolment.course_id == course_id, Enrolment.user_id == user_id)
    )
    if enrolment is None:
        try:
            with session.begin_nested():
                session.add(Enrolment(course_id=course_id, user_id=user_id, role=role))
                session.flush()
        except IntegrityError:
            enrolment = session.scalar(
                select(Enrolment).where(
                    Enrolment.course_id == course_id, Enrolment.user_id == user_id
                )
            )
            if enrolment is None:
                raise
        else:
            return True
    if enrolment.role != role:
        enrolment.role = role
        session.flush()
        return True
    return False


def _course_code(deployment_pk: int, context_id: str) -> str:
    return f"LTI-{_hash(f'{deployment_pk}:{context_id}')[:16]}"


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
            handle_hash=_hash(handle),
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
    except LaunchError as exc:
        session.rollback()
        raise refusal(exc) from None
    try:
        return _map_launch(session, launch, _from_ts(clock()))
    except Exception:
        session.rollback()
        raise


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


# --------------------------------------------------------------------------- after the launch


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
    row = session.scalar(select(LtiLaunch).where(LtiLaunch.handle_hash == _hash(handle)))
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
        if quiz_total_points(quiz) <= 0:
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
                score_maximum=quiz_total_points(quiz),
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


# --------------------------------------------------------------------------- web helpers


def state_cookie_to_clear(state: object) -> dict[str, Any] | None:
    """``set_cookie`` arguments deleting a launch's state cookie (None without a state)."""
    if not isinstance(state, str) or not state or len(state) > 200:
        return None
    return clear_state_cookie(state).set_cookie_kwargs()


def canvas_config(tool: ToolConfig) -> dict[str, Any]:
    """The Canvas developer-key JSON (``/lti/config/canvas.json``)."""
    return canvas_developer_key_json(tool)


def paste_values(tool: ToolConfig) -> dict[str, str]:
    """What to paste into any LMS when registering grader."""
    return paste_config(tool)


def new_key_resolver() -> JwksClient:
    """A platform JWKS client: make one per process and share it (it caches key sets)."""
    return JwksClient()


def platform_families() -> tuple[str, ...]:
    return PLATFORM_FAMILIES
