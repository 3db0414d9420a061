"""``POST /lti/launch`` with hostile id_tokens: a clear refusal, never a 500 or a session.

Each input gets a real, fresh login state first (``/lti/login`` from a fake Canvas on
loopback), so the junk reaches the token checks rather than stopping at the state cookie:

* arbitrary strings, and base64 garbage in three dotted parts;
* structurally broken JWTs: hypothesis-built headers and payloads (any JSON, wrong types,
  ``alg`` none/HS256/unknown, missing or odd ``kid``), bad base64, extra segments;
* properly signed tokens whose claims were mutated one node at a time (wrong types,
  missing claims, huge values): the claim checks and the launch mapping behind them;
* the classics: ``alg: none``, HS256 keyed with the platform's public key, a foreign RSA
  key, expired, future, wrong audience, wrong nonce, replayed, oversized.

Unsigned or wrongly signed input must be refused (4xx) without signing anyone in; signed
but mutated claims may launch when still valid, but never answer 5xx or a stack trace.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from grader.services import lti_registrations
from tests.fuzz.conftest import tally
from tests.lti.fake_platform import FakePlatform
from tests.support.lti_registration import platform_input

BASE = "http://localhost"
FUZZ = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the world only accumulates launches
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64(json.dumps(value, allow_nan=True).encode())


class Launcher:
    """Fresh login state per input, then the launch POST; counts and checks each answer."""

    def __init__(self, app: Flask, platform: FakePlatform, client_id: str) -> None:
        self.app = app
        self.platform = platform
        self.client_id = client_id
        self.tried = 0
        self.failures: list[str] = []

    def begin(self) -> tuple[FlaskClient, str, str]:
        client = self.app.test_client()
        initiation = self.platform.launch_request(self.client_id)
        response = client.get("/lti/login", query_string=initiation.params)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        jar: SimpleCookie = SimpleCookie()
        jar.load(response.headers["Set-Cookie"].replace("; Partitioned", ""))
        ((name, morsel),) = jar.items()
        client.delete_cookie(name)
        client.set_cookie(name, morsel.value)
        return client, query["state"][0], query["nonce"][0]

    def launch(self, token: Any, *, signed_valid: bool = False, state: str | None = None) -> None:
        """POST one id_token (anything) with a fresh state; record what went wrong."""
        client, fresh_state, _ = self.begin()
        self.post(client, token, state or fresh_state, signed_valid=signed_valid)

    def post(self, client: FlaskClient, token: Any, state: str, *, signed_valid: bool) -> int:
        self.tried += 1
        data = {"state": state}
        if token is not None:
            data["id_token"] = token
        response = client.post("/lti/launch", data=data)
        body = response.get_data(as_text=True)
        status = response.status_code
        problem = None
        if status >= 500:
            problem = f"{status}"
        elif "Traceback" in body:
            problem = "stack trace in the body"
        elif not signed_valid:
            if not 400 <= status < 500:
                problem = f"{status} for an unsigned or wrongly signed token"
            else:
                with client.session_transaction() as cookie:
                    if cookie.get("user_id") is not None:
                        problem = "a refused launch signed someone in"
        if problem:
            self.failures.append(f"{problem}: {str(token)[:300]!r}")
        return status


@pytest.fixture
def launcher(
    app: Flask,
    db_session: Session,
    record_property: Callable[[str, Any], None],
) -> Iterator[Launcher]:
    app.config["PUBLIC_URL"] = BASE
    platform = FakePlatform("canvas").start()
    try:
        tool = platform.register_tool(
            login_url=f"{BASE}/lti/login", launch_url=f"{BASE}/lti/launch", jwks={"keys": []}
        )
        reg = platform.registration(tool.client_id)
        lti_registrations.add_platform(
            db_session,
            platform_input(reg, "Fuzzed Canvas"),
        )
        found = Launcher(app, platform, tool.client_id)
        yield found
    finally:
        platform.stop()
    tally(record_property, "LTI launch (id_token)", found.tried, len(found.failures))
    assert not found.failures, found.failures[:5]


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=15,
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "alg": st.one_of(
            st.sampled_from(["RS256", "none", "HS256", "ES256", "PS256", "RS512", ""]), json_values
        ),
        "kid": st.text(max_size=20),
        "typ": json_values,
        "jku": st.just("http://127.0.0.1:9/evil.json"),
        # A non-string "kid" and any "crit" are left to test_bad_kid_or_crit_headers_are_refused
        # (known 500s for now); once fixed, widen these two to json_values.
    },
)


@FUZZ
@given(token=st.one_of(st.text(max_size=300), st.binary(max_size=200).map(b64)))
def test_arbitrary_strings(launcher: Launcher, token: str) -> None:
    launcher.launch(token)


@FUZZ
@given(
    header=st.one_of(headers, json_values),
    payload=json_values,
    signature=st.binary(max_size=300),
    shape=st.sampled_from(["jwt", "two", "four", "bad-b64", "raw-json"]),
)
def test_structurally_broken_tokens(
    launcher: Launcher, header: Any, payload: Any, signature: bytes, shape: str
) -> None:
    parts = [b64json(header), b64json(payload), b64(signature)]
    token = {
        "jwt": ".".join(parts),
        "two": ".".join(parts[:2]),
        "four": ".".join([*parts, parts[2]]),
        "bad-b64": ".".join([parts[0] + "!*", parts[1] + "%%", parts[2]]),
        "raw-json": json.dumps(payload, allow_nan=True),
    }[shape]
    launcher.launch(token)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(data: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        if not rest:
            out = dict(data)
            if delete:
                out.pop(head, None)
            else:
                out[head] = value
            return out
        return {k: (_mutate(v, rest, value, delete) if k == head else v) for k, v in data.items()}
    out_list = list(data)
    if not rest:
        if delete:
            del out_list[head]
        else:
            out_list[head] = value
        return out_list
    out_list[head] = _mutate(out_list[head], rest, value, delete)
    return out_list


@FUZZ
@given(
    pick=st.integers(min_value=0, max_value=10_000),
    value=json_values,
    delete=st.booleans(),
    user=st.sampled_from(["teacher-1", "stu-1"]),
)
def test_signed_tokens_with_mutated_claims(
    launcher: Launcher, pick: int, value: Any, delete: bool, user: str
) -> None:
    """A correctly signed id_token, one claim (at any depth) replaced or removed."""
    client, state, nonce = launcher.begin()
    claims = launcher.platform.claims_for(launcher.client_id, nonce=nonce, user=user)
    paths = _paths(claims)
    claims = _mutate(claims, paths[pick % len(paths)], value, delete)
    try:
        token = launcher.platform.sign(claims)
    except (TypeError, ValueError):  # PyJWT cannot encode NaN and friends: not a token
        return
    launcher.post(client, token, state, signed_valid=True)


def test_the_classic_attacks(launcher: Launcher) -> None:
    platform = launcher.platform
    cid = launcher.client_id
    now = int(time.time())

    def signed(nonce: str, **kwargs: Any) -> str:
        overrides = kwargs.pop("overrides", {})
        claims = platform.claims_for(cid, nonce=nonce, user="teacher-1") | overrides
        return platform.sign(claims, **kwargs)

    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attacks: list[Callable[[str], str]] = [
        lambda n: signed(n, alg="none"),
        lambda n: signed(n, alg="HS256", hmac_secret=platform.public_pem()),
        lambda n: signed(n, key=foreign),
        lambda n: signed(n, key=foreign, kid="not-a-kid"),
        lambda n: signed(n, kid=None),
        lambda n: signed(n, overrides={"exp": now - 3600, "iat": now - 7200}),
        lambda n: signed(n, overrides={"iat": now + 3600, "exp": now + 7200}),
        lambda n: signed(n, overrides={"aud": "someone-else"}),
        lambda n: signed(n, overrides={"aud": []}),
        lambda n: signed("a-different-nonce"),
        lambda n: signed(n, overrides={"iss": "https://evil.example"}),
        lambda n: signed(n) + "x",
        lambda n: signed(n)[:-5],
        lambda n: "x" * 200_000,
        lambda n: ".".join(["e30"] * 3),
        lambda n: "",
    ]
    for make in attacks:
        client, state, nonce = launcher.begin()
        status = launcher.post(client, make(nonce), state, signed_valid=False)
        assert 400 <= status < 500
    # No token at all, and a token without a state.
    launcher.launch(None)
    client, _, nonce = launcher.begin()
    launcher.post(client, signed(nonce), "", signed_valid=False)
    # Replay: a valid launch works once; the same token and state again are refused.
    client, state, nonce = launcher.begin()
    token = signed(nonce)
    first = launcher.post(client, token, state, signed_valid=True)
    assert first in (200, 302)
    again = client.post("/lti/launch", data={"state": state, "id_token": token})
    launcher.tried += 1
    assert again.status_code in (400, 401, 403)


@pytest.mark.parametrize(
    "extra",
    [{"crit": []}, {"crit": "b64"}, {"crit": [1]}, {"kid": []}, {"kid": 7}, {"kid": None}],
)
def test_bad_kid_or_crit_headers_are_refused(launcher: Launcher, extra: dict[str, Any]) -> None:
    header = b64json({"alg": "RS256", "kid": "k"} | extra)
    client, state, _ = launcher.begin()
    launcher.tried += 1
    response = client.post(
        "/lti/launch", data={"state": state, "id_token": f"{header}.{b64json({})}.c2ln"}
    )
    assert response.status_code == 400
