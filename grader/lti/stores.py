"""One-time stores for login state and nonces, behind small Protocols.

Seam: the lead writes DB-backed versions (the ``LoginState`` table). ``consume`` must be atomic
("mark used and return" in one statement, e.g. ``UPDATE login_state SET used_at = :now WHERE
state = :s AND used_at IS NULL AND expires_at > :now RETURNING ...``) so two concurrent launches
with one state cannot both succeed. Store a SHA-256 of the nonce rather than the nonce itself.
Both stores may live in one table: the nonce is a column of the state row.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class LoginState:
    """What the login step remembers for its launch.

    Attributes:
        state: the random state sent through the platform and set as a cookie.
        nonce: the random nonce the platform must put in the id_token.
        issuer: the registration the login started for ...
        client_id: ... with this client id (launches for another registration are refused).
        target_link_uri: the validated target link from the initiation request.
        expires_at: POSIX seconds after which the state is dead.
        deployment_id: ``lti_deployment_id`` from the initiation, if the platform sent one.
    """

    state: str
    nonce: str
    issuer: str
    client_id: str
    target_link_uri: str
    expires_at: float
    deployment_id: str | None = None


class StateStore(Protocol):
    """Server side of the OIDC state (the other side is the state cookie)."""

    def put(self, record: LoginState) -> None:
        """Remember a new login state."""
        ...

    def consume(self, state: str, now: float) -> LoginState | None:
        """Atomically return the record and mark it used; None if unknown, used or expired."""
        ...


class NonceStore(Protocol):
    """Issued nonces, each usable once."""

    def put(self, nonce: str, expires_at: float) -> None:
        """Remember a nonce we issued at login."""
        ...

    def consume(self, nonce: str, now: float) -> bool:
        """True exactly once for an issued, unexpired nonce; False for replays and unknowns."""
        ...


class MemoryStateStore:
    """In-memory ``StateStore`` (single process, tests). Expired rows are purged on consume."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, LoginState] = {}

    def put(self, record: LoginState) -> None:
        with self._lock:
            self._rows[record.state] = record

    def consume(self, state: str, now: float) -> LoginState | None:
        with self._lock:
            record = self._rows.pop(state, None)
            for key in [k for k, r in self._rows.items() if r.expires_at <= now]:
                del self._rows[key]
        if record is None or record.expires_at <= now:
            return None
        return record


class MemoryNonceStore:
    """In-memory ``NonceStore``. A consumed nonce is deleted: unknown and replayed look alike."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, float] = {}

    def put(self, nonce: str, expires_at: float) -> None:
        with self._lock:
            self._rows[nonce] = expires_at

    def consume(self, nonce: str, now: float) -> bool:
        with self._lock:
            expires_at = self._rows.pop(nonce, None)
            for key in [k for k, exp in self._rows.items() if exp <= now]:
                del self._rows[key]
        return expires_at is not None and expires_at > now
