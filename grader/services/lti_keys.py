"""Our LTI signing keys in the database: encrypted at rest, rotated next → active → retired.

Private PEMs are stored encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived
(HKDF-SHA256) from ``GRADER_LTI_KEY_SECRET`` when set, else from ``GRADER_SECRET_KEY``. Set
the separate secret in production: rotating the session secret then does not make the tool
keys unreadable. Nothing here logs key material; kids are public.

Rotation (``grader lti rotate-keys``): the ``next`` key becomes ``active`` (the only signer),
the old active one ``retired`` (still published so tokens it signed still verify) and a fresh
``next`` key is published for the following rotation. ``prune`` deletes retired keys once a
token lifetime has passed.

Speed. ``GET /lti/jwks`` needs no sign-in and every message we sign (deep linking, service
token requests) needs the active key, so turning rows into keys must be cheap. Each request
still reads the rows (one query: which keys exist and in which state is always the
database's answer, so a rotation or a rollback anywhere is seen by the next request), but
decrypting and loading a row's key happens once per process: :data:`key_cache` maps
(secret fingerprint, SHA-256 of the encrypted blob, state) to the immutable ``KeyRecord``
(with its loaded key and memoised public JWK). The key covers everything a record is made
from, so a changed row can never hit a stale entry: a new key or a re-encrypted one has
another blob, a rotation another state, another secret another fingerprint (a wrong secret
still fails to decrypt, every time). Entries hold no ORM objects and nothing tied to a
session or transaction; an entry whose row was deleted or rolled back is simply never
looked up again and ages out of the bounded LRU. Keys are loaded without OpenSSL's RSA
consistency check (~75 ms each): Fernet's HMAC authenticates the PEM, and only
``generate_key_record`` ever made one (see :mod:`grader.lti.keys`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import os
import threading
from collections import OrderedDict
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

from grader.db import begin_write
from grader.db import writes
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


CacheKey = tuple[bytes, bytes, str]
"""(fingerprint of the secret, SHA-256 of the encrypted blob, state)."""

CACHE_SIZE = 64
"""Records kept per process: a handful of keys in three states, with room for rotations."""


class KeyCache:
    """A thread-safe LRU of ``KeyRecord`` values (immutable; never ORM objects)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[CacheKey, KeyRecord] = OrderedDict()
        self.misses = 0
        """Rows decrypted and loaded so far (observability, tests and the benchmark)."""

    def get(self, key: CacheKey) -> KeyRecord | None:
        with self._lock:
            record = self._entries.get(key)
            if record is not None:
                self._entries.move_to_end(key)
            return record

    def put(self, key: CacheKey, record: KeyRecord) -> None:
        with self._lock:
            self.misses += 1
            self._entries[key] = record
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


key_cache = KeyCache()
"""This process's decrypted keys (see the module docstring)."""


def clear_key_cache() -> None:
    """Forget every decrypted key of this process (the next read decrypts again)."""
    key_cache.clear()


def _secret_fingerprint(secret: str) -> bytes:
    # A one-way tag, so the cache key does not hold the secret itself.
    return hashlib.sha256(b"grader-lti-key-cache\0" + secret.encode("utf-8")).digest()


def _records(session: Session, secret: str) -> list[KeyRecord]:
    rows = session.execute(
        select(LtiToolKey.private_pem_encrypted, LtiToolKey.state).order_by(LtiToolKey.id)
    ).all()
    fingerprint = _secret_fingerprint(secret)
    records = []
    for blob, state in rows:
        key = (fingerprint, hashlib.sha256(blob.encode("ascii")).digest(), state)
        record = key_cache.get(key)
        if record is None:
            record = key_record_from_pem(decrypt_pem(secret, blob), KeyState(state), trusted=True)
            key_cache.put(key, record)
        records.append(record)
    return records


def load_keys(session: Session, secret: str) -> list[KeyRecord]:
    """Every stored key, decrypted (empty before the first ``ensure_keys``)."""
    return _records(session, secret)


def _has_active(records: list[KeyRecord]) -> bool:
    return any(r.state is KeyState.ACTIVE for r in records)


def ensure_keys(session: Session, secret: str) -> list[KeyRecord]:
    """The stored keys, creating an active and a next key on first use (committed)."""
    records = _records(session, secret)
    if _has_active(records):
        return records
    begin_write(session)  # only the first use writes: every later one is a plain read
    _lock_keys(session)
    records = _records(session, secret)
    if _has_active(records):
        session.commit()
        return records
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


@writes
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


@writes
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
