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
from grader.lti.keys import rotate
from grader.lti.launch import LaunchData
from grader.lti.launch import LaunchValidator
from grader.lti.login import CookieSpec
from grader.lti.login import LoginHandler
from grader.lti.login import LoginRedirect
from grader.lti.login import clear_state_cookie
from grader.lti.registration import InMemoryRegistrationStore
from grader.lti.registration import Registration
from grader.lti.registration import RegistrationStore
from grader.lti.registration import ToolConfig
from grader.lti.registration import canvas_developer_key_json
from grader.lti.registration import paste_config
from grader.lti.registration import preset_registration
from grader.lti.services import AgsClient
from grader.lti.services import NrpsClient
from grader.lti.services import ServiceClient
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
    "MemoryNonceStore",
    "MemoryStateStore",
    "NonceStore",
    "NrpsClient",
    "PermanentServiceError",
    "Registration",
    "RegistrationStore",
    "ResourceLinkItem",
    "RetryableServiceError",
    "Score",
    "ServiceClient",
    "ServiceError",
    "StateStore",
    "ToolConfig",
    "active_key",
    "build_deep_linking_response",
    "canvas_developer_key_json",
    "clear_state_cookie",
    "format_timestamp",
    "generate_key_record",
    "jwks_document",
    "next_timestamp",
    "paste_config",
    "preset_registration",
    "rotate",
]
