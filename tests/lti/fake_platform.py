"""A fake LTI 1.3 Advantage platform (LMS) served over real HTTP on 127.0.0.1.

It has its own RSA keys and plays the LMS side of every flow: OIDC initiation parameters for the
tool's login URL, the ``/auth`` endpoint answering with an auto-submit id_token form, ``/jwks``,
``/token`` (verifies the tool's client assertion against the tool's JWKS URL or registered JWKS),
AGS line items and scores, NRPS memberships, and a deep-linking return endpoint that verifies
the tool's response JWT. Quirk profiles follow ../shared/LTI.md (canvas, moodle, blackboard,
brightspace).

Reusable from web-level tests: start it (``with FakePlatform("canvas") as platform``, or the
``platform`` fixture), ``register_tool(...)``, hand ``launch_request(...).params`` to the tool's
``/lti/login``, follow the tool's redirect with ``authorize(url)`` and POST the returned form to
the tool's launch URL. Assertions read ``platform.scores``, ``platform.gradebook()``,
``platform.line_items``, ``platform.deep_link_returns`` and ``platform.token_requests``.
Tamper hooks: ``make_id_token(..., overrides=..., remove=..., alg=..., key=..., kid=...)``,
``rotate_keys()``, ``fail_scores(n)``, ``fail_scores_for(seconds)``, ``expire_tokens()``,
``grade_in_lms(...)``, ``reply_to_scores_with(...)``, ``lose_score_answers(n, stall=...)``,
``stall_tokens(n, seconds)``; ``closed_port_url(path)`` is a URL where nothing listens.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import html
import itertools
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from requests.structures import CaseInsensitiveDict

from grader.lti import claims as c
from grader.lti.keys import kid_for_public_key
from grader.lti.keys import rsa_public_jwk
from grader.lti.registration import BRIGHTSPACE_TOKEN_AUDIENCE
from grader.lti.registration import Registration

TOOL_UA_REQUIRED_MESSAGE = "Forbidden: requests without a User-Agent are refused"


@functools.lru_cache(maxsize=16)
def pooled_key(index: int) -> rsa.RSAPrivateKey:
    """Deterministic-per-process RSA keys (generation is the slow part of these tests)."""
    del index
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


_key_counter = itertools.count(100)


def fresh_key() -> rsa.RSAPrivateKey:
    """A key not used anywhere else in the test process."""
    return pooled_key(next(_key_counter))


@dataclass(frozen=True)
class Profile:
    """Per-LMS behaviour (LTI.md §1 table and §3 "Quirk profiles")."""

    name: str
    family: str  # Registration.platform_family
    product_family_code: str
    issuer: str | None  # None: the site URL (base_url)
    aud_style: str  # "string" | "list" | "list_azp"
    jwks_alg: bool  # D2L omits "alg" in its JWKS
    jwks_requires_user_agent: bool  # some Moodles 403 without a User-Agent
    token_audience: str | None  # None: the exact token URL (Canvas rejects even a trailing slash)
    lineitem_query: bool  # Moodle line item URLs carry ?type_id=
    not_gradable_status: int
    not_gradable_message: str
    timestamp_error: str
    dl_requires_kid: bool  # D2L
    caps_scores: bool  # D2L caps scoreGiven at scoreMaximum unless "Can Exceed"
    test_student: bool  # Canvas' Test Student
    # Moodle stores strtotime(timestamp) (whole seconds) and answers 409 "Refusing score with an
    # earlier timestamp" unless the new score is in a later second (gradebookservices scores.php).
    whole_second_scores: bool = False


PROFILES: dict[str, Profile] = {
    "canvas": Profile(
        name="canvas",
        family="canvas",
        product_family_code="canvas",
        issuer="https://canvas.instructure.com",
        aud_style="list_azp",
        jwks_alg=True,
        jwks_requires_user_agent=False,
        token_audience=None,
        lineitem_query=False,
        not_gradable_status=422,
        not_gradable_message="User not found in course or is not a student",
        timestamp_error="Provided timestamp of ... not a valid timestamp",
        dl_requires_kid=False,
        caps_scores=False,
        test_student=True,
    ),
    "moodle": Profile(
        name="moodle",
        family="moodle",
        product_family_code="moodle",
        issuer=None,
        aud_style="string",
        jwks_alg=True,
        jwks_requires_user_agent=True,
        token_audience=None,
        lineitem_query=True,
        not_gradable_status=400,
        not_gradable_message="Incorrect score received",
        timestamp_error="Incorrect score received",
        dl_requires_kid=False,
        caps_scores=False,
        test_student=False,
        whole_second_scores=True,
    ),
    "blackboard": Profile(
        name="blackboard",
        family="blackboard",
        product_family_code="BlackboardLearn",
        issuer="https://blackboard.com",
        aud_style="string",
        jwks_alg=True,
        jwks_requires_user_agent=False,
        token_audience=None,
        lineitem_query=False,
        not_gradable_status=403,
        not_gradable_message="User is not enrolled as a student",
        timestamp_error="Invalid timestamp: a time zone is required",
        dl_requires_kid=False,
        caps_scores=False,
        test_student=False,
    ),
    "brightspace": Profile(
        name="brightspace",
        family="brightspace",
        product_family_code="desire2learn",
        issuer=None,
        aud_style="list",
        jwks_alg=False,
        jwks_requires_user_agent=False,
        token_audience=BRIGHTSPACE_TOKEN_AUDIENCE,
        lineitem_query=False,
        not_gradable_status=403,
        not_gradable_message="The user cannot be graded (role setting 'Can be graded')",
        timestamp_error="Invalid timestamp",
        dl_requires_kid=True,
        caps_scores=True,
        test_student=False,
    ),
}


@dataclass
class ToolOnPlatform:
    """A tool as the platform knows it (one developer key / client id)."""

    client_id: str
    deployment_ids: list[str]
    login_url: str
    redirect_uris: list[str]
    target_link_uri: str
    jwks_url: str | None
    jwks: dict[str, Any] | None
    scopes: tuple[str, ...]


@dataclass
class User:
    sub: str
    name: str
    email: str
    context_roles: list[str]
    extra_roles: list[str] = field(default_factory=list)  # institution / system roles
    status: str = "Active"

    @property
    def given_name(self) -> str:
        return self.name.split()[0]

    @property
    def family_name(self) -> str:
        return self.name.split()[-1]


@dataclass
class Course:
    id: str
    label: str
    title: str
    members: dict[str, User] = field(default_factory=dict)


@dataclass
class ResourceLinkRecord:
    id: str
    context_id: str
    client_id: str
    title: str
    url: str | None
    custom: dict[str, str]
    lineitem_num: int | None = None


@dataclass
class LineItemRecord:
    num: int
    context_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class ScoreRecord:
    """One accepted score POST."""

    lineitem_url: str
    lineitem_num: int
    user_id: str
    body: dict[str, Any]
    content_type: str


@dataclass(frozen=True)
class ScoreAttempt:
    """Every POST to a scores URL, with the platform's answer."""

    status: int
    user_id: str | None
    body: Any
    note: str = ""


@dataclass(frozen=True)
class DeepLinkReturn:
    client_id: str
    context_id: str
    payload: dict[str, Any]
    created_links: list[ResourceLinkRecord]


@dataclass(frozen=True)
class LoginInitiation:
    """What the platform sends to the tool's OIDC login URL."""

    login_url: str
    params: dict[str, str]

    @property
    def url(self) -> str:
        return f"{self.login_url}?{urlencode(self.params)}"


@dataclass(frozen=True)
class FormPost:
    """An auto-submit form the platform (or tool) answered with."""

    action: str
    fields: dict[str, str]


@dataclass
class _PendingLaunch:
    client_id: str
    deployment_id: str
    sub: str
    message_type: str
    context_id: str
    resource_link_id: str | None
    target_link_uri: str
    custom: dict[str, str]
    overrides: dict[str, Any]
    login_hint: str


@dataclass
class _DlRequest:
    client_id: str
    deployment_id: str
    context_id: str
    accept_multiple: bool


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = attributes.get("action", "")
        elif tag == "input" and "name" in attributes:
            self.fields[attributes["name"]] = attributes.get("value", "")


def parse_auto_submit_form(body: str) -> FormPost:
    """Parse the first form of an auto-submit page (the platform's or the tool's)."""
    parser = _FormParser()
    parser.feed(body)
    if parser.action is None:
        raise ValueError("no form in the page")
    return FormPost(action=parser.action, fields=parser.fields)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encode_unchecked(header: dict[str, Any], payload: dict[str, Any], signer: Any = None) -> str:
    """A JWT built by hand, for tokens PyJWT refuses to create (alg none, HS256 with a PEM)."""
    signing_input = (
        _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())
    ).encode("ascii")
    signature = signer(signing_input) if signer is not None else b""
    return signing_input.decode("ascii") + "." + _b64(signature)


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (past the client's read timeout)
    drop: bool = False  # close the connection without answering


def closed_port_url(path: str = "/") -> str:
    """An http URL on 127.0.0.1 where nothing listens: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def _json(status: int, data: Any, media: str = "application/json", **headers: str) -> _Response:
    return _Response(status, json.dumps(data).encode(), {"Content-Type": media, **headers})


def _text(status: int, message: str) -> _Response:
    return _Response(status, message.encode(), {"Content-Type": "text/plain; charset=utf-8"})


def _media(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


class _PlatformError(Exception):
    def __init__(self, response: _Response) -> None:
        super().__init__(response.status)
        self.response = response


def _has_tz_and_fraction(value: str) -> tuple[bool, bool]:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return False, False
    return moment.tzinfo is not None, bool(re.search(r"T\d\d:\d\d:\d\d\.\d+", value))


class FakePlatform:
    """A fake LMS. Start with ``start()`` or as a context manager; see the module docstring.

    Args:
        profile: one of ``PROFILES`` (canvas, moodle, blackboard, brightspace).
        page_size: items per page for line items and memberships (small, to exercise paging).
    """

    def __init__(self, profile: str = "canvas", *, page_size: int = 2) -> None:
        self.profile = PROFILES[profile]
        self.page_size = page_size
        self.token_ttl = 3600
        self.clock_offset = 0.0
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self._add_key(pooled_key(0))
        self.tools: dict[str, ToolOnPlatform] = {}
        self.courses: dict[str, Course] = {}
        self.resource_links: dict[str, ResourceLinkRecord] = {}
        self.line_items: dict[int, LineItemRecord] = {}
        self.scores: list[ScoreRecord] = []
        self.score_attempts: list[ScoreAttempt] = []
        self.token_requests: list[dict[str, Any]] = []
        self.deep_link_returns: list[DeepLinkReturn] = []
        self.request_log: list[tuple[str, str, int, dict[str, str]]] = []
        self.rejections: list[tuple[str, str]] = []
        self._tokens: dict[str, tuple[str, frozenset[str], float]] = {}
        self._seen_jti: set[str] = set()
        self._pending: dict[str, _PendingLaunch] = {}
        self._dl_requests: dict[str, _DlRequest] = {}
        self._last_score_ts: dict[tuple[int, str], dt.datetime] = {}
        self._score_reply: tuple[str, bytes] | None = None
        self._lose_answers_left = 0
        self._lose_answers_stall: float | None = None
        self._stall_tokens_left = 0
        self._stall_tokens_seconds = 0.0
        self._fail_scores_left = 0
        self._fail_scores_until = 0.0
        self._fail_status = 503
        self._fail_retry_after: str | None = "1"
        self._ids = itertools.count(1)
        self._seed()

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakePlatform:
        """Serve on a free port of 127.0.0.1 in a daemon thread."""
        handler = type("Handler", (_Handler,), {"platform": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakePlatform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the platform first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def issuer(self) -> str:
        return self.profile.issuer or self.base_url

    @property
    def auth_url(self) -> str:
        return self.base_url + "/auth"

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/jwks"

    @property
    def deep_link_return_url(self) -> str:
        return self.base_url + "/dl_return"

    def now(self) -> float:
        return time.time() + self.clock_offset

    # ---- setup -----------------------------------------------------------------------------

    def _seed(self) -> None:
        m = "http://purl.imsglobal.org/vocab/lis/v2/membership"
        course = self.add_course("course-1", label="BP101", title="Backprop 101")
        people = [
            User(
                "teacher-1",
                "Tess Teacher",
                "tess@example.edu",
                [f"{m}#Instructor"],
                [c.ROLE_INSTITUTION_INSTRUCTOR],
            ),
            User("ta-1", "Tim Assistant", "tim@example.edu", [f"{m}/Instructor#TeachingAssistant"]),
            User(
                "stu-1",
                "Ada Student",
                "ada@example.edu",
                [f"{m}#Learner"],
                [c.ROLE_INSTITUTION_STUDENT],
            ),
            User("stu-2", "Bob Student", "bob@example.edu", [f"{m}#Learner"]),
            User("stu-3", "Cy Student", "cy@example.edu", [f"{m}#Learner"]),
            # Faculty at the university, but only a learner in this course.
            User(
                "faculty-learner",
                "Fay Faculty",
                "fay@example.edu",
                [f"{m}#Learner"],
                [c.ROLE_INSTITUTION_INSTRUCTOR],
            ),
            User(
                "dropped-1", "Dee Dropped", "dee@example.edu", [f"{m}#Learner"], status="Inactive"
            ),
        ]
        if self.profile.test_student:
            people.append(
                User("test-student", "Test Student", "", [f"{m}#Learner"], [c.ROLE_TEST_USER])
            )
        for user in people:
            course.members[user.sub] = user

    def add_course(self, context_id: str, *, label: str = "", title: str = "") -> Course:
        with self._lock:
            course = Course(context_id, label or context_id, title or context_id)
            self.courses[context_id] = course
            return course

    def enroll(self, context_id: str, user: User) -> None:
        with self._lock:
            self.courses[context_id].members[user.sub] = user

    def register_tool(
        self,
        *,
        login_url: str,
        launch_url: str,
        jwks_url: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        client_id: str | None = None,
        deployment_ids: Iterable[str] | None = None,
        scopes: Iterable[str] = c.ALL_SCOPES,
    ) -> ToolOnPlatform:
        """Register a tool (a developer key / client id) with one or more deployments."""
        with self._lock:
            n = next(self._ids)
            cid = client_id or f"{self.profile.name}-client-{n}"
            tool = ToolOnPlatform(
                client_id=cid,
                deployment_ids=list(deployment_ids or [f"{n}:deployment"]),
                login_url=login_url,
                redirect_uris=[launch_url],
                target_link_uri=launch_url,
                jwks_url=jwks_url,
                jwks=dict(jwks) if jwks is not None else None,
                scopes=tuple(scopes),
            )
            self.tools[cid] = tool
            return tool

    def add_deployment(self, client_id: str, deployment_id: str) -> None:
        """Another institution deploys the same client id (Blackboard's model)."""
        with self._lock:
            self.tools[client_id].deployment_ids.append(deployment_id)

    def registration(
        self, client_id: str, *, deployment_ids: Iterable[str] | None = None
    ) -> Registration:
        """What the tool's admin would paste for this client id."""
        tool = self.tools[client_id]
        return Registration(
            issuer=self.issuer,
            client_id=client_id,
            auth_login_url=self.auth_url,
            token_url=self.token_url,
            jwks_url=self.jwks_url,
            deployment_ids=frozenset(
                tool.deployment_ids if deployment_ids is None else deployment_ids
            ),
            auth_audience=self.profile.token_audience,
            platform_family=self.profile.family,  # type: ignore[arg-type]
        )

    def add_resource_link(
        self,
        client_id: str,
        *,
        context_id: str = "course-1",
        title: str = "Quiz",
        custom: Mapping[str, str] | None = None,
        line_item: Mapping[str, Any] | None = None,
        link_id: str | None = None,
    ) -> ResourceLinkRecord:
        """A placement in a course, optionally with a line item (as deep linking would create)."""
        with self._lock:
            link = ResourceLinkRecord(
                id=link_id or f"rl-{next(self._ids)}",
                context_id=context_id,
                client_id=client_id,
                title=title,
                url=None,
                custom=dict(custom or {}),
            )
            if line_item is not None:
                record = self._create_line_item(
                    context_id, {**line_item, "resourceLinkId": link.id}
                )
                link.lineitem_num = record.num
            self.resource_links[link.id] = link
            return link

    # ---- keys ------------------------------------------------------------------------------

    def _add_key(self, key: rsa.RSAPrivateKey) -> str:
        kid = "plat-" + kid_for_public_key(key.public_key())[:16]
        self._keys.append((kid, key))
        return kid

    @property
    def kid(self) -> str:
        """The kid of the current signing key."""
        return self._keys[-1][0]

    @property
    def signing_key(self) -> rsa.RSAPrivateKey:
        return self._keys[-1][1]

    def public_pem(self) -> bytes:
        return self.signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def rotate_keys(self, *, keep_old: bool = True) -> str:
        """Sign with a brand-new key from now on; returns its kid."""
        with self._lock:
            kid = self._add_key(fresh_key())
            if not keep_old:
                self._keys = self._keys[-1:]
            return kid

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self._keys:
            jwk: dict[str, Any] = {**rsa_public_jwk(key.public_key()), "kid": kid, "use": "sig"}
            if self.profile.jwks_alg:
                jwk["alg"] = "RS256"
            keys.append(jwk)
        return {"keys": keys}

    # ---- launches --------------------------------------------------------------------------

    def launch_request(
        self,
        client_id: str,
        *,
        user: str = "stu-1",
        message_type: str = c.MESSAGE_RESOURCE_LINK,
        context_id: str = "course-1",
        resource_link_id: str | None = None,
        deployment_id: str | None = None,
        target_link_uri: str | None = None,
        custom: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> LoginInitiation:
        """Start a launch: the parameters the platform sends to the tool's login URL.

        A resource-link launch without ``resource_link_id`` gets a fresh placement.
        ``overrides`` are merged into the id_token claims the auth endpoint will sign.
        """
        with self._lock:
            tool = self.tools[client_id]
            if message_type == c.MESSAGE_RESOURCE_LINK and resource_link_id is None:
                resource_link_id = self.add_resource_link(client_id, context_id=context_id).id
            hint = f"hint-{secrets.token_hex(6)}"
            login_hint = f"login-{user}"
            pending = _PendingLaunch(
                client_id=client_id,
                deployment_id=deployment_id or tool.deployment_ids[0],
                sub=user,
                message_type=message_type,
                context_id=context_id,
                resource_link_id=resource_link_id,
                target_link_uri=target_link_uri or tool.target_link_uri,
                custom=dict(custom or {}),
                overrides=dict(overrides or {}),
                login_hint=login_hint,
            )
            self._pending[hint] = pending
        params = {
            "iss": self.issuer,
            "login_hint": login_hint,
            "target_link_uri": pending.target_link_uri,
            "lti_message_hint": hint,
            "client_id": client_id,
            "lti_deployment_id": pending.deployment_id,
        }
        if self.profile.name == "canvas":
            params["canvas_region"] = "us-east-1"
        return LoginInitiation(login_url=tool.login_url, params=params)

    def authorize(self, url: str, *, session: requests.Session | None = None) -> FormPost:
        """Follow the tool's login redirect over HTTP and parse the platform's id_token form."""
        own = session is None
        http = session or requests.Session()
        try:
            with http.get(url, timeout=10, allow_redirects=False) as response:
                if response.status_code != 200:
                    raise AssertionError(f"/auth answered {response.status_code}: {response.text}")
                return parse_auto_submit_form(response.text)
        finally:
            if own:
                http.close()

    def claims_for(
        self,
        client_id: str,
        *,
        nonce: str,
        user: str = "stu-1",
        message_type: str = c.MESSAGE_RESOURCE_LINK,
        context_id: str = "course-1",
        resource_link_id: str | None = None,
        deployment_id: str | None = None,
        target_link_uri: str | None = None,
        custom: Mapping[str, str] | None = None,
        iat: float | None = None,
        lifetime: int = 300,
    ) -> dict[str, Any]:
        """The id_token claims this platform would sign for a launch."""
        with self._lock:
            tool = self.tools[client_id]
            course = self.courses[context_id]
            member = course.members[user]
            deployment = deployment_id or tool.deployment_ids[0]
            issued = int(self.now() if iat is None else iat)
            if self.profile.aud_style == "string":
                aud: Any = client_id
            else:
                aud = [client_id]
            out: dict[str, Any] = {
                "iss": self.issuer,
                "aud": aud,
                "sub": member.sub,
                "iat": issued,
                "exp": issued + lifetime,
                "nonce": nonce,
                "name": member.name,
                "given_name": member.given_name,
                "family_name": member.family_name,
                "email": member.email,
                c.CLAIM_DEPLOYMENT_ID: deployment,
                c.CLAIM_VERSION: c.LTI_VERSION,
                c.CLAIM_MESSAGE_TYPE: message_type,
                c.CLAIM_ROLES: [*member.context_roles, *member.extra_roles],
                c.CLAIM_CONTEXT: {
                    "id": course.id,
                    "label": course.label,
                    "title": course.title,
                    "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
                },
                c.CLAIM_TARGET_LINK_URI: target_link_uri or tool.target_link_uri,
                c.CLAIM_TOOL_PLATFORM: {
                    "guid": f"{self.profile.name}-guid",
                    "name": f"Fake {self.profile.name}",
                    "product_family_code": self.profile.product_family_code,
                },
                c.CLAIM_LAUNCH_PRESENTATION: {
                    "document_target": "iframe",
                    "return_url": f"{self.base_url}/return",
                    "locale": "en",
                },
                c.CLAIM_NRPS: {
                    "context_memberships_url": f"{self.base_url}/c/{course.id}/memberships",
                    "service_versions": ["2.0"],
                },
            }
            if self.profile.aud_style == "list_azp":
                out["azp"] = client_id
            ags: dict[str, Any] = {
                "scope": [s for s in tool.scopes if s in c.AGS_SCOPES],
                "lineitems": f"{self.base_url}/c/{course.id}/lineitems",
            }
            merged_custom = dict(custom or {})
            if message_type == c.MESSAGE_RESOURCE_LINK:
                link = self.resource_links.get(resource_link_id or "")
                link_id = resource_link_id or "rl-adhoc"
                out[c.CLAIM_RESOURCE_LINK] = {
                    "id": link_id,
                    "title": link.title if link else "Quiz",
                }
                if link is not None:
                    merged_custom = {**link.custom, **merged_custom}
                    if link.lineitem_num is not None:
                        ags["lineitem"] = self.line_item_url(link.lineitem_num)
            else:
                data = secrets.token_urlsafe(12)
                self._dl_requests[data] = _DlRequest(client_id, deployment, context_id, True)
                out[c.CLAIM_DL_SETTINGS] = {
                    "deep_link_return_url": self.deep_link_return_url,
                    "accept_types": ["ltiResourceLink"],
                    "accept_presentation_document_targets": ["iframe", "window"],
                    "accept_multiple": True,
                    "accept_lineitem": True,
                    "auto_create": True,
                    "data": data,
                }
            out[c.CLAIM_AGS_ENDPOINT] = ags
            if merged_custom:
                out[c.CLAIM_CUSTOM] = merged_custom
            return out

    def sign(
        self,
        claims: Mapping[str, Any],
        *,
        alg: str = "RS256",
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = "",
        hmac_secret: bytes | None = None,
    ) -> str:
        """Sign claims. ``kid=""`` means this platform's current kid, ``None`` omits it.

        ``alg="none"`` builds an unsigned token; ``alg="HS256"`` with ``hmac_secret`` (e.g.
        ``public_pem()``) builds the classic key-confusion token PyJWT refuses to create.
        """
        header: dict[str, Any] = {"typ": "JWT", "alg": alg}
        if kid is not None:
            header["kid"] = kid or self.kid
        if alg == "none":
            return encode_unchecked(header, dict(claims))
        if hmac_secret is not None:
            return encode_unchecked(
                header,
                dict(claims),
                lambda data: hmac.new(hmac_secret, data, hashlib.sha256).digest(),
            )
        extra = {k: v for k, v in header.items() if k != "alg"}
        return jwt.encode(dict(claims), key or self.signing_key, algorithm=alg, headers=extra)

    def make_id_token(
        self,
        client_id: str,
        *,
        nonce: str,
        overrides: Mapping[str, Any] | None = None,
        remove: Iterable[str] = (),
        alg: str = "RS256",
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = "",
        hmac_secret: bytes | None = None,
        **claim_args: Any,
    ) -> str:
        """A signed id_token; ``overrides`` replace claims, ``remove`` deletes them."""
        claims = self.claims_for(client_id, nonce=nonce, **claim_args)
        claims.update(overrides or {})
        for name in remove:
            claims.pop(name, None)
        return self.sign(claims, alg=alg, key=key, kid=kid, hmac_secret=hmac_secret)

    # ---- services --------------------------------------------------------------------------

    def line_item_url(self, num: int) -> str:
        record = self.line_items[num]
        url = f"{self.base_url}/c/{record.context_id}/lineitems/{num}"
        if self.profile.lineitem_query:
            url += f"/lineitem?type_id={num}"
        return url

    def _line_item_json(self, record: LineItemRecord) -> dict[str, Any]:
        return {"id": self.line_item_url(record.num), **record.data}

    def _create_line_item(self, context_id: str, data: Mapping[str, Any]) -> LineItemRecord:
        with self._lock:
            num = next(self._ids)
            record = LineItemRecord(num, context_id, {k: v for k, v in data.items() if k != "id"})
            self.line_items[num] = record
            return record

    def fail_scores(self, n: int, *, status: int = 503, retry_after: str | None = "1") -> None:
        """Answer the next ``n`` score POSTs with ``status`` (and Retry-After)."""
        with self._lock:
            self._fail_scores_left = n
            self._fail_status = status
            self._fail_retry_after = retry_after

    def fail_scores_for(
        self, seconds: float, *, status: int = 503, retry_after: str | None = "1"
    ) -> None:
        """Answer every score POST with ``status`` for a while (wall clock)."""
        with self._lock:
            self._fail_scores_until = time.monotonic() + seconds
            self._fail_status = status
            self._fail_retry_after = retry_after

    def reply_to_scores_with(self, content_type: str, body: bytes) -> None:
        """Answer accepted score POSTs with 200 and this body instead of the profile's answer."""
        with self._lock:
            self._score_reply = (content_type, body)

    def lose_score_answers(self, n: int, *, stall: float | None = None) -> None:
        """Apply the next ``n`` score POSTs, then lose the answer: close the connection without
        a word, or with ``stall`` answer only after that many seconds (a read timeout)."""
        with self._lock:
            self._lose_answers_left = n
            self._lose_answers_stall = stall

    def stall_tokens(self, n: int, seconds: float) -> None:
        """Answer the next ``n`` token requests only after ``seconds`` (a hanging endpoint)."""
        with self._lock:
            self._stall_tokens_left = n
            self._stall_tokens_seconds = seconds

    def grade_in_lms(self, lineitem_num: int, user_id: str, when: dt.datetime) -> None:
        """An instructor changes the grade in the LMS gradebook at ``when`` (no score stored)."""
        with self._lock:
            self._last_score_ts[(lineitem_num, user_id)] = when

    def expire_tokens(self) -> None:
        """Invalidate every issued access token (services answer 401 until a new one is fetched)."""
        with self._lock:
            self._tokens.clear()

    def gradebook(self) -> dict[tuple[int, str], float | None]:
        """The latest accepted scoreGiven per (line item, user), capped where the LMS caps."""
        book: dict[tuple[int, str], float | None] = {}
        for record in self.scores:
            given = record.body.get("scoreGiven")
            if given is not None and self.profile.caps_scores:
                given = min(given, record.body["scoreMaximum"])
            book[(record.lineitem_num, record.user_id)] = given
        return book

    def line_items_for(self, context_id: str = "course-1") -> list[dict[str, Any]]:
        with self._lock:
            return [
                self._line_item_json(r)
                for r in self.line_items.values()
                if r.context_id == context_id
            ]

    # ---- HTTP dispatch ---------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> _Response:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        path = parts.path
        try:
            response = self._route(method, path, query, headers, body)
        except _PlatformError as exc:
            response = exc.response
        if response.status >= 400:
            with self._lock:
                self.rejections.append((path, response.body.decode(errors="replace")[:200]))
        with self._lock:
            self.request_log.append((method, target, response.status, dict(headers)))
        return response

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes
    ) -> _Response:
        if path == "/jwks" and method == "GET":
            if self.profile.jwks_requires_user_agent and not headers.get("User-Agent"):
                return _text(403, TOOL_UA_REQUIRED_MESSAGE)
            return _json(200, self.jwks())
        if path == "/auth" and method in ("GET", "POST"):
            params = query if method == "GET" else dict(parse_qsl(body.decode()))
            return self._auth(params)
        if path == "/token" and method == "POST":
            return self._token(headers, body)
        if path == "/dl_return" and method == "POST":
            return self._dl_return(headers, body)
        match = re.fullmatch(
            r"/c/([^/]+)/(lineitems|memberships)(?:/(\d+)(/lineitem)?(/scores|/results)?)?", path
        )
        if match is None:
            return _text(404, "not found")
        context_id, kind, num, moodle_suffix, sub = match.groups()
        if context_id not in self.courses:
            return _text(404, "no such course")
        if kind == "memberships":
            if num is not None or method != "GET":
                return _text(404, "not found")
            return self._memberships(context_id, query, headers)
        if num is None:
            if method == "GET":
                return self._list_line_items(context_id, query, headers)
            if method == "POST":
                return self._post_line_item(context_id, headers, body)
            return _text(405, "method not allowed")
        record = self.line_items.get(int(num))
        if record is None or record.context_id != context_id:
            return _text(404, "no such line item")
        if self.profile.lineitem_query and (moodle_suffix is None or query.get("type_id") != num):
            return _text(400, "No type_id parameter: line item URLs must be used as given")
        if sub == "/scores" and method == "POST":
            return self._post_score(record, headers, body)
        if sub == "/results" and method == "GET":
            return self._results(record, query, headers)
        if sub is None and method == "GET":
            self._require_token(headers, {c.SCOPE_LINEITEM, c.SCOPE_LINEITEM_READONLY})
            self._require_accept(headers, c.MEDIA_LINEITEM)
            return _json(200, self._line_item_json(record), c.MEDIA_LINEITEM)
        return _text(405, "method not allowed")

    def _auth(self, params: Mapping[str, str]) -> _Response:
        expected = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
        }
        for name, value in expected.items():
            if params.get(name) != value:
                return _text(400, f"invalid_request: {name} must be {value}")
        for name in (
            "client_id",
            "redirect_uri",
            "login_hint",
            "state",
            "nonce",
            "lti_message_hint",
        ):
            if not params.get(name):
                return _text(400, f"invalid_request: {name} is required")
        with self._lock:
            tool = self.tools.get(params["client_id"])
            pending = self._pending.pop(params["lti_message_hint"], None)
        if tool is None:
            return _text(400, "unauthorized_client")
        if params["redirect_uri"] not in tool.redirect_uris:
            return _text(400, "invalid_request: redirect_uri is not registered")
        if pending is None or pending.client_id != tool.client_id:
            return _text(400, "invalid_request: unknown lti_message_hint")
        if params["login_hint"] != pending.login_hint:
            return _text(400, "login_required")
        token = self.make_id_token(
            tool.client_id,
            nonce=params["nonce"],
            overrides=pending.overrides,
            user=pending.sub,
            message_type=pending.message_type,
            context_id=pending.context_id,
            resource_link_id=pending.resource_link_id,
            deployment_id=pending.deployment_id,
            target_link_uri=pending.target_link_uri,
            custom=pending.custom,
        )
        page = (
            '<!doctype html><html><body onload="document.forms[0].submit()">'
            f'<form method="post" action="{html.escape(params["redirect_uri"])}">'
            f'<input type="hidden" name="id_token" value="{html.escape(token)}">'
            f'<input type="hidden" name="state" value="{html.escape(params["state"])}">'
            "</form></body></html>"
        )
        return _Response(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def _tool_key(self, tool: ToolOnPlatform, kid: str | None) -> list[Any]:
        if tool.jwks is not None:
            document = tool.jwks
        elif tool.jwks_url is not None:
            with requests.get(tool.jwks_url, timeout=5, headers={"User-Agent": "fake-lms"}) as r:
                r.raise_for_status()
                document = r.json()
        else:
            return []
        keys = [k for k in document.get("keys", []) if kid is None or k.get("kid") == kid]
        return [jwt.PyJWK(k, algorithm="RS256") for k in keys if k.get("kty") == "RSA"]

    def _verify_tool_jwt(
        self, token: str, *, audience: str, issuer: str | None, require_kid: bool
    ) -> tuple[ToolOnPlatform, dict[str, Any]]:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _PlatformError(
                _json(400, {"error": "invalid_client", "error_description": "not a JWT"})
            ) from None
        if header.get("alg") != "RS256":
            raise _PlatformError(
                _json(400, {"error": "invalid_client", "error_description": "alg"})
            )
        kid = header.get("kid")
        if require_kid and not kid:
            raise _PlatformError(
                _json(400, {"error": "invalid_client", "error_description": "kid required"})
            )
        tool = self.tools.get(str(unverified.get("iss")))
        if tool is None:
            raise _PlatformError(
                _json(400, {"error": "invalid_client", "error_description": "unknown client"})
            )
        for key in self._tool_key(tool, kid):
            try:
                payload = jwt.decode(
                    token,
                    key,
                    algorithms=["RS256"],
                    audience=audience,
                    issuer=issuer or tool.client_id,
                    leeway=5,
                    options={"require": ["exp", "iat", "iss", "aud"]},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError as exc:
                raise _PlatformError(
                    _json(
                        400,
                        {
                            "error": "invalid_client",
                            "error_description": f"the '{type(exc).__name__}'",
                        },
                    )
                ) from None
            return tool, payload
        raise _PlatformError(
            _json(400, {"error": "invalid_client", "error_description": "JWS signature invalid"})
        )

    def _token(self, headers: Mapping[str, str], body: bytes) -> _Response:
        with self._lock:
            stall = self._stall_tokens_seconds if self._stall_tokens_left > 0 else 0.0
            self._stall_tokens_left = max(0, self._stall_tokens_left - 1)
        try:
            response = self._issue_token(headers, body)
        except _PlatformError as exc:
            response = exc.response
        response.delay = stall
        return response

    def _issue_token(self, headers: Mapping[str, str], body: bytes) -> _Response:
        if _media(headers.get("Content-Type")) != "application/x-www-form-urlencoded":
            return _json(400, {"error": "invalid_request", "error_description": "form encoding"})
        form = dict(parse_qsl(body.decode()))
        if form.get("grant_type") != "client_credentials":
            return _json(400, {"error": "unsupported_grant_type"})
        if form.get("client_assertion_type") != c.CLIENT_ASSERTION_TYPE:
            return _json(400, {"error": "invalid_request", "error_description": "assertion type"})
        audience = self.profile.token_audience or self.token_url
        tool, payload = self._verify_tool_jwt(
            form.get("client_assertion", ""), audience=audience, issuer=None, require_kid=True
        )
        if payload.get("sub") != tool.client_id:
            return _json(400, {"error": "invalid_client", "error_description": "sub"})
        if payload["exp"] - payload["iat"] > 3600:
            return _json(400, {"error": "invalid_client", "error_description": "lifetime"})
        jti = payload.get("jti")
        with self._lock:
            if not isinstance(jti, str) or jti in self._seen_jti:
                return _json(400, {"error": "invalid_client", "error_description": "jti reused"})
            self._seen_jti.add(jti)
            requested = frozenset(form.get("scope", "").split())
            granted = frozenset(requested & set(tool.scopes))
            self.token_requests.append(
                {"client_id": tool.client_id, "scopes": requested, "aud": payload["aud"]}
            )
            if not granted:
                return _json(400, {"error": "invalid_scope"})
            value = secrets.token_urlsafe(24)
            self._tokens[value] = (tool.client_id, granted, time.monotonic() + self.token_ttl)
        return _json(
            200,
            {
                "access_token": value,
                "token_type": "Bearer",
                "expires_in": self.token_ttl,
                "scope": " ".join(sorted(granted)),
            },
        )

    def _require_token(self, headers: Mapping[str, str], any_of: set[str]) -> str:
        auth = headers.get("Authorization", "")
        value = auth[7:] if auth.startswith("Bearer ") else ""
        with self._lock:
            entry = self._tokens.get(value)
        if entry is None or entry[2] < time.monotonic():
            raise _PlatformError(_text(401, "invalid or expired access token"))
        if not entry[1] & any_of:
            raise _PlatformError(_text(403, "insufficient scope"))
        return entry[0]

    @staticmethod
    def _require_accept(headers: Mapping[str, str], media: str) -> None:
        accepted = [_media(part) for part in headers.get("Accept", "").split(",")]
        if media not in accepted:
            raise _PlatformError(_text(406, f"Accept must include {media}"))

    @staticmethod
    def _require_content_type(headers: Mapping[str, str], media: str) -> None:
        if _media(headers.get("Content-Type")) != media:
            raise _PlatformError(_text(415, f"Content-Type must be {media}"))

    def _page(
        self, items: list[Any], query: Mapping[str, str], url: str, cursor_param: str
    ) -> tuple[list[Any], str | None]:
        limit = int(query.get("limit") or self.page_size)
        raw = query.get(cursor_param, "")
        if raw:
            match = re.fullmatch(r"PaGe(\d+)", raw)  # case-sensitive: clients must keep URL case
            if match is None:
                raise _PlatformError(_text(400, "bad page cursor"))
            start = int(match.group(1))
        else:
            start = 0
        chunk = items[start : start + limit]
        if start + limit >= len(items):
            return chunk, None
        params = {k: v for k, v in query.items() if k != cursor_param}
        params[cursor_param] = f"PaGe{start + limit}"
        return chunk, f"{url}?{urlencode(params)}"

    def _list_line_items(
        self, context_id: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> _Response:
        self._require_token(headers, {c.SCOPE_LINEITEM, c.SCOPE_LINEITEM_READONLY})
        self._require_accept(headers, c.MEDIA_LINEITEM_CONTAINER)
        filters = {"resource_link_id": "resourceLinkId", "resource_id": "resourceId", "tag": "tag"}
        with self._lock:
            items = [
                self._line_item_json(r)
                for r in self.line_items.values()
                if r.context_id == context_id
                and all(
                    r.data.get(field_) == query[param]
                    for param, field_ in filters.items()
                    if param in query
                )
            ]
        chunk, next_url = self._page(items, query, f"{self.base_url}/c/{context_id}/lineitems", "p")
        extra = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
        return _json(200, chunk, c.MEDIA_LINEITEM_CONTAINER, **extra)

    def _post_line_item(
        self, context_id: str, headers: Mapping[str, str], body: bytes
    ) -> _Response:
        self._require_token(headers, {c.SCOPE_LINEITEM})
        self._require_content_type(headers, c.MEDIA_LINEITEM)
        try:
            data = json.loads(body)
        except ValueError:
            return _text(400, "body is not JSON")
        maximum = data.get("scoreMaximum") if isinstance(data, dict) else None
        if not isinstance(maximum, int | float) or isinstance(maximum, bool) or maximum <= 0:
            return _text(400, "scoreMaximum must be > 0")
        if not isinstance(data.get("label"), str) or not data["label"]:
            return _text(400, "label is required")
        link_id = data.get("resourceLinkId")
        if link_id is not None and not (
            link_id in self.resource_links and self.resource_links[link_id].context_id == context_id
        ):
            # AGS: a resourceLinkId that is no resource link of this context is a 404. Canvas
            # says so for the id of a module launch, which is the course's id (canvas-lms#1944).
            return _json(404, {"errors": [{"message": "The specified resource does not exist."}]})
        record = self._create_line_item(context_id, data)
        return _json(201, self._line_item_json(record), c.MEDIA_LINEITEM)

    def _post_score(
        self, record: LineItemRecord, headers: Mapping[str, str], body: bytes
    ) -> _Response:
        with self._lock:
            failing = self._fail_scores_left > 0 or time.monotonic() < self._fail_scores_until
            if self._fail_scores_left > 0:
                self._fail_scores_left -= 1
        if failing:
            extra = {"Retry-After": self._fail_retry_after} if self._fail_retry_after else {}
            self.score_attempts.append(
                ScoreAttempt(self._fail_status, None, None, "injected failure")
            )
            response = _text(self._fail_status, "Service Unavailable")
            response.headers.update(extra)
            return response
        self._require_token(headers, {c.SCOPE_SCORE})
        self._require_content_type(headers, c.MEDIA_SCORE)
        try:
            data = json.loads(body)
        except ValueError:
            return self._score_reject(400, None, None, "body is not JSON")
        if not isinstance(data, dict):
            return self._score_reject(400, None, data, "body is not an object")
        user_id = data.get("userId")
        problem = self._score_problem(data)
        if problem is not None:
            return self._score_reject(400, user_id, data, problem)
        course = self.courses[record.context_id]
        member = course.members.get(user_id) if isinstance(user_id, str) else None
        gradable = (
            member is not None
            and member.status == "Active"
            and any(r.endswith("#Learner") for r in member.context_roles)
            and c.ROLE_TEST_USER not in member.extra_roles
        )
        if not gradable:
            return self._score_reject(
                self.profile.not_gradable_status, user_id, data, self.profile.not_gradable_message
            )
        timestamp = dt.datetime.fromisoformat(data["timestamp"])
        key = (record.num, str(user_id))
        with self._lock:
            last = self._last_score_ts.get(key)
            if (
                self.profile.whole_second_scores
                and last is not None
                and int(timestamp.timestamp()) <= int(last.timestamp())
            ):
                message = (
                    f"Refusing score with an earlier timestamp for item {record.num} "
                    f"and user {user_id}"
                )
                self.score_attempts.append(ScoreAttempt(409, user_id, data, message))
                return _text(409, message)
            if last is not None and timestamp <= last:
                # AGS: the platform must not update from an older (or equal) timestamp.
                self.score_attempts.append(ScoreAttempt(200, user_id, data, "ignored: not newer"))
                return _Response(204)
            self._last_score_ts[key] = timestamp
            self.scores.append(
                ScoreRecord(
                    lineitem_url=self.line_item_url(record.num),
                    lineitem_num=record.num,
                    user_id=str(user_id),
                    body=data,
                    content_type=headers.get("Content-Type", ""),
                )
            )
            self.score_attempts.append(ScoreAttempt(200, user_id, data))
            lose = self._lose_answers_left > 0
            self._lose_answers_left = max(0, self._lose_answers_left - 1)
        if lose:  # stored; the answer is what gets lost
            stall = self._lose_answers_stall
            return _Response(204, delay=stall) if stall is not None else _Response(0, drop=True)
        if self._score_reply is not None:
            content_type, reply = self._score_reply
            return _Response(200, reply, {"Content-Type": content_type})
        if self.profile.name == "canvas":
            return _json(200, {"resultUrl": f"{self.line_item_url(record.num)}/results/{user_id}"})
        return _Response(204)

    def _score_problem(self, data: Mapping[str, Any]) -> str | None:
        if not isinstance(data.get("userId"), str) or not data["userId"]:
            return "userId is required"
        if data.get("activityProgress") not in {
            "Initialized",
            "Started",
            "InProgress",
            "Submitted",
            "Completed",
        }:
            return "bad activityProgress"
        if data.get("gradingProgress") not in {
            "FullyGraded",
            "Pending",
            "PendingManual",
            "Failed",
            "NotReady",
        }:
            return "bad gradingProgress"
        timestamp = data.get("timestamp")
        has_tz, has_fraction = (
            _has_tz_and_fraction(timestamp) if isinstance(timestamp, str) else (False, False)
        )
        if not has_tz:
            return self.profile.timestamp_error
        if not has_fraction:
            return "timestamp must have sub-second precision"
        if "scoreGiven" in data:
            given, maximum = data.get("scoreGiven"), data.get("scoreMaximum")
            if not isinstance(given, int | float) or given < 0:
                return "Incorrect score received"
            if not isinstance(maximum, int | float) or maximum <= 0:
                return "scoreMaximum is required with scoreGiven"
        return None

    def _score_reject(self, status: int, user_id: Any, data: Any, message: str) -> _Response:
        self.score_attempts.append(ScoreAttempt(status, user_id, data, message))
        return _json(status, {"errors": {"type": "bad_request", "message": message}})

    def _results(
        self, record: LineItemRecord, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> _Response:
        self._require_token(headers, {c.SCOPE_RESULT_READONLY})
        self._require_accept(headers, c.MEDIA_RESULT_CONTAINER)
        results = []
        for (num, user_id), given in self.gradebook().items():
            if num != record.num or ("user_id" in query and query["user_id"] != user_id):
                continue
            results.append(
                {
                    "id": f"{self.line_item_url(num)}/results/{user_id}",
                    "scoreOf": self.line_item_url(num),
                    "userId": user_id,
                    "resultScore": given,
                    "resultMaximum": record.data["scoreMaximum"],
                }
            )
        return _json(200, results, c.MEDIA_RESULT_CONTAINER)

    def _memberships(
        self, context_id: str, query: Mapping[str, str], headers: Mapping[str, str]
    ) -> _Response:
        self._require_token(headers, {c.SCOPE_NRPS})
        self._require_accept(headers, c.MEDIA_MEMBERSHIP_CONTAINER)
        course = self.courses[context_id]
        members = [
            {
                "status": u.status,
                "user_id": u.sub,
                "roles": u.context_roles,
                "name": u.name,
                "given_name": u.given_name,
                "family_name": u.family_name,
                "email": u.email,
                "lis_person_sourcedid": f"sis-{u.sub}",
            }
            for u in course.members.values()
            if "role" not in query or query["role"] in u.context_roles
        ]
        url = f"{self.base_url}/c/{context_id}/memberships"
        chunk, next_url = self._page(members, query, url, "Cursor")
        body = {
            "id": url,
            "context": {"id": course.id, "label": course.label, "title": course.title},
            "members": chunk,
        }
        extra = {"Link": f'<{next_url}>; rel="next"'} if next_url else {}
        return _json(200, body, c.MEDIA_MEMBERSHIP_CONTAINER, **extra)

    def _dl_return(self, headers: Mapping[str, str], body: bytes) -> _Response:
        if _media(headers.get("Content-Type")) != "application/x-www-form-urlencoded":
            return _text(415, "form expected")
        form = dict(parse_qsl(body.decode()))
        tool, payload = self._verify_tool_jwt(
            form.get("JWT", ""),
            audience=self.issuer,
            issuer=None,
            require_kid=self.profile.dl_requires_kid,
        )
        if payload.get(c.CLAIM_MESSAGE_TYPE) != c.MESSAGE_DEEP_LINKING_RESPONSE:
            return _text(400, "message_type must be LtiDeepLinkingResponse")
        if payload.get(c.CLAIM_VERSION) != c.LTI_VERSION:
            return _text(400, "bad version")
        if not payload.get("nonce"):
            return _text(400, "nonce required")
        with self._lock:
            request = self._dl_requests.pop(str(payload.get(c.CLAIM_DL_DATA)), None)
        if request is None or request.client_id != tool.client_id:
            return _text(400, "data does not echo a deep-linking request")
        if payload.get(c.CLAIM_DEPLOYMENT_ID) != request.deployment_id:
            return _text(400, "deployment_id mismatch")
        items = payload.get(c.CLAIM_DL_CONTENT_ITEMS)
        if not isinstance(items, list):
            return _text(400, "content_items must be an array")
        if len(items) > 1 and not request.accept_multiple:
            return _text(400, "one item only")
        created = []
        for item in items:
            if not isinstance(item, dict) or item.get("type") != "ltiResourceLink":
                return _text(400, "only ltiResourceLink items are accepted")
            line_item = item.get("lineItem")
            if line_item is not None and not (
                isinstance(line_item.get("scoreMaximum"), int | float)
                and line_item["scoreMaximum"] > 0
            ):
                return _text(400, "lineItem.scoreMaximum must be > 0")
            link = self.add_resource_link(
                tool.client_id,
                context_id=request.context_id,
                title=str(item.get("title", "")),
                custom=item.get("custom") or {},
                line_item={"label": item.get("title", ""), **(line_item or {})}
                if line_item
                else None,
            )
            link.url = item.get("url")
            created.append(link)
        with self._lock:
            self.deep_link_returns.append(
                DeepLinkReturn(tool.client_id, request.context_id, payload, created)
            )
        return _Response(200, b"<p>Content added</p>", {"Content-Type": "text/html"})


class _Handler(BaseHTTPRequestHandler):
    platform: FakePlatform
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr logging."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = CaseInsensitiveDict(dict(self.headers.items()))
        response = self.platform.handle(self.command, self.path, headers, body)
        if response.drop:
            self.close_connection = True
            return
        if response.delay:
            time.sleep(response.delay)
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if response.body:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            self.close_connection = True

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_DELETE = _serve
