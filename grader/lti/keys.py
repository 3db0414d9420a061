"""Our RSA signing keys: generation, RFC 7638 kids, the published JWKS and rotation.

Rotation (LTI.md §1): publish a ``next`` key, wait longer than the platforms' JWKS cache time,
promote it to ``active`` (the only key that signs), keep the old one ``retired`` (still published)
for at least one token lifetime, then delete it. All three states are published so that every
token we signed recently still verifies.

Seam: the lead stores ``KeyRecord`` rows (``ToolKey``: kid, private PEM encrypted at rest, state)
and passes the decrypted records here. Nothing in this module persists or logs key material.

Loading a private PEM costs ~75 ms of CPU, almost all of it OpenSSL's RSA consistency check
(the PEM parse itself is ~40 µs). The check matters for keys of unknown origin, so it runs for
every PEM by default; ``key_record_from_pem(..., trusted=True)`` skips it for PEMs that only we
can have written: generated here and read back through authenticated encryption (Fernet's
HMAC, ``grader.services.lti_keys``), which rejects any byte changed since we stored it.
"""

from __future__ import annotations

import base64
import enum
import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from grader.lti.errors import ConfigError

MIN_KEY_SIZE = 2048


class KeyState(enum.StrEnum):
    """Lifecycle of a tool key; only ``ACTIVE`` signs, all are published."""

    NEXT = "next"
    ACTIVE = "active"
    RETIRED = "retired"


@dataclass(frozen=True)
class KeyRecord:
    """One tool key pair.

    Attributes:
        kid: RFC 7638 thumbprint of the public key (see ``kid_for_public_key``).
        private_pem: PKCS#8 PEM of the private key (unencrypted in memory; encrypt it at rest).
        state: next, active or retired.
    """

    kid: str
    private_pem: bytes = field(repr=False)
    state: KeyState = KeyState.NEXT
    loaded: rsa.RSAPrivateKey | None = field(default=None, repr=False, compare=False)
    """The private key already loaded from ``private_pem`` (None: load it on first use)."""

    def private_key(self) -> rsa.RSAPrivateKey:
        """The loaded private key (validated and cached per PEM unless ``loaded`` is set)."""
        if self.loaded is not None:
            return self.loaded
        return _load_private_key(self.private_pem)

    @functools.cached_property
    def _public_jwk(self) -> dict[str, str]:
        jwk = rsa_public_jwk(self.private_key().public_key())
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def public_jwk(self) -> dict[str, str]:
        """The public JWK as published in our JWKS (kty, n, e, kid, alg, use); computed once."""
        return dict(self._public_jwk)


def _check_key(key: Any) -> rsa.RSAPrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError("bad_key", "tool keys must be RSA")
    if key.key_size < MIN_KEY_SIZE:
        raise ConfigError("bad_key", f"tool keys must have at least {MIN_KEY_SIZE} bits")
    return key


def _load_pem(pem: bytes, *, check: bool) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(
            pem, password=None, unsafe_skip_rsa_key_validation=not check
        )
    except (ValueError, TypeError):  # not a PEM, encrypted, or an inconsistent RSA key
        raise ConfigError("bad_key", "not a usable unencrypted RSA private key") from None
    return _check_key(key)


@functools.lru_cache(maxsize=32)
def _load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    return _load_pem(pem, check=True)


def _load_trusted_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    # Safe only for PEMs we generated and stored authenticated: see the module docstring.
    return _load_pem(pem, check=False)


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def rsa_public_jwk(public_key: rsa.RSAPublicKey) -> dict[str, str]:
    """The minimal RSA JWK members (kty, n, e) of a public key."""
    numbers = public_key.public_numbers()
    return {"kty": "RSA", "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of an RSA JWK, base64url without padding.

    Deterministic, so the kid of a key never changes across restarts or exports.
    """
    if jwk.get("kty") != "RSA":
        raise ConfigError("bad_key", "only RSA thumbprints are supported")
    canonical = json.dumps(
        {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def kid_for_public_key(public_key: rsa.RSAPublicKey) -> str:
    """The RFC 7638 kid of an RSA public key."""
    return jwk_thumbprint(rsa_public_jwk(public_key))


def generate_key_record(state: KeyState = KeyState.NEXT, key_size: int = MIN_KEY_SIZE) -> KeyRecord:
    """Generate a fresh RSA key pair as a record (new keys start as ``next`` by default)."""
    if key_size < MIN_KEY_SIZE:
        raise ConfigError("bad_key", f"tool keys must have at least {MIN_KEY_SIZE} bits")
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return KeyRecord(
        kid=kid_for_public_key(key.public_key()), private_pem=pem, state=state, loaded=key
    )


def key_record_from_pem(pem: bytes, state: KeyState, *, trusted: bool = False) -> KeyRecord:
    """Wrap an existing private PEM, deriving its kid.

    Args:
        pem: a PKCS#8 (or PKCS#1) PEM of an RSA key of at least 2048 bits.
        state: the key's lifecycle state.
        trusted: skip OpenSSL's RSA consistency check (~75 ms). Only for PEMs that
            ``generate_key_record`` made and that come back through authenticated encryption
            (the database copy); never for a PEM someone handed us.
    """
    key = _load_trusted_private_key(pem) if trusted else _load_private_key(pem)
    return KeyRecord(
        kid=kid_for_public_key(key.public_key()), private_pem=pem, state=state, loaded=key
    )


_PUBLISH_ORDER = {KeyState.ACTIVE: 0, KeyState.NEXT: 1, KeyState.RETIRED: 2}


def jwks_document(records: Iterable[KeyRecord]) -> dict[str, list[dict[str, str]]]:
    """Our ``/lti/jwks`` body: every next, active and retired key (active first)."""
    ordered = sorted(records, key=lambda r: (_PUBLISH_ORDER[r.state], r.kid))
    return {"keys": [r.public_jwk() for r in ordered]}


def active_key(records: Iterable[KeyRecord]) -> KeyRecord:
    """The single key that signs. Exactly one active key is a configuration invariant."""
    active = [r for r in records if r.state is KeyState.ACTIVE]
    if len(active) != 1:
        raise ConfigError("no_active_key", f"expected exactly one active key, found {len(active)}")
    return active[0]


def rotate(records: Iterable[KeyRecord], *, generate_next: bool = True) -> list[KeyRecord]:
    """One rotation step: next → active, active → retired, plus a fresh next key.

    Requires a published ``next`` key (publish it first and wait past platform caches).
    Old retired keys are kept; drop them with ``prune_retired`` once a token lifetime passed.
    The caller persists the returned list.
    """
    current = list(records)
    nexts = [r for r in current if r.state is KeyState.NEXT]
    if not nexts:
        raise ConfigError("no_next_key", "publish a next key before rotating")
    promoted = nexts[0]
    out: list[KeyRecord] = []
    for record in current:
        if record is promoted:
            out.append(replace(record, state=KeyState.ACTIVE))
        elif record.state is KeyState.ACTIVE:
            out.append(replace(record, state=KeyState.RETIRED))
        else:
            out.append(record)
    if generate_next:
        out.append(generate_key_record(KeyState.NEXT))
    return out


def prune_retired(records: Iterable[KeyRecord]) -> list[KeyRecord]:
    """Drop retired keys (call at least one token lifetime after the last rotation)."""
    return [r for r in records if r.state is not KeyState.RETIRED]
