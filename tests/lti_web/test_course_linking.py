"""An instructor's first launch from a new LMS course offers their grader courses: linking
one makes the LMS course use it (its quizzes show in the deep-link picker at once)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from grader.lti import claims as c
from grader.models import Course
from grader.models import Enrolment
from grader.models import User
from grader.models import Webhook
from grader.models_lti import LtiContext
from tests.lti_web.lms import Lms
from tests.lti_web.lms import csrf
from tests.lti_web.lms import signed_in_user


def _first_launch_and_own_course(lms: Lms, code: str) -> tuple[FlaskClient, str, Course, Course]:
    """An instructor's first deep-linking launch from a new LMS course (the picker's URL,
    the course it made) and a grader course they already teach."""
    client_id = lms.connect()
    teacher = lms.browser()
    first = lms.launch(
        teacher, client_id, user="teacher-1", message_type=c.MESSAGE_DEEP_LINKING_REQUEST
    )
    made = lms.course_of()
    teacher_user = lms.db.get(User, signed_in_user(teacher))
    assert teacher_user is not None
    own = Course(code=code, title="My real course", join_code=f"{code}J")
    lms.db.add(own)
    lms.db.flush()
    lms.db.add(Enrolment(course_id=own.id, user_id=teacher_user.id, role="instructor"))
    lms.db.commit()
    return teacher, first.headers["Location"], made, own


def test_first_launch_links_the_lms_course_to_an_existing_grader_course(lms: Lms) -> None:
    teacher, picker_url, made, own = _first_launch_and_own_course(lms, "OWN101")
    lms.add_quiz(own, title="Quiz from my real course")

    page = teacher.get(picker_url).get_data(as_text=True)
    assert "Use one of your grader courses?" in page
    assert "Quiz from my real course" not in page
    response = teacher.post(
        f"/teach/courses/{made.id}/link-lms",
        data={"target_id": str(own.id), "next": picker_url, "csrf_token": csrf(page)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == picker_url

    page = teacher.get(picker_url).get_data(as_text=True)
    assert "Quiz from my real course" in page
    assert "Use one of your grader courses?" not in page
    lms.db.expire_all()
    assert lms.db.scalar(select(LtiContext.course_id)) == own.id
    assert lms.db.get(Course, made.id) is None


def test_a_course_with_a_webhook_is_not_merged_away(lms: Lms) -> None:
    """Linking deletes the fresh course; a webhook (or API token) made on it would go
    with it, so such a course is not offered and the link is refused."""
    teacher, picker_url, made, own = _first_launch_and_own_course(lms, "OWN102")
    lms.db.add(Webhook(course_id=made.id, url="https://hooks.example.org/x", secret="s" * 32))
    lms.db.commit()

    page = teacher.get(picker_url).get_data(as_text=True)
    assert "Use one of your grader courses?" not in page
    response = teacher.post(
        f"/teach/courses/{made.id}/link-lms",
        data={"target_id": str(own.id), "next": picker_url, "csrf_token": csrf(page)},
    )
    assert response.status_code in (302, 303, 409)
    lms.db.expire_all()
    assert lms.db.get(Course, made.id) is not None
    assert lms.db.scalar(select(LtiContext.course_id)) == made.id
    assert lms.db.scalar(select(Webhook.course_id)) == made.id
