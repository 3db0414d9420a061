"""The negative matrix of issue 7 at the protocol level: each launch is refused with a stable code.

Every case starts from a genuine login (fresh state, cookie and nonce) and changes one thing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from grader.lti import claims as c
from grader.lti.errors import LaunchError
from grader.lti.login import state_cookie_name
from tests.lti.fake_platform import FakePlatform
from tests.lti.fake_platform import fresh_key
from tests.lti.tool_harness import LaunchAttempt
from tests.lti.tool_harness import ToolHarness


def _refused(tool: ToolHarness, attempt: LaunchAttempt) -> str:
    with pytest.raises(LaunchError) as info:
        tool.validator.validate(attempt.form, attempt.cookies)
    return info.value.code


def _with_token(attempt: LaunchAttempt, token: str) -> LaunchAttempt:
    attempt.form["id_token"] = token
    return attempt


def _token(platform: FakePlatform, attempt: LaunchAttempt, client_id: str, **kwargs: Any) -> str:
    return platform.make_id_token(client_id, nonce=attempt.redirect.params["nonce"], **kwargs)


@pytest.fixture
def client_id(platform: FakePlatform, tool: ToolHarness) -> str:
    return tool.connect(platform).client_id


# (case id, make_id_token keyword arguments, expected code)
TOKEN_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("wrong_aud", {"overrides": {"aud": ["someone-else"], "azp": "someone-else"}}, "bad_audience"),
    ("aud_string_other", {"overrides": {"aud": "someone-else"}, "remove": ["azp"]}, "bad_audience"),
    ("aud_not_string", {"overrides": {"aud": 42}}, "bad_audience"),
    ("azp_mismatch", {"overrides": {"aud_extra": 1, "azp": "evil"}}, "azp_mismatch"),
    ("wrong_issuer", {"overrides": {"iss": "https://evil.example"}}, "unknown_issuer"),
    ("unknown_deployment", {"deployment_id": "999:unknown"}, "unknown_deployment"),
    ("expired", {"iat_delta": -1000, "lifetime": 300}, "expired"),
    ("issued_in_future", {"iat_delta": 600}, "not_yet_valid"),
    ("too_old", {"iat_delta": -1200, "lifetime": 3600}, "too_old"),
    ("bad_version", {"overrides": {c.CLAIM_VERSION: "1.1"}}, "bad_version"),
    (
        "bad_message_type",
        {"overrides": {c.CLAIM_MESSAGE_TYPE: "LtiSubmissionReviewRequest"}},
        "bad_message_type",
    ),
    ("missing_resource_link", {"remove": [c.CLAIM_RESOURCE_LINK]}, "missing_claim"),
    ("missing_link_id", {"overrides": {c.CLAIM_RESOURCE_LINK: {"title": "x"}}}, "missing_claim"),
    ("missing_roles", {"remove": [c.CLAIM_ROLES]}, "missing_claim"),
    ("missing_deployment", {"remove": [c.CLAIM_DEPLOYMENT_ID]}, "missing_claim"),
    ("missing_nonce", {"remove": ["nonce"]}, "missing_nonce"),
    ("missing_exp", {"remove": ["exp"]}, "missing_claim"),
    ("alg_none", {"alg": "none"}, "bad_algorithm"),
    ("missing_kid", {"kid": None}, "missing_kid"),
    ("foreign_key_same_kid", {"key": "foreign"}, "bad_signature"),
    ("foreign_key_unknown_kid", {"key": "foreign", "kid": "not-a-platform-kid"}, "unknown_kid"),
]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [(k, code) for _, k, code in TOKEN_CASES],
    ids=[case for case, _, _ in TOKEN_CASES],
)
def test_tampered_id_token_is_refused(
    platform: FakePlatform, tool: ToolHarness, client_id: str, kwargs: dict[str, Any], code: str
) -> None:
    attempt = tool.attempt(platform, client_id)
    kwargs = dict(kwargs)
    overrides = dict(kwargs.pop("overrides", {}))
    if overrides.pop("aud_extra", None):
        overrides["aud"] = [client_id, "evil"]
    if "iat_delta" in kwargs:  # relative to now, not to collection time
        kwargs["iat"] = time.time() + kwargs.pop("iat_delta")
    if kwargs.get("key") == "foreign":
        kwargs["key"] = fresh_key()
    token = _token(platform, attempt, client_id, overrides=overrides, **kwargs)
    assert _refused(tool, _with_token(attempt, token)) == code


def test_aud_list_without_azp_is_refused(
    platform: FakePlatform, tool: ToolHarness, client_id: str
) -> None:
    attempt = tool.attempt(platform, client_id)
    token = _token(
        platform, attempt, client_id, overrides={"aud": [client_id, "other"]}, remove=["azp"]
    )
    assert _refused(tool, _with_token(attempt, token)) == "azp_mismatch"


def test_hs256_signed_with_the_public_key(
    platform: FakePlatform, tool: ToolHarness, client_id: str
) -> None:
    attempt = tool.attempt(platform, client_id)
    pem = platform.public_pem()
    token = _token(platform, attempt, client_id, alg="HS256", hmac_secret=pem)
    assert _refused(tool, _with_token(attempt, token)) == "bad_algorithm"


def test_hmac_signature_under_an_rs256_header(
    platform: FakePlatform, tool: ToolHarness, client_id: str
) -> None:
    """The header lies about the algorithm: the RSA verification must fail."""
    attempt = tool.attempt(platform, client_id)
    token = _token(platform, attempt, client_id, alg="RS256", hmac_secret=platform.public_pem())
    assert _refused(tool, _with_token(attempt, token)) == "bad_signature"


def test_leeway_accepts_small_clock_skew(
    platform: FakePlatform, tool: ToolHarness, client_id: str
) -> None:
    attempt = tool.attempt(platform, client_id)
    token = _token(platform, attempt, client_id, iat=time.time() + 30)
    launch = tool.validator.validate(_with_token(attempt, token).form, attempt.cookies)
    assert launch.sub == "stu-1"


def test_replayed_nonce(platform: FakePlatform, tool: ToolHarness, client_id: str) -> None:
    """A captured id_token posted again with a fresh state and cookie of the attacker's own."""
    first = tool.attempt(platform, client_id)
    tool.validator.validate(first.form, first.cookies)
    second = tool.attempt(platform, client_id)
    assert _refused(tool, _with_token(second, first.form["id_token"])) == "nonce_replayed"


def test_replayed_launch_post(platform: FakePlatform, tool: ToolHarness, client_id: str) -> None:
    attempt = tool.attempt(platform, client_id)
    tool.validator.validate(attempt.form, attempt.cookies)
    assert _refused(tool, attempt) == "unknown_state"


def test_nonce_of_another_login(platform: FakePlatform, tool: ToolHarness, client_id: str) -> None:
    mine = tool.attempt(platform, client_id)
    other = tool.attempt(platform, client_id)
    token = platform.make_id_token(client_id, nonce=other.redirect.params["nonce"])
    assert _refused(tool, _with_token(mine, token)) == "nonce_mismatch"


def test_state_mismatch(platform: FakePlatform, tool: ToolHarness, client_id: str) -> None:
    mine = tool.attempt(platform, client_id)
    other = tool.attempt(platform, client_id)
    mine.cookies = dict(other.cookies)  # this browser holds another login's cookie only
    assert _refused(tool, mine) == "state_mismatch"


def test_state_cookie_value_mismatch(
    platform: FakePlatform, tool: ToolHarness, client_id: str
) -> None:
    attempt = tool.attempt(platform, client_id)
    attempt.cookies = {state_cookie_name(attempt.form["state"]): "forged"}
    assert _refused(tool, attempt) == "state_mismatch"


def test_missing_state_cookie(platform: FakePlatform, tool: ToolHarness, client_id: str) -> None:
    attempt = tool.attempt(platform, client_id)
    attempt.cookies = {}
    assert _refused(tool, attempt) == "missing_state_cookie"


def test_missing_state(platform: FakePlatform, tool: ToolHarness, client_id: str) -> None:
    attempt = tool.attempt(platform, client_id)
    del attempt.form["state"]
    assert _refused(tool, attempt) == "missing_state"


def test_expired_login_state(platform: FakePlatform, client_id: str) -> None:
    clock_now = [time.time()]
    harness = ToolHarness(clock=lambda: clock_now[0])
    try:
        registration = harness.connect(platform)
        attempt = harness.attempt(platform, registration.client_id)
        clock_now[0] += 601
        assert _refused(harness, attempt) == "unknown_state"
    finally:
        harness.close()


def test_platform_error_post(tool: ToolHarness) -> None:
    with pytest.raises(LaunchError) as info:
        tool.validator.validate({"error": "login_required", "error_description": "<b>x</b>"}, {})
    assert info.value.code == "platform_error"


def test_malformed_token(platform: FakePlatform, tool: ToolHarness, client_id: str) -> None:
    attempt = tool.attempt(platform, client_id)
    assert _refused(tool, _with_token(attempt, "not.a.jwt")) == "malformed_token"


def test_missing_id_token(platform: FakePlatform, tool: ToolHarness, client_id: str) -> None:
    attempt = tool.attempt(platform, client_id)
    del attempt.form["id_token"]
    assert _refused(tool, attempt) == "missing_id_token"


def test_a_failed_launch_burns_the_state(
    platform: FakePlatform, tool: ToolHarness, client_id: str
) -> None:
    attempt = tool.attempt(platform, client_id)
    genuine = attempt.form["id_token"]
    _refused(tool, _with_token(attempt, _token(platform, attempt, client_id, alg="none")))
    assert _refused(tool, _with_token(attempt, genuine)) == "unknown_state"


@pytest.mark.parametrize("user", ["stu-1", "faculty-learner", "test-student"])
def test_deep_linking_needs_a_course_instructor(
    platform: FakePlatform, tool: ToolHarness, client_id: str, user: str
) -> None:
    """Learners are refused, including university faculty who are learners in this course."""
    attempt = tool.attempt(
        platform, client_id, user=user, message_type=c.MESSAGE_DEEP_LINKING_REQUEST
    )
    assert _refused(tool, attempt) == "not_instructor"


@pytest.mark.parametrize("user", ["teacher-1", "ta-1"])
def test_deep_linking_for_instructors_and_tas(
    platform: FakePlatform, tool: ToolHarness, client_id: str, user: str
) -> None:
    launch = tool.launch(
        platform, client_id, user=user, message_type=c.MESSAGE_DEEP_LINKING_REQUEST
    )
    assert launch.is_instructor
    assert launch.deep_linking is not None
    assert launch.deep_linking.accept_types == ("ltiResourceLink",)


def test_deep_linking_settings_required(
    platform: FakePlatform, tool: ToolHarness, client_id: str
) -> None:
    attempt = tool.attempt(
        platform, client_id, user="teacher-1", message_type=c.MESSAGE_DEEP_LINKING_REQUEST
    )
    token = _token(
        platform,
        attempt,
        client_id,
        user="teacher-1",
        message_type=c.MESSAGE_DEEP_LINKING_REQUEST,
        remove=[c.CLAIM_DL_SETTINGS],
    )
    assert _refused(tool, _with_token(attempt, token)) == "missing_claim"


def test_other_tenant_token_same_issuer(platform: FakePlatform, tool: ToolHarness) -> None:
    """Canvas Cloud: tenants share iss and JWKS; B's genuine token must not log in at A."""
    tenant_a = tool.connect(platform)
    tenant_b = tool.connect(platform)
    assert tenant_a.issuer == tenant_b.issuer
    assert tenant_a.jwks_url == tenant_b.jwks_url
    attempt = tool.attempt(platform, tenant_a.client_id)
    token_b = platform.make_id_token(
        tenant_b.client_id,
        nonce=attempt.redirect.params["nonce"],
        deployment_id=platform.tools[tenant_b.client_id].deployment_ids[0],
    )
    assert _refused(tool, _with_token(attempt, token_b)) == "bad_audience"


def test_other_tenant_unknown_to_us(
    platform: FakePlatform, tool: ToolHarness, client_id: str
) -> None:
    """Another tool's client on the same Canvas: signed by Canvas, but not for us."""
    stranger = platform.register_tool(
        login_url="https://other.example/login", launch_url="https://other.example/launch"
    )
    attempt = tool.attempt(platform, client_id)
    token = platform.make_id_token(stranger.client_id, nonce=attempt.redirect.params["nonce"])
    assert _refused(tool, _with_token(attempt, token)) == "bad_audience"


def test_token_from_another_registered_platform(
    platform_factory: Callable[..., FakePlatform], tool: ToolHarness
) -> None:
    canvas = platform_factory("canvas")
    moodle = platform_factory("moodle")
    reg_canvas = tool.connect(canvas)
    reg_moodle = tool.connect(moodle)
    attempt = tool.attempt(canvas, reg_canvas.client_id)
    token = moodle.make_id_token(reg_moodle.client_id, nonce=attempt.redirect.params["nonce"])
    assert _refused(tool, _with_token(attempt, token)) == "issuer_mismatch"


def test_blackboard_deployment_of_another_institution(
    platform_factory: Callable[..., FakePlatform], tool: ToolHarness
) -> None:
    """Blackboard: one client id, deployments per institution; only approved ones launch."""
    platform = platform_factory("blackboard")
    registration = tool.connect(platform)
    platform.add_deployment(registration.client_id, "other-university")
    assert tool.launch(platform, registration.client_id).deployment_id == next(
        iter(registration.deployment_ids)
    )
    attempt = tool.attempt(platform, registration.client_id, deployment_id="other-university")
    assert _refused(tool, attempt) == "unknown_deployment"


def test_the_launch_must_name_the_deployment_its_login_named(
    platform_factory: Callable[..., FakePlatform], tool: ToolHarness
) -> None:
    """LTI Core 1.3 §4.1.2: ``lti_deployment_id`` at login MUST be the launch's deployment_id,
    even when both deployments are approved."""
    platform = platform_factory("blackboard")
    registration = tool.connect(platform)
    platform.add_deployment(registration.client_id, "second-campus")
    tool.registrations.add(platform.registration(registration.client_id))
    attempt = tool.attempt(platform, registration.client_id)
    assert attempt.redirect.registration.has_deployment("second-campus")
    token = _token(platform, attempt, registration.client_id, deployment_id="second-campus")
    assert _refused(tool, _with_token(attempt, token)) == "deployment_mismatch"

    launched = tool.launch(platform, registration.client_id, deployment_id="second-campus")
    assert launched.deployment_id == "second-campus"


def test_rotated_platform_key_is_picked_up_by_one_refetch(
    platform: FakePlatform, tool: ToolHarness, client_id: str
) -> None:
    tool.launch(platform, client_id)
    assert tool.jwks_client.fetch_count == 1
    platform.rotate_keys()
    tool.jwks_clock.advance(30)  # well inside the 1 h TTL: only the unknown kid forces a fetch

    launch = tool.launch(platform, client_id)

    assert launch.sub == "stu-1"
    assert tool.jwks_client.fetch_count == 2
    tool.launch(platform, client_id)
    assert tool.jwks_client.fetch_count == 2  # cached again


def test_unknown_kid_refetches_once_then_refuses(
    platform: FakePlatform, tool: ToolHarness, client_id: str
) -> None:
    tool.launch(platform, client_id)
    tool.jwks_clock.advance(30)
    for expected_fetches in (2, 2):  # the second unknown kid right after: rate-limited, no fetch
        attempt = tool.attempt(platform, client_id)
        token = _token(platform, attempt, client_id, key=fresh_key(), kid="rogue")
        assert _refused(tool, _with_token(attempt, token)) == "unknown_kid"
        assert tool.jwks_client.fetch_count == expected_fetches


def test_institution_role_grants_nothing(
    platform: FakePlatform, tool: ToolHarness, client_id: str
) -> None:
    launch = tool.launch(platform, client_id, user="faculty-learner")
    assert launch.course_role == "learner"
    assert not launch.is_instructor
    assert launch.roles.institution == (c.ROLE_INSTITUTION_INSTRUCTOR,)


def test_canvas_test_student_is_not_gradable(
    platform: FakePlatform, tool: ToolHarness, client_id: str
) -> None:
    launch = tool.launch(platform, client_id, user="test-student")
    assert launch.roles.is_test_user
    assert not launch.gradable


def test_anonymous_launch_is_view_only(
    platform: FakePlatform, tool: ToolHarness, client_id: str
) -> None:
    attempt = tool.attempt(platform, client_id)
    launch = tool.validator.validate(
        _with_token(attempt, _token(platform, attempt, client_id, remove=["sub"])).form,
        attempt.cookies,
    )
    assert launch.is_anonymous
    assert not launch.gradable
