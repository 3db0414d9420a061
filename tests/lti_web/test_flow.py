"""The whole LMS round trip per LMS profile: login → launch → deep link → submit → score."""

from __future__ import annotations

import datetime as dt
import re

import jwt
import pytest
import requests
from sqlalchemy import func
from sqlalchemy import select

from grader.lti import claims as c
from grader.models import Enrolment
from grader.models import User
from grader.models_lti import LtiLaunch
from grader.models_lti import LtiScore
from grader.services import attempts as attempt_service
from tests.lti.fake_platform import PROFILES
from tests.lti.fake_platform import parse_auto_submit_form
from tests.lti_web.lms import Lms
from tests.lti_web.lms import answer_part
from tests.lti_web.lms import csrf
from tests.lti_web.lms import deep_link
from tests.lti_web.lms import signed_in_user


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_login_launch_deep_link_submit_score(lms_factory, profile: str) -> None:
    lms: Lms = lms_factory(profile)
    client_id = lms.connect()
    teacher = lms.browser()

    # 1. The instructor adds grader from the LMS: the course is created on this first launch.
    first = lms.launch(
        teacher, client_id, user="teacher-1", message_type=c.MESSAGE_DEEP_LINKING_REQUEST
    )
    assert first.status_code == 302
    assert first.headers["Location"].startswith("/lti/deep-link/")
    course = lms.course_of()
    quiz = lms.add_quiz(course)
    form = deep_link(teacher, first, [quiz.id])

    # 2. The platform receives a resource link with a line item worth the quiz's real points.
    assert form.action == lms.platform.deep_link_return_url
    returned = requests.post(form.action, data=form.fields, timeout=10)
    assert returned.status_code == 200, returned.text
    (dl,) = lms.platform.deep_link_returns
    (item,) = dl.payload[c.CLAIM_DL_CONTENT_ITEMS]
    assert item["lineItem"]["scoreMaximum"] == 5.0
    assert item["custom"] == {"quiz_id": str(quiz.id)}
    (link,) = dl.created_links
    assert link.lineitem_num is not None

    # 3. A learner launches the new link and lands on the quiz page, signed in afresh.
    student = lms.browser()
    landed = lms.launch(student, client_id, user="stu-1", resource_link_id=link.id)
    assert landed.status_code == 302
    assert landed.headers["Location"] == f"/quizzes/{quiz.id}"
    user = lms.db.get(User, signed_in_user(student))
    assert user.name == "Ada Student"
    assert user.email == "ada@example.edu"
    role = lms.db.scalar(
        select(Enrolment.role).where(Enrolment.user_id == user.id, Enrolment.course_id == course.id)
    )
    assert role == "student"

    # 4. Two answers, each a score change; the worker sends both, in order.
    answer_part(student, lms.db, quiz.id, "w1")
    assert lms.send_scores().sent == 1
    answer_part(student, lms.db, quiz.id, "y")
    assert lms.send_scores().sent == 1
    assert lms.send_scores().attempted == 0

    scores = [s for s in lms.platform.scores if s.user_id == "stu-1"]
    assert len(scores) == 2
    expected = attempt_service.quiz_scores(lms.db, user, [quiz])[quiz.id]
    first_ts = dt.datetime.fromisoformat(scores[0].body["timestamp"])
    last_ts = dt.datetime.fromisoformat(scores[1].body["timestamp"])
    assert first_ts.tzinfo is not None
    assert first_ts < last_ts
    assert scores[-1].body["scoreGiven"] == pytest.approx(expected.earned)
    assert scores[-1].body["scoreMaximum"] == 5.0
    assert scores[-1].body["gradingProgress"] == "FullyGraded"
    assert scores[-1].content_type == c.MEDIA_SCORE
    assert scores[-1].lineitem_num == link.lineitem_num  # the deep-linked column, not a new one
    submitted = dt.datetime.fromisoformat(scores[-1].body["submission"]["submittedAt"])
    assert abs((submitted - last_ts).total_seconds()) < 1  # the real submission time
    assert lms.platform.gradebook()[(link.lineitem_num, "stu-1")] == pytest.approx(expected.earned)
    assert len(lms.platform.line_items_for()) == 1


def test_instructor_chooses_the_quiz_on_first_launch_and_the_worker_creates_one_column(lms) -> None:
    """A link added without deep linking: the instructor picks the quiz; the line item is
    found or created by the worker, once."""
    client_id = lms.connect()
    teacher = lms.browser()
    link = lms.platform.add_resource_link(client_id, title="Week 3")
    opened = lms.launch(teacher, client_id, user="teacher-1", resource_link_id=link.id)
    assert opened.status_code == 302
    page_url = opened.headers["Location"]
    assert page_url.startswith("/lti/links/")
    quiz = lms.add_quiz(lms.course_of())
    page = teacher.get(page_url).get_data(as_text=True)
    chosen = teacher.post(page_url, data={"quiz_id": str(quiz.id), "csrf_token": csrf(page)})
    assert chosen.status_code == 302

    students = {}
    for sub in ("stu-1", "stu-2"):
        students[sub] = lms.browser()
        landed = lms.launch(students[sub], client_id, user=sub, resource_link_id=link.id)
        assert landed.headers["Location"] == f"/quizzes/{quiz.id}"
        answer_part(students[sub], lms.db, quiz.id, "w1")
    report = lms.send_scores()
    assert report.sent == 2

    (column,) = lms.platform.line_items_for()
    assert column["scoreMaximum"] == 5.0
    assert column["resourceLinkId"] == link.id
    assert column["resourceId"] == f"quiz-{quiz.id}"
    assert {s.user_id for s in lms.platform.scores} == {"stu-1", "stu-2"}


def test_a_canvas_module_launch_gets_an_unbound_column_and_its_scores(lms) -> None:
    """Canvas launches a module item with the course's id as resource link id and refuses
    that id on a new line item (canvas-lms#1944): the scores must still arrive."""
    client_id = lms.connect()
    teacher = lms.browser()
    opened = lms.launch(teacher, client_id, user="teacher-1", resource_link_id="course-1")
    assert opened.status_code == 302
    page_url = opened.headers["Location"]
    quiz = lms.add_quiz(lms.course_of())
    page = teacher.get(page_url).get_data(as_text=True)
    teacher.post(page_url, data={"quiz_id": str(quiz.id), "csrf_token": csrf(page)})
    student = lms.browser()
    landed = lms.launch(student, client_id, user="stu-1", resource_link_id="course-1")
    assert landed.headers["Location"] == f"/quizzes/{quiz.id}"
    answer_part(student, lms.db, quiz.id, "w1")

    assert lms.send_scores().sent == 1
    (column,) = lms.platform.line_items_for()
    assert "resourceLinkId" not in column
    assert column["resourceId"] == f"quiz-{quiz.id}"
    assert [s.user_id for s in lms.platform.scores] == ["stu-1"]


def test_learner_before_the_course_is_set_up(lms) -> None:
    client_id = lms.connect()
    student = lms.browser()
    response = lms.launch(student, client_id, user="stu-1")
    assert response.status_code == 409
    assert "has not opened grader" in response.get_data(as_text=True)
    assert signed_in_user(student) is None
    assert lms.db.scalar(select(func.count(LtiLaunch.id))) == 0


def test_learner_on_a_link_without_a_quiz(lms) -> None:
    client_id = lms.connect()
    lms.launch(lms.browser(), client_id, user="teacher-1")
    student = lms.browser()
    response = lms.launch(student, client_id, user="stu-1")
    assert response.status_code == 200
    assert "has no quiz yet" in response.get_data(as_text=True)


def test_roles_come_from_context_roles_only(lms) -> None:
    """University faculty who are learners in this course are students here."""
    client_id = lms.connect()
    lms.launch(lms.browser(), client_id, user="teacher-1")
    course = lms.course_of()
    for sub, expected in (
        ("faculty-learner", "student"),
        ("ta-1", "ta"),
        ("teacher-1", "instructor"),
    ):
        browser = lms.browser()
        lms.launch(browser, client_id, user=sub)
        role = lms.db.scalar(
            select(Enrolment.role).where(
                Enrolment.user_id == signed_in_user(browser), Enrolment.course_id == course.id
            )
        )
        assert role == expected, sub


def test_canvas_test_student_is_never_queued(lms) -> None:
    client_id = lms.connect()
    teacher = lms.browser()
    link = lms.platform.add_resource_link(client_id)
    lms.launch(teacher, client_id, user="teacher-1", resource_link_id=link.id)
    quiz = lms.add_quiz(lms.course_of())
    page_url = lms.launch(teacher, client_id, user="teacher-1", resource_link_id=link.id).headers[
        "Location"
    ]
    page = teacher.get(page_url).get_data(as_text=True)
    teacher.post(page_url, data={"quiz_id": str(quiz.id), "csrf_token": csrf(page)})
    tester = lms.browser()
    lms.launch(tester, client_id, user="test-student", resource_link_id=link.id)
    # A roster sync (NRPS lists context roles only) must not forget who the test student is.
    status = teacher.get(f"/lti/courses/{quiz.course_id}").get_data(as_text=True)
    teacher.post(f"/lti/courses/{quiz.course_id}/roster", data={"csrf_token": csrf(status)})
    answer_part(tester, lms.db, quiz.id, "w1")
    assert lms.db.scalar(select(func.count(LtiScore.id))) == 0


def test_an_lms_email_of_another_account_is_not_linked(lms) -> None:
    """An LMS can assert any email: it never signs someone into an existing local account."""
    from tests.support.student_world import make_user

    existing = make_user(lms.db, "ada@example.edu")
    lms.db.commit()
    client_id = lms.connect()
    lms.launch(lms.browser(), client_id, user="teacher-1")
    link = lms.platform.add_resource_link(client_id)
    student = lms.browser()
    lms.launch(student, client_id, user="stu-1", resource_link_id=link.id)
    assert signed_in_user(student) not in (None, existing.id)
    assert lms.db.get(User, signed_in_user(student)).email.endswith("@lti.invalid")


def test_deep_link_answer_is_signed_and_locked_down(lms) -> None:
    client_id = lms.connect()
    teacher = lms.browser()
    launched = lms.launch(
        teacher, client_id, user="teacher-1", message_type=c.MESSAGE_DEEP_LINKING_REQUEST
    )
    picker = launched.headers["Location"]
    course = lms.course_of()
    first, second = lms.add_quiz(course, "One"), lms.add_quiz(course, "Two")

    # The picker belongs to the instructor who launched it.
    intruder = lms.browser()
    lms.launch(intruder, client_id, user="ta-1")
    assert intruder.get(picker).status_code == 404

    html = teacher.get(picker).get_data(as_text=True)
    answer = teacher.post(
        picker,
        data={
            "quiz_id": [str(first.id), str(second.id)],
            "action": "add",
            "csrf_token": csrf(html),
        },
    )
    assert answer.status_code == 200
    policy = answer.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert f'nonce="{nonce}"' in answer.get_data(as_text=True)
    assert f"form-action {lms.platform.base_url}" in policy
    form = parse_auto_submit_form(answer.get_data(as_text=True))
    claims = jwt.decode(form.fields["JWT"], options={"verify_signature": False})
    assert claims["iss"] == client_id
    assert claims["aud"] == lms.platform.issuer
    assert claims[c.CLAIM_MESSAGE_TYPE] == c.MESSAGE_DEEP_LINKING_RESPONSE
    assert len(claims[c.CLAIM_DL_CONTENT_ITEMS]) == 2
    assert requests.post(form.action, data=form.fields, timeout=10).status_code == 200

    again = teacher.post(
        picker, data={"quiz_id": str(first.id), "action": "add", "csrf_token": csrf(html)}
    )
    assert again.status_code == 400  # one answer per deep-linking request


def test_deep_link_cancel_returns_no_items(lms) -> None:
    client_id = lms.connect()
    teacher = lms.browser()
    launched = lms.launch(
        teacher, client_id, user="teacher-1", message_type=c.MESSAGE_DEEP_LINKING_REQUEST
    )
    picker = launched.headers["Location"]
    html = teacher.get(picker).get_data(as_text=True)
    assert "no quizzes yet" in html
    answer = teacher.post(picker, data={"action": "cancel", "csrf_token": csrf(html)})
    form = parse_auto_submit_form(answer.get_data(as_text=True))
    assert requests.post(form.action, data=form.fields, timeout=10).status_code == 200
    assert lms.platform.deep_link_returns[-1].created_links == []
