"""LTI Advantage service clients: OAuth2 client-credentials tokens, AGS and NRPS.

Errors are typed for the lead's outbox: ``RetryableServiceError`` (429, 5xx, timeouts,
connection errors; ``retry_after`` from the header) versus ``PermanentServiceError`` (other 4xx,
malformed answers; ``detail`` holds the platform's message, e.g. Canvas' 422 "User not found in
course or is not a student", for per-student error display). A transport error says whether the
call's request had gone out whole (``answer_lost``: it may have been applied) or not
(``connection_error``: refused, DNS, TLS, connect timeout, broken while sending); the client
knows because it hands the body to the transport itself (``_OutgoingBody``).

Seam: build one ``ServiceClient(registration, active_key(records), token_cache=...)`` per
registration; the default token cache is in memory (per process), keyed by issuer, client_id
and the sorted scopes (pylti1p3next keyed by issuer only, which mixes Canvas tenants).
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol
from urllib.parse import urljoin

import jwt
import requests

from grader.lti import claims as c
from grader.lti._http import DEFAULT_TIMEOUT
from grader.lti._http import USER_AGENT
from grader.lti._http import BodyTooLargeError
from grader.lti._http import check_fetch_url
from grader.lti._http import parse_retry_after
from grader.lti._http import read_capped
from grader.lti.errors import ANSWER_LOST
from grader.lti.errors import PermanentServiceError
from grader.lti.errors import RetryableServiceError
from grader.lti.errors import ServiceError
from grader.lti.grades import LineItem
from grader.lti.grades import LineItemSpec
from grader.lti.grades import Score
from grader.lti.grades import results_url
from grader.lti.grades import scores_url
from grader.lti.keys import KeyRecord
from grader.lti.registration import Registration
from grader.lti.roles import Roles
from grader.lti.roles import parse_roles

logger = logging.getLogger(__name__)

ASSERTION_LIFETIME_SECONDS = 300
TOKEN_EXPIRY_MARGIN_SECONDS = 60
MAX_PAGES = 200
_RETRYABLE_STATUSES = frozenset({408, 425, 429})
_UNBINDABLE_LINK_STATUSES = frozenset({400, 404, 422})
"""Answers to a line item POST whose ``resourceLinkId`` the platform will not accept."""


@dataclass(frozen=True)
class AccessToken:
    """A bearer token for a set of scopes."""

    value: str = field(repr=False)
    scopes: frozenset[str]
    expires_at: float


class TokenCache(Protocol):
    """Where access tokens live between calls (the lead may back it with ``ServiceToken`` rows)."""

    def get(self, key: str, now: float) -> AccessToken | None:
        """A token still valid at ``now``, or None."""
        ...

    def put(self, key: str, token: AccessToken) -> None:
        """Remember a token."""
        ...

    def discard(self, key: str) -> None:
        """Forget a token the platform rejected."""
        ...


class MemoryTokenCache:
    """Thread-safe in-memory ``TokenCache``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, AccessToken] = {}

    def get(self, key: str, now: float) -> AccessToken | None:
        with self._lock:
            token = self._tokens.get(key)
        return token if token is not None and token.expires_at > now else None

    def put(self, key: str, token: AccessToken) -> None:
        with self._lock:
            self._tokens[key] = token

    def discard(self, key: str) -> None:
        with self._lock:
            self._tokens.pop(key, None)


def token_cache_key(registration: Registration, scopes: Iterable[str]) -> str:
    """Cache key: issuer, client_id and the sorted scope set."""
    return "\n".join([registration.issuer, registration.client_id, *sorted(set(scopes))])


@dataclass(frozen=True)
class ServiceResponse:
    """A successful service answer."""

    status: int
    data: Any
    next_url: str | None
    headers: Mapping[str, str] = field(repr=False)


def _excerpt(response: requests.Response) -> str:
    try:
        return read_capped(response, 4096).decode("utf-8", "replace")[:300]
    except (requests.RequestException, BodyTooLargeError):
        return ""


def classify_response(response: requests.Response, now: float, what: str) -> ServiceError:
    """The typed error for a non-2xx answer."""
    status = response.status_code
    detail = _excerpt(response)
    if status >= 500 or status in _RETRYABLE_STATUSES:
        return RetryableServiceError(
            "platform_unavailable" if status >= 500 else "rate_limited",
            f"{what}: HTTP {status}",
            status=status,
            retry_after=parse_retry_after(response.headers.get("Retry-After"), now),
            detail=detail,
        )
    code = {
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        409: "not_newer",  # Moodle: "Refusing score with an earlier timestamp"
        422: "rejected",
    }.get(status, "bad_request")
    return PermanentServiceError(code, f"{what}: HTTP {status}", status=status, detail=detail)


class _OutgoingBody:
    """A request body that notes when the transport has written all of it to the socket.

    urllib3 (and http.client) connect, send the headers, then read a file-like body block by
    block and ``sendall`` each block; the read that finds the end of the body comes only after
    every block was written. So ``sent`` is True only once the whole request went out: a
    transport error after that may leave the request applied with its answer lost, one
    before it (connection refused, DNS, TLS handshake, connect timeout) cannot.
    """

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)
        self._length = len(data)
        self.sent = False

    def __len__(self) -> int:  # requests sends it as Content-Length (no chunked encoding)
        return self._length

    def read(self, size: int = -1) -> bytes:
        block = self._buffer.read(size)
        if not block:
            self.sent = True
        return block


class ServiceClient:
    """Authenticated HTTP to one registration's services.

    Args:
        registration: the platform registration (token URL, audience, client id).
        key: our active signing key (``keys.active_key``).
        session: requests session (created and owned if omitted).
        token_cache: shared token cache (in memory if omitted).
        timeout: (connect, read) seconds.
        clock: POSIX seconds (injectable).
        max_bytes: cap on response bodies.
    """

    def __init__(
        self,
        registration: Registration,
        key: KeyRecord,
        *,
        session: requests.Session | None = None,
        token_cache: TokenCache | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
        max_bytes: int = 8 * 1024 * 1024,
        user_agent: str = USER_AGENT,
        allow_private_urls: bool = False,
    ) -> None:
        self.registration = registration
        self._allow_private = allow_private_urls
        self._key = key
        self._owns_session = session is None
        self._session = session or requests.Session()
        self._cache: TokenCache = token_cache or MemoryTokenCache()
        self._timeout = timeout
        self._clock = clock
        self._max_bytes = max_bytes
        self._user_agent = user_agent
        self._token_lock = threading.Lock()
        self.token_fetches = 0
        """Number of token endpoint calls made (observability and tests)."""

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def client_assertion(self) -> str:
        """Our RS256 client assertion: iss = sub = client_id, aud = the token audience."""
        now = int(self._clock())
        payload = {
            "iss": self.registration.client_id,
            "sub": self.registration.client_id,
            "aud": self.registration.token_audience,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECONDS,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(
            payload, self._key.private_key(), algorithm="RS256", headers={"kid": self._key.kid}
        )

    def access_token(self, scopes: Iterable[str]) -> str:
        """A cached or fresh bearer token for ``scopes``."""
        scope_set = frozenset(scopes)
        key = token_cache_key(self.registration, scope_set)
        with self._token_lock:
            cached = self._cache.get(key, self._clock())
            if cached is not None:
                return cached.value
            token = self._fetch_token(scope_set)
            self._cache.put(key, token)
            return token.value

    def _fetch_token(self, scopes: frozenset[str]) -> AccessToken:
        self.token_fetches += 1
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": c.CLIENT_ASSERTION_TYPE,
            "client_assertion": self.client_assertion(),
            "scope": " ".join(sorted(scopes)),
        }
        what = "token request"
        # The form is not an ``_OutgoingBody``: a token request that loses its answer is a
        # ``connection_error``, never the ``answer_lost`` of the call it was fetched for.
        data = self._send(
            "POST",
            self.registration.token_url,
            what,
            data=form,
            headers={"Accept": "application/json"},
        ).data
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            raise PermanentServiceError("bad_response", "the token answer has no access_token")
        if str(data.get("token_type", "bearer")).lower() != "bearer":
            raise PermanentServiceError("bad_response", "the token is not a bearer token")
        expires_in = data.get("expires_in", 3600)
        if isinstance(expires_in, bool) or not isinstance(expires_in, int | float):
            expires_in = 3600
        granted = data.get("scope")
        granted_scopes = frozenset(granted.split()) if isinstance(granted, str) else scopes
        return AccessToken(
            value=data["access_token"],
            scopes=granted_scopes,
            expires_at=self._clock() + max(0.0, float(expires_in) - TOKEN_EXPIRY_MARGIN_SECONDS),
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        scopes: Iterable[str],
        accept: str | None = None,
        content_type: str | None = None,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        want_data: bool = True,
    ) -> ServiceResponse:
        """One authenticated call; a 401 drops the cached token and retries once.

        ``want_data=False``: any 2xx is success whatever its body (a score POST's answer
        carries nothing we use, and some platforms answer it with an empty or non-JSON body).
        """
        scope_set = frozenset(scopes)
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.access_token(scope_set)}"}
            if accept is not None:
                headers["Accept"] = accept
            data = None
            if body is not None:
                headers["Content-Type"] = content_type or "application/json"
                data = json.dumps(body).encode()
            try:
                return self._send(
                    method,
                    url,
                    f"{method} service call",
                    data=data,
                    headers=headers,
                    params=params,
                    want_data=want_data,
                )
            except PermanentServiceError as exc:
                if exc.status == 401 and attempt == 1:
                    self._cache.discard(token_cache_key(self.registration, scope_set))
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        method: str,
        url: str,
        what: str,
        *,
        data: Any = None,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        want_data: bool = True,
    ) -> ServiceResponse:
        try:
            check_fetch_url(url, allow_private=self._allow_private)
        except ValueError as exc:
            raise PermanentServiceError("bad_url", f"{what}: {exc}") from None
        all_headers = {"User-Agent": self._user_agent, **headers}
        outgoing = _OutgoingBody(data) if isinstance(data, bytes) and data else None
        try:
            with self._session.request(
                method,
                url,
                data=outgoing if outgoing is not None else data,
                headers=all_headers,
                params=params,
                timeout=self._timeout,
                stream=True,
                allow_redirects=False,
            ) as response:
                if not 200 <= response.status_code < 300:
                    raise classify_response(response, self._clock(), what)
                raw = read_capped(response, self._max_bytes)
                next_link = response.links.get("next", {}).get("url")
                return ServiceResponse(
                    status=response.status_code,
                    data=json.loads(raw) if want_data and raw.strip() else None,
                    next_url=urljoin(response.url, next_link) if next_link else None,
                    headers=dict(response.headers),
                )
        except requests.RequestException as exc:
            if outgoing is not None and outgoing.sent:
                # Written whole, then no (complete) answer: a read timeout, a reset or closed
                # connection. The platform may have applied it.
                raise RetryableServiceError(
                    ANSWER_LOST, f"{what}: {type(exc).__name__} after the request went out"
                ) from None
            code = (
                "connection_error"
                if isinstance(exc, requests.ConnectionError | requests.Timeout)
                else "http_error"
            )
            raise RetryableServiceError(code, f"{what}: {type(exc).__name__}") from None
        except (BodyTooLargeError, ValueError) as exc:
            raise PermanentServiceError("bad_response", f"{what}: {type(exc).__name__}") from None

    def paged(
        self,
        url: str,
        *,
        scopes: Iterable[str],
        accept: str,
        params: Mapping[str, str] | None = None,
        max_pages: int = MAX_PAGES,
    ) -> Iterator[ServiceResponse]:
        """GET ``url`` and every ``Link: <...>; rel="next"`` page, keeping the URLs' case."""
        seen: set[str] = set()
        next_url: str | None = url
        first = True
        while next_url is not None:
            if next_url in seen or len(seen) >= max_pages:
                raise PermanentServiceError("bad_paging", "the platform's paging does not end")
            seen.add(next_url)
            page = self.request(
                "GET", next_url, scopes=scopes, accept=accept, params=params if first else None
            )
            first = False
            yield page
            next_url = page.next_url


class AgsClient:
    """Assignment and Grade Services 2.0 over a ``ServiceClient``."""

    def __init__(self, service: ServiceClient) -> None:
        self._service = service

    def list_line_items(
        self,
        lineitems_url: str,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
    ) -> list[LineItem]:
        """All line items of the context matching the filters (every page)."""
        params = {
            k: v
            for k, v in {
                "resource_link_id": resource_link_id,
                "resource_id": resource_id,
                "tag": tag,
                "limit": str(limit) if limit else None,
            }.items()
            if v is not None
        }
        items: list[LineItem] = []
        for page in self._service.paged(
            lineitems_url,
            scopes=[c.SCOPE_LINEITEM],
            accept=c.MEDIA_LINEITEM_CONTAINER,
            params=params,
        ):
            if not isinstance(page.data, list):
                raise PermanentServiceError("bad_response", "a line item container is not a list")
            try:
                items.extend(LineItem.from_json(entry) for entry in page.data)
            except ValueError as exc:
                raise PermanentServiceError("bad_response", str(exc)) from None
        # Some platforms ignore filters: apply them again here.
        return [
            i
            for i in items
            if i.matches(resource_link_id=resource_link_id, resource_id=resource_id, tag=tag)
        ]

    def get_line_item(self, lineitem_url: str) -> LineItem:
        page = self._service.request(
            "GET", lineitem_url, scopes=[c.SCOPE_LINEITEM], accept=c.MEDIA_LINEITEM
        )
        try:
            return LineItem.from_json(page.data)
        except ValueError as exc:
            raise PermanentServiceError("bad_response", str(exc)) from None

    def find_line_item(
        self,
        lineitems_url: str,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
    ) -> LineItem | None:
        """The first matching line item, or None."""
        found = self.list_line_items(
            lineitems_url, resource_link_id=resource_link_id, resource_id=resource_id, tag=tag
        )
        return found[0] if found else None

    def create_line_item(
        self, lineitems_url: str, spec: LineItemSpec, *, resource_link_id: str | None = None
    ) -> LineItem:
        """POST a new line item. Always creates one: prefer ``find_or_create_line_item``."""
        page = self._service.request(
            "POST",
            lineitems_url,
            scopes=[c.SCOPE_LINEITEM],
            accept=c.MEDIA_LINEITEM,
            content_type=c.MEDIA_LINEITEM,
            body=spec.to_json(resource_link_id),
        )
        try:
            return LineItem.from_json(page.data)
        except ValueError as exc:
            raise PermanentServiceError("bad_response", str(exc)) from None

    def find_or_create_line_item(
        self, lineitems_url: str, spec: LineItemSpec, *, resource_link_id: str | None = None
    ) -> LineItem:
        """Find by (resourceLinkId, resourceId, tag) first; create only if none exists.

        Never duplicates within one caller; across workers, serialise per (context, resource)
        in the DB (e.g. a unique ``LineItemLink`` row) and store the returned ``id``.

        A platform may refuse to bind a column to the launch's resource link: Canvas answers
        404 for the id of a module launch (the course's id, canvas-lms#1944). The column is
        then found or created without ``resourceLinkId``; the caller stores its URL anyway.
        """
        existing = self.find_line_item(
            lineitems_url,
            resource_link_id=resource_link_id,
            resource_id=spec.resource_id,
            tag=spec.tag,
        )
        if existing is not None:
            return existing
        logger.info("creating a line item (resource_id=%s)", spec.resource_id)
        try:
            return self.create_line_item(lineitems_url, spec, resource_link_id=resource_link_id)
        except PermanentServiceError as exc:
            if resource_link_id is None or exc.status not in _UNBINDABLE_LINK_STATUSES:
                raise
        logger.info("the platform refused the resource link id; the column will be unbound")
        unbound = [
            item
            for item in self.list_line_items(
                lineitems_url, resource_id=spec.resource_id, tag=spec.tag
            )
            if not item.resource_link_id
        ]
        if unbound:
            return unbound[0]
        return self.create_line_item(lineitems_url, spec)

    def post_score(self, lineitem_url: str, score: Score) -> None:
        """POST one score to ``<lineitem>/scores`` (query string kept, Moodle)."""
        self._service.request(
            "POST",
            scores_url(lineitem_url),
            scopes=[c.SCOPE_SCORE],
            content_type=c.MEDIA_SCORE,
            body=score.to_json(),
            want_data=False,
        )

    def get_results(self, lineitem_url: str, *, user_id: str | None = None) -> list[dict[str, Any]]:
        """Results of a line item (every page), optionally for one user."""
        params = {"user_id": user_id} if user_id else None
        results: list[dict[str, Any]] = []
        for page in self._service.paged(
            results_url(lineitem_url),
            scopes=[c.SCOPE_RESULT_READONLY],
            accept=c.MEDIA_RESULT_CONTAINER,
            params=params,
        ):
            if not isinstance(page.data, list):
                raise PermanentServiceError("bad_response", "a result container is not a list")
            results.extend(r for r in page.data if isinstance(r, dict))
        return results


@dataclass(frozen=True)
class Member:
    """One NRPS membership."""

    user_id: str
    roles: Roles
    status: str = "Active"
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    lis_person_sourcedid: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_active(self) -> bool:
        return self.status == "Active"

    @classmethod
    def from_json(cls, data: Any) -> Member:
        if not isinstance(data, dict) or not isinstance(data.get("user_id"), str):
            raise ValueError("a member needs a user_id")
        roles = data.get("roles", [])

        def opt(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) else None

        return cls(
            user_id=data["user_id"],
            roles=parse_roles(roles if isinstance(roles, list) else []),
            status=opt("status") or "Active",
            name=opt("name"),
            given_name=opt("given_name"),
            family_name=opt("family_name"),
            email=opt("email"),
            lis_person_sourcedid=opt("lis_person_sourcedid"),
            raw=data,
        )


@dataclass(frozen=True)
class Roster:
    """The context and every member across all pages."""

    context: Mapping[str, Any]
    members: tuple[Member, ...]


class NrpsClient:
    """Names and Role Provisioning Services 2.0 over a ``ServiceClient``."""

    def __init__(self, service: ServiceClient) -> None:
        self._service = service

    def roster(
        self,
        context_memberships_url: str,
        *,
        role: str | None = None,
        limit: int | None = None,
        rlid: str | None = None,
    ) -> Roster:
        """All members (every page via ``Link rel="next"``, URL case kept)."""
        params = {
            k: v
            for k, v in {"role": role, "limit": str(limit) if limit else None, "rlid": rlid}.items()
            if v is not None
        }
        context: Mapping[str, Any] = {}
        members: list[Member] = []
        for page in self._service.paged(
            context_memberships_url,
            scopes=[c.SCOPE_NRPS],
            accept=c.MEDIA_MEMBERSHIP_CONTAINER,
            params=params,
        ):
            data = page.data
            if not isinstance(data, dict) or not isinstance(data.get("members"), list):
                raise PermanentServiceError("bad_response", "not a membership container")
            if not context and isinstance(data.get("context"), dict):
                context = data["context"]
            try:
                members.extend(Member.from_json(m) for m in data["members"])
            except ValueError as exc:
                raise PermanentServiceError("bad_response", str(exc)) from None
        return Roster(context=context, members=tuple(members))
