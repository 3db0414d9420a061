"""Platform registrations, the tool's own URLs, per-LMS presets and "what to paste" configs.

A registration is keyed by (issuer, client_id), never by issuer alone: every Canvas Cloud
customer shares ``https://canvas.instructure.com`` and one JWKS, so the issuer alone does not
identify a tenant (LTI.md §1, §4 "tenant confusion").

Seam: the lead's ``Registration``/``Deployment`` tables implement ``RegistrationStore``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Literal
from typing import Protocol
from urllib.parse import urlsplit

from grader.lti import claims
from grader.lti.errors import ConfigError

PlatformFamily = Literal["generic", "canvas", "moodle", "blackboard", "brightspace"]

BRIGHTSPACE_TOKEN_AUDIENCE = "https://api.brightspace.com/auth/token"  # noqa: S105 (a URL)


@dataclass(frozen=True)
class Registration:
    """What an admin pastes from the LMS: one tool registration on one platform.

    Attributes:
        issuer: the platform's ``iss`` (exact string compare).
        client_id: our client id on that platform; with ``issuer`` the registration key.
        auth_login_url: the platform's OIDC authorization endpoint.
        token_url: the OAuth2 token endpoint for AGS/NRPS.
        jwks_url: the platform's key set URL.
        deployment_ids: the deployments admins approved; launches from others are refused.
        auth_audience: the client-assertion ``aud`` when it is not the token URL (D2L).
        platform_family: which quirks apply; informational except for presets.
    """

    issuer: str
    client_id: str
    auth_login_url: str
    token_url: str
    jwks_url: str
    deployment_ids: frozenset[str] = field(default_factory=frozenset)
    auth_audience: str | None = None
    platform_family: PlatformFamily = "generic"

    def __post_init__(self) -> None:
        for name in ("auth_login_url", "token_url", "jwks_url"):
            url = getattr(self, name)
            if urlsplit(url).scheme not in ("http", "https"):
                raise ConfigError("bad_registration", f"{name} must be an http(s) URL")
        if not self.issuer or not self.client_id:
            raise ConfigError("bad_registration", "issuer and client_id are required")
        object.__setattr__(self, "deployment_ids", frozenset(self.deployment_ids))

    @property
    def key(self) -> tuple[str, str]:
        """(issuer, client_id): the only identity of a registration."""
        return (self.issuer, self.client_id)

    @property
    def token_audience(self) -> str:
        """``aud`` of our client assertion: the token URL exactly as registered (Canvas rejects
        even a trailing slash, canvas-lms#1925), except where the platform documents another
        audience (D2L: ``https://api.brightspace.com/auth/token``)."""
        return self.auth_audience or self.token_url

    def has_deployment(self, deployment_id: str) -> bool:
        """True if admins approved this deployment of the registration."""
        return deployment_id in self.deployment_ids


class RegistrationStore(Protocol):
    """Lookup of registrations; the lead implements it over the ``Registration`` table."""

    def find(self, issuer: str, client_id: str) -> Registration | None:
        """The registration for exactly (issuer, client_id), or None."""
        ...

    def find_by_issuer(self, issuer: str) -> Sequence[Registration]:
        """All registrations of an issuer (used only to resolve a login without client_id)."""
        ...


class InMemoryRegistrationStore:
    """A thread-safe dict-backed ``RegistrationStore`` for tests and the CLI."""

    def __init__(self, registrations: Iterable[Registration] = ()) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str], Registration] = {}
        for registration in registrations:
            self.add(registration)

    def add(self, registration: Registration) -> None:
        """Insert or replace by (issuer, client_id)."""
        with self._lock:
            self._by_key[registration.key] = registration

    def find(self, issuer: str, client_id: str) -> Registration | None:
        with self._lock:
            return self._by_key.get((issuer, client_id))

    def find_by_issuer(self, issuer: str) -> Sequence[Registration]:
        with self._lock:
            return [r for (iss, _), r in self._by_key.items() if iss == issuer]


def preset_registration(
    family: PlatformFamily,
    *,
    client_id: str,
    deployment_ids: Iterable[str] = (),
    host: str | None = None,
) -> Registration:
    """A registration with the endpoints LTI.md lists for each LMS.

    Args:
        family: canvas (Cloud), moodle, blackboard or brightspace.
        client_id: our client id on the platform.
        deployment_ids: approved deployments.
        host: base URL of the site (``https://moodle.example.edu``); required for moodle and
            brightspace, ignored for canvas and blackboard whose endpoints are central.
    """
    deployments = frozenset(deployment_ids)
    if family == "canvas":
        return Registration(
            issuer="https://canvas.instructure.com",
            client_id=client_id,
            auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
            token_url="https://sso.canvaslms.com/login/oauth2/token",  # noqa: S106 (a URL)
            jwks_url="https://sso.canvaslms.com/api/lti/security/jwks",
            deployment_ids=deployments,
            platform_family="canvas",
        )
    if family == "blackboard":
        return Registration(
            issuer="https://blackboard.com",
            client_id=client_id,
            auth_login_url="https://developer.blackboard.com/api/v1/gateway/oidcauth",
            token_url="https://developer.blackboard.com/api/v1/gateway/oauth2/jwttoken",  # noqa: S106 (a URL)
            jwks_url=f"https://developer.blackboard.com/api/v1/management/applications/{client_id}/jwks.json",
            deployment_ids=deployments,
            platform_family="blackboard",
        )
    if host is None:
        raise ConfigError("bad_registration", f"{family} needs the site's host URL")
    root = host.rstrip("/")
    if family == "moodle":
        return Registration(
            issuer=root,
            client_id=client_id,
            auth_login_url=f"{root}/mod/lti/auth.php",
            token_url=f"{root}/mod/lti/token.php",
            jwks_url=f"{root}/mod/lti/certs.php",
            deployment_ids=deployments,
            platform_family="moodle",
        )
    if family == "brightspace":
        return Registration(
            issuer=root,
            client_id=client_id,
            auth_login_url=f"{root}/d2l/lti/authenticate",
            token_url="https://auth.brightspace.com/core/connect/token",  # noqa: S106 (a URL)
            jwks_url=f"{root}/d2l/.well-known/jwks",
            deployment_ids=deployments,
            auth_audience=BRIGHTSPACE_TOKEN_AUDIENCE,
            platform_family="brightspace",
        )
    raise ConfigError("bad_registration", f"no preset for {family!r}")


@dataclass(frozen=True)
class ToolConfig:
    """The tool's own public URLs, derived from one external base URL.

    Seam: the lead builds it from app config (``PREFERRED_URL_SCHEME``/``SERVER_NAME`` or an
    explicit ``LTI_BASE_URL``) and mounts the Flask routes on these paths.
    """

    base_url: str
    title: str = "grader"
    description: str = "Teaches backpropagation by grading it."
    login_path: str = "/lti/login"
    launch_path: str = "/lti/launch"
    jwks_path: str = "/lti/jwks"
    canvas_config_path: str = "/lti/config/canvas.json"
    scopes: tuple[str, ...] = claims.ALL_SCOPES

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError("bad_tool_config", "base_url must be an absolute http(s) URL")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    @property
    def login_url(self) -> str:
        return self.base_url + self.login_path

    @property
    def launch_url(self) -> str:
        """Both the OIDC ``redirect_uri`` and the default ``target_link_uri``."""
        return self.base_url + self.launch_path

    @property
    def jwks_url(self) -> str:
        return self.base_url + self.jwks_path

    @property
    def canvas_config_url(self) -> str:
        return self.base_url + self.canvas_config_path

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).netloc

    def is_own_url(self, url: str) -> bool:
        """True if ``url`` is on our origin (scheme + host + port): no open redirects."""
        ours = urlsplit(self.base_url)
        theirs = urlsplit(url)
        return (theirs.scheme, theirs.netloc.lower()) == (ours.scheme, ours.netloc.lower())


def canvas_developer_key_json(
    tool: ToolConfig, *, privacy_level: str = "public", custom_fields: dict[str, str] | None = None
) -> dict[str, Any]:
    """The Canvas developer-key JSON ("Paste JSON" or "Enter URL" at ``/lti/config/canvas.json``).

    Deep linking is offered at ``link_selection`` (modules) and ``assignment_selection``
    (assignments: the graded path, carrying our lineItem), plus a course-navigation launch.
    """
    deep_link = {
        "message_type": claims.MESSAGE_DEEP_LINKING_REQUEST,
        "target_link_uri": tool.launch_url,
    }
    placements = [
        {"placement": "link_selection", "text": tool.title, **deep_link},
        {"placement": "assignment_selection", "text": tool.title, **deep_link},
        {
            "placement": "course_navigation",
            "text": tool.title,
            "message_type": claims.MESSAGE_RESOURCE_LINK,
            "target_link_uri": tool.launch_url,
            "default": "disabled",
        },
    ]
    return {
        "title": tool.title,
        "description": tool.description,
        "oidc_initiation_url": tool.login_url,
        "target_link_uri": tool.launch_url,
        "public_jwk_url": tool.jwks_url,
        "scopes": list(tool.scopes),
        "custom_fields": dict(custom_fields or {}),
        "extensions": [
            {
                "domain": tool.domain,
                "platform": "canvas.instructure.com",
                "privacy_level": privacy_level,
                "settings": {"text": tool.title, "placements": placements},
            }
        ],
    }


def paste_config(tool: ToolConfig) -> dict[str, str]:
    """The generic values any LMS asks for when registering a tool (``grader lti show-config``)."""
    return {
        "Tool name": tool.title,
        "OIDC login / initiation URL": tool.login_url,
        "Launch / redirect / target link URL": tool.launch_url,
        "Deep linking URL": tool.launch_url,
        "Public keyset (JWKS) URL": tool.jwks_url,
        "Canvas developer-key JSON URL": tool.canvas_config_url,
        "Services (scopes)": " ".join(tool.scopes),
    }
