"""LTI fixes from operating against an independent platform: any JSON ``data`` is echoed,
and an empty ``roles`` array is a valid launch (the spec allows it) that grants nothing."""

from __future__ import annotations

import jwt
import pytest

from grader.lti import claims as c
from grader.lti.deep_linking import build_deep_linking_response
from grader.lti.keys import active_key
from tests.lti.fake_platform import FakePlatform
from tests.lti.tool_harness import ToolHarness

SETTINGS = {
    "accept_types": ["ltiResourceLink"],
    "accept_presentation_document_targets": ["iframe", "window"],
    "accept_multiple": True,
}


@pytest.mark.parametrize(
    "data",
    [{"course": 7, "nested": [1, {"k": "v"}], "flag": True}, ["a", 2], 42, "plain-string"],
)
def test_deep_linking_data_of_any_json_type_is_echoed_unchanged(
    platform: FakePlatform, tool: ToolHarness, data: object
) -> None:
    registration = tool.connect(platform)
    settings = {**SETTINGS, "deep_link_return_url": platform.deep_link_return_url, "data": data}
    launch = tool.launch(
        platform,
        registration.client_id,
        user="teacher-1",
        message_type=c.MESSAGE_DEEP_LINKING_REQUEST,
        overrides={c.CLAIM_DL_SETTINGS: settings},
    )
    assert launch.deep_linking is not None
    assert launch.deep_linking.data == data
    response = build_deep_linking_response(launch, [], key=active_key(tool.keys))
    claims = jwt.decode(response.jwt, options={"verify_signature": False})
    assert claims[c.CLAIM_DL_DATA] == data


def test_empty_roles_are_a_valid_launch_without_course_powers(
    platform: FakePlatform, tool: ToolHarness
) -> None:
    registration = tool.connect(platform)
    launch = tool.launch(platform, registration.client_id, overrides={c.CLAIM_ROLES: []})
    assert launch.roles.context == ()
    assert not launch.is_instructor
    assert not launch.is_learner
