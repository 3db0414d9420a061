"""Our users and enrolments for LTI identities (launches and the NRPS roster share them).

* **Users** are (registration, ``sub``) → our ``User``, created on first sight with the name
  and email the LMS sends. An LMS email that already belongs to another account is *not*
  linked to it (an LMS can assert any email); the new user gets a placeholder address.
* **Course roles come from context roles only** (Instructor/ContentDeveloper → instructor,
  Instructor sub-roles such as TeachingAssistant → ta, Learner → student); institution and
  system roles grant nothing.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grader.lti import Roles
from grader.lti import claims as c
from grader.models import Enrolment
from grader.models import User
from grader.models import utcnow
from grader.models_lti import LtiRegistration
from grader.models_lti import LtiUser
from grader.services import accounts
from grader.services.lti_stores import sha256_hex

logger = logging.getLogger(__name__)

PLACEHOLDER_EMAIL_DOMAIN = "lti.invalid"
_INSTRUCTOR_ROLES = (c.ROLE_INSTRUCTOR, c.ROLE_CONTENT_DEVELOPER)


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
    return f"lti-{registration_id}-{sha256_hex(sub)[:20]}@{PLACEHOLDER_EMAIL_DOMAIN}"


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
