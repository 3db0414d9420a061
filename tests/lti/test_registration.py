"""Registrations, presets, the Canvas developer-key JSON and the generic paste config."""

from __future__ import annotations

import pytest

from grader.lti import claims as c
from grader.lti.errors import ConfigError
from grader.lti.registration import BRIGHTSPACE_TOKEN_AUDIENCE
from grader.lti.registration import InMemoryRegistrationStore
from grader.lti.registration import Registration
from grader.lti.registration import ToolConfig
from grader.lti.registration import canvas_developer_key_json
from grader.lti.registration import paste_config
from grader.lti.registration import preset_registration

TOOL = ToolConfig(base_url="https://grader.example.edu/")


def test_tool_urls() -> None:
    assert TOOL.login_url == "https://grader.example.edu/lti/login"
    assert TOOL.launch_url == "https://grader.example.edu/lti/launch"
    assert TOOL.jwks_url == "https://grader.example.edu/lti/jwks"
    assert TOOL.is_own_url("https://GRADER.example.edu/lti/launch?x=1")
    assert not TOOL.is_own_url("https://grader.example.edu.evil.com/lti/launch")
    with pytest.raises(ConfigError):
        ToolConfig(base_url="grader.example.edu")


def test_canvas_developer_key_json() -> None:
    config = canvas_developer_key_json(TOOL)
    assert config["oidc_initiation_url"] == TOOL.login_url
    assert config["target_link_uri"] == TOOL.launch_url
    assert config["public_jwk_url"] == TOOL.jwks_url
    assert set(config["scopes"]) == set(c.ALL_SCOPES)
    [extension] = config["extensions"]
    assert extension["platform"] == "canvas.instructure.com"
    assert extension["domain"] == "grader.example.edu"
    placements = {p["placement"]: p for p in extension["settings"]["placements"]}
    for name in ("link_selection", "assignment_selection"):
        assert placements[name]["message_type"] == c.MESSAGE_DEEP_LINKING_REQUEST
        assert placements[name]["target_link_uri"] == TOOL.launch_url


def test_paste_config_names_every_url() -> None:
    values = paste_config(TOOL).values()
    for url in (TOOL.login_url, TOOL.launch_url, TOOL.jwks_url, TOOL.canvas_config_url):
        assert url in values


def test_presets() -> None:
    canvas = preset_registration("canvas", client_id="1000", deployment_ids=["d"])
    assert canvas.issuer == "https://canvas.instructure.com"
    assert canvas.token_audience == "https://sso.canvaslms.com/login/oauth2/token"
    d2l = preset_registration("brightspace", client_id="x", host="https://school.brightspace.com/")
    assert d2l.token_audience == BRIGHTSPACE_TOKEN_AUDIENCE
    assert d2l.jwks_url == "https://school.brightspace.com/d2l/.well-known/jwks"
    moodle = preset_registration("moodle", client_id="m", host="https://moodle.example.edu")
    assert moodle.auth_login_url == "https://moodle.example.edu/mod/lti/auth.php"
    blackboard = preset_registration("blackboard", client_id="abc")
    assert blackboard.jwks_url.endswith("/applications/abc/jwks.json")
    with pytest.raises(ConfigError):
        preset_registration("moodle", client_id="m")


def test_store_keys_by_issuer_and_client_id() -> None:
    a = preset_registration("canvas", client_id="1")
    b = preset_registration("canvas", client_id="2")
    store = InMemoryRegistrationStore([a, b])
    assert store.find(a.issuer, "2") == b
    assert store.find(a.issuer, "3") is None
    assert len(store.find_by_issuer(a.issuer)) == 2


def test_registration_urls_must_be_http() -> None:
    with pytest.raises(ConfigError):
        Registration(
            issuer="i",
            client_id="c",
            auth_login_url="file:///x",
            token_url="https://t",
            jwks_url="https://j",
        )
