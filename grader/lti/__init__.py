"""LTI 1.3 Advantage protocol layer: login, launch, deep linking, AGS, NRPS, tool keys.

Protocol only: no Flask, no SQLAlchemy, no business rules. The web layer wires it in through
a few seams (all Protocols or plain dataclasses):

- ``RegistrationStore`` (registration.py): (issuer, client_id) → ``Registration``.
- ``StateStore`` / ``NonceStore`` (stores.py): one-time login state and nonces.
- ``KeyRecord`` list (keys.py): our keys with next/active/retired states → ``jwks_document``.
- ``TokenCache`` (services.py): service access tokens.
- ``LoginHandler.initiate`` → ``/lti/login``; ``LaunchValidator.validate`` → ``/lti/launch``;
  ``build_deep_linking_response`` → the deep-link return page; ``AgsClient``/``NrpsClient`` →
  the score outbox worker and roster sync.

Per-LMS quirks (../shared/LTI.md) and where they are handled:

- Canvas: one ``iss`` and JWKS for all customers, so registrations are keyed by (issuer,
  client_id) and a login without client_id is refused when the issuer is ambiguous
  (login.py); the client-assertion ``aud`` is the token URL exactly (registration.py); the
  Test Student is flagged (``LaunchData.gradable``) and its 422 is a permanent per-student
  error (services.py); endpoints live on ``sso.canvaslms.com`` (``preset_registration``).
- Moodle: ``aud`` is a plain string (launch.py accepts string or list); line item URLs carry
  ``?type_id=``, so ``/scores`` goes before the query (grades.py); a User-Agent is always sent.
- Blackboard: one client id, deployments per institution (unknown deployments are refused);
  score timestamps always carry a zone (grades.py).
- Brightspace: assertion ``aud`` is ``https://api.brightspace.com/auth/token``
  (``Registration.auth_audience``); JWKS keys without ``alg`` count as RS256 (jwks_client.py);
  our deep-linking JWT always has a ``kid`` header (deep_linking.py).
"""

from grader.lti.deep_linking import DeepLinkingResponse
from grader.lti.deep_linking import ResourceLinkItem
from grader.lti.deep_linking import build_deep_linking_response
from grader.lti.errors import ConfigError
from grader.lti.errors import DeepLinkingError
from grader.lti.errors import JwksError
from grader.lti.errors import LaunchError
from grader.lti.errors import LoginError
from grader.lti.errors import LtiError
from grader.lti.errors import PermanentServiceError
from grader.lti.errors import RetryableServiceError
from grader.lti.errors import ServiceError
from grader.lti.grades import LineItem
from grader.lti.grades import LineItemSpec
from grader.lti.grades import Score
from grader.lti.grades import format_timestamp
from grader.lti.grades import next_timestamp
from grader.lti.jwks_client import JwksClient
from grader.lti.keys import KeyRecord
from grader.lti.keys import KeyState
from grader.lti.keys import active_key
from grader.lti.keys import generate_key_record
from grader.lti.keys import jwks_document
from grader.lti.keys import key_record_from_pem
from grader.lti.keys import prune_retired
from grader.lti.keys import rotate
from grader.lti.launch import LaunchData
from grader.lti.launch import LaunchValidator
from grader.lti.login import CookieSpec
from grader.lti.login import LoginHandler
from grader.lti.login import LoginRedirect
from grader.lti.login import clear_state_cookie
from grader.lti.login import state_cookie_name
from grader.lti.registration import InMemoryRegistrationStore
from grader.lti.registration import Registration
from grader.lti.registration import RegistrationStore
from grader.lti.registration import ToolConfig
from grader.lti.registration import canvas_developer_key_json
from grader.lti.registration import paste_config
from grader.lti.registration import preset_registration
from grader.lti.roles import Roles
from grader.lti.roles import parse_roles
from grader.lti.services import AgsClient
from grader.lti.services import Member
from grader.lti.services import MemoryTokenCache
from grader.lti.services import NrpsClient
from grader.lti.services import Roster
from grader.lti.services import ServiceClient
from grader.lti.services import TokenCache
from grader.lti.stores import LoginState
from grader.lti.stores import MemoryNonceStore
from grader.lti.stores import MemoryStateStore
from grader.lti.stores import NonceStore
from grader.lti.stores import StateStore

__all__ = [
    "AgsClient",
    "ConfigError",
    "CookieSpec",
    "DeepLinkingError",
    "DeepLinkingResponse",
    "InMemoryRegistrationStore",
    "JwksClient",
    "JwksError",
    "KeyRecord",
    "KeyState",
    "LaunchData",
    "LaunchError",
    "LaunchValidator",
    "LineItem",
    "LineItemSpec",
    "LoginError",
    "LoginHandler",
    "LoginRedirect",
    "LoginState",
    "LtiError",
    "Member",
    "MemoryNonceStore",
    "MemoryStateStore",
    "MemoryTokenCache",
    "NonceStore",
    "NrpsClient",
    "PermanentServiceError",
    "Registration",
    "RegistrationStore",
    "ResourceLinkItem",
    "RetryableServiceError",
    "Roles",
    "Roster",
    "Score",
    "ServiceClient",
    "ServiceError",
    "StateStore",
    "TokenCache",
    "ToolConfig",
    "active_key",
    "build_deep_linking_response",
    "canvas_developer_key_json",
    "clear_state_cookie",
    "format_timestamp",
    "generate_key_record",
    "jwks_document",
    "key_record_from_pem",
    "next_timestamp",
    "parse_roles",
    "paste_config",
    "preset_registration",
    "prune_retired",
    "rotate",
    "state_cookie_name",
]
