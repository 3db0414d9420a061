"""Users and passwords."""

from __future__ import annotations

import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.errors import BadRequest
from grader.errors import Conflict
from grader.models import ROLES
from grader.models import User

logger = logging.getLogger(__name__)

# Argon2id with the library's defaults (RFC 9106 "low memory" profile).
_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 8


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively; store them trimmed and lower-cased."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320 or email.startswith("@") or email.endswith("@"):
        raise BadRequest(f"not an email address: {email!r}")
    return email


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    """True when the password matches; never raises for a wrong or unusable hash."""
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str | None = None,
    role: str = "student",
    commit: bool = True,
) -> User:
    """Create a user; a duplicate email is a Conflict, not an IntegrityError."""
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    email = normalize_email(email)
    if find_user_by_email(session, email) is not None:
        raise Conflict(f"a user with email {email} already exists")
    user = User(
        email=email,
        name=name.strip() or email,
        role=role,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    session.flush()
    if commit:
        session.commit()
    logger.info("created user user_id=%s role=%s", user.id, role)
    return user
