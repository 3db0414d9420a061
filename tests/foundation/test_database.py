"""Models behave the same on SQLite and PostgreSQL (each test runs on both)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grader.models import Course
from grader.models import Enrolment
from grader.models import User
from grader.services.accounts import create_user
from grader.services.accounts import verify_password


def test_timestamps_come_back_timezone_aware_utc(db_session):
    moment = dt.datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    course = Course(code="TZ1", title="tz", created_at=moment)
    db_session.add(course)
    db_session.commit()
    db_session.expire_all()
    loaded = db_session.scalar(select(Course).where(Course.code == "TZ1"))
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at == moment
    assert loaded.created_at.utcoffset() == dt.timedelta(0)


def test_naive_datetimes_are_refused(db_session):
    db_session.add(Course(code="TZ2", title="tz", created_at=dt.datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive datetime"):
        db_session.flush()


def test_foreign_keys_are_enforced(db_session):
    db_session.add(Enrolment(course_id=999_999, user_id=999_999, role="student"))
    with pytest.raises(IntegrityError):
        db_session.flush()


def test_duplicate_enrolment_is_refused(db_session):
    user = create_user(db_session, email="a@example.com", name="A", password="long enough")
    course = Course(code="C1", title="c")
    db_session.add(course)
    db_session.flush()
    db_session.add(Enrolment(course_id=course.id, user_id=user.id))
    db_session.flush()
    db_session.add(Enrolment(course_id=course.id, user_id=user.id))
    with pytest.raises(IntegrityError):
        db_session.flush()


def test_passwords_are_hashed_with_argon2(db_session):
    user = create_user(db_session, email="Pat@Example.com", name="Pat", password="correct horse")
    assert user.email == "pat@example.com"
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    assert verify_password(user, "correct horse")
    assert not verify_password(user, "wrong horse!")


def test_each_test_starts_empty(db_session):
    # The previous tests committed users; the per-test rollback removed them.
    assert db_session.scalars(select(User)).all() == []
