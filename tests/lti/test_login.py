"""OIDC login initiation: registration lookup, redirect parameters, the state cookie."""

from __future__ import annotations

from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from grader.lti.errors import LoginError
from grader.lti.login import LoginHandler
from grader.lti.login import clear_state_cookie
from grader.lti.registration import InMemoryRegistrationStore
from grader.lti.registration import Registration
from grader.lti.registration import ToolConfig
from grader.lti.stores import MemoryNonceStore
from grader.lti.stores import MemoryStateStore

TOOL = ToolConfig(base_url="https://grader.example.edu")
CANVAS = "https://canvas.instructure.com"


def _registration(client_id: str, issuer: str = CANVAS) -> Registration:
    return Registration(
        issuer=issuer,
        client_id=client_id,
        auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect?x=1",
        token_url="https://sso.canvaslms.com/login/oauth2/token",
        jwks_url="https://sso.canvaslms.com/api/lti/security/jwks",
        deployment_ids=frozenset({"d1"}),
    )


@pytest.fixture
def states() -> MemoryStateStore:
    return MemoryStateStore()


@pytest.fixture
def handler(states: MemoryStateStore) -> LoginHandler:
    store = InMemoryRegistrationStore([_registration("10001"), _registration("10002")])
    store.add(_registration("m1", issuer="https://moodle.example.edu"))
    return LoginHandler(
        tool=TOOL,
        registrations=store,
        states=states,
        nonces=MemoryNonceStore(),
        clock=lambda: 1000.0,
    )


def _params(**extra: str) -> dict[str, str]:
    return {
        "iss": CANVAS,
        "login_hint": "abc",
        "target_link_uri": TOOL.launch_url,
        "client_id": "10002",
        **extra,
    }


def test_redirect_to_the_platform(handler: LoginHandler, states: MemoryStateStore) -> None:
    redirect = handler.initiate(_params(lti_message_hint="hint-1", lti_deployment_id="d1"))

    parts = urlsplit(redirect.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}"
        == "https://sso.canvaslms.com/api/lti/authorize_redirect"
    )
    assert query["x"] == "1"  # the platform's own query survives
    assert query["scope"] == "openid"
    assert query["response_type"] == "id_token"
    assert query["response_mode"] == "form_post"
    assert query["prompt"] == "none"
    assert query["client_id"] == "10002"
    assert query["redirect_uri"] == TOOL.launch_url
    assert query["login_hint"] == "abc"
    assert query["lti_message_hint"] == "hint-1"
    assert len(query["state"]) >= 32
    assert len(query["nonce"]) >= 32
    assert query["state"] != query["nonce"]
    assert redirect.registration.client_id == "10002"
    record = states.consume(redirect.state, now=1000.0)
    assert record is not None
    assert (record.client_id, record.nonce, record.deployment_id) == ("10002", query["nonce"], "d1")


def test_state_cookie_attributes(handler: LoginHandler) -> None:
    redirect = handler.initiate(_params())
    cookie = redirect.cookie
    assert cookie.name.endswith(redirect.state)
    header = cookie.header_value()
    for attribute in (
        "Secure",
        "HttpOnly",
        "SameSite=None",
        "Partitioned",
        "Max-Age=600",
        "Path=/",
    ):
        assert attribute in header
    assert cookie.set_cookie_kwargs()["partitioned"] is True
    assert "Max-Age=0" in clear_state_cookie(redirect.state).header_value()


def test_each_login_gets_fresh_secrets(handler: LoginHandler) -> None:
    first, second = handler.initiate(_params()), handler.initiate(_params())
    assert first.params["state"] != second.params["state"]
    assert first.params["nonce"] != second.params["nonce"]


def test_issuer_alone_only_when_unique(handler: LoginHandler) -> None:
    moodle = handler.initiate(
        {"iss": "https://moodle.example.edu", "login_hint": "x", "target_link_uri": TOOL.launch_url}
    )
    assert moodle.registration.client_id == "m1"
    with pytest.raises(LoginError) as info:
        handler.initiate({k: v for k, v in _params().items() if k != "client_id"})
    assert info.value.code == "ambiguous_issuer"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"iss": "https://evil.example"}, "unknown_issuer"),
        ({"client_id": "99999"}, "unknown_client"),
        ({"login_hint": ""}, "missing_param"),
        ({"target_link_uri": "https://evil.example/phish"}, "bad_target_link_uri"),
        ({"target_link_uri": "http://grader.example.edu/lti/launch"}, "bad_target_link_uri"),
        ({"login_hint": "x" * 5000}, "bad_param"),
    ],
)
def test_refused_initiations(handler: LoginHandler, change: dict[str, str], code: str) -> None:
    with pytest.raises(LoginError) as info:
        handler.initiate(_params(**change))
    assert info.value.code == code


def test_missing_iss(handler: LoginHandler) -> None:
    with pytest.raises(LoginError) as info:
        handler.initiate({"login_hint": "x", "target_link_uri": TOOL.launch_url})
    assert info.value.code == "missing_param"


def test_without_client_id_the_deployment_picks_among_an_issuers_registrations(
    states: MemoryStateStore,
) -> None:
    """client_id is optional at initiation; lti_deployment_id can still name one registration."""
    first, second = _registration("10001"), _registration("10002")
    store = InMemoryRegistrationStore(
        [first, Registration(**{**second.__dict__, "deployment_ids": frozenset({"d2"})})]
    )
    handler = LoginHandler(
        tool=TOOL, registrations=store, states=states, nonces=MemoryNonceStore(), clock=lambda: 1.0
    )
    params = {k: v for k, v in _params().items() if k != "client_id"}
    assert handler.initiate({**params, "lti_deployment_id": "d2"}).registration.client_id == "10002"
    assert handler.initiate({**params, "lti_deployment_id": "d1"}).registration.client_id == "10001"
    for deployment in ({"lti_deployment_id": "d9"}, {}):
        with pytest.raises(LoginError) as info:
            handler.initiate({**params, **deployment})
        assert info.value.code == "ambiguous_issuer"
