"""Role parsing and AGS value objects (timestamps, score bodies, service URLs)."""

from __future__ import annotations

import datetime as dt

import pytest

from grader.lti import claims as c
from grader.lti.grades import LineItem
from grader.lti.grades import Score
from grader.lti.grades import format_timestamp
from grader.lti.grades import next_timestamp
from grader.lti.grades import results_url
from grader.lti.grades import scores_url
from grader.lti.roles import parse_roles

M = "http://purl.imsglobal.org/vocab/lis/v2/membership"


@pytest.mark.parametrize(
    ("roles", "course_role"),
    [
        ([c.ROLE_INSTRUCTOR], "instructor"),
        ([f"{M}/Instructor#TeachingAssistant"], "instructor"),
        ([c.ROLE_CONTENT_DEVELOPER], "instructor"),
        (["Instructor"], "instructor"),  # simple context role name
        ([c.ROLE_LEARNER, c.ROLE_INSTRUCTOR], "instructor"),
        ([c.ROLE_LEARNER], "learner"),
        ([f"{M}/Learner#NonCreditLearner"], "learner"),
        ([c.ROLE_INSTITUTION_INSTRUCTOR], None),
        ([c.ROLE_SYSTEM_ADMIN], None),
        ([c.ROLE_MENTOR], None),
        ([], None),
        ([c.ROLE_INSTITUTION_INSTRUCTOR, c.ROLE_LEARNER], "learner"),
    ],
)
def test_course_role_from_context_roles_only(roles: list[str], course_role: str | None) -> None:
    assert parse_roles(roles).course_role == course_role


def test_roles_are_split_by_kind() -> None:
    roles = parse_roles([c.ROLE_LEARNER, c.ROLE_INSTITUTION_STUDENT, c.ROLE_TEST_USER, "urn:x", 3])
    assert roles.context == (c.ROLE_LEARNER,)
    assert roles.institution == (c.ROLE_INSTITUTION_STUDENT,)
    assert roles.system == (c.ROLE_TEST_USER,)
    assert roles.other == ("urn:x",)
    assert roles.is_test_user


def test_timestamps_have_zone_and_microseconds() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    assert (
        format_timestamp(dt.datetime(2026, 1, 2, 13, 0, tzinfo=paris))
        == "2026-01-02T12:00:00.000000+00:00"
    )
    with pytest.raises(ValueError, match="time zone"):
        format_timestamp(dt.datetime(2026, 1, 2))


def test_next_timestamp_increases_by_whole_seconds() -> None:
    """Strictly later, and in a later second: Moodle compares whole seconds (409 otherwise)."""
    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    second = dt.timedelta(seconds=1)
    assert next_timestamp(t, None) == t
    assert next_timestamp(t, t) == t + second
    assert next_timestamp(t + dt.timedelta(milliseconds=999), t) == t + second
    assert next_timestamp(t, t + 5 * second + dt.timedelta(milliseconds=300)) == t + 6 * second
    later = t + second + dt.timedelta(microseconds=5)
    assert next_timestamp(later, t + dt.timedelta(milliseconds=900)) == later
    paris = dt.timezone(dt.timedelta(hours=1))
    assert next_timestamp(t, t.astimezone(paris)) == t + second


def test_service_urls_keep_the_query() -> None:
    moodle = "https://m.example.edu/mod/lti/services.php/2/lineitems/5/lineitem?type_id=1"
    assert (
        scores_url(moodle)
        == "https://m.example.edu/mod/lti/services.php/2/lineitems/5/lineitem/scores?type_id=1"
    )
    assert results_url("https://c.example/api/lti/courses/1/line_items/2/") == (
        "https://c.example/api/lti/courses/1/line_items/2/results"
    )


def test_score_body() -> None:
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    body = Score(
        user_id="u",
        score_given=3,
        score_maximum=4,
        timestamp=at,
        comment="ok",
        started_at=at,
        submitted_at=at,
    ).to_json()
    assert body == {
        "userId": "u",
        "timestamp": "2026-01-01T00:00:00.000000+00:00",
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "scoreGiven": 3,
        "scoreMaximum": 4,
        "comment": "ok",
        "submission": {
            "startedAt": "2026-01-01T00:00:00.000000+00:00",
            "submittedAt": "2026-01-01T00:00:00.000000+00:00",
        },
    }
    progress_only = Score(
        user_id="u",
        score_given=None,
        score_maximum=None,
        timestamp=at,
        activity_progress="Started",
        grading_progress="NotReady",
    ).to_json()
    assert "scoreGiven" not in progress_only


@pytest.mark.parametrize(
    "kwargs",
    [
        {"score_maximum": None},
        {"score_given": -1},
        {"score_given": float("nan")},
        {"activity_progress": "Done"},
        {"grading_progress": "Graded"},
        {"user_id": ""},
        {"timestamp": dt.datetime(2026, 1, 1)},
    ],
)
def test_invalid_scores(kwargs: dict) -> None:
    base = {
        "user_id": "u",
        "score_given": 1.0,
        "score_maximum": 2.0,
        "timestamp": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    }
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        Score(**(base | kwargs))


def test_line_item_parsing() -> None:
    item = LineItem.from_json({"id": "https://x/li/1", "scoreMaximum": 5, "label": "Q", "tag": "t"})
    assert item.matches(tag="t")
    assert not item.matches(tag="t", resource_id="r")
    with pytest.raises(ValueError, match="id"):
        LineItem.from_json({"scoreMaximum": 5})
    with pytest.raises(ValueError, match="scoreMaximum"):
        LineItem.from_json({"id": "https://x", "scoreMaximum": "5"})
