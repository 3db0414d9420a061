"""Sign-in, registration and sign-out through the test client; CSRF on every form."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher

from grader.services import accounts
from grader.web import security
from tests.support.student_world import PASSWORD
from tests.support.student_world import make_user
from tests.support.student_world import make_world


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Argon2id with tiny costs: these tests are about the flow, not the hash's strength."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


def token(client, path="/auth/register"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def login(client, email, password, **extra):
    return client.post(
        "/auth/login" + extra.pop("query", ""),
        data={"email": email, "password": password, "csrf_token": token(client)},
    )


def test_login_page_has_labelled_fields_and_refuses_framing(client):
    response = client.get("/auth/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html
    assert 'autocomplete="current-password"' in html
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_login_starts_a_fresh_session_and_follows_a_local_next(client, db_session):
    user = make_user(db_session, "ann@example.com", password=PASSWORD)
    db_session.commit()
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    response = login(client, "Ann@Example.com", PASSWORD, query="?next=/quizzes/7")
    assert response.status_code == 302
    assert response.headers["Location"] == "/quizzes/7"
    with client.session_transaction() as s:
        assert s["user_id"] == user.id
        assert "planted" not in s


def test_next_never_leaves_the_site(client, db_session):
    make_user(db_session, "ann@example.com", password=PASSWORD)
    db_session.commit()
    for target in ["https://evil.example/", "//evil.example/x", "/\\evil", "javascript:alert(1)"]:
        response = login(client, "ann@example.com", PASSWORD, query=f"?next={target}")
        assert response.headers["Location"] == "/", target


def test_wrong_password_then_rate_limit_with_retry_after(client, db_session):
    make_user(db_session, "ann@example.com", password=PASSWORD)
    db_session.commit()
    response = login(client, "ann@example.com", "not the password")
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)
    for _ in range(4):
        login(client, "ann@example.com", "not the password")
    response = login(client, "ann@example.com", PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_register_with_join_code_enrols_then_the_student_signs_in(client, db_session):
    world = make_world(db_session, commit=True)
    response = client.post(
        "/auth/register",
        data={
            "name": "Nia",
            "email": "nia@example.com",
            "password": PASSWORD,
            "join_code": "w-join",
            "csrf_token": token(client, "/auth/register"),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?email=nia@example.com"
    assert login(client, "nia@example.com", PASSWORD).status_code == 302
    dashboard = client.get("/").get_data(as_text=True)
    assert world.course.title in dashboard
    assert "Quiz 1" in dashboard


def test_register_with_a_bad_code_says_so_at_the_field(client, db_session):
    response = client.post(
        "/auth/register",
        data={
            "name": "Nia",
            "email": "nia@example.com",
            "password": PASSWORD,
            "join_code": "nope",
            "csrf_token": token(client, "/auth/register"),
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="join_code-error"' in html
    assert 'aria-invalid="true"' in html


def test_sign_out_is_a_post_with_csrf(client, db_session):
    user = make_user(db_session, "ann@example.com")
    db_session.commit()
    values = security.new_sign_in(client.application, user.id)
    with client.session_transaction() as s:
        s.update(values)
    assert client.get("/").status_code == 200
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 400  # no CSRF token
    response = client.post("/auth/logout", data={"csrf_token": token(client, "/")})
    assert response.status_code == 302
    assert client.get("/").headers["Location"].startswith("/auth/login")


def test_forms_without_a_csrf_token_are_refused(client, db_session):
    make_user(db_session, "ann@example.com", password=PASSWORD)
    db_session.commit()
    response = client.post("/auth/login", data={"email": "ann@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
