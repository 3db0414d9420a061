"""Enrolments: add by email, roles, removal, the CSV roster (all or nothing), access checks."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import Forbidden
from grader.errors import Unauthorized
from grader.models import Course
from grader.models import Enrolment
from grader.models import User
from grader.services import enrolments
from grader.services.accounts import create_user


def _course(session: Session) -> tuple[Course, User]:
    prof = create_user(session, email="prof@example.com", name="Prof", role="instructor")
    course = enrolments.create_course(session, prof, code="BP1", title="Backprop")
    return course, prof


def _members(session: Session, course: Course) -> dict[str, str]:
    rows = session.execute(
        select(User.email, Enrolment.role)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.course_id == course.id)
    )
    return {email: role for email, role in rows}


def test_add_change_remove_and_the_last_instructor_stays(db_session: Session) -> None:
    course, prof = _course(db_session)
    enrolment, outcome = enrolments.add_member(
        db_session, prof, course.id, email=" Ana@Example.com ", name="Ana", role="ta"
    )
    assert outcome == "created"
    assert _members(db_session, course) == {
        "prof@example.com": "instructor",
        "ana@example.com": "ta",
    }
    _, again = enrolments.add_member(
        db_session, prof, course.id, email="ana@example.com", role="ta"
    )
    assert again == "unchanged"
    enrolments.change_role(db_session, prof, course.id, enrolment.id, "student")
    assert _members(db_session, course)["ana@example.com"] == "student"

    own = db_session.scalar(select(Enrolment).where(Enrolment.user_id == prof.id))
    assert own is not None
    with pytest.raises(Conflict, match="at least one instructor"):
        enrolments.change_role(db_session, prof, course.id, own.id, "ta")
    with pytest.raises(Conflict):
        enrolments.remove_member(db_session, prof, course.id, own.id)
    with pytest.raises(BadRequest, match="role must be"):
        enrolments.change_role(db_session, prof, course.id, enrolment.id, "owner")

    enrolments.remove_member(db_session, prof, course.id, enrolment.id)
    assert "ana@example.com" not in _members(db_session, course)
    roster = enrolments.roster(db_session, prof, course.id)
    assert [(m.email, m.role) for m in roster] == [("prof@example.com", "instructor")]


GOOD_CSV = (
    "\ufeffemail,name,role\r\n"
    "ann@example.com,Ann Lee,student\r\n"
    "\r\n"
    'bo@example.com,"Bo, the TA",ta\r\n'
    "prof@example.com,Prof,instructor\r\n"
    "cy@example.com,Cy\r\n"
).encode()


def test_roster_upload_enrols_everyone(db_session: Session) -> None:
    course, prof = _course(db_session)
    create_user(db_session, email="cy@example.com", name="Cy Existing")
    report = enrolments.import_roster(db_session, prof, course.id, GOOD_CSV)
    assert report.imported
    assert report.errors == []
    assert (report.created, report.added, report.unchanged) == (2, 1, 1)
    assert _members(db_session, course) == {
        "prof@example.com": "instructor",
        "ann@example.com": "student",
        "bo@example.com": "ta",
        "cy@example.com": "student",
    }
    bo = db_session.scalar(select(User).where(User.email == "bo@example.com"))
    assert bo is not None
    assert bo.name == "Bo, the TA"
    assert bo.password_hash is None


def test_a_bad_roster_imports_nothing_and_names_every_bad_line(db_session: Session) -> None:
    course, prof = _course(db_session)
    users_before = db_session.scalar(select(func.count()).select_from(User))
    bad = (
        "email,name\n"
        "ok@example.com,Fine\n"
        "not-an-email,Nope\n"
        "two@example.com\n"
        "ok@example.com,Twice\n"
        "tay@example.com,Tay,owner\n"
    )
    report = enrolments.import_roster(db_session, prof, course.id, bad.encode())
    assert not report.imported
    assert [(e.line, e.message.split(":")[0]) for e in report.errors] == [
        (3, "not an email address"),
        (4, "expected email,name or email,name,role"),
        (5, "ok@example.com is already on line 2"),
        (6, "role must be one of instructor, ta, student, not 'owner'"),
    ]
    assert db_session.scalar(select(func.count()).select_from(User)) == users_before
    assert _members(db_session, course) == {"prof@example.com": "instructor"}


def test_a_roster_that_would_drop_the_last_instructor_is_refused_whole(
    db_session: Session,
) -> None:
    course, prof = _course(db_session)
    report = enrolments.import_roster(
        db_session, prof, course.id, "new@example.com,New\nprof@example.com,Prof,ta\n"
    )
    assert not report.imported
    assert [e.line for e in report.errors] == [2]
    assert _members(db_session, course) == {"prof@example.com": "instructor"}


def test_roster_limits_and_encoding() -> None:
    with pytest.raises(BadRequest, match="larger than"):
        enrolments.parse_roster(b"a@example.com,A\n" * 40_000)
    with pytest.raises(BadRequest, match="not UTF-8"):
        enrolments.parse_roster("zoë@example.com,Zoë\n".encode("latin-1"))
    rows, errors = enrolments.parse_roster("")
    assert (rows, errors) == ([], [])


def test_staff_checks(db_session: Session) -> None:
    course, prof = _course(db_session)
    ta_enrolment, _ = enrolments.add_member(
        db_session, prof, course.id, email="ta@example.com", role="ta"
    )
    ta = db_session.get(User, ta_enrolment.user_id)
    student_enrolment, _ = enrolments.add_member(db_session, prof, course.id, email="s@example.com")
    student = db_session.get(User, student_enrolment.user_id)
    admin = create_user(db_session, email="root@example.com", name="Root", role="admin")
    assert enrolments.require_staff(db_session, ta, course.id) is course
    assert enrolments.require_staff(db_session, admin, course.id, manage=True) is course
    with pytest.raises(Forbidden):
        enrolments.require_staff(db_session, ta, course.id, manage=True)
    with pytest.raises(Forbidden):
        enrolments.require_staff(db_session, student, course.id)
    with pytest.raises(Unauthorized):
        enrolments.require_staff(db_session, None, course.id)
    with pytest.raises(Forbidden):
        enrolments.create_course(db_session, student, code="X", title="X")
    with pytest.raises(Conflict):
        enrolments.create_course(db_session, prof, code="bp1", title="Again")
    assert [c.code for c, _ in enrolments.staff_courses(db_session, ta)] == ["BP1"]
    assert enrolments.staff_courses(db_session, student) == []
