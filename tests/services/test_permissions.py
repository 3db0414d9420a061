"""Role checks: members, staff, admins, attempt owners."""

from __future__ import annotations

import pytest

from grader.errors import Forbidden
from grader.errors import NotFound
from grader.services import attempts
from grader.services import permissions
from tests.support.student_world import enrol
from tests.support.student_world import make_user
from tests.support.student_world import make_world


def test_roles_in_a_course(db_session):
    world = make_world(db_session)
    ta = make_user(db_session, "ta@example.com")
    enrol(db_session, world.course, ta, "ta")
    admin = make_user(db_session, "root@example.com", role="admin")
    stranger = make_user(db_session, "x@example.com")
    cid = world.course.id
    assert permissions.require_member(db_session, world.student, cid) == "student"
    assert permissions.require_staff(db_session, ta, cid) == "ta"
    assert permissions.require_staff(db_session, admin, cid) == "instructor"
    with pytest.raises(Forbidden):
        permissions.require_staff(db_session, world.student, cid)
    with pytest.raises(Forbidden):
        permissions.require_member(db_session, stranger, cid)


def test_attempts_are_seen_by_owner_and_staff_never_by_classmates(db_session):
    world = make_world(db_session)
    attempt = attempts.start_or_resume(db_session, world.student, world.item)
    assert attempts.get_attempt(db_session, world.student, attempt.id) is attempt
    assert attempts.get_attempt(db_session, world.instructor, attempt.id) is attempt
    with pytest.raises(NotFound):
        attempts.get_attempt(db_session, world.other, attempt.id)
    with pytest.raises(NotFound):
        attempts.get_attempt(db_session, world.student, attempt.id + 999)
