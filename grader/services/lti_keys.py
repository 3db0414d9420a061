"""Our LTI signing keys in the database: encrypted at rest, rotated next → active → retired.

Private PEMs are stored encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived
(HKDF-SHA256) from ``GRADER_LTI_KEY_SECRET`` when set, else from ``GRADER_SECRET_KEY``. Set
the separate secret in production: rotating the session secret then does not make the tool
keys unreadable. Nothing here logs key material; kids are public.

Rotation (``grader lti rotate-keys``): the ``next`` key becomes ``active`` (the only signer),
the old active one ``retired`` (still published so tokens it signed still verify) and a fresh
``next`` key is published for the following rotation. ``prune`` deletes retired keys once a
token lifetime has passed.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.orm import Session

from grader.errors import ConfigError
from grader.lti import KeyRecord
from grader.lti import KeyState
from grader.lti import active_key
from grader.lti import generate_key_record
from grader.lti import jwks_document
from grader.lti import key_record_from_pem
from grader.lti import rotate
from grader.models import utcnow
from grader.models_lti import LtiToolKey

logger = logging.getLogger(__name__)

_HKDF_SALT = b"grader-lti-tool-keys"
_HKDF_INFO = b"fernet v1"


def key_secret(config: Mapping[str, Any]) -> str:
    """The secret the tool keys are encrypted under (``LTI_KEY_SECRET`` or ``SECRET_KEY``)."""
    secret = (
        config.get("LTI_KEY_SECRET")
        or os.environ.get("GRADER_LTI_KEY_SECRET")
        or config.get("SECRET_KEY")
    )
    if not secret:
        raise ConfigError("set GRADER_LTI_KEY_SECRET (or GRADER_SECRET_KEY) to store LTI keys")
    return str(secret)


def _fernet(secret: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_pem(secret: str, pem: bytes) -> str:
    return _fernet(secret).encrypt(pem).decode("ascii")


def decrypt_pem(secret: str, token: str) -> bytes:
    try:
        return _fernet(secret).decrypt(token.encode("ascii"))
    except InvalidToken:
        raise ConfigError(
            "cannot decrypt the LTI tool keys: GRADER_LTI_KEY_SECRET (or GRADER_SECRET_KEY) "
            "differs from the one they were stored with"
        ) from None


def _lock_keys(session: Session) -> None:
    """Serialise key changes between processes (a write lock on both databases)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE lti_tool_keys IN SHARE ROW EXCLUSIVE MODE"))
    else:
        # Any write takes SQLite's single writer lock for the rest of the transaction.
        session.execute(delete(LtiToolKey).where(LtiToolKey.id < 0))


def _records(session: Session, secret: str) -> list[KeyRecord]:
    rows = session.scalars(select(LtiToolKey).order_by(LtiToolKey.id)).all()
    return [
        key_record_from_pem(decrypt_pem(secret, r.private_pem_encrypted), KeyState(r.state))
        for r in rows
    ]


def load_keys(session: Session, secret: str) -> list[KeyRecord]:
    """Every stored key, decrypted (empty before the first ``ensure_keys``)."""
    return _records(session, secret)


def ensure_keys(session: Session, secret: str) -> list[KeyRecord]:
    """The stored keys, creating an active and a next key on first use (committed)."""
    if session.scalar(select(LtiToolKey.id).where(LtiToolKey.state == "active").limit(1)):
        return _records(session, secret)
    _lock_keys(session)
    if session.scalar(select(LtiToolKey.id).where(LtiToolKey.state == "active").limit(1)):
        session.commit()
        return _records(session, secret)
    now = utcnow()
    for state in (KeyState.ACTIVE, KeyState.NEXT):
        record = generate_key_record(state)
        session.add(
            LtiToolKey(
                kid=record.kid,
                private_pem_encrypted=encrypt_pem(secret, record.private_pem),
                state=record.state.value,
                created_at=now,
                activated_at=now if state is KeyState.ACTIVE else None,
            )
        )
    session.commit()
    logger.info("created the first LTI tool keys")
    return _records(session, secret)


def signing_key(session: Session, secret: str) -> KeyRecord:
    """The active key (created on first use)."""
    return active_key(ensure_keys(session, secret))


def public_jwks(session: Session, secret: str) -> dict[str, list[dict[str, str]]]:
    """Our ``/lti/jwks`` document: next, active and retired public keys."""
    return jwks_document(ensure_keys(session, secret))


def rotate_keys(session: Session, secret: str, *, now: dt.datetime | None = None) -> KeyRecord:
    """One rotation step (committed); returns the new active key."""
    now = now or utcnow()
    ensure_keys(session, secret)
    _lock_keys(session)
    rows = {r.kid: r for r in session.scalars(select(LtiToolKey))}
    current = _records(session, secret)
    rotated = rotate(current)
    for record in rotated:
        row = rows.get(record.kid)
        if row is None:
            session.add(
                LtiToolKey(
                    kid=record.kid,
                    private_pem_encrypted=encrypt_pem(secret, record.private_pem),
                    state=record.state.value,
                    created_at=now,
                )
            )
            continue
        if row.state != record.state.value:
            row.state = record.state.value
            if record.state is KeyState.ACTIVE:
                row.activated_at = now
            elif record.state is KeyState.RETIRED:
                row.retired_at = now
    session.commit()
    new_active = active_key(rotated)
    logger.info("rotated LTI tool keys: active kid=%s", new_active.kid)
    return new_active


def prune_retired(
    session: Session,
    *,
    older_than: dt.timedelta = dt.timedelta(days=1),
    now: dt.datetime | None = None,
) -> int:
    """Delete keys retired longer ago than ``older_than`` (committed); returns how many."""
    cutoff = (now or utcnow()) - older_than
    result = session.execute(
        delete(LtiToolKey).where(LtiToolKey.state == "retired", LtiToolKey.retired_at < cutoff)
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def key_rows(session: Session) -> list[LtiToolKey]:
    """Key rows for display (kid, state, dates; never the PEM)."""
    return list(session.scalars(select(LtiToolKey).order_by(LtiToolKey.id)))
