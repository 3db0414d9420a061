"""The demo course that `make run` creates: accounts, enrolments and a quiz to work."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select

from grader.models import Enrolment
from grader.models import Quiz
from grader.services.accounts import find_user_by_email
from grader.services.accounts import verify_password
from grader.services.demo import DEMO_EXERCISES
from grader.services.demo import seed_demo
from grader.services.library import default_library_dir
from grader.services.library import sync_builtin_exercises


def test_seed_demo_after_the_library_makes_a_published_quiz_once(db_session):
    sync_builtin_exercises(db_session, default_library_dir())
    first = seed_demo(db_session)
    second = seed_demo(db_session)
    assert first == second
    student = find_user_by_email(db_session, first.student_email)
    assert verify_password(student, first.password)
    quizzes = db_session.scalars(select(Quiz)).all()
    assert len(quizzes) == 1
    assert quizzes[0].is_published
    assert [item.exercise.slug for item in quizzes[0].items] == list(DEMO_EXERCISES)
    assert db_session.scalar(select(func.count(Enrolment.id))) == 2


def test_seed_demo_without_the_library_still_makes_the_accounts(db_session):
    demo = seed_demo(db_session)
    assert find_user_by_email(db_session, demo.instructor_email) is not None
    assert db_session.scalars(select(Quiz)).all() == []


def test_the_start_page_sends_a_visitor_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
