"""Platform key sets: caching, refetch on unknown kid, limits, quirks (D2L, Moodle UA)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from grader.lti._http import USER_AGENT
from grader.lti.errors import JwksError
from grader.lti.jwks_client import JwksClient
from grader.lti.jwks_client import parse_jwks
from tests.lti.fake_platform import FakePlatform
from tests.lti.tool_harness import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(0.0)


@pytest.fixture
def client(clock: FakeClock) -> Iterator[JwksClient]:
    with JwksClient(
        allow_private_urls=True, clock=clock, ttl=3600, min_refetch_interval=10
    ) as jwks:
        yield jwks


def test_cached_until_ttl(platform: FakePlatform, client: JwksClient, clock: FakeClock) -> None:
    client.get_key(platform.jwks_url, platform.kid)
    client.get_key(platform.jwks_url, platform.kid)
    assert client.fetch_count == 1
    clock.advance(3601)
    client.get_key(platform.jwks_url, platform.kid)
    assert client.fetch_count == 2


def test_unknown_kid_right_after_a_fetch_does_not_refetch(
    platform: FakePlatform, client: JwksClient, clock: FakeClock
) -> None:
    client.get_key(platform.jwks_url, platform.kid)
    with pytest.raises(JwksError) as info:
        client.get_key(platform.jwks_url, "nope")
    assert info.value.code == "unknown_kid"
    assert client.fetch_count == 1
    clock.advance(11)
    new_kid = platform.rotate_keys()
    assert client.get_key(platform.jwks_url, new_kid).key_id == new_kid
    assert client.fetch_count == 2


def test_concurrent_cold_cache_fetches_once(platform: FakePlatform, client: JwksClient) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            client.get_key(platform.jwks_url, platform.kid)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert errors == []
    assert client.fetch_count == 1


def test_brightspace_keys_without_alg_count_as_rs256(
    platform_factory: Callable[..., FakePlatform], client: JwksClient
) -> None:
    platform = platform_factory("brightspace")
    assert "alg" not in platform.jwks()["keys"][0]
    assert client.get_key(platform.jwks_url, platform.kid).algorithm_name == "RS256"


def test_moodle_needs_a_user_agent_and_we_send_one(
    platform_factory: Callable[..., FakePlatform], client: JwksClient
) -> None:
    platform = platform_factory("moodle")
    host, port = urlsplit(platform.base_url).netloc.split(":")
    bare = http.client.HTTPConnection(host, int(port), timeout=5)  # sends no User-Agent at all
    try:
        bare.request("GET", "/jwks")
        assert bare.getresponse().status == 403
    finally:
        bare.close()
    client.get_key(platform.jwks_url, platform.kid)
    sent = [h for m, t, s, h in platform.request_log if t == "/jwks" and s == 200]
    assert sent[0]["User-Agent"] == USER_AGENT


def test_unusable_keys_are_skipped(platform: FakePlatform) -> None:
    good = platform.jwks()["keys"][0]
    document = {
        "keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {**good, "kid": "enc", "use": "enc"},
            {**good, "kid": "ps", "alg": "PS256"},
            {k: v for k, v in good.items() if k != "kid"},
            {"kty": "RSA", "kid": "short", "n": "AQAB", "e": "AQAB"},
            good,
        ]
    }
    assert list(parse_jwks(document)) == [good["kid"]]
    with pytest.raises(JwksError):
        parse_jwks(["not", "a", "jwks"])


def test_size_cap_and_schemes(platform: FakePlatform, clock: FakeClock) -> None:
    with JwksClient(allow_private_urls=True, clock=clock, max_bytes=100) as small:
        with pytest.raises(JwksError) as info:
            small.get_key(platform.jwks_url, platform.kid)
        assert info.value.code == "jwks_unavailable"
        with pytest.raises(JwksError):
            small.get_key("file:///etc/passwd", "x")
        with pytest.raises(JwksError):
            small.get_key(platform.base_url + "/missing", "x")


def test_stale_keys_survive_a_failed_refresh(
    platform: FakePlatform, client: JwksClient, clock: FakeClock
) -> None:
    kid = platform.kid
    url = platform.jwks_url
    client.get_key(url, kid)
    platform.stop()  # the platform's key set is unreachable
    clock.advance(3601)
    assert client.get_key(url, kid).key_id == kid
    with pytest.raises(JwksError) as info:
        client.get_key(url, "another")
    assert info.value.code == "jwks_unavailable"
