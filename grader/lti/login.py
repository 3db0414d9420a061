"""OIDC third-party login initiation (platform → tool → platform auth endpoint).

Seam: the lead's ``GET|POST /lti/login`` route passes ``request.values`` to
``LoginHandler.initiate``, sets ``redirect.cookie`` on the response (``set_cookie(**
redirect.cookie.set_cookie_kwargs())``) and answers 302 to ``redirect.url`` (or renders an
auto-submit form from ``redirect.action``/``redirect.params``). ``LoginError`` → 400 page.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from grader.lti.errors import LoginError
from grader.lti.registration import Registration
from grader.lti.registration import RegistrationStore
from grader.lti.registration import ToolConfig
from grader.lti.stores import LoginState
from grader.lti.stores import NonceStore
from grader.lti.stores import StateStore

logger = logging.getLogger(__name__)

STATE_COOKIE_PREFIX = "lti1p3_state_"
"""One cookie per state, so two tool iframes launching on one LMS page do not clobber each other."""
STATE_TTL_SECONDS = 600
_MAX_PARAM_LENGTH = 4096


def state_cookie_name(state: str) -> str:
    """Name of the cookie that binds ``state`` to this browser."""
    return STATE_COOKIE_PREFIX + state


@dataclass(frozen=True)
class CookieSpec:
    """A cookie to set, framework-neutral.

    Launches are cross-site POSTs inside an LMS iframe: the cookie must be
    ``SameSite=None; Secure`` to be sent at all, and ``Partitioned`` (CHIPS) so that browsers
    blocking third-party cookies still keep it per top-level site (LTI.md §4).
    """

    name: str
    value: str = field(repr=False)
    max_age: int
    path: str = "/"
    secure: bool = True
    http_only: bool = True
    same_site: str = "None"
    partitioned: bool = True

    def header_value(self) -> str:
        """The ``Set-Cookie`` header value."""
        parts = [f"{self.name}={self.value}", f"Max-Age={self.max_age}", f"Path={self.path}"]
        if self.secure:
            parts.append("Secure")
        if self.http_only:
            parts.append("HttpOnly")
        parts.append(f"SameSite={self.same_site}")
        if self.partitioned:
            parts.append("Partitioned")
        return "; ".join(parts)

    def set_cookie_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for Werkzeug's ``Response.set_cookie`` (Werkzeug >= 3.0)."""
        return {
            "key": self.name,
            "value": self.value,
            "max_age": self.max_age,
            "path": self.path,
            "secure": self.secure,
            "httponly": self.http_only,
            "samesite": self.same_site,
            "partitioned": self.partitioned,
        }


def clear_state_cookie(state: str) -> CookieSpec:
    """The cookie that deletes a state cookie after the launch (Max-Age=0)."""
    return CookieSpec(name=state_cookie_name(state), value="", max_age=0)


@dataclass(frozen=True)
class LoginRedirect:
    """Where to send the browser after a successful initiation.

    Attributes:
        url: the platform auth endpoint with all parameters in the query (for a 302).
        action: the auth endpoint without our parameters (for a form POST instead).
        params: our authentication request parameters.
        cookie: the state cookie to set on the response.
        registration: the registration the login resolved to.
    """

    url: str
    action: str
    params: dict[str, str]
    cookie: CookieSpec
    registration: Registration

    @property
    def state(self) -> str:
        return self.params["state"]


def _param(params: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise LoginError("missing_param", f"the login request lacks {name!r}")
        return None
    if not isinstance(value, str) or len(value) > _MAX_PARAM_LENGTH:
        raise LoginError("bad_param", f"{name!r} is not a short string")
    return value


def _with_query(url: str, extra: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(extra.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


class LoginHandler:
    """Handles OIDC third-party initiated login for every registration."""

    def __init__(
        self,
        *,
        tool: ToolConfig,
        registrations: RegistrationStore,
        states: StateStore,
        nonces: NonceStore,
        ttl_seconds: int = STATE_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tool = tool
        self._registrations = registrations
        self._states = states
        self._nonces = nonces
        self._ttl = ttl_seconds
        self._clock = clock

    def resolve(
        self, issuer: str, client_id: str | None, deployment_id: str | None = None
    ) -> Registration:
        """The registration for (issuer, client_id).

        Without a client_id (optional in the initiation, LTI Core 1.3 §4.1.3), the issuer must
        have a single registration, or ``lti_deployment_id`` must be approved for exactly one
        of its registrations.
        """
        if client_id is not None:
            found = self._registrations.find(issuer, client_id)
            if found is not None:
                return found
            if self._registrations.find_by_issuer(issuer):
                raise LoginError(
                    "unknown_client", "this client id is not registered for the issuer"
                )
            raise LoginError("unknown_issuer", "this platform is not registered")
        candidates = list(self._registrations.find_by_issuer(issuer))
        if not candidates:
            raise LoginError("unknown_issuer", "this platform is not registered")
        if len(candidates) > 1 and deployment_id is not None:
            deployed = [r for r in candidates if r.has_deployment(deployment_id)]
            if len(deployed) == 1:
                return deployed[0]
        if len(candidates) > 1:
            raise LoginError(
                "ambiguous_issuer", "several registrations share this issuer; client_id is required"
            )
        return candidates[0]

    def initiate(self, params: Mapping[str, Any]) -> LoginRedirect:
        """Validate the initiation parameters (GET query or POST form) and build the redirect.

        Raises:
            LoginError: missing_param, bad_param, unknown_issuer, unknown_client,
                ambiguous_issuer or bad_target_link_uri.
        """
        issuer = _param(params, "iss", required=True)
        login_hint = _param(params, "login_hint", required=True)
        target_link_uri = _param(params, "target_link_uri", required=True)
        message_hint = _param(params, "lti_message_hint", required=False)
        client_id = _param(params, "client_id", required=False)
        deployment_id = _param(params, "lti_deployment_id", required=False)
        assert issuer is not None
        assert login_hint is not None
        assert target_link_uri is not None

        registration = self.resolve(issuer, client_id, deployment_id)
        if not self._tool.is_own_url(target_link_uri):
            raise LoginError("bad_target_link_uri", "target_link_uri is not on this tool's origin")

        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        expires_at = self._clock() + self._ttl
        self._states.put(
            LoginState(
                state=state,
                nonce=nonce,
                issuer=registration.issuer,
                client_id=registration.client_id,
                target_link_uri=target_link_uri,
                expires_at=expires_at,
                deployment_id=deployment_id,
            )
        )
        self._nonces.put(nonce, expires_at)

        auth_params = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": registration.client_id,
            "redirect_uri": self._tool.launch_url,
            "login_hint": login_hint,
            "state": state,
            "nonce": nonce,
        }
        if message_hint is not None:
            auth_params["lti_message_hint"] = message_hint
        logger.info(
            "lti login initiated: issuer=%s client_id=%s",
            registration.issuer,
            registration.client_id,
        )
        return LoginRedirect(
            url=_with_query(registration.auth_login_url, auth_params),
            action=registration.auth_login_url,
            params=auth_params,
            cookie=CookieSpec(name=state_cookie_name(state), value=state, max_age=self._ttl),
            registration=registration,
        )
