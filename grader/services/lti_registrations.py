"""LMS platform registrations and their approved deployments, managed by admins.

A registration is (issuer, client_id) with approved deployments (the web page or
``grader lti add-platform``). Inactive registrations do not launch.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grader.db import writes
from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import Forbidden
from grader.errors import NotFound
from grader.errors import Unauthorized
from grader.lti import Registration
from grader.lti.errors import ConfigError as LtiConfigError
from grader.lti.registration import BRIGHTSPACE_TOKEN_AUDIENCE
from grader.models import User
from grader.models import utcnow
from grader.models_lti import PLATFORM_FAMILIES
from grader.models_lti import LtiContext
from grader.models_lti import LtiDeployment
from grader.models_lti import LtiPendingDeployment
from grader.models_lti import LtiRegistration
from grader.services import permissions

logger = logging.getLogger(__name__)


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


@writes
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


@writes
def add_deployment(session: Session, registration_id: int, deployment_id: str) -> LtiRegistration:
    """Approve a deployment (committed); a pending one of that id stops being pending."""
    row = get_registration(session, registration_id)
    ids = _clean_ids([deployment_id])
    if not ids:
        raise BadRequest("give a deployment id")
    if ids[0] not in {d.deployment_id for d in row.deployments}:
        row.deployments.append(LtiDeployment(deployment_id=ids[0]))
    session.execute(
        delete(LtiPendingDeployment).where(
            LtiPendingDeployment.registration_id == row.id,
            LtiPendingDeployment.deployment_id == ids[0],
        )
    )
    session.commit()
    logger.info("lti deployment approved: registration_id=%s deployment_id=%s", row.id, ids[0])
    return row


@writes
def note_pending_deployment(
    session: Session, issuer: str, client_id: str, deployment_id: str
) -> LtiPendingDeployment | None:
    """Remember a launch through an unapproved deployment for the admin page (committed).

    Only for a registered platform (the launch was signed by it); None when the registration
    is gone or the id is unusable.
    """
    registration = session.scalar(
        select(LtiRegistration).where(
            LtiRegistration.issuer == issuer, LtiRegistration.client_id == client_id
        )
    )
    if registration is None or not 0 < len(deployment_id) <= 255:
        return None
    now = utcnow()
    where = (
        LtiPendingDeployment.registration_id == registration.id,
        LtiPendingDeployment.deployment_id == deployment_id,
    )
    row = session.scalar(select(LtiPendingDeployment).where(*where))
    if row is None:
        try:
            with session.begin_nested():
                row = LtiPendingDeployment(
                    registration_id=registration.id,
                    deployment_id=deployment_id,
                    launches=1,
                    first_seen_at=now,
                    last_seen_at=now,
                )
                session.add(row)
                session.flush()
        except IntegrityError:  # the same deployment launched twice at once
            row = session.scalar(select(LtiPendingDeployment).where(*where))
            if row is None:
                raise
        else:
            session.commit()
            return row
    row.launches += 1
    row.last_seen_at = now
    session.commit()
    return row


def pending_deployments(session: Session) -> dict[int, list[LtiPendingDeployment]]:
    """Unapproved deployments that launched, by registration id, most recent first."""
    out: dict[int, list[LtiPendingDeployment]] = {}
    rows = session.scalars(
        select(LtiPendingDeployment).order_by(LtiPendingDeployment.last_seen_at.desc())
    )
    for row in rows:
        out.setdefault(row.registration_id, []).append(row)
    return out


@writes
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


@writes
def set_active(session: Session, registration_id: int, active: bool) -> LtiRegistration:
    row = get_registration(session, registration_id)
    row.is_active = active
    session.commit()
    return row


def platform_families() -> tuple[str, ...]:
    return PLATFORM_FAMILIES
