"""In development the public URL (links, the LTI configuration) follows HOST/PORT."""

from __future__ import annotations

from grader.config import address_url
from grader.config import load_config


def test_the_public_url_follows_host_and_port_unless_set(tmp_path):
    config = load_config(environ={"GRADER_PORT": "8123"}, instance_path=tmp_path)
    assert config["PUBLIC_URL"] == "http://127.0.0.1:8123"
    assert config["PUBLIC_URL_FOLLOWS_ADDRESS"] is True
    config = load_config(
        environ={"GRADER_PORT": "8123", "GRADER_PUBLIC_URL": "https://grader.example.org"},
        instance_path=tmp_path,
    )
    assert config["PUBLIC_URL"] == "https://grader.example.org"
    assert config["PUBLIC_URL_FOLLOWS_ADDRESS"] is False


def test_an_all_interfaces_address_is_advertised_as_localhost():
    assert address_url("0.0.0.0", 5000) == "http://127.0.0.1:5000"  # noqa: S104
    assert address_url("::1", 8000) == "http://[::1]:8000"
