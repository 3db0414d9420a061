"""The tool side of the protocol tests: grader.lti wired with in-memory stores.

It stands in for the lead's Flask routes: ``login.initiate`` is ``/lti/login``,
``validator.validate`` is ``/lti/launch``. Our JWKS is served over real HTTP so that the fake
platform's token and deep-link endpoints fetch it like a real LMS would.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization

from grader.lti.jwks_client import JwksClient
from grader.lti.keys import KeyRecord
from grader.lti.keys import KeyState
from grader.lti.keys import active_key
from grader.lti.keys import jwks_document
from grader.lti.keys import key_record_from_pem
from grader.lti.launch import LaunchData
from grader.lti.launch import LaunchValidator
from grader.lti.login import LoginHandler
from grader.lti.login import LoginRedirect
from grader.lti.registration import InMemoryRegistrationStore
from grader.lti.registration import Registration
from grader.lti.registration import ToolConfig
from grader.lti.services import ServiceClient
from grader.lti.stores import MemoryNonceStore
from grader.lti.stores import MemoryStateStore
from tests.lti.fake_platform import FakePlatform
from tests.lti.fake_platform import FormPost
from tests.lti.fake_platform import pooled_key


def pooled_key_record(index: int, state: KeyState) -> KeyRecord:
    """A tool key record from the shared key pool (RSA generation is slow)."""
    pem = pooled_key(index).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_record_from_pem(pem, state)


class FakeClock:
    """A settable clock (monotonic or wall seconds) for cache and expiry tests."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class LaunchAttempt:
    """One login → auth round trip, ready to be POSTed to the launch endpoint."""

    redirect: LoginRedirect
    form: dict[str, str]
    cookies: dict[str, str]


class ToolHarness:
    """grader.lti as the web app will use it, plus an HTTP server for ``/lti/jwks``."""

    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        self.keys: list[KeyRecord] = [pooled_key_record(1, KeyState.ACTIVE)]
        harness = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Silence stderr."""

            def do_GET(self) -> None:
                if self.path != "/lti/jwks":
                    self.send_error(404)
                    return
                body = json.dumps(jwks_document(harness.keys)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        self.config = ToolConfig(base_url=f"http://127.0.0.1:{self._server.server_address[1]}")
        self.registrations = InMemoryRegistrationStore()
        self.states = MemoryStateStore()
        self.nonces = MemoryNonceStore()
        self.jwks_clock = FakeClock(1000.0)
        self.jwks_client = JwksClient(clock=self.jwks_clock, allow_private_urls=True)
        wall_clock = clock or time.time
        self.login = LoginHandler(
            tool=self.config,
            registrations=self.registrations,
            states=self.states,
            nonces=self.nonces,
            clock=wall_clock,
        )
        self.validator = LaunchValidator(
            registrations=self.registrations,
            states=self.states,
            nonces=self.nonces,
            keys=self.jwks_client,
            clock=wall_clock,
        )
        self._services: list[ServiceClient] = []

    def close(self) -> None:
        for service in self._services:
            service.close()
        self.jwks_client.close()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def connect(self, platform: FakePlatform, **register: Any) -> Registration:
        """Register the tool on the platform and the platform in the tool (both admins' work)."""
        tool = platform.register_tool(
            login_url=self.config.login_url,
            launch_url=self.config.launch_url,
            jwks_url=self.config.jwks_url,
            **register,
        )
        registration = platform.registration(tool.client_id)
        self.registrations.add(registration)
        return registration

    def attempt(self, platform: FakePlatform, client_id: str, **launch: Any) -> LaunchAttempt:
        """Platform initiation → our login → platform /auth (HTTP) → the form to POST to us."""
        initiation = platform.launch_request(client_id, **launch)
        redirect = self.login.initiate(initiation.params)
        post: FormPost = platform.authorize(redirect.url)
        assert post.action == self.config.launch_url
        return LaunchAttempt(
            redirect, dict(post.fields), {redirect.cookie.name: redirect.cookie.value}
        )

    def launch(self, platform: FakePlatform, client_id: str, **launch: Any) -> LaunchData:
        """A full, valid launch."""
        attempt = self.attempt(platform, client_id, **launch)
        return self.validator.validate(attempt.form, attempt.cookies)

    def service(self, registration: Registration, **kwargs: Any) -> ServiceClient:
        """A service client signed with our active key (closed with the harness)."""
        kwargs.setdefault("allow_private_urls", True)  # the fake platform is on loopback
        client = ServiceClient(registration, active_key(self.keys), **kwargs)
        self._services.append(client)
        return client
