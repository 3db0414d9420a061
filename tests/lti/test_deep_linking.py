"""Deep-linking response JWT and its auto-submit page."""

from __future__ import annotations

from dataclasses import replace

import jwt
import pytest

from grader.lti import claims as c
from grader.lti.deep_linking import ResourceLinkItem
from grader.lti.deep_linking import auto_submit_form
from grader.lti.deep_linking import build_deep_linking_jwt
from grader.lti.deep_linking import build_deep_linking_response
from grader.lti.errors import DeepLinkingError
from grader.lti.grades import LineItemSpec
from grader.lti.jwks_client import parse_jwks
from grader.lti.keys import KeyState
from grader.lti.keys import jwks_document
from grader.lti.launch import DeepLinkingSettings
from grader.lti.launch import LaunchData
from grader.lti.registration import Registration
from grader.lti.roles import parse_roles
from tests.lti.fake_platform import parse_auto_submit_form
from tests.lti.tool_harness import pooled_key_record

KEY = pooled_key_record(1, KeyState.ACTIVE)
REGISTRATION = Registration(
    issuer="https://lms.example.edu",
    client_id="tool-1",
    auth_login_url="https://lms.example.edu/auth",
    token_url="https://lms.example.edu/token",
    jwks_url="https://lms.example.edu/jwks",
    deployment_ids=frozenset({"dep-1"}),
)
SETTINGS = DeepLinkingSettings(
    deep_link_return_url='https://lms.example.edu/dl?course=1&x="><script>alert(1)</script>',
    accept_types=("ltiResourceLink",),
    accept_presentation_document_targets=("iframe",),
    accept_multiple=False,
    data="opaque-platform-data",
)
LAUNCH = LaunchData(
    message_type=c.MESSAGE_DEEP_LINKING_REQUEST,
    registration=REGISTRATION,
    deployment_id="dep-1",
    sub="teacher",
    roles=parse_roles([c.ROLE_INSTRUCTOR]),
    deep_linking=SETTINGS,
)
ITEM = ResourceLinkItem(
    title="Quiz <1>",
    url="https://grader.example.edu/lti/launch",
    custom={"set_id": "set-9"},
    line_item=LineItemSpec(score_maximum=12, label="Quiz 1", resource_id="set-9", tag="backprop"),
)


def _verify(token: str) -> dict:
    key = parse_jwks(jwks_document([KEY]))[KEY.kid]
    return jwt.decode(token, key, algorithms=["RS256"], audience=REGISTRATION.issuer)


def test_response_claims() -> None:
    token = build_deep_linking_jwt(LAUNCH, [ITEM], key=KEY, msg="Added")
    claims = _verify(token)
    assert jwt.get_unverified_header(token)["kid"] == KEY.kid
    assert claims["iss"] == "tool-1"
    assert claims["aud"] == REGISTRATION.issuer
    assert claims["nonce"]
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert claims[c.CLAIM_DEPLOYMENT_ID] == "dep-1"
    assert claims[c.CLAIM_MESSAGE_TYPE] == c.MESSAGE_DEEP_LINKING_RESPONSE
    assert claims[c.CLAIM_VERSION] == "1.3.0"
    assert claims[c.CLAIM_DL_DATA] == "opaque-platform-data"
    assert claims[c.CLAIM_DL_MSG] == "Added"
    [item] = claims[c.CLAIM_DL_CONTENT_ITEMS]
    assert item == {
        "type": "ltiResourceLink",
        "title": "Quiz <1>",
        "url": "https://grader.example.edu/lti/launch",
        "custom": {"set_id": "set-9"},
        "lineItem": {
            "scoreMaximum": 12,
            "label": "Quiz 1",
            "resourceId": "set-9",
            "tag": "backprop",
        },
    }


def test_form_is_escaped_and_round_trips() -> None:
    response = build_deep_linking_response(LAUNCH, [ITEM], key=KEY, script_nonce='n"1')
    assert "<script>alert(1)" not in response.form_html
    assert 'nonce="n&quot;1"' in response.form_html
    form = parse_auto_submit_form(response.form_html)
    assert form.action == SETTINGS.deep_link_return_url
    assert form.fields == {"JWT": response.jwt}


def test_empty_selection_is_allowed() -> None:
    claims = _verify(build_deep_linking_jwt(LAUNCH, [], key=KEY, errormsg="Nothing picked"))
    assert claims[c.CLAIM_DL_CONTENT_ITEMS] == []


@pytest.mark.parametrize(
    ("settings", "items", "code"),
    [
        (replace(SETTINGS, accept_types=("link",)), [ITEM], "type_not_accepted"),
        (SETTINGS, [ITEM, ITEM], "multiple_not_accepted"),
        (replace(SETTINGS, accept_lineitem=False), [ITEM], "lineitem_not_accepted"),
        (SETTINGS, [replace(ITEM, url="javascript:alert(1)")], "bad_url"),
        (SETTINGS, [replace(ITEM, custom={"n": 1})], "bad_custom"),  # type: ignore[dict-item]
    ],
)
def test_refused_items(settings: DeepLinkingSettings, items: list, code: str) -> None:
    with pytest.raises(DeepLinkingError) as info:
        build_deep_linking_jwt(replace(LAUNCH, deep_linking=settings), items, key=KEY)
    assert info.value.code == code


def test_not_a_deep_linking_launch() -> None:
    with pytest.raises(DeepLinkingError):
        build_deep_linking_jwt(replace(LAUNCH, deep_linking=None), [ITEM], key=KEY)


def test_auto_submit_refuses_non_http_actions() -> None:
    with pytest.raises(ValueError, match="http"):
        auto_submit_form("javascript:alert(1)", {})
