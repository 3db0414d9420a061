"""Sign-ins are rows: signing out (here or everywhere), expiry and deactivation end them.

Each browser that signs in gets its own ``user_sessions`` row, named by the SHA-256 of
a random token only its cookie holds. ``current_user()`` checks the row and loads the
user in one query, and a signed-in page view writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import flask
import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import ENGINE_KEY
from grader.models import User
from grader.models import UserSession
from grader.models import utcnow
from grader.services import accounts
from grader.services import auth
from grader.web import security
from tests.support.student_world import PASSWORD
from tests.support.student_world import make_user
from tests.support.student_world import make_world

CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with tiny costs: these tests are about sessions, not the hash's strength."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every data statement the app's engine runs inside the block (not BEGIN/SAVEPOINT)."""
    seen: list[str] = []
    engine = app.extensions[ENGINE_KEY]

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(CONTROL):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def csrf(client: FlaskClient, path: str = "/auth/login") -> str:
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, html[:300]
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/auth/login", data={"email": email, "password": password, "csrf_token": csrf(client)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def sign_out(client: FlaskClient) -> None:
    response = client.post("/auth/logout", data={"csrf_token": csrf(client, "/")})
    assert response.status_code == 302


def signed_in(client: FlaskClient) -> bool:
    response = client.get("/")
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert "/auth/login" in response.headers["Location"]
    return response.status_code == 200


def rows(db: Session, user_id: int) -> list[UserSession]:
    query = select(UserSession).where(UserSession.user_id == user_id)
    return list(db.scalars(query.execution_options(populate_existing=True)))


def set_active(db: Session, user_id: int, active: bool) -> User:
    """The user, attached to ``db`` again (each request closes it), with ``is_active`` set."""
    user = db.get(User, user_id)
    assert user is not None
    user.is_active = active
    db.commit()
    return user


def token_of(client: FlaskClient) -> str:
    with client.session_transaction() as cookie:
        token: str = cookie[security.SIGN_IN_KEY]
    return token


@pytest.fixture
def ann(db_session: Session) -> User:
    user = make_user(db_session, "ann@example.com", password=PASSWORD)
    db_session.commit()
    return user


def test_a_sign_in_is_a_row_holding_only_the_tokens_hash(
    client: FlaskClient, db_session: Session, ann: User
) -> None:
    sign_in(client, "ann@example.com")
    token = token_of(client)
    (row,) = rows(db_session, ann.id)
    assert row.id == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.id
    assert row.ip == "127.0.0.1"
    assert row.user_agent is not None
    assert len(row.user_agent) <= auth.USER_AGENT_LENGTH
    lifetime = client.application.permanent_session_lifetime
    assert row.expires_at - row.created_at == lifetime
    with client.session_transaction() as cookie:
        assert cookie[security.USER_ID_KEY] == ann.id


def test_signing_out_ends_only_this_devices_sign_in(
    app: Flask, db_session: Session, ann: User
) -> None:
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "ann@example.com")
    sign_in(phone, "ann@example.com")
    assert len(rows(db_session, ann.id)) == 2
    copy = app.test_client()
    cookie = laptop.get_cookie("session")
    assert cookie is not None
    copy.set_cookie("session", cookie.value)
    sign_out(laptop)
    assert not signed_in(laptop)
    assert not signed_in(copy)  # a copy of the laptop's cookie died with it
    assert signed_in(phone)
    (left,) = rows(db_session, ann.id)
    assert left.id == hashlib.sha256(token_of(phone).encode()).hexdigest()


def test_signing_out_everywhere_ends_every_sign_in(
    app: Flask, db_session: Session, ann: User
) -> None:
    other = make_user(db_session, "bob@example.com", password=PASSWORD)
    db_session.commit()
    devices = [app.test_client() for _ in range(3)]
    for device in devices:
        sign_in(device, "ann@example.com")
    bobs = app.test_client()
    sign_in(bobs, "bob@example.com")
    assert auth.end_all_sessions(db_session, ann.id) == 3
    assert not any(signed_in(device) for device in devices)
    assert rows(db_session, ann.id) == []
    assert signed_in(bobs)  # other people's sign-ins are untouched
    assert len(rows(db_session, other.id)) == 1
    sign_in(devices[0], "ann@example.com")  # and Ann can sign in again
    assert signed_in(devices[0])


def test_the_dashboard_button_signs_out_everywhere(
    app: Flask, db_session: Session, ann: User
) -> None:
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "ann@example.com")
    sign_in(phone, "ann@example.com")
    page = laptop.get("/").get_data(as_text=True)
    assert 'action="/auth/logout-everywhere"' in page
    response = laptop.post("/auth/logout-everywhere", data={"csrf_token": csrf(laptop, "/")})
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
    assert "2 sign-ins ended" in laptop.get("/auth/login").get_data(as_text=True)
    assert not signed_in(laptop)
    assert not signed_in(phone)
    assert rows(db_session, ann.id) == []
    # Signed out, the button does nothing: a visitor is sent to sign in.
    again = laptop.post("/auth/logout-everywhere", data={"csrf_token": csrf(laptop)})
    assert again.status_code == 302
    assert "/auth/login" in again.headers["Location"]


def test_an_expired_sign_in_is_refused_and_pruned_at_the_next(
    client: FlaskClient, db_session: Session, ann: User
) -> None:
    sign_in(client, "ann@example.com")
    assert signed_in(client)
    (row,) = rows(db_session, ann.id)
    row.expires_at = utcnow() - dt.timedelta(seconds=1)
    db_session.commit()
    assert not signed_in(client)
    assert len(rows(db_session, ann.id)) == 1  # refusing writes nothing...
    sign_in(client, "ann@example.com")
    (fresh,) = rows(db_session, ann.id)  # ...the next sign-in deletes it
    assert fresh.id != row.id
    assert signed_in(client)


def test_a_short_lifetime_runs_out(app: Flask, client: FlaskClient, ann: User) -> None:
    values = security.new_sign_in(app, ann.id, lifetime=dt.timedelta(seconds=-1))
    with client.session_transaction() as cookie:
        cookie.update(values)
    assert not signed_in(client)
    values = security.new_sign_in(app, ann.id, lifetime=dt.timedelta(minutes=5))
    with client.session_transaction() as cookie:
        cookie.update(values)
    assert signed_in(client)


def test_prune_expired_sessions_deletes_only_expired_rows(
    app: Flask, db_session: Session, ann: User
) -> None:
    """For users who never sign in again (a sign-in prunes only its own user's rows)."""
    gone = [make_user(db_session, f"gone{n}@example.com") for n in range(2)]
    db_session.commit()
    for user in gone:
        security.new_sign_in(app, user.id, lifetime=dt.timedelta(seconds=-5))
    security.new_sign_in(app, ann.id, lifetime=dt.timedelta(hours=1))
    assert auth.prune_expired_sessions(db_session) == 2
    assert all(rows(db_session, user.id) == [] for user in gone)
    (left,) = rows(db_session, ann.id)
    assert left.expires_at > utcnow()


def test_a_deactivated_user_is_refused_and_signed_out_everywhere(
    app: Flask, db_session: Session, ann: User
) -> None:
    first, second = app.test_client(), app.test_client()
    sign_in(first, "ann@example.com")
    sign_in(second, "ann@example.com")
    set_active(db_session, ann.id, False)  # flagged only: rows remain, the cookie is refused
    assert not signed_in(first)
    user = set_active(db_session, ann.id, True)
    assert signed_in(first)
    assert auth.deactivate_user(db_session, user) == 2
    assert not signed_in(first)
    assert not signed_in(second)
    set_active(db_session, ann.id, True)  # reactivation does not revive the old cookies
    assert not signed_in(first)
    assert not signed_in(second)


def test_a_bare_user_id_or_someone_elses_token_signs_nobody_in(
    app: Flask, client: FlaskClient, db_session: Session, ann: User
) -> None:
    bob = make_user(db_session, "bob@example.com", password=PASSWORD)
    db_session.commit()
    with client.session_transaction() as cookie:
        cookie[security.USER_ID_KEY] = ann.id  # what a cookie held before sign-ins were rows
    assert not signed_in(client)
    bobs = security.new_sign_in(app, bob.id)
    with client.session_transaction() as cookie:
        cookie[security.USER_ID_KEY] = ann.id
        cookie[security.SIGN_IN_KEY] = bobs[security.SIGN_IN_KEY]
    assert not signed_in(client)
    for junk in ("", "x" * 500, 17, None, ["list"]):
        with client.session_transaction() as cookie:
            cookie[security.USER_ID_KEY] = bob.id
            cookie[security.SIGN_IN_KEY] = junk
        assert not signed_in(client)
    with client.session_transaction() as cookie:
        cookie.update(bobs)
    assert signed_in(client)


def test_signing_in_again_ends_the_browsers_previous_sign_in(
    client: FlaskClient, db_session: Session, ann: User
) -> None:
    bob = make_user(db_session, "bob@example.com", password=PASSWORD)
    db_session.commit()
    sign_in(client, "ann@example.com")
    sign_in(client, "bob@example.com")  # a shared computer: the next person signs in
    assert rows(db_session, ann.id) == []
    assert len(rows(db_session, bob.id)) == 1


def test_registering_starts_no_sign_in_until_the_student_signs_in(
    client: FlaskClient, db_session: Session
) -> None:
    world = make_world(db_session)
    db_session.commit()
    response = client.post(
        "/auth/register",
        data={
            "email": "new@example.com",
            "name": "New Student",
            "password": PASSWORD,
            "join_code": world.course.join_code,
            "csrf_token": csrf(client, "/auth/register"),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    user = accounts.find_user_by_email(db_session, "new@example.com")
    assert user is not None
    # the answer is the same as for a taken email, so it cannot sign anyone in
    assert len(rows(db_session, user.id)) == 0
    assert not signed_in(client)
    client.post(
        "/auth/login",
        data={
            "email": "new@example.com",
            "password": PASSWORD,
            "csrf_token": csrf(client, "/auth/login"),
        },
    )
    assert len(rows(db_session, user.id)) == 1
    assert signed_in(client)


def test_current_user_is_one_query_and_a_page_view_writes_nothing(
    app: Flask, client: FlaskClient, ann: User
) -> None:
    values = security.new_sign_in(app, ann.id)
    with app.test_request_context("/"):
        flask.session.update(values)
        with statements(app) as seen:
            user = security.current_user()
            assert security.current_user() is user  # cached for the rest of the request
        assert user is not None
        assert user.id == ann.id
    assert len(seen) == 1, seen
    assert "user_sessions" in seen[0]
    assert "users" in seen[0].replace("user_sessions", "")
    with app.test_request_context("/"):
        flask.session.update({security.USER_ID_KEY: ann.id})  # no token: no query at all
        with statements(app) as seen:
            assert security.current_user() is None
    assert seen == []
    with client.session_transaction() as cookie:
        cookie.update(values)
    client.get("/")
    with statements(app) as seen:
        assert client.get("/").status_code == 200
    writes = [s for s in seen if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []


def test_signing_out_twice_or_signed_out_is_harmless(
    client: FlaskClient, db_session: Session, ann: User
) -> None:
    sign_in(client, "ann@example.com")
    token = token_of(client)
    sign_out(client)
    auth.end_session(db_session, token)  # already gone
    auth.end_session(db_session, 42)  # not a token at all
    sign_out(client)
    count = db_session.scalar(select(func.count()).select_from(UserSession))
    assert count == 0


def test_only_the_newest_sign_ins_of_a_user_stay_live(db_session: Session, ann: User) -> None:
    """LMS launches cannot name the sign-in they replace, so rows are capped per user."""
    start = utcnow()
    tokens = [
        auth.start_session(
            db_session,
            ann.id,
            lifetime=dt.timedelta(days=1),
            now=start + dt.timedelta(seconds=n),
        )
        for n in range(auth.MAX_SIGN_INS_PER_USER + 3)
    ]
    kept = {row.id for row in rows(db_session, ann.id)}
    assert len(kept) == auth.MAX_SIGN_INS_PER_USER
    newest = {hashlib.sha256(t.encode()).hexdigest() for t in tokens[3:]}
    assert kept == newest


def test_a_sign_out_the_database_refuses_leaves_the_browser_signed_in(
    client: FlaskClient, ann: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a browser that looks signed out while a copy of its cookie still works."""
    sign_in(client, "ann@example.com")
    token = csrf(client, "/")

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the database refused the delete")

    monkeypatch.setattr(auth, "end_session", refuse)
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post("/auth/logout", data={"csrf_token": token})
    assert response.status_code == 500
    monkeypatch.undo()
    assert signed_in(client)
