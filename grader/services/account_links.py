"""Set-password links: invitations for accounts without a password, and resets.

A link carries a random token; only its SHA-256 is stored (:class:`AccountLink`), so
the link is shown (to the instructor who made it) or mailed once, and a copy of the
table opens nothing. A link works once and until it expires; issuing a new link for a
person spends their older ones. Using a link sets the password and ends every sign-in
of the account (someone who had it no longer does).

Who may issue: anyone for themselves by email (forgot-password: the answer never says
whether the email has an account), and a course's instructors for its members (the
roster's "new sign-in link"). The roster's link is shown to the instructor, so it is
only made for a member whose every course the instructor manages: an instructor can
enrol any existing account by email, and must not thereby get a way into someone
else's account (a student of another course, a fellow instructor).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import secrets

from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from grader.db import writes
from grader.errors import BadRequest
from grader.errors import Forbidden
from grader.errors import NotFound
from grader.models import AccountLink
from grader.models import Enrolment
from grader.models import User
from grader.models import utcnow
from grader.services import accounts
from grader.services import auth
from grader.services.enrolments import can_manage
from grader.services.enrolments import require_staff

logger = logging.getLogger(__name__)

#: how long a link works: invitations wait for a term's start, resets are for now
LIFETIMES = {"invite": dt.timedelta(days=14), "reset": dt.timedelta(hours=2)}
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 128
EXPIRED = "this link has expired or was used already; ask for a new one"


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclasses.dataclass(frozen=True)
class IssuedLink:
    """A link just made: the token exists only here (and in the mail or page showing it)."""

    user: User
    token: str
    purpose: str
    expires_at: dt.datetime


@writes
def issue(
    session: Session,
    user: User,
    *,
    purpose: str | None = None,
    created_by: User | None = None,
    spend_older: bool = True,
    now: dt.datetime | None = None,
) -> IssuedLink:
    """A new link for ``user`` (committed); with ``spend_older`` their older unused links
    stop working (an instructor's new link replaces the one sent before; a forgot-password
    request, which anyone can make, leaves an invitation alone).

    ``purpose`` defaults to ``invite`` for an account without a password, else ``reset``.
    """
    now = now or utcnow()
    purpose = purpose or ("reset" if user.password_hash else "invite")
    if purpose not in LIFETIMES:
        raise BadRequest(f"unknown link purpose {purpose!r}")
    if spend_older:
        session.execute(
            update(AccountLink)
            .where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None))
            .values(used_at=now)
        )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires = now + LIFETIMES[purpose]
    session.add(
        AccountLink(
            token_hash=_sha256(token),
            user_id=user.id,
            purpose=purpose,
            created_at=now,
            expires_at=expires,
            created_by_id=created_by.id if created_by else None,
        )
    )
    session.commit()
    logger.info(
        "account link issued user_id=%s purpose=%s by=%s",
        user.id,
        purpose,
        created_by.id if created_by else "self",
    )
    return IssuedLink(user=user, token=token, purpose=purpose, expires_at=expires)


@writes
def issue_for_member(
    session: Session, actor: User, course_id: int, user_id: int, *, now: dt.datetime | None = None
) -> IssuedLink:
    """An instructor's "new sign-in link" for a member of a course they manage.

    Raises:
        Forbidden / NotFound: not the actor's course, or not a member of it; or the
            member also belongs to a course the actor does not manage.
    """
    require_staff(session, actor, course_id, manage=True)
    member = session.scalar(
        select(User)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.course_id == course_id, User.id == user_id)
    )
    if member is None:
        raise NotFound(f"no member {user_id} in course {course_id}")
    if member.role == "admin" and actor.role != "admin":
        raise BadRequest("only an administrator can reset an administrator's password")
    if actor.role != "admin" and member.id != actor.id:
        elsewhere = session.scalars(
            select(Enrolment.course_id).where(Enrolment.user_id == member.id)
        ).all()
        if any(not can_manage(session, actor, other) for other in elsewhere):
            raise Forbidden(
                "this person also belongs to courses you do not manage, so only they can "
                "set their password: \u201cForgot your password?\u201d on the sign-in page"
            )
    return issue(session, member, created_by=actor, now=now)


def find_valid(
    session: Session, token: object, now: dt.datetime | None = None
) -> AccountLink | None:
    """The unused, unexpired link this token opens (for an active user), or None."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    link = session.scalar(select(AccountLink).where(AccountLink.token_hash == _sha256(token)))
    if link is None or link.used_at is not None or link.expires_at <= (now or utcnow()):
        return None
    user = session.get(User, link.user_id)
    if user is None or not user.is_active:
        return None
    return link


@writes
def redeem(
    session: Session, token: object, password: str, *, now: dt.datetime | None = None
) -> User:
    """Set the password through a link, which is spent; every sign-in of the user ends.

    Raises:
        BadRequest: the link is unknown, used or expired, or the password is too short.
    """
    now = now or utcnow()
    link = find_valid(session, token, now)
    if link is None:
        raise BadRequest(EXPIRED)
    password_hash = accounts.hash_password(password)
    # Spend it with a guarded UPDATE: of two uses at once, exactly one wins.
    spent = session.execute(
        update(AccountLink)
        .where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
        .values(used_at=now)
    )
    if int(getattr(spent, "rowcount", 0) or 0) != 1:
        session.rollback()
        raise BadRequest(EXPIRED)
    # Setting the password spends every other link of the account too.
    session.execute(
        update(AccountLink)
        .where(AccountLink.user_id == link.user_id, AccountLink.used_at.is_(None))
        .values(used_at=now)
    )
    user = session.get(User, link.user_id)
    assert user is not None
    user.password_hash = password_hash
    session.flush()
    auth.end_all_sessions(session, user.id)  # commits
    logger.info("password set through a %s link user_id=%s", link.purpose, user.id)
    return user


@writes
def request_reset(
    session: Session, email: str, *, now: dt.datetime | None = None
) -> IssuedLink | None:
    """Forgot-password: a reset link when an active account has this email, else None.

    The caller answers the same either way (accounts are not revealed).
    """
    user = accounts.find_user_by_email(session, email) if email.strip() else None
    if user is None or not user.is_active:
        return None
    return issue(session, user, purpose="reset", spend_older=False, now=now)
