"""The negative matrix of issue 7 over HTTP: each launch is refused with a clear page, and no
session, user or launch row is created."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy import select

from grader.lti import claims as c
from grader.models import User
from grader.models_lti import LtiLaunch
from tests.lti.fake_platform import fresh_key
from tests.lti_web.lms import Attempt
from tests.lti_web.lms import Lms
from tests.lti_web.lms import signed_in_user


def _counts(lms: Lms) -> tuple[int, int]:
    return (
        lms.db.scalar(select(func.count(User.id))) or 0,
        lms.db.scalar(select(func.count(LtiLaunch.id))) or 0,
    )


def _assert_refused(
    lms: Lms, client, attempt: Attempt, *, cookie: bool = True, status: int = 400, code: str
) -> str:
    before = _counts(lms)
    response = lms.post_launch(client, attempt, cookie=cookie)
    html = response.get_data(as_text=True)
    assert response.status_code == status, html
    assert "This launch from your course was refused" in html
    assert f"<code>{code}</code>" in html
    assert attempt.form["id_token"] not in html
    assert signed_in_user(client) is None
    assert not any(h.startswith("session=") for h in response.headers.getlist("Set-Cookie"))
    assert _counts(lms) == before
    return html


# (case, token keyword arguments, expected code)
TOKEN_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("wrong_aud", {"overrides": {"aud": ["someone-else"], "azp": "someone-else"}}, "bad_audience"),
    ("azp_mismatch", {"aud_extra": True, "overrides": {"azp": "evil"}}, "azp_mismatch"),
    ("wrong_issuer", {"overrides": {"iss": "https://evil.example"}}, "unknown_issuer"),
    ("unknown_deployment", {"deployment_id": "999:unknown"}, "unknown_deployment"),
    ("expired", {"iat_delta": -1000, "lifetime": 300}, "expired"),
    ("alg_none", {"alg": "none"}, "bad_algorithm"),
    ("hs256_with_public_key", {"hs256": True}, "bad_algorithm"),
    ("unknown_kid", {"foreign": True, "kid": "rogue-kid"}, "unknown_kid"),
]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [(k, code) for _, k, code in TOKEN_CASES],
    ids=[n for n, _, _ in TOKEN_CASES],
)
def test_tampered_id_token(lms: Lms, kwargs: dict[str, Any], code: str) -> None:
    client_id = lms.connect()
    client = lms.browser()
    attempt = lms.attempt(client, client_id)
    kwargs = dict(kwargs)
    overrides = dict(kwargs.pop("overrides", {}))
    if kwargs.pop("aud_extra", False):
        overrides["aud"] = [client_id, "evil"]
    if "iat_delta" in kwargs:
        kwargs["iat"] = time.time() + kwargs.pop("iat_delta")
    if kwargs.pop("hs256", False):
        kwargs.update(alg="HS256", hmac_secret=lms.platform.public_pem())
    if kwargs.pop("foreign", False):
        kwargs["key"] = fresh_key()
    attempt.form["id_token"] = lms.token(client_id, attempt, overrides=overrides, **kwargs)
    # A signed launch through an unapproved deployment is a set-up gap, not a forgery.
    status = 403 if code == "unknown_deployment" else 400
    _assert_refused(lms, client, attempt, status=status, code=code)


def test_replayed_nonce(lms: Lms) -> None:
    """A captured id_token posted again by someone with a fresh login of their own."""
    client_id = lms.connect()
    victim = lms.browser()
    genuine = lms.attempt(victim, client_id, user="teacher-1")
    assert lms.post_launch(victim, genuine).status_code == 302
    attacker = lms.browser()
    own = lms.attempt(attacker, client_id, user="teacher-1")
    own.form["id_token"] = genuine.form["id_token"]
    html = _assert_refused(lms, attacker, own, code="nonce_replayed")
    assert "already used" in html


def test_replayed_launch_post(lms: Lms) -> None:
    client_id = lms.connect()
    browser = lms.browser()
    attempt = lms.attempt(browser, client_id, user="teacher-1")
    assert lms.post_launch(browser, attempt).status_code == 302
    again = lms.browser()
    _assert_refused(lms, again, attempt, code="unknown_state")


def test_state_mismatch(lms: Lms) -> None:
    client_id = lms.connect()
    client = lms.browser()
    mine = lms.attempt(client, client_id)
    other = lms.attempt(client, client_id)
    client.set_cookie(other.cookie_name, other.cookie_value)  # only the other login's cookie
    _assert_refused(lms, client, mine, cookie=False, code="state_mismatch")


def test_forged_state_cookie(lms: Lms) -> None:
    client_id = lms.connect()
    client = lms.browser()
    attempt = lms.attempt(client, client_id)
    attempt.cookie_value = "forged"
    _assert_refused(lms, client, attempt, code="state_mismatch")


def test_missing_state_cookie(lms: Lms) -> None:
    client_id = lms.connect()
    client = lms.browser()
    attempt = lms.attempt(client, client_id)
    html = _assert_refused(lms, client, attempt, cookie=False, code="missing_state_cookie")
    assert "new window" in html


def test_learner_deep_link_request(lms: Lms) -> None:
    client_id = lms.connect()
    client = lms.browser()
    attempt = lms.attempt(
        client, client_id, user="faculty-learner", message_type=c.MESSAGE_DEEP_LINKING_REQUEST
    )
    _assert_refused(lms, client, attempt, status=403, code="not_instructor")


def test_another_tenants_token(lms: Lms) -> None:
    """Canvas Cloud: two schools share iss and JWKS; B's genuine token must not sign in at A."""
    tenant_a = lms.connect()
    tenant_b = lms.connect()
    client = lms.browser()
    attempt = lms.attempt(client, tenant_a)
    attempt.form["id_token"] = lms.token(
        tenant_b, attempt, deployment_id=lms.platform.tools[tenant_b].deployment_ids[0]
    )
    _assert_refused(lms, client, attempt, code="bad_audience")


def test_token_from_another_platform(lms_factory: Callable[..., Lms]) -> None:
    canvas = lms_factory("canvas")
    moodle = Lms(canvas.app, canvas.db, lms_factory("moodle").platform)
    canvas_id = canvas.connect()
    moodle_id = moodle.connect()
    client = canvas.browser()
    attempt = canvas.attempt(client, canvas_id)
    attempt.form["id_token"] = moodle.platform.make_id_token(moodle_id, nonce=attempt.nonce)
    _assert_refused(canvas, client, attempt, code="issuer_mismatch")


def test_platform_error_post(lms: Lms) -> None:
    client = lms.browser()
    response = client.post(
        "/lti/launch", data={"error": "login_required", "error_description": "<b>x</b>"}
    )
    assert response.status_code == 400
    assert "<b>x</b>" not in response.get_data(as_text=True)
    assert signed_in_user(client) is None


def test_a_refused_launch_burns_the_state_and_clears_its_cookie(lms: Lms) -> None:
    client_id = lms.connect()
    client = lms.browser()
    attempt = lms.attempt(client, client_id)
    genuine = attempt.form["id_token"]
    attempt.form["id_token"] = lms.token(client_id, attempt, alg="none")
    client.set_cookie(attempt.cookie_name, attempt.cookie_value)
    response = client.post("/lti/launch", data=attempt.form)
    assert response.status_code == 400
    cleared = [
        h for h in response.headers.getlist("Set-Cookie") if h.startswith(attempt.cookie_name)
    ]
    assert cleared
    assert "Max-Age=0" in cleared[0]
    attempt.form["id_token"] = genuine
    _assert_refused(lms, client, attempt, code="unknown_state")


# --------------------------------------------------------------------------- login


def test_login_sets_a_partitioned_cross_site_state_cookie(lms: Lms) -> None:
    client_id = lms.connect()
    attempt = lms.attempt(lms.browser(), client_id, method="POST")
    attributes = [part.strip() for part in attempt.set_cookie.split(";")]
    for expected in ("Secure", "HttpOnly", "SameSite=None", "Partitioned", "Path=/"):
        assert expected in attributes
    assert "Max-Age=600" in attributes


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"iss": "https://unknown.example"}, "unknown_issuer"),
        ({"target_link_uri": "https://evil.example/lti/launch"}, "bad_target_link_uri"),
        ({"login_hint": ""}, "missing_param"),
    ],
    ids=["unknown_issuer", "off_site_target", "no_login_hint"],
)
def test_login_refusals(lms: Lms, change: dict[str, str], code: str) -> None:
    client_id = lms.connect()
    params = {**lms.platform.launch_request(client_id).params, **change}
    response = lms.browser().get("/lti/login", query_string=params)
    assert response.status_code == 400
    assert f"<code>{code}</code>" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_unapproved_registration_cannot_log_in(lms: Lms) -> None:
    from grader.models_lti import LtiRegistration

    client_id = lms.connect()
    lms.db.execute(
        LtiRegistration.__table__.update().values(is_active=False)  # type: ignore[attr-defined]
    )
    lms.db.commit()
    params = lms.platform.launch_request(client_id).params
    assert lms.browser().get("/lti/login", query_string=params).status_code == 400


def test_a_valid_launch_starts_a_fresh_session(lms: Lms) -> None:
    client_id = lms.connect()
    client = lms.browser()
    with client.session_transaction() as session:
        session["user_id"] = 123456
        session["planted"] = "by an attacker"
    response = lms.launch(client, client_id, user="teacher-1")
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["user_id"] != 123456
