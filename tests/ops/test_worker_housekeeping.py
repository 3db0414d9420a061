"""``grader worker`` housekeeping: expired sign-ins and old failed logins are deleted, and
live ones are kept (both tables would otherwise only grow)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.models import LoginFailure
from grader.models import UserSession
from grader.services import auth
from grader.services import lti_outbox
from grader.services.worker import work_once
from tests.support.student_world import make_user

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def _seed(session: Session) -> tuple[str, str]:
    user = make_user(session, "housekeeping@example.com")
    session.commit()
    expired = auth.start_session(
        session, user.id, lifetime=dt.timedelta(hours=1), now=NOW - dt.timedelta(hours=2)
    )
    live = auth.start_session(
        session, user.id, lifetime=dt.timedelta(days=1), now=NOW - dt.timedelta(hours=2)
    )
    window = dt.timedelta(seconds=auth.WINDOW_SECONDS)
    session.add_all(
        [
            LoginFailure(key_hash="a" * 64, created_at=NOW - window - dt.timedelta(seconds=1)),
            LoginFailure(key_hash="b" * 64, created_at=NOW - dt.timedelta(seconds=5)),
        ]
    )
    session.commit()
    return expired, live


def test_housekeeping_deletes_only_what_has_expired(db_session: Session) -> None:
    expired, live = _seed(db_session)
    clients = lti_outbox.ServiceClients("housekeeping-secret", allow_private_urls=True)
    try:
        done = work_once(db_session, clients, config={}, now=NOW, housekeeping=True)
    finally:
        clients.close()
    assert done["expired_sign_ins"] == 1
    assert done["old_login_failures"] == 1
    kept = set(db_session.scalars(select(UserSession.id)))
    assert auth._sha256(live) in kept
    assert auth._sha256(expired) not in kept
    assert list(db_session.scalars(select(LoginFailure.key_hash))) == ["b" * 64]


def test_a_pass_without_housekeeping_leaves_both_tables_alone(db_session: Session) -> None:
    _seed(db_session)
    clients = lti_outbox.ServiceClients("housekeeping-secret", allow_private_urls=True)
    try:
        done = work_once(db_session, clients, config={}, now=NOW, housekeeping=False)
    finally:
        clients.close()
    assert "expired_sign_ins" not in done
    assert len(db_session.scalars(select(UserSession.id)).all()) == 2
    assert len(db_session.scalars(select(LoginFailure.id)).all()) == 2
