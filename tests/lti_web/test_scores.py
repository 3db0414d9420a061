"""Grade passback from the outbox: outages, permanent per-student errors, overrides, status."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from grader.cli import lti_cmds
from grader.lti import AgsClient
from grader.lti import Score
from grader.models import Attempt
from grader.models import GradeOverride
from grader.models import User
from grader.models import utcnow
from grader.models_lti import LtiLineItem
from grader.models_lti import LtiRegistration
from grader.models_lti import LtiScore
from grader.services import attempts as attempt_service
from grader.services import gradebook
from grader.services import lti_outbox
from tests.lti.fake_platform import ResourceLinkRecord
from tests.lti.fake_platform import closed_port_url
from tests.lti_web.lms import Lms
from tests.lti_web.lms import answer_part
from tests.lti_web.lms import csrf
from tests.lti_web.lms import signed_in_user


def accepted(lms: Lms) -> Counter[str]:
    """Accepted score POSTs per LMS user (the platform stores each at most once)."""
    return Counter(s.user_id for s in lms.platform.scores)


def posts(lms: Lms) -> Counter[str]:
    """Every score POST that reached the platform's checks, per user (200 or refused)."""
    return Counter(a.user_id for a in lms.platform.score_attempts if a.user_id is not None)


def rows(lms: Lms) -> list[LtiScore]:
    lms.db.expire_all()
    return list(lms.db.scalars(select(LtiScore).order_by(LtiScore.id)))


def test_the_score_endpoint_down_for_a_while_then_back(lms: Lms) -> None:
    client_id = lms.connect()
    quiz, link = lms.linked_quiz(client_id)
    students = {sub: lms.student(client_id, sub, link) for sub in ("stu-1", "stu-2", "stu-3")}
    for browser in students.values():
        answer_part(browser, lms.db, quiz.id, "w1")
    t0 = utcnow()

    lms.platform.fail_scores(1000, retry_after="30")
    report = lms.send_scores(now=t0)
    assert (report.sent, report.retried) == (0, 3)
    assert lms.platform.scores == []
    for row in rows(lms):
        assert row.status == "pending"
        assert row.error_status == 503
        assert row.last_error.startswith("HTTP 503")
        assert row.next_attempt_at >= t0 + dt.timedelta(seconds=30)  # Retry-After honoured
    assert lms.send_scores(now=t0 + dt.timedelta(seconds=5)).attempted == 0  # backing off

    # The student keeps working meanwhile: a newer change replaces the waiting one.
    answer_part(students["stu-1"], lms.db, quiz.id, "y")
    report = lms.send_scores(now=t0 + dt.timedelta(minutes=1))
    assert report.retried == 3  # the two older rows and stu-1's newest; nothing is lost
    assert report.superseded == 1

    lms.platform.fail_scores(1)  # back, after one last hiccup
    report = lms.send_scores(now=t0 + dt.timedelta(minutes=10))
    assert (report.sent, report.retried) == (2, 1)
    report = lms.send_scores(now=t0 + dt.timedelta(hours=2))
    assert (report.sent, report.retried) == (1, 0)
    assert lms.send_scores(now=t0 + dt.timedelta(hours=5)).attempted == 0

    assert accepted(lms) == {"stu-1": 1, "stu-2": 1, "stu-3": 1}
    assert posts(lms) == {"stu-1": 1, "stu-2": 1, "stu-3": 1}
    user = lms.db.get(User, signed_in_user(students["stu-1"]))
    current = attempt_service.quiz_scores(lms.db, user, [quiz])[quiz.id].earned
    latest = {s.user_id: s.body for s in lms.platform.scores}
    assert latest["stu-1"]["scoreGiven"] == pytest.approx(current)
    assert [r.status for r in rows(lms)].count("sent") == 3


def test_a_permanent_error_is_kept_shown_and_can_be_sent_again(lms: Lms) -> None:
    client_id = lms.connect()
    quiz, link = lms.linked_quiz(client_id)
    dropped = lms.student(client_id, "dropped-1", link)  # inactive in the LMS course
    ok = lms.student(client_id, "stu-2", link)
    answer_part(dropped, lms.db, quiz.id, "w1")
    answer_part(ok, lms.db, quiz.id, "w1")

    report = lms.send_scores()
    assert (report.sent, report.failed) == (1, 1)
    (failed,) = [r for r in rows(lms) if r.status == "failed"]
    assert failed.error_status == 422
    assert failed.last_error == "HTTP 422: User not found in course or is not a student"
    assert lms.send_scores(now=utcnow() + dt.timedelta(days=1)).attempted == 0  # not retried

    teacher = lms.browser()
    lms.launch(teacher, client_id, user="teacher-1", resource_link_id=link.id)
    course = lms.course_of()
    page = teacher.get(f"/lti/courses/{course.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "User not found in course or is not a student" in html
    assert "Dee Dropped" in html

    lms.platform.courses["course-1"].members["dropped-1"].status = "Active"  # fixed in the LMS
    resent = teacher.post(
        f"/lti/courses/{course.id}/scores/{failed.id}/resend", data={"csrf_token": csrf(html)}
    )
    assert resent.status_code == 302
    assert lms.send_scores().sent == 1
    assert accepted(lms) == {"stu-2": 1, "dropped-1": 1}
    assert "User not found" not in teacher.get(f"/lti/courses/{course.id}").get_data(as_text=True)


def test_an_override_sends_the_new_total_with_a_newer_timestamp(lms: Lms) -> None:
    client_id = lms.connect()
    quiz, link = lms.linked_quiz(client_id)
    student = lms.student(client_id, "stu-1", link)
    answer_part(student, lms.db, quiz.id, "w1", correct=False)
    assert lms.send_scores().sent == 1
    instructor = lms.db.scalar(select(User).where(User.name == "Tess Teacher"))
    attempt = lms.db.scalar(select(Attempt).where(Attempt.user_id == signed_in_user(student)))
    gradebook.override_grade(
        lms.db, instructor, attempt.id, "w1", points=1.0, reason="partial credit for the method"
    )
    lms.db.commit()
    assert lms.send_scores().sent == 1
    first, second = lms.platform.scores
    assert second.body["scoreGiven"] == pytest.approx(first.body["scoreGiven"] + 1.0)
    assert dt.datetime.fromisoformat(second.body["timestamp"]) > dt.datetime.fromisoformat(
        first.body["timestamp"]
    )


def test_the_worker_command_sends_scores_with_one_token(lms: Lms) -> None:
    client_id = lms.connect()
    quiz, link = lms.linked_quiz(client_id)
    for sub in ("stu-1", "stu-2", "stu-3"):
        answer_part(lms.student(client_id, sub, link), lms.db, quiz.id, "w1")
    result = lms.app.test_cli_runner().invoke(cli=lti_cmds.worker, args=["--once"])
    assert result.exit_code == 0, result.output
    assert "lti_scores=3" in result.output
    assert accepted(lms) == {"stu-1": 1, "stu-2": 1, "stu-3": 1}
    assert len(lms.platform.token_requests) == 1


def test_the_score_row_lives_in_the_grades_transaction(lms: Lms) -> None:
    """Written by the flush that stores the grade; rolled back with it."""
    client_id = lms.connect()
    quiz, link = lms.linked_quiz(client_id)
    student = lms.student(client_id, "stu-1", link)
    answer_part(student, lms.db, quiz.id, "w1")
    before = len(rows(lms))
    attempt = lms.db.scalar(select(Attempt).where(Attempt.user_id == signed_in_user(student)))
    nested = lms.db.begin_nested()
    lms.db.add(GradeOverride(attempt_id=attempt.id, part_id="w1", score=0.5, reason="x"))
    lms.db.flush()
    assert len(list(lms.db.scalars(select(LtiScore)))) == before + 1
    nested.rollback()
    assert len(rows(lms)) == before


def test_backoff_grows_and_is_capped() -> None:
    waits = [lti_outbox.backoff(n).total_seconds() for n in (1, 2, 3, 10, 40)]
    assert waits[:3] == [10, 20, 40]
    assert waits[-1] == 3600


@pytest.fixture
def moodle(lms_factory: Callable[..., Lms]) -> Lms:
    """A Moodle-profile platform: whole-second score timestamps, 409 when not newer."""
    return lms_factory("moodle")


def test_moodle_gets_two_changes_made_within_one_second(moodle: Lms) -> None:
    client_id = moodle.connect()
    quiz, link = moodle.linked_quiz(client_id)
    student = moodle.student(client_id, "stu-1", link)
    answer_part(student, moodle.db, quiz.id, "w1")
    assert moodle.send_scores().sent == 1
    answer_part(student, moodle.db, quiz.id, "y")
    first, second = rows(moodle)
    assert first.timestamp is not None
    second.changed_at = first.timestamp + dt.timedelta(milliseconds=1)  # the same second
    moodle.db.commit()

    assert moodle.send_scores().sent == 1
    assert [a.status for a in moodle.platform.score_attempts] == [200, 200]
    sent = [dt.datetime.fromisoformat(s.body["timestamp"]) for s in moodle.platform.scores]
    assert int(sent[1].timestamp()) > int(sent[0].timestamp())


class WorkerKilled(BaseException):
    """The worker process dies here (nothing after it runs, not even ``except Exception``)."""


def _later_in_moodle(moodle: Lms, link: ResourceLinkRecord) -> None:
    """The instructor changes the student's grade in Moodle's gradebook (a newer timestamp)."""
    assert link.lineitem_num is not None
    moodle.platform.grade_in_lms(link.lineitem_num, "stu-1", utcnow() + dt.timedelta(hours=1))


def _moodle_student_scored(moodle: Lms) -> ResourceLinkRecord:
    client_id = moodle.connect()
    quiz, link = moodle.linked_quiz(client_id)
    answer_part(moodle.student(client_id, "stu-1", link), moodle.db, quiz.id, "w1")
    return link


def _retried_without_answer(moodle: Lms, report: lti_outbox.OutboxReport) -> LtiScore:
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    (row,) = rows(moodle)
    assert (row.status, row.error_status) == ("pending", None)
    return row


@contextlib.contextmanager
def _score_endpoint_refusing(moodle: Lms) -> Iterator[None]:
    """Connections to the line item's host are refused (the token endpoint still answers)."""
    (item,) = moodle.db.scalars(select(LtiLineItem))
    real = item.url
    assert real is not None
    parts = urlsplit(real)
    item.url = closed_port_url(f"{parts.path}?{parts.query}")
    moodle.db.commit()
    try:
        yield
    finally:
        item.url = real
        moodle.db.commit()


@contextlib.contextmanager
def _token_endpoint_refusing(moodle: Lms) -> Iterator[None]:
    (registration,) = moodle.db.scalars(select(LtiRegistration))
    real = registration.token_url
    registration.token_url = closed_port_url("/token")
    moodle.db.commit()
    try:
        yield
    finally:
        registration.token_url = real
        moodle.db.commit()


LATER = dt.timedelta(minutes=5)  # past the lease and the first backoffs
QUICK = (2.0, 0.5)  # (connect, read) seconds: the stalled answers below come after 1.5 s


def test_moodle_409_to_a_resend_after_a_read_timeout_counts_as_delivered(moodle: Lms) -> None:
    """(b) The POST was written and stored by Moodle; its answer timed out."""
    _moodle_student_scored(moodle)
    moodle.platform.lose_score_answers(1, stall=1.5)
    row = _retried_without_answer(moodle, moodle.send_scores(timeout=QUICK))
    assert row.last_error == "POST service call: ReadTimeout after the request went out"
    assert row.sent_at is not None  # a POST of this row may have landed
    assert accepted(moodle) == {"stu-1": 1}

    report = moodle.send_scores(now=utcnow() + LATER)
    assert (report.sent, report.failed) == (1, 0)
    assert [a.status for a in moodle.platform.score_attempts] == [200, 409]  # same timestamp
    (row,) = rows(moodle)
    assert (row.status, row.last_error, row.error_status) == ("sent", None, None)
    assert accepted(moodle) == {"stu-1": 1}


def test_moodle_409_after_a_lost_answer_then_a_refused_connection_counts_as_delivered(
    moodle: Lms,
) -> None:
    """A later try that never went out does not forget the earlier one that may have landed."""
    _moodle_student_scored(moodle)
    moodle.platform.lose_score_answers(1)  # stored, then the connection closes unanswered
    row = _retried_without_answer(moodle, moodle.send_scores())
    assert row.last_error == "POST service call: ConnectionError after the request went out"
    with _score_endpoint_refusing(moodle):
        _retried_without_answer(moodle, moodle.send_scores(now=utcnow() + LATER))

    report = moodle.send_scores(now=utcnow() + 3 * LATER)
    assert (report.sent, report.failed) == (1, 0)
    assert [a.status for a in moodle.platform.score_attempts] == [200, 409]
    assert accepted(moodle) == {"stu-1": 1}


def test_moodle_409_to_a_resend_after_a_worker_killed_after_the_post_is_delivered(
    moodle: Lms, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moodle stored the score, the worker died before committing: the lease runs out."""
    _moodle_student_scored(moodle)
    post = AgsClient.post_score

    def post_then_die(self: AgsClient, lineitem_url: str, score: Score) -> None:
        post(self, lineitem_url, score)
        raise WorkerKilled()

    monkeypatch.setattr(AgsClient, "post_score", post_then_die)
    with pytest.raises(WorkerKilled):
        moodle.send_scores()
    moodle.db.rollback()
    monkeypatch.undo()
    assert accepted(moodle) == {"stu-1": 1}

    report = moodle.send_scores(now=utcnow() + LATER)
    assert (report.sent, report.failed) == (1, 0)
    assert moodle.platform.score_attempts[-1].status == 409  # the same timestamp again
    (row,) = rows(moodle)
    assert (row.status, row.last_error) == ("sent", None)
    assert accepted(moodle) == {"stu-1": 1}


def _failed_as_changed_in_moodle(moodle: Lms, report: lti_outbox.OutboxReport) -> None:
    assert (report.sent, report.failed) == (0, 1)
    (row,) = rows(moodle)
    assert (row.status, row.error_status, row.sent_at) == ("failed", 409, None)
    assert (row.last_error or "").startswith("HTTP 409: Refusing score with an earlier timestamp")
    assert accepted(moodle) == {}


def test_moodle_409_after_a_refused_connection_is_a_grade_changed_in_moodle(
    moodle: Lms,
) -> None:
    """(a) The first POST never went out (connection refused): the 409 is Moodle's grade."""
    link = _moodle_student_scored(moodle)
    with _score_endpoint_refusing(moodle):
        row = _retried_without_answer(moodle, moodle.send_scores())
    assert row.last_error == "POST service call: ConnectionError"
    assert row.sent_at is None
    assert moodle.platform.score_attempts == []
    _later_in_moodle(moodle, link)

    _failed_as_changed_in_moodle(moodle, moodle.send_scores(now=utcnow() + LATER))


@pytest.mark.parametrize("outage", ["refused", "read-timeout"])
def test_moodle_409_after_the_token_endpoint_failed_is_a_grade_changed_in_moodle(
    moodle: Lms, outage: str
) -> None:
    """(c) No token, so no score POST: the 409 after it is Moodle's grade. A token request
    whose answer is lost is not a score POST whose answer is lost."""
    link = _moodle_student_scored(moodle)
    if outage == "refused":
        with _token_endpoint_refusing(moodle):
            row = _retried_without_answer(moodle, moodle.send_scores())
    else:
        moodle.platform.stall_tokens(1, 1.5)
        row = _retried_without_answer(moodle, moodle.send_scores(timeout=QUICK))
    assert (row.last_error or "").startswith("token request: ")
    assert row.sent_at is None
    _later_in_moodle(moodle, link)

    _failed_as_changed_in_moodle(moodle, moodle.send_scores(now=utcnow() + LATER))


def test_moodle_409_after_a_crash_before_the_post_is_a_grade_changed_in_moodle(
    moodle: Lms, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row was claimed, then its try crashed before any POST (the lease brings it back)."""
    link = _moodle_student_scored(moodle)

    def crash(*args: object, **kwargs: object) -> str:
        raise RuntimeError("a bug before the POST")

    monkeypatch.setattr(lti_outbox, "ensure_line_item", crash)
    assert moodle.send_scores().attempted == 0  # logged, rolled back, left to the lease
    monkeypatch.undo()
    (row,) = rows(moodle)
    assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)
    _later_in_moodle(moodle, link)

    _failed_as_changed_in_moodle(moodle, moodle.send_scores(now=utcnow() + LATER))


def test_moodle_409_to_a_first_post_is_a_grade_changed_in_moodle(moodle: Lms) -> None:
    client_id = moodle.connect()
    quiz, link = moodle.linked_quiz(client_id)
    assert link.lineitem_num is not None
    moodle.platform.grade_in_lms(link.lineitem_num, "stu-1", utcnow() + dt.timedelta(hours=1))
    answer_part(moodle.student(client_id, "stu-1", link), moodle.db, quiz.id, "w1")

    report = moodle.send_scores()
    assert (report.sent, report.failed) == (0, 1)
    (row,) = rows(moodle)
    assert row.status == "failed"
    assert row.error_status == 409
    assert row.last_error.startswith("HTTP 409: Refusing score with an earlier timestamp")
