"""Launch validation: the id_token POSTed to ``/lti/launch`` checked in full, or refused.

Order (LTI.md §1 "Launch"): platform error → state cookie and stored state (consumed once) →
header (RS256 only, kid required) → issuer bound to the login's registration → signature
against the platform JWKS → exp/iat with leeway → aud/azp → nonce (consumed once, equal to the
login's) → known deployment, the one the login named if it named one → version → message type
→ required claims → roles (a deep-linking request needs a course instructor).

Seam: the lead's ``POST /lti/launch`` passes ``request.form`` and ``request.cookies`` to
``LaunchValidator.validate``; on ``LaunchData`` it maps users/courses/links, rotates the session
(new session id) and deletes the state cookie (``clear_state_cookie``); on ``LaunchError`` it
answers 4xx with ``error.code`` and creates no session or launch row.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import jwt
from jwt.exceptions import DecodeError
from jwt.exceptions import InvalidAlgorithmError
from jwt.exceptions import InvalidSignatureError
from jwt.exceptions import InvalidTokenError

from grader.lti import claims as c
from grader.lti.errors import JwksError
from grader.lti.errors import LaunchError
from grader.lti.errors import UnknownDeployment
from grader.lti.jwks_client import KeyResolver
from grader.lti.login import STATE_COOKIE_PREFIX
from grader.lti.login import state_cookie_name
from grader.lti.registration import Registration
from grader.lti.registration import RegistrationStore
from grader.lti.roles import CourseRole
from grader.lti.roles import Roles
from grader.lti.roles import parse_roles
from grader.lti.stores import LoginState
from grader.lti.stores import NonceStore
from grader.lti.stores import StateStore

logger = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = ("RS256",)
DEFAULT_LEEWAY_SECONDS = 60
DEFAULT_MAX_TOKEN_AGE_SECONDS = 600
_MAX_TOKEN_LENGTH = 64 * 1024


@dataclass(frozen=True)
class Context:
    """The course (``.../claim/context``)."""

    id: str
    label: str | None = None
    title: str | None = None
    types: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceLink:
    """The placement launched (``.../claim/resource_link``)."""

    id: str
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class AgsEndpoint:
    """Assignment and Grade Services endpoint claim."""

    scopes: tuple[str, ...] = ()
    lineitems: str | None = None
    lineitem: str | None = None

    @property
    def can_score(self) -> bool:
        return c.SCOPE_SCORE in self.scopes


@dataclass(frozen=True)
class NrpsEndpoint:
    """Names and Role Provisioning Services claim."""

    context_memberships_url: str
    service_versions: tuple[str, ...] = ()


JsonValue = None | bool | int | float | str | list[Any] | dict[str, Any]
"""Any value JSON can carry (``deep_linking_settings.data`` is one)."""


@dataclass(frozen=True)
class DeepLinkingSettings:
    """``deep_linking_settings`` of an ``LtiDeepLinkingRequest``."""

    deep_link_return_url: str
    accept_types: tuple[str, ...]
    accept_presentation_document_targets: tuple[str, ...]
    accept_media_types: str | None = None
    accept_multiple: bool = False
    accept_lineitem: bool = True
    auto_create: bool = False
    title: str | None = None
    text: str | None = None
    # Opaque to us: DL 2.0 only asks the tool to send it back unchanged, and platforms send
    # strings (Canvas, Moodle) or objects (some libraries). None: the platform sent none.
    data: JsonValue = None


@dataclass(frozen=True)
class LaunchData:
    """A validated launch. Map users by (registration key, ``sub``), courses by (deployment,
    context id), links by (deployment, resource link id).

    ``claims`` holds the full verified payload (PII: never log it).
    """

    message_type: str
    registration: Registration
    deployment_id: str
    sub: str | None
    roles: Roles
    target_link_uri: str | None = None
    context: Context | None = None
    resource_link: ResourceLink | None = None
    deep_linking: DeepLinkingSettings | None = None
    ags: AgsEndpoint | None = None
    nrps: NrpsEndpoint | None = None
    custom: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    launch_presentation: Mapping[str, Any] = field(default_factory=dict)
    tool_platform: Mapping[str, Any] = field(default_factory=dict)
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def issuer(self) -> str:
        return self.registration.issuer

    @property
    def client_id(self) -> str:
        return self.registration.client_id

    @property
    def is_deep_linking(self) -> bool:
        return self.message_type == c.MESSAGE_DEEP_LINKING_REQUEST

    @property
    def is_anonymous(self) -> bool:
        """No ``sub``: view only, never grade."""
        return self.sub is None

    @property
    def course_role(self) -> CourseRole | None:
        return self.roles.course_role

    @property
    def is_instructor(self) -> bool:
        return self.roles.is_instructor

    @property
    def is_learner(self) -> bool:
        return self.roles.is_learner

    @property
    def gradable(self) -> bool:
        """A learner with a ``sub`` whose scores the platform will accept (not a test user)."""
        return (
            self.sub is not None
            and self.roles.course_role == "learner"
            and not (self.roles.is_test_user)
        )

    @property
    def product_family_code(self) -> str | None:
        value = self.tool_platform.get("product_family_code")
        return value if isinstance(value, str) else None


def _fail(code: str, message: str) -> LaunchError:
    logger.info("lti launch refused: %s (%s)", code, message)
    return LaunchError(code, message)


def _opt_str(payload: Mapping[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail("bad_claim", f"{name} must be a string")
    return value


def _req_str(payload: Mapping[str, Any], name: str, what: str) -> str:
    value = payload.get(name)
    if value is None or value == "":
        raise _fail("missing_claim", f"{what} is required")
    if not isinstance(value, str):
        raise _fail("bad_claim", f"{what} must be a string")
    return value


def _opt_obj(payload: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _fail("bad_claim", f"{name} must be an object")
    return value


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail("bad_claim", f"{what} must be an array of strings")
    return tuple(value)


def _number(payload: Mapping[str, Any], name: str) -> float:
    value = payload.get(name)
    if value is None:
        raise _fail("missing_claim", f"{name} is required")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail("bad_claim", f"{name} must be a number")
    return float(value)


class LaunchValidator:
    """Validates id_token launches for every registration.

    Args:
        registrations: lookup of (issuer, client_id).
        states: server-side login states (consumed once).
        nonces: issued nonces (consumed once).
        keys: platform key resolver, normally a shared ``JwksClient``.
        leeway: seconds of clock skew tolerated on exp/iat/nbf (PyJWT's default 0 breaks
            launches: ltiauthenticator#197).
        max_token_age: refuse tokens issued longer ago than this.
        instructor_only_deep_linking: refuse ``LtiDeepLinkingRequest`` from non-instructors.
        clock: POSIX seconds (injectable for tests).
    """

    def __init__(
        self,
        *,
        registrations: RegistrationStore,
        states: StateStore,
        nonces: NonceStore,
        keys: KeyResolver,
        leeway: float = DEFAULT_LEEWAY_SECONDS,
        max_token_age: float = DEFAULT_MAX_TOKEN_AGE_SECONDS,
        instructor_only_deep_linking: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._registrations = registrations
        self._states = states
        self._nonces = nonces
        self._keys = keys
        self._leeway = leeway
        self._max_age = max_token_age
        self._instructor_only_dl = instructor_only_deep_linking
        self._clock = clock

    def validate(self, form: Mapping[str, Any], cookies: Mapping[str, str]) -> LaunchData:
        """Validate one launch POST.

        Args:
            form: the POSTed fields (``id_token``, ``state``; or ``error``, ``error_description``).
            cookies: the request cookies (the state cookie is looked up by state).

        Raises:
            LaunchError: with a stable ``code`` for every refusal.
        """
        if form.get("error"):
            description = form.get("error_description") or ""
            raise _fail("platform_error", f"{form.get('error')}: {description}"[:300])
        now = self._clock()
        state_record = self._check_state(form, cookies, now)

        token = form.get("id_token")
        if not isinstance(token, str) or not token:
            raise _fail("missing_id_token", "the launch has no id_token")
        if len(token) > _MAX_TOKEN_LENGTH:
            raise _fail("malformed_token", "the id_token is too large")
        kid = self._check_header(token)

        unverified = self._unverified_claims(token)
        registration = self._registration_for(
            unverified, state_record.issuer, state_record.client_id
        )
        payload = self._verify_signature(token, registration, kid)
        self._check_times(payload, now)
        self._check_audience(payload, registration.client_id)
        self._check_nonce(payload, state_record.nonce, now)

        deployment_id = _req_str(payload, c.CLAIM_DEPLOYMENT_ID, "deployment_id")
        if not registration.has_deployment(deployment_id):
            logger.warning(
                "lti launch from an unapproved deployment: issuer=%s client_id=%s "
                "deployment_id=%s (approve it on /lti/admin)",
                registration.issuer,
                registration.client_id,
                deployment_id[:255],
            )
            raise UnknownDeployment(registration.issuer, registration.client_id, deployment_id)
        # LTI Core 1.3 §4.1.2: a login's lti_deployment_id MUST be the launch's deployment_id.
        if state_record.deployment_id is not None and state_record.deployment_id != deployment_id:
            raise _fail("deployment_mismatch", "the launch names another deployment than its login")
        if payload.get(c.CLAIM_VERSION) != c.LTI_VERSION:
            raise _fail("bad_version", "only LTI 1.3.0 is supported")
        message_type = payload.get(c.CLAIM_MESSAGE_TYPE)
        if message_type not in (c.MESSAGE_RESOURCE_LINK, c.MESSAGE_DEEP_LINKING_REQUEST):
            raise _fail("bad_message_type", "unsupported message_type")

        launch = self._build(payload, registration, deployment_id, message_type)
        if launch.is_deep_linking and self._instructor_only_dl and not launch.is_instructor:
            raise _fail("not_instructor", "deep linking needs an instructor role in this course")
        logger.info(
            "lti launch ok: issuer=%s client_id=%s deployment=%s type=%s role=%s",
            registration.issuer,
            registration.client_id,
            deployment_id,
            message_type,
            launch.course_role,
        )
        return launch

    def _check_state(
        self, form: Mapping[str, Any], cookies: Mapping[str, str], now: float
    ) -> LoginState:
        state = form.get("state")
        if not isinstance(state, str) or not state:
            raise _fail("missing_state", "the launch has no state")
        cookie = cookies.get(state_cookie_name(state))
        if cookie is None:
            if any(name.startswith(STATE_COOKIE_PREFIX) for name in cookies):
                raise _fail("state_mismatch", "the state does not match this browser's cookie")
            raise _fail(
                "missing_state_cookie",
                "the state cookie is missing (third-party cookies blocked?); open in a new window",
            )
        if not hmac.compare_digest(cookie.encode(), state.encode()):
            raise _fail("state_mismatch", "the state does not match this browser's cookie")
        record = self._states.consume(state, now)
        if record is None:
            raise _fail("unknown_state", "the login expired or was already used; please relaunch")
        return record

    @staticmethod
    def _check_header(token: str) -> str:
        try:
            header = jwt.get_unverified_header(token)
        except InvalidTokenError:  # DecodeError, and a non-string kid or a bad crit header
            raise _fail("malformed_token", "the id_token is not a JWT") from None
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise _fail("bad_algorithm", "only RS256 id_tokens are accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _fail("missing_kid", "the id_token header has no kid")
        return kid

    @staticmethod
    def _unverified_claims(token: str) -> dict[str, Any]:
        try:
            payload = jwt.decode(token, options={"verify_signature": False})
        except InvalidTokenError:
            raise _fail("malformed_token", "the id_token payload is not JSON") from None
        if not isinstance(payload, dict):
            raise _fail("malformed_token", "the id_token payload is not an object")
        return payload

    def _registration_for(
        self, unverified: Mapping[str, Any], state_issuer: str, state_client_id: str
    ) -> Registration:
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or not self._registrations.find_by_issuer(issuer):
            raise _fail("unknown_issuer", "the id_token issuer is not a registered platform")
        if issuer != state_issuer:
            raise _fail(
                "issuer_mismatch", "the id_token comes from another platform than the login"
            )
        registration = self._registrations.find(state_issuer, state_client_id)
        if registration is None:
            raise _fail("unknown_registration", "the registration was removed during the login")
        return registration

    def _verify_signature(self, token: str, registration: Registration, kid: str) -> dict[str, Any]:
        try:
            key = self._keys.get_key(registration.jwks_url, kid)
        except JwksError as exc:
            raise _fail(exc.code, exc.message) from None
        try:
            return jwt.decode(
                token,
                key,
                algorithms=list(ALLOWED_ALGORITHMS),
                options={
                    "verify_signature": True,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except InvalidSignatureError:
            raise _fail("bad_signature", "the id_token signature does not verify") from None
        except InvalidAlgorithmError:
            raise _fail("bad_algorithm", "only RS256 id_tokens are accepted") from None
        except DecodeError:
            raise _fail("malformed_token", "the id_token cannot be decoded") from None
        except InvalidTokenError as exc:
            raise _fail("invalid_token", type(exc).__name__) from None

    def _check_times(self, payload: Mapping[str, Any], now: float) -> None:
        exp = _number(payload, "exp")
        iat = _number(payload, "iat")
        if now > exp + self._leeway:
            raise _fail("expired", "the id_token has expired")
        if iat > now + self._leeway:
            raise _fail("not_yet_valid", "the id_token was issued in the future")
        if "nbf" in payload and _number(payload, "nbf") > now + self._leeway:
            raise _fail("not_yet_valid", "the id_token is not valid yet")
        if now - iat > self._max_age + self._leeway:
            raise _fail("too_old", "the id_token was issued too long ago")

    @staticmethod
    def _check_audience(payload: Mapping[str, Any], client_id: str) -> None:
        aud = payload.get("aud")
        if isinstance(aud, str):
            audiences: tuple[str, ...] = (aud,)
        elif isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud):
            audiences = tuple(aud)
        else:
            raise _fail("bad_audience", "aud must be a string or a non-empty array of strings")
        if client_id not in audiences:
            raise _fail("bad_audience", "the id_token is not meant for this client id")
        azp = payload.get("azp")
        if len(audiences) > 1 and azp is None:
            raise _fail("azp_mismatch", "azp is required when aud has several values")
        if azp is not None and azp != client_id:
            raise _fail("azp_mismatch", "azp is not this client id")

    def _check_nonce(self, payload: Mapping[str, Any], expected: str, now: float) -> None:
        nonce = payload.get("nonce")
        if not isinstance(nonce, str) or not nonce:
            raise _fail("missing_nonce", "the id_token has no nonce")
        if not self._nonces.consume(nonce, now):
            raise _fail("nonce_replayed", "this launch was already used; please relaunch")
        if not hmac.compare_digest(nonce.encode(), expected.encode()):
            raise _fail("nonce_mismatch", "the nonce does not belong to this login")

    def _build(
        self,
        payload: dict[str, Any],
        registration: Registration,
        deployment_id: str,
        message_type: str,
    ) -> LaunchData:
        sub = _opt_str(payload, "sub")
        if sub is not None and not (0 < len(sub) <= 255):
            raise _fail("bad_claim", "sub must be 1 to 255 characters")
        if c.CLAIM_ROLES not in payload:
            raise _fail("missing_claim", "roles is required")
        roles = parse_roles(_str_list(payload[c.CLAIM_ROLES], "roles"))

        context = None
        raw_context = _opt_obj(payload, c.CLAIM_CONTEXT)
        if raw_context is not None:
            context = Context(
                id=_req_str(raw_context, "id", "context.id"),
                label=_opt_str(raw_context, "label"),
                title=_opt_str(raw_context, "title"),
                types=_str_list(raw_context.get("type", []), "context.type"),
            )

        resource_link = None
        deep_linking = None
        target_link_uri = _opt_str(payload, c.CLAIM_TARGET_LINK_URI)
        if message_type == c.MESSAGE_RESOURCE_LINK:
            raw_link = _opt_obj(payload, c.CLAIM_RESOURCE_LINK)
            if raw_link is None:
                raise _fail("missing_claim", "resource_link is required")
            resource_link = ResourceLink(
                id=_req_str(raw_link, "id", "resource_link.id"),
                title=_opt_str(raw_link, "title"),
                description=_opt_str(raw_link, "description"),
            )
            if target_link_uri is None:
                raise _fail("missing_claim", "target_link_uri is required")
        else:
            deep_linking = self._deep_linking_settings(payload)

        return LaunchData(
            message_type=message_type,
            registration=registration,
            deployment_id=deployment_id,
            sub=sub,
            roles=roles,
            target_link_uri=target_link_uri,
            context=context,
            resource_link=resource_link,
            deep_linking=deep_linking,
            ags=self._ags(payload),
            nrps=self._nrps(payload),
            custom=dict(_opt_obj(payload, c.CLAIM_CUSTOM) or {}),
            name=_opt_str(payload, "name"),
            given_name=_opt_str(payload, "given_name"),
            family_name=_opt_str(payload, "family_name"),
            email=_opt_str(payload, "email"),
            launch_presentation=dict(_opt_obj(payload, c.CLAIM_LAUNCH_PRESENTATION) or {}),
            tool_platform=dict(_opt_obj(payload, c.CLAIM_TOOL_PLATFORM) or {}),
            claims=payload,
        )

    @staticmethod
    def _deep_linking_settings(payload: Mapping[str, Any]) -> DeepLinkingSettings:
        raw = _opt_obj(payload, c.CLAIM_DL_SETTINGS)
        if raw is None:
            raise _fail("missing_claim", "deep_linking_settings is required")
        for name in ("accept_types", "accept_presentation_document_targets"):
            if name not in raw:
                raise _fail("missing_claim", f"deep_linking_settings.{name} is required")

        def flag(name: str, default: bool) -> bool:
            value = raw.get(name, default)
            if not isinstance(value, bool):
                raise _fail("bad_claim", f"deep_linking_settings.{name} must be a boolean")
            return value

        return DeepLinkingSettings(
            deep_link_return_url=_req_str(
                raw, "deep_link_return_url", "deep_linking_settings.deep_link_return_url"
            ),
            accept_types=_str_list(raw["accept_types"], "accept_types"),
            accept_presentation_document_targets=_str_list(
                raw["accept_presentation_document_targets"], "accept_presentation_document_targets"
            ),
            accept_media_types=_opt_str(raw, "accept_media_types"),
            accept_multiple=flag("accept_multiple", False),
            accept_lineitem=flag("accept_lineitem", True),
            auto_create=flag("auto_create", False),
            title=_opt_str(raw, "title"),
            text=_opt_str(raw, "text"),
            data=raw.get("data"),
        )

    @staticmethod
    def _ags(payload: Mapping[str, Any]) -> AgsEndpoint | None:
        raw = _opt_obj(payload, c.CLAIM_AGS_ENDPOINT)
        if raw is None:
            return None
        return AgsEndpoint(
            scopes=_str_list(raw.get("scope", []), "ags scope"),
            lineitems=_opt_str(raw, "lineitems"),
            lineitem=_opt_str(raw, "lineitem"),
        )

    @staticmethod
    def _nrps(payload: Mapping[str, Any]) -> NrpsEndpoint | None:
        raw = _opt_obj(payload, c.CLAIM_NRPS)
        if raw is None:
            return None
        return NrpsEndpoint(
            context_memberships_url=_req_str(
                raw, "context_memberships_url", "namesroleservice.context_memberships_url"
            ),
            service_versions=_str_list(raw.get("service_versions", []), "service_versions"),
        )
