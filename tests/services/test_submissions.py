"""Submitting: stored before graded, idempotent, invalid answers free, penalties, limits.

Each test runs on SQLite and on PostgreSQL (db_session).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func
from sqlalchemy import select

from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import Forbidden
from grader.errors import NotFound
from grader.models import Submission
from grader.models import utcnow
from grader.services import attempts
from grader.services import grading
from grader.services import submissions
from tests.support.student_world import hours
from tests.support.student_world import make_world


def start(session, world, user=None):
    return attempts.start_or_resume(session, user or world.student, world.item, secret="s3cret")


def key_text(attempt, part_id):
    return next(p["key_text"] for p in attempt.variant["parts"] if p["id"] == part_id)


def mistake(attempt, part_id):
    """The first usual mistake the variant knows for this part (seed-dependent)."""
    part = next(p for p in attempt.variant["parts"] if p["id"] == part_id)
    return part["mistakes"][0]


def send(session, world, attempt, answer, *, part="w1", key=None, user=None, now=None):
    return submissions.submit(
        session,
        user=user or world.student,
        attempt=attempt,
        part_id=part,
        raw_answer=answer,
        idempotency_key=key,
        now=now,
    )


def count(session, attempt):
    return session.scalar(
        select(func.count(Submission.id)).where(Submission.attempt_id == attempt.id)
    )


def test_right_answer_scores_full_credit_and_uses_a_try(db_session):
    world = make_world(db_session)
    attempt = start(db_session, world)
    sub = send(db_session, world, attempt, key_text(attempt, "w1"), key="k1")
    assert (sub.status, sub.verdict, sub.score, sub.counts_as_try) == (
        "graded",
        "correct",
        1.0,
        True,
    )
    assert sub.graded_at is not None
    progress = attempts.attempt_progress(db_session, attempt)
    assert progress.part("w1").tries_left == 2
    assert progress.part("w1").credit == 1.0


def test_known_mistake_gets_its_diagnosis_and_credit(db_session):
    world = make_world(db_session)
    attempt = start(db_session, world)
    wrong = mistake(attempt, "w1")
    sub = send(db_session, world, attempt, str(wrong["value"]))
    assert sub.verdict == "incorrect"
    assert sub.note == f"mistake:{wrong['code']}"
    assert sub.score == pytest.approx(wrong["credit"])
    assert sub.feedback["diagnosis"] == {"code": wrong["code"], "message": wrong["feedback"]}
    assert sub.feedback["message"] == wrong["feedback"]


def test_invalid_answers_cost_nothing(db_session):
    world = make_world(db_session, attempts_allowed=1, penalty_per_retry=0.5)
    attempt = start(db_session, world)
    for i in range(4):
        sub = send(db_session, world, attempt, "0.3.4 +", key=f"bad{i}")
        assert (sub.status, sub.counts_as_try, sub.score) == ("invalid", False, 0.0)
    assert attempts.attempt_progress(db_session, attempt).part("w1").tries_left == 1
    good = send(db_session, world, attempt, key_text(attempt, "w1"), key="good")
    assert good.score == 1.0  # no penalty for the invalid ones


def test_same_idempotency_key_returns_the_first_submission(db_session):
    world = make_world(db_session)
    attempt = start(db_session, world)
    first = send(db_session, world, attempt, key_text(attempt, "w1"), key="dup")
    again = send(db_session, world, attempt, "999", key="dup")
    assert again.id == first.id
    assert again.score == 1.0
    assert count(db_session, attempt) == 1


def test_idempotency_race_returns_the_row_the_other_request_stored(db_session, monkeypatch):
    world = make_world(db_session)
    attempt = start(db_session, world)
    first = send(db_session, world, attempt, key_text(attempt, "w1"), key="race")
    # The second request looked before the first committed: it saw no row, then collides.
    lookups = iter([None, first])
    monkeypatch.setattr(submissions, "find_by_key", lambda *a: next(lookups))
    again = send(db_session, world, attempt, "999", key="race")
    assert again.id == first.id
    assert count(db_session, attempt) == 1


def test_retry_penalty_per_previous_graded_try(db_session):
    world = make_world(db_session, penalty_per_retry=0.25)
    attempt = start(db_session, world)
    send(db_session, world, attempt, "12345", key="a")
    send(db_session, world, attempt, "x +", key="b")  # invalid: not a try
    right = send(db_session, world, attempt, key_text(attempt, "w1"), key="c")
    assert right.raw_score == 1.0
    assert right.score == pytest.approx(0.75)
    progress = attempts.attempt_progress(db_session, attempt).part("w1")
    assert (progress.tries_used, progress.tries_left, progress.credit) == (2, 1, 0.75)


def test_tries_are_counted_per_part_and_exhaust(db_session):
    world = make_world(db_session, attempts_allowed=2)
    attempt = start(db_session, world)
    send(db_session, world, attempt, "12345", key="a")
    send(db_session, world, attempt, "12346", key="b")
    with pytest.raises(Conflict, match="no tries left"):
        send(db_session, world, attempt, key_text(attempt, "w1"), key="c")
    # a retry of an answer already stored still gets its result back
    assert send(db_session, world, attempt, "12346", key="b").raw_answer == "12346"
    # other parts have their own tries
    assert send(db_session, world, attempt, key_text(attempt, "y"), part="y").score == 1.0


def test_late_answers_are_penalised_or_refused(db_session):
    now = utcnow()
    world = make_world(
        db_session,
        due_at=now - hours(1),
        late_policy={"mode": "penalty", "penalty": 0.4, "until": (now + hours(1)).isoformat()},
    )
    attempt = start(db_session, world)
    sub = send(db_session, world, attempt, key_text(attempt, "w1"), now=now)
    assert sub.is_late
    assert sub.score == pytest.approx(0.6)
    with pytest.raises(Conflict, match="does not accept"):
        send(db_session, world, attempt, key_text(attempt, "w1"), now=now + hours(2))


def test_a_due_date_without_late_policy_closes_the_quiz(db_session):
    world = make_world(db_session, due_at=utcnow() - hours(1))
    attempt = start(db_session, world)  # the quiz can still be opened and read
    with pytest.raises(Conflict):
        send(db_session, world, attempt, "1")
    assert count(db_session, attempt) == 0


def test_grading_crash_leaves_a_stored_pending_submission(db_session, monkeypatch):
    world = make_world(db_session)
    attempt = start(db_session, world)

    def crash(*args, **kwargs):
        raise RuntimeError("judge blew up")

    monkeypatch.setattr(grading, "judge", crash)
    sub = send(db_session, world, attempt, key_text(attempt, "w1"), key="k")
    assert (sub.status, sub.score) == ("pending", None)
    db_session.expire_all()
    stored = db_session.get(Submission, sub.id)
    assert stored.status == "pending"
    assert stored.raw_answer == key_text(attempt, "w1")
    # the pending row holds its try: no way round the limit by crashing the grader
    assert attempts.attempt_progress(db_session, attempt).part("w1").tries_used == 1

    monkeypatch.undo()
    report = submissions.regrade_pending(db_session)
    assert (report.graded, report.failed) == (1, 0)
    db_session.expire_all()
    stored = db_session.get(Submission, sub.id)
    assert (stored.status, stored.verdict, stored.score) == ("graded", "correct", 1.0)


def test_regrade_pending_skips_young_rows_and_reports_failures(db_session, monkeypatch):
    world = make_world(db_session)
    attempt = start(db_session, world)
    monkeypatch.setattr(grading, "judge", lambda *a: 1 / 0)
    sub = send(db_session, world, attempt, "1", key="k")
    assert submissions.regrade_pending(db_session, older_than=dt.timedelta(hours=1)).graded == 0
    report = submissions.regrade_pending(db_session)
    assert report.failed_ids == [sub.id]
    assert db_session.get(Submission, sub.id).status == "pending"


def test_only_the_owner_may_answer(db_session):
    world = make_world(db_session)
    attempt = start(db_session, world)
    with pytest.raises(NotFound):
        send(db_session, world, attempt, "1", user=world.other)
    with pytest.raises(Forbidden):
        send(db_session, world, attempt, "1", user=world.instructor)
    with pytest.raises(NotFound):
        send(db_session, world, attempt, "1", part="no_such_part")
    assert count(db_session, attempt) == 0


def test_submissions_are_visible_to_owner_and_staff_only(db_session):
    world = make_world(db_session)
    attempt = start(db_session, world)
    sub = send(db_session, world, attempt, "1")
    assert submissions.get_submission(db_session, world.student, sub.id).id == sub.id
    assert submissions.get_submission(db_session, world.instructor, sub.id).id == sub.id
    with pytest.raises(NotFound):
        submissions.get_submission(db_session, world.other, sub.id)


def test_nul_characters_are_refused_before_anything_is_stored(db_session):
    world = make_world(db_session)
    attempt = start(db_session, world)
    with pytest.raises(BadRequest, match="NUL"):
        send(db_session, world, attempt, "0.5\x00", key="nul")
    assert count(db_session, attempt) == 0
