"""AGS/NRPS service client: tokens, audiences, typed errors, outage and recovery."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Callable

import jwt
import pytest

from grader.lti import claims as c
from grader.lti.errors import PermanentServiceError
from grader.lti.errors import RetryableServiceError
from grader.lti.grades import LineItemSpec
from grader.lti.grades import Score
from grader.lti.grades import next_timestamp
from grader.lti.registration import BRIGHTSPACE_TOKEN_AUDIENCE
from grader.lti.registration import Registration
from grader.lti.services import AgsClient
from tests.lti.fake_platform import FakePlatform
from tests.lti.fake_platform import closed_port_url
from tests.lti.tool_harness import ToolHarness


def _graded_link(platform: FakePlatform, tool: ToolHarness) -> tuple[Registration, str]:
    registration = tool.connect(platform)
    link = platform.add_resource_link(
        registration.client_id, line_item={"label": "Quiz", "scoreMaximum": 5, "resourceId": "s1"}
    )
    assert link.lineitem_num is not None
    return registration, platform.line_item_url(link.lineitem_num)


def _score(user: str = "stu-1", given: float = 4.0, at: dt.datetime | None = None) -> Score:
    return Score(
        user_id=user, score_given=given, score_maximum=5.0, timestamp=at or dt.datetime.now(dt.UTC)
    )


def test_token_reused_across_calls_and_renewed_after_revocation(
    platform: FakePlatform, tool: ToolHarness
) -> None:
    registration, lineitem = _graded_link(platform, tool)
    service = tool.service(registration)
    ags = AgsClient(service)

    base = dt.datetime.now(dt.UTC)
    for n, user in enumerate(["stu-1", "stu-2", "stu-3"]):
        ags.post_score(lineitem, _score(user, at=base + dt.timedelta(seconds=n)))
    assert service.token_fetches == 1

    platform.expire_tokens()  # the platform forgets the token: 401, then one re-fetch
    ags.post_score(lineitem, _score("stu-1", at=base + dt.timedelta(seconds=10)))
    assert service.token_fetches == 2
    assert len(platform.scores) == 4


def test_token_cache_is_per_scope_set_and_client(platform: FakePlatform, tool: ToolHarness) -> None:
    reg_a = tool.connect(platform)
    reg_b = tool.connect(platform)  # a second Canvas tenant: same issuer, other client id
    shared_cache_a = tool.service(reg_a)
    token_score = shared_cache_a.access_token([c.SCOPE_SCORE])
    assert shared_cache_a.access_token([c.SCOPE_SCORE]) == token_score
    assert shared_cache_a.access_token([c.SCOPE_NRPS]) != token_score
    assert tool.service(reg_b).access_token([c.SCOPE_SCORE]) != token_score
    assert [r["client_id"] for r in platform.token_requests] == [
        reg_a.client_id,
        reg_a.client_id,
        reg_b.client_id,
    ]


def test_client_assertion_claims(platform: FakePlatform, tool: ToolHarness) -> None:
    registration = tool.connect(platform)
    assertion = tool.service(registration).client_assertion()
    header = jwt.get_unverified_header(assertion)
    claims = jwt.decode(assertion, options={"verify_signature": False})
    assert header["alg"] == "RS256"
    assert header["kid"] == tool.keys[0].kid
    assert claims["iss"] == claims["sub"] == registration.client_id
    assert claims["aud"] == platform.token_url  # exactly the token URL (Canvas)
    assert 0 < claims["exp"] - claims["iat"] <= 300
    other = jwt.decode(
        tool.service(registration).client_assertion(), options={"verify_signature": False}
    )
    assert other["jti"] != claims["jti"]


def test_brightspace_token_audience(
    platform_factory: Callable[..., FakePlatform], tool: ToolHarness
) -> None:
    platform = platform_factory("brightspace")
    registration = tool.connect(platform)
    assert registration.token_audience == BRIGHTSPACE_TOKEN_AUDIENCE
    tool.service(registration).access_token([c.SCOPE_SCORE])
    assert platform.token_requests[-1]["aud"] == BRIGHTSPACE_TOKEN_AUDIENCE


def test_wrong_token_audience_is_a_permanent_error(
    platform: FakePlatform, tool: ToolHarness
) -> None:
    registration = tool.connect(platform)
    wrong = Registration(
        issuer=registration.issuer,
        client_id=registration.client_id,
        auth_login_url=registration.auth_login_url,
        token_url=registration.token_url,
        jwks_url=registration.jwks_url,
        auth_audience=registration.token_url + "/",  # Canvas: even a trailing slash fails
    )
    with pytest.raises(PermanentServiceError) as info:
        tool.service(wrong).access_token([c.SCOPE_SCORE])
    assert info.value.status == 400
    assert not info.value.retryable
    assert "invalid_client" in info.value.detail


def test_scores_503_then_recovery(platform: FakePlatform, tool: ToolHarness) -> None:
    registration, lineitem = _graded_link(platform, tool)
    ags = AgsClient(tool.service(registration))
    platform.fail_scores(2, retry_after="3")
    score = _score("stu-1")

    for _ in range(2):
        with pytest.raises(RetryableServiceError) as info:
            ags.post_score(lineitem, score)
        assert info.value.status == 503
        assert info.value.retry_after == 3.0
        assert info.value.retryable
    ags.post_score(lineitem, score)  # the same score (same timestamp) once the LMS is back

    assert [s.user_id for s in platform.scores] == ["stu-1"]
    assert [a.status for a in platform.score_attempts] == [503, 503, 200]


def test_outage_window_every_score_arrives_once(platform: FakePlatform, tool: ToolHarness) -> None:
    """A minimal outbox loop: retry retryable errors with backoff; nothing lost or doubled."""
    registration, lineitem = _graded_link(platform, tool)
    ags = AgsClient(tool.service(registration))
    platform.fail_scores_for(0.3, retry_after=None)
    base = dt.datetime.now(dt.UTC)
    outbox = [_score(u, at=base) for u in ("stu-1", "stu-2", "stu-3")]
    delivered = []
    deadline = time.monotonic() + 10
    while outbox and time.monotonic() < deadline:
        try:
            ags.post_score(lineitem, outbox[0])
        except RetryableServiceError as exc:
            time.sleep(exc.retry_after if exc.retry_after is not None else 0.05)
            continue
        delivered.append(outbox.pop(0).user_id)

    assert delivered == ["stu-1", "stu-2", "stu-3"]
    assert sorted(s.user_id for s in platform.scores) == ["stu-1", "stu-2", "stu-3"]
    assert any(a.status == 503 for a in platform.score_attempts)


def test_429_is_retryable_with_http_date(platform: FakePlatform, tool: ToolHarness) -> None:
    registration, lineitem = _graded_link(platform, tool)
    platform.fail_scores(1, status=429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    with pytest.raises(RetryableServiceError) as info:
        AgsClient(tool.service(registration)).post_score(lineitem, _score())
    assert info.value.code == "rate_limited"
    assert info.value.retry_after == 0.0  # a date in the past: retry now


def test_canvas_test_student_is_a_permanent_per_student_error(
    platform: FakePlatform, tool: ToolHarness
) -> None:
    registration, lineitem = _graded_link(platform, tool)
    ags = AgsClient(tool.service(registration))
    with pytest.raises(PermanentServiceError) as info:
        ags.post_score(lineitem, _score("test-student"))
    assert info.value.status == 422
    assert "User not found in course or is not a student" in info.value.detail
    ags.post_score(lineitem, _score("stu-1"))  # the batch goes on
    assert [s.user_id for s in platform.scores] == ["stu-1"]


def test_moodle_incorrect_score_for_inactive_user(
    platform_factory: Callable[..., FakePlatform], tool: ToolHarness
) -> None:
    platform = platform_factory("moodle")
    registration, lineitem = _graded_link(platform, tool)
    assert "?type_id=" in lineitem
    with pytest.raises(PermanentServiceError) as info:
        AgsClient(tool.service(registration)).post_score(lineitem, _score("dropped-1"))
    assert info.value.status == 400
    assert "Incorrect score received" in info.value.detail


def test_older_timestamps_are_ignored_so_the_outbox_must_increase_them(
    platform: FakePlatform, tool: ToolHarness
) -> None:
    registration, lineitem = _graded_link(platform, tool)
    ags = AgsClient(tool.service(registration))
    first = dt.datetime.now(dt.UTC)
    ags.post_score(lineitem, _score("stu-1", 1.0, first))
    ags.post_score(lineitem, _score("stu-1", 2.0, first))  # same timestamp: platform ignores it
    assert platform.score_attempts[-1].note == "ignored: not newer"
    ags.post_score(lineitem, _score("stu-1", 3.0, next_timestamp(first, first)))
    assert [s.body["scoreGiven"] for s in platform.scores] == [1.0, 3.0]


def test_moodle_compares_whole_seconds_so_each_new_score_is_a_second_later(
    platform_factory: Callable[..., FakePlatform], tool: ToolHarness
) -> None:
    """Moodle keeps strtotime(timestamp) and answers 409 to a score in the same second."""
    platform = platform_factory("moodle")
    registration, lineitem = _graded_link(platform, tool)
    ags = AgsClient(tool.service(registration))
    first = dt.datetime(2026, 3, 1, 12, 0, 0, 200_000, tzinfo=dt.UTC)
    ags.post_score(lineitem, _score("stu-1", 1.0, first))
    with pytest.raises(PermanentServiceError) as info:  # what a sub-second step would get
        ags.post_score(lineitem, _score("stu-1", 2.0, first + dt.timedelta(milliseconds=500)))
    assert info.value.status == 409
    assert info.value.code == "not_newer"

    second = next_timestamp(first + dt.timedelta(milliseconds=600), first)
    assert second == dt.datetime(2026, 3, 1, 12, 0, 1, tzinfo=dt.UTC)
    ags.post_score(lineitem, _score("stu-1", 3.0, second))
    third = next_timestamp(second, second)
    ags.post_score(lineitem, _score("stu-1", 4.0, third))
    assert [s.body["scoreGiven"] for s in platform.scores] == [1.0, 3.0, 4.0]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/html", b"<p>Grade saved</p>"), ("application/json", b""), ("text/plain", b"OK")],
)
def test_a_stored_score_is_a_success_whatever_the_answer_body_says(
    platform: FakePlatform, tool: ToolHarness, content_type: str, body: bytes
) -> None:
    registration, lineitem = _graded_link(platform, tool)
    platform.reply_to_scores_with(content_type, body)
    AgsClient(tool.service(registration)).post_score(lineitem, _score())
    assert len(platform.scores) == 1


def test_blackboard_refuses_timestamps_without_zone(
    platform_factory: Callable[..., FakePlatform], tool: ToolHarness
) -> None:
    platform = platform_factory("blackboard")
    registration, lineitem = _graded_link(platform, tool)
    service = tool.service(registration)
    naive = _score().to_json() | {"timestamp": "2026-03-01T12:00:00.000"}
    with pytest.raises(PermanentServiceError) as info:
        service.request(
            "POST",
            lineitem + "/scores",
            scopes=[c.SCOPE_SCORE],
            content_type=c.MEDIA_SCORE,
            body=naive,
        )
    assert "time zone" in info.value.detail
    AgsClient(service).post_score(lineitem, _score())  # ours always carries +00:00
    assert len(platform.scores) == 1


def test_wrong_content_type_is_refused_by_the_platform(
    platform: FakePlatform, tool: ToolHarness
) -> None:
    registration, lineitem = _graded_link(platform, tool)
    service = tool.service(registration)
    with pytest.raises(PermanentServiceError) as info:
        service.request(
            "POST", lineitem + "/scores", scopes=[c.SCOPE_SCORE], body=_score().to_json()
        )
    assert info.value.status == 415
    with pytest.raises(PermanentServiceError) as info:
        service.request(
            "GET",
            f"{platform.base_url}/c/course-1/lineitems",
            scopes=[c.SCOPE_LINEITEM],
            accept="application/json",
        )
    assert info.value.status == 406


def test_connection_errors_are_retryable(platform: FakePlatform, tool: ToolHarness) -> None:
    registration = tool.connect(platform)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = Registration(
        issuer=registration.issuer,
        client_id=registration.client_id,
        auth_login_url=registration.auth_login_url,
        token_url=f"http://127.0.0.1:{port}/token",
        jwks_url=registration.jwks_url,
    )
    with pytest.raises(RetryableServiceError) as info:
        tool.service(dead).access_token([c.SCOPE_SCORE])
    assert info.value.code == "connection_error"
    assert info.value.status is None


def test_a_score_post_that_could_not_connect_was_not_sent(
    platform: FakePlatform, tool: ToolHarness
) -> None:
    registration, _ = _graded_link(platform, tool)
    service = tool.service(registration)
    service.access_token([c.SCOPE_SCORE])
    with pytest.raises(RetryableServiceError) as info:  # connection refused
        AgsClient(service).post_score(closed_port_url("/c/course-1/lineitems/1"), _score())
    assert (info.value.code, info.value.answer_lost, info.value.status) == (
        "connection_error",
        False,
        None,
    )
    assert platform.score_attempts == []


@pytest.mark.parametrize("stall", [None, 1.5], ids=["connection-closed", "read-timeout"])
def test_a_score_post_whose_answer_is_lost_may_have_been_applied(
    platform: FakePlatform, tool: ToolHarness, stall: float | None
) -> None:
    """Written whole, then a dropped connection or a read timeout: ``answer_lost``."""
    registration, lineitem = _graded_link(platform, tool)
    ags = AgsClient(tool.service(registration, timeout=(2.0, 0.5)))
    platform.lose_score_answers(1, stall=stall)
    with pytest.raises(RetryableServiceError) as info:
        ags.post_score(lineitem, _score())
    assert (info.value.code, info.value.answer_lost, info.value.status) == (
        "answer_lost",
        True,
        None,
    )
    assert ("ReadTimeout" if stall else "ConnectionError") in info.value.message
    assert len(platform.scores) == 1  # it was applied


def test_a_token_request_that_loses_its_answer_is_not_the_calls_lost_answer(
    platform: FakePlatform, tool: ToolHarness
) -> None:
    registration, lineitem = _graded_link(platform, tool)
    platform.stall_tokens(1, 1.5)
    with pytest.raises(RetryableServiceError) as info:
        AgsClient(tool.service(registration, timeout=(2.0, 0.5))).post_score(lineitem, _score())
    assert (info.value.code, info.value.answer_lost) == ("connection_error", False)
    assert platform.score_attempts == []


def test_scope_not_granted_is_permanent(platform: FakePlatform, tool: ToolHarness) -> None:
    registration = tool.connect(platform, scopes=[c.SCOPE_SCORE])
    with pytest.raises(PermanentServiceError) as info:
        tool.service(registration).access_token([c.SCOPE_NRPS])
    assert info.value.status == 400


def test_line_item_creation_validates_spec() -> None:
    with pytest.raises(ValueError, match="scoreMaximum"):
        LineItemSpec(score_maximum=0, label="x")
