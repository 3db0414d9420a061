"""Fetch and cache platform key sets; refetch once when a token names an unknown kid.

Without the refetch, a platform key rotation breaks every launch until the cache expires
(pylti1p3 [prototype], LTI.md §2 gap 4). Refetches are rate-limited per URL so that tokens with
random kids cannot make us hammer the platform.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import Protocol

import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from grader.lti._http import DEFAULT_TIMEOUT
from grader.lti._http import USER_AGENT
from grader.lti._http import BodyTooLargeError
from grader.lti._http import check_fetch_url
from grader.lti._http import read_json_capped
from grader.lti._http import redirect_guard
from grader.lti.errors import JwksError
from grader.lti.keys import MIN_KEY_SIZE

logger = logging.getLogger(__name__)


class KeyResolver(Protocol):
    """Anything that maps (key set URL, kid) to a verification key."""

    def get_key(self, jwks_url: str, kid: str) -> PyJWK:
        """The RS256 key, or ``JwksError`` (``unknown_kid`` / ``jwks_unavailable``)."""
        ...


@dataclass(frozen=True)
class _Entry:
    keys: dict[str, PyJWK]
    fetched_at: float


def parse_jwks(document: Any) -> dict[str, PyJWK]:
    """Usable RS256 signing keys of a JWKS document, by kid.

    A key without ``alg`` counts as RS256 (D2L omits it); keys for other algorithms, for
    encryption, without kid, or shorter than 2048 bits are skipped.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksError("jwks_unavailable", "the key set is not a JWKS document")
    keys: dict[str, PyJWK] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", "RS256") != "RS256":
            continue
        try:
            key = PyJWK(jwk, algorithm="RS256")
        except PyJWTError:
            logger.warning("skipping an unparsable JWK kid=%s", kid)
            continue
        if not isinstance(key.key, rsa.RSAPublicKey) or key.key.key_size < MIN_KEY_SIZE:
            logger.warning("skipping a weak or non-public JWK kid=%s", kid)
            continue
        keys[kid] = key
    return keys


class JwksClient:
    """Thread-safe, per-URL cached JWKS fetcher (implements ``KeyResolver``).

    Args:
        session: a requests session (one is created and owned otherwise).
        ttl: seconds a fetched key set stays fresh.
        min_refetch_interval: an unknown kid triggers a refetch only if the cached set is at
            least this old; protects platforms from kid-spraying tokens.
        timeout: requests timeout (connect, read).
        max_bytes: cap on the key set body.
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        *,
        session: requests.Session | None = None,
        ttl: float = 3600.0,
        min_refetch_interval: float = 10.0,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_bytes: int = 256 * 1024,
        clock: Callable[[], float] = time.monotonic,
        user_agent: str = USER_AGENT,
        allow_private_urls: bool = False,
    ) -> None:
        self._allow_private = allow_private_urls
        self._owns_session = session is None
        self._session = session or requests.Session()
        self._ttl = ttl
        self._min_refetch = min_refetch_interval
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._clock = clock
        self._user_agent = user_agent
        self._lock = threading.Lock()
        self._url_locks: dict[str, threading.Lock] = {}
        self._cache: dict[str, _Entry] = {}
        self.fetch_count = 0
        """Number of HTTP fetches made (observability and tests)."""

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> JwksClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def invalidate(self, jwks_url: str | None = None) -> None:
        """Forget one cached key set, or all."""
        with self._lock:
            if jwks_url is None:
                self._cache.clear()
            else:
                self._cache.pop(jwks_url, None)

    def get_key(self, jwks_url: str, kid: str) -> PyJWK:
        """The key ``kid`` from ``jwks_url``; fetches when stale, refetches once if unknown."""
        with self._url_lock(jwks_url):
            now = self._clock()
            entry = self._cache.get(jwks_url)
            fresh_fetch = False
            if entry is None or now - entry.fetched_at >= self._ttl:
                stale = entry
                try:
                    entry = self._refresh(jwks_url)
                except JwksError:
                    # A platform JWKS hiccup should not stop launches signed with a known key.
                    if stale is None or kid not in stale.keys:
                        raise
                    logger.warning("key set refresh failed; using the stale copy: %s", jwks_url)
                    return stale.keys[kid]
                fresh_fetch = True
            key = entry.keys.get(kid)
            if key is not None:
                return key
            if fresh_fetch or now - entry.fetched_at < self._min_refetch:
                raise JwksError("unknown_kid", "the platform key set has no key with this kid")
            logger.info("unknown kid; refetching the key set once: %s", jwks_url)
            entry = self._refresh(jwks_url)
            key = entry.keys.get(kid)
            if key is None:
                raise JwksError("unknown_kid", "the platform key set has no key with this kid")
            return key

    def _url_lock(self, url: str) -> threading.Lock:
        with self._lock:
            return self._url_locks.setdefault(url, threading.Lock())

    def _refresh(self, url: str) -> _Entry:
        entry = _Entry(keys=self._fetch(url), fetched_at=self._clock())
        with self._lock:
            self._cache[url] = entry
        return entry

    def _fetch(self, url: str) -> dict[str, PyJWK]:
        try:
            check_fetch_url(url, allow_private=self._allow_private)
        except ValueError as exc:
            raise JwksError("jwks_unavailable", str(exc)) from None
        with self._lock:
            self.fetch_count += 1
        headers = {
            "Accept": "application/jwk-set+json, application/json",
            "User-Agent": self._user_agent,
        }
        try:
            with self._session.get(
                url,
                headers=headers,
                timeout=self._timeout,
                stream=True,
                hooks={"response": redirect_guard(allow_private=self._allow_private)},
            ) as response:
                if response.status_code != 200:
                    raise JwksError(
                        "jwks_unavailable", f"key set answered HTTP {response.status_code}"
                    )
                document = read_json_capped(response, self._max_bytes)
        except (requests.RequestException, BodyTooLargeError, ValueError) as exc:
            raise JwksError(
                "jwks_unavailable", f"key set fetch failed: {type(exc).__name__}"
            ) from None
        return parse_jwks(document)
