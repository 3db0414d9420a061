"""My courses, joining by code, the quizzes a student may open."""

from __future__ import annotations

import pytest

from grader.errors import BadRequest
from grader.errors import Forbidden
from grader.errors import NotFound
from grader.models import Quiz
from grader.models import utcnow
from grader.services import courses
from tests.support.student_world import hours
from tests.support.student_world import make_user
from tests.support.student_world import make_world


def test_join_by_code_enrols_once_case_insensitively(db_session):
    world = make_world(db_session)
    newcomer = make_user(db_session, "new@example.com")
    with pytest.raises(BadRequest):
        courses.join_by_code(db_session, newcomer, "nope")
    assert courses.courses_for_user(db_session, newcomer) == []
    courses.join_by_code(db_session, newcomer, "  W-join ")
    courses.join_by_code(db_session, newcomer, "W-JOIN")
    mine = courses.courses_for_user(db_session, newcomer)
    assert [(c.course.id, c.role) for c in mine] == [(world.course.id, "student")]
    # an instructor joining their own course by code keeps their role
    courses.join_by_code(db_session, world.instructor, "W-JOIN")
    assert courses.courses_for_user(db_session, world.instructor)[0].role == "instructor"


def test_students_see_published_opened_quizzes_staff_see_all(db_session):
    now = utcnow()
    world = make_world(db_session)
    for title, published, opens in [("Draft", False, None), ("Later", True, now + hours(1))]:
        db_session.add(
            Quiz(course_id=world.course.id, title=title, is_published=published, opens_at=opens)
        )
    db_session.flush()
    seen = [q.title for q in courses.visible_quizzes(db_session, world.student, world.course, now)]
    assert seen == ["Quiz 1"]
    staff = {
        q.title for q in courses.visible_quizzes(db_session, world.instructor, world.course, now)
    }
    assert staff == {"Quiz 1", "Draft", "Later"}
    stranger = make_user(db_session, "stranger@example.com")
    with pytest.raises(Forbidden):
        courses.visible_quizzes(db_session, stranger, world.course, now)
    with pytest.raises(NotFound):
        courses.get_quiz(db_session, stranger, world.quiz.id)
    assert courses.get_quiz(db_session, world.student, world.quiz.id).items[0].id == world.item.id


def test_staff_anywhere_drives_the_instructor_link(db_session):
    world = make_world(db_session)
    assert courses.is_staff_anywhere(db_session, world.instructor)
    assert not courses.is_staff_anywhere(db_session, world.student)
