"""The one outgoing-URL guard: webhooks, LTI services and JWKS fetches all refuse private
addresses, including IPv6 forms that carry a private IPv4 address."""

from __future__ import annotations

import pytest

from grader import url_guard
from grader.errors import BadRequest
from grader.lti import JwksClient
from grader.lti import claims as c
from grader.lti.errors import PermanentServiceError
from grader.lti.jwks_client import JwksError
from grader.services import webhooks

HIDDEN_LOOPBACK = [
    "http://127.0.0.1:8080/internal",
    "http://[::1]/x",
    "http://localhost/x",
    "http://10.1.2.3/x",
    "http://169.254.169.254/latest/meta-data",
    "http://[64:ff9b::7f00:1]/",  # NAT64 form of 127.0.0.1
    "http://[64:ff9b:1::a00:1]/",  # local-use NAT64 form of 10.0.0.1
    "http://[2002:7f00:1::]/",  # 6to4 form of 127.0.0.1
    "http://[2002:c0a8:101::]/",  # 6to4 form of 192.168.1.1
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:a00:1]/",
    "http://[::127.0.0.1]/",  # IPv4-compatible (deprecated)
    "http://[fe80::1]/",
    "http://[fd00::1]/",
]


@pytest.mark.parametrize("url", HIDDEN_LOOPBACK)
def test_the_guard_refuses_private_addresses_in_every_form(url):
    with pytest.raises(url_guard.UnsafeUrl, match="loopback, private or reserved"):
        url_guard.check_url(url, allow_private=False)
    with pytest.raises(BadRequest, match="public internet"):
        webhooks.check_url(url)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::"]
)
def test_public_addresses_and_their_ipv6_forms_pass(address):
    assert url_guard.is_public_address(address)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://user:pw@example.org/", "gopher://x"])
def test_odd_urls_are_refused_even_when_private_ones_are_allowed(url):
    with pytest.raises(url_guard.UnsafeUrl):
        url_guard.check_url(url, allow_private=True)


def test_lti_service_and_jwks_fetches_go_through_the_guard(platform, tool):
    """A registered platform whose URLs point inside our network (here: loopback) gets no
    request: not the token, so no bearer token is ever sent there, nor its key set."""
    registration = tool.connect(platform)
    service = tool.service(registration, allow_private_urls=False)
    with pytest.raises(PermanentServiceError) as caught:
        service.access_token([c.SCOPE_SCORE])
    assert caught.value.code == "bad_url"
    assert "loopback, private or reserved" in caught.value.message
    assert platform.token_requests == []
    with JwksClient() as jwks, pytest.raises(JwksError, match="loopback, private or reserved"):
        jwks.get_key(platform.jwks_url, "any-kid")
    # The same platform, allowed (development), answers: the refusal was the guard's.
    assert tool.service(registration).access_token([c.SCOPE_SCORE])


def test_a_redirect_to_a_private_address_is_refused_before_it_is_followed() -> None:
    import requests

    from grader.lti._http import redirect_guard

    bounce = requests.Response()
    bounce.status_code = 302
    bounce.url = "https://lms.example.org/jwks"
    bounce.headers["Location"] = "http://[64:ff9b::7f00:1]:8080/internal"
    with pytest.raises(url_guard.UnsafeUrl, match="loopback, private or reserved"):
        redirect_guard(allow_private=False)(bounce)
    redirect_guard(allow_private=True)(bounce)  # development: allowed
    plain = requests.Response()
    plain.status_code = 200
    redirect_guard(allow_private=False)(plain)  # not a redirect: nothing to check
