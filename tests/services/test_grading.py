"""The scoring rules: retry and late penalties, late windows, a part's credit (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from grader.models import GradeOverride
from grader.models import Quiz
from grader.models import Submission
from grader.services import grading

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def quiz(**kw):
    kw.setdefault("penalty_per_retry", 0.0)
    kw.setdefault("late_policy", {})
    kw.setdefault("is_published", True)
    return Quiz(title="q", **kw)


@pytest.mark.parametrize(
    ("raw", "penalty", "previous", "expected"),
    [
        (1.0, 0.0, 5, 1.0),
        (1.0, 0.25, 1, 0.75),
        (1.0, 0.25, 2, 0.5),
        (1.0, 0.25, 9, 0.0),  # floored, never negative
        (0.5, 0.1, 1, 0.4),  # partial credit loses the same amount
        (1.0 - 1e-9, 0.0, 0, 1.0),  # float noise snaps to full credit
    ],
)
def test_retry_penalty_is_subtracted_per_previous_try(raw, penalty, previous, expected):
    q = quiz(penalty_per_retry=penalty)
    assert grading.final_score(raw, quiz=q, previous_tries=previous, late=False) == pytest.approx(
        expected
    )


def test_late_penalty_multiplies_after_the_retry_penalty():
    q = quiz(penalty_per_retry=0.25, late_policy={"mode": "penalty", "penalty": 0.2})
    assert grading.final_score(1.0, quiz=q, previous_tries=1, late=True) == pytest.approx(0.6)
    assert grading.final_score(1.0, quiz=q, previous_tries=1, late=False) == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("policy", "when", "accepts", "late"),
    [
        ({}, -HOUR, True, False),
        ({}, HOUR, False, True),  # no policy: the due date closes the quiz
        ({"mode": "refuse"}, HOUR, False, True),
        ({"mode": "none"}, 100 * HOUR, True, True),
        ({"mode": "penalty", "penalty": 0.5}, 100 * HOUR, True, True),
        (
            {"mode": "penalty", "penalty": 0.5, "until": (NOW + 2 * HOUR).isoformat()},
            HOUR,
            True,
            True,
        ),
        (
            {"mode": "penalty", "penalty": 0.5, "until": (NOW + 2 * HOUR).isoformat()},
            3 * HOUR,
            False,
            True,
        ),
        ({"mode": "bogus"}, HOUR, False, True),  # unknown modes fail safe
    ],
)
def test_late_windows(policy, when, accepts, late):
    q = quiz(due_at=NOW, late_policy=policy)
    assert grading.accepts_answers(q, NOW + when) is accepts
    assert grading.is_late(q, NOW + when) is late


def test_unpublished_or_unopened_quizzes_accept_nothing():
    assert not grading.accepts_answers(quiz(is_published=False), NOW)
    assert not grading.accepts_answers(quiz(opens_at=NOW + HOUR), NOW)
    assert grading.accepts_answers(quiz(opens_at=NOW - HOUR), NOW)


def test_part_credit_is_the_override_else_the_best_graded_score():
    subs = [
        Submission(status="graded", score=0.25),
        Submission(status="graded", score=0.75),
        Submission(status="invalid", score=0.0),
        Submission(status="pending", score=None),
    ]
    assert grading.part_credit(subs) == 0.75
    assert grading.part_credit([Submission(status="pending", score=None)]) is None
    assert grading.part_credit(subs, GradeOverride(score=0.1, reason="r")) == 0.1
