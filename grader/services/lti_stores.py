"""Database-backed stores the LTI protocol code (``grader.lti``) runs on.

Login state and nonces live in ``lti_login_states`` as SHA-256 hashes; the state is consumed
with one ``UPDATE ... WHERE used_at IS NULL AND expires_at > now`` (atomic on both databases)
and committed at once, so a failed or replayed launch can never use it again. Registrations
are the active rows of ``lti_registrations``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from grader.db import writes
from grader.lti import LoginState
from grader.lti import Registration
from grader.models import utcnow
from grader.models_lti import LtiLoginState
from grader.models_lti import LtiRegistration
from grader.services import lti_outbox  # installs the score recorder on import

logger = logging.getLogger(__name__)

PURGE_STATES_AFTER = dt.timedelta(hours=1)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def from_timestamp(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


registration_from_row = lti_outbox.registration_of


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
                state_hash=sha256_hex(record.state),
                nonce_hash=sha256_hex(record.nonce),
                nonce=record.nonce,
                issuer=record.issuer,
                client_id=record.client_id,
                target_link_uri=record.target_link_uri,
                deployment_id=record.deployment_id,
                expires_at=from_timestamp(record.expires_at),
                created_at=now,
            )
        )
        self._session.flush()

    @writes
    def consume(self, state: str, now: float) -> LoginState | None:
        moment = from_timestamp(now)
        row = self._session.execute(
            update(LtiLoginState)
            .where(
                LtiLoginState.state_hash == sha256_hex(state),
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

    @writes
    def consume(self, nonce: str, now: float) -> bool:
        moment = from_timestamp(now)
        result = self._session.execute(
            update(LtiLoginState)
            .where(
                LtiLoginState.nonce_hash == sha256_hex(nonce),
                LtiLoginState.nonce_used_at.is_(None),
                LtiLoginState.expires_at > moment,
            )
            .values(nonce_used_at=moment)
            .execution_options(synchronize_session=False)
        )
        self._session.commit()
        return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]
