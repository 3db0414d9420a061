"""Sessions and CSRF, across every route.

* every state-changing route refuses a request without a CSRF token, and one carrying
  another session's token (the exceptions are the LMS's cross-site ``/lti/login`` and
  ``/lti/launch``, which use a one-time state instead, and the bearer-token JSON API);
* signing in starts a fresh session: a token planted before sign-in is worthless after;
* a deactivated account's cookie stops working at once; signing out ends the session,
  and a copy of the cookie taken before sign-out is dead after it (sign-ins are rows).
"""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.models import Submission
from grader.models import User
from grader.services.accounts import hash_password
from tests.fuzz import campus as campus_mod

EXEMPT = ("/lti/login", "/lti/launch", "/api/v1/")
CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
#: the answer form: a stale or foreign token sends the student back to the part (their text
#: restored) instead of a 400 page, and stores nothing
ANSWER_ROUTE = "/attempts/<int:attempt_id>/parts/<part_id>"
#: the answer forms: a failed token sends the student back to the quiz, nothing stored
ANSWER_ROUTES = {ANSWER_ROUTE, "/attempts/<int:attempt_id>/graph"}


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    assert user is not None
    return user


def _token(client: FlaskClient, path: str = "/") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, html[:300]
    return match.group(1)


def test_every_changing_route_needs_this_sessions_csrf_token(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    campus = campus_mod.build(db_session, app)
    other = app.test_client()
    campus_mod.sign_in(other, campus.prof)
    foreign = _token(other)
    checked = 0
    for rule, method in campus_mod.routes(app):
        if method not in CHANGING or rule.rule.startswith(EXEMPT):
            continue
        path = campus.fill(rule, "sam")
        user = campus.prof if rule.rule.startswith("/teach") else campus.sam
        for token in (None, foreign, "garbage"):
            campus_mod.sign_in(client, user)
            data = {"answer": "0.5", "reason": "x"} | ({"csrf_token": token} if token else {})
            if rule.rule in ANSWER_ROUTES:  # what the quiz page's form sends
                data["quiz_id"] = str(campus.world.quiz.id)
            stored = db_session.scalar(select(func.count()).select_from(Submission))
            response = client.open(path, method=method, data=data)
            if rule.rule in ANSWER_ROUTES:
                assert response.status_code in (302, 303), f"{method} {path} with {token!r}"
                assert "/quizzes/" in response.headers.get("Location", ""), path
                db_session.expire_all()
                now = db_session.scalar(select(func.count()).select_from(Submission))
                assert now == stored, f"{method} {path} stored an answer with {token!r}"
            else:
                assert response.status_code == 400, f"{method} {path} with token {token!r}"
                assert "CSRF" in response.get_data(as_text=True), f"{method} {path}"
            headers = {"X-CSRFToken": token} if token else {}
            response = client.open(path, method=method, json={"text": "1"}, headers=headers)
            assert response.status_code == 400, f"{method} {path} JSON with {token!r}"
        checked += 1
    assert checked >= 30


def test_a_token_planted_before_sign_in_is_worthless_after(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    campus = campus_mod.build(db_session, app)
    _user(db_session, campus.sam.id).password_hash = hash_password("sam-password-1")
    db_session.commit()
    planted = _token(client, "/auth/login")
    cookie_before = client.get_cookie("session")
    response = client.post(
        "/auth/login",
        data={"csrf_token": planted, "email": campus.sam.email, "password": "sam-password-1"},
    )
    assert response.status_code == 302
    cookie_after = client.get_cookie("session")
    assert cookie_before is not None
    assert cookie_after is not None
    assert cookie_after.value != cookie_before.value
    refused = client.post("/courses/join", data={"csrf_token": planted, "join_code": "x"})
    assert refused.status_code == 400
    fresh = _token(client)
    assert fresh != planted
    ok = client.post("/courses/join", data={"csrf_token": fresh, "join_code": "x"})
    assert ok.status_code == 302


def test_a_deactivated_account_is_signed_out_at_once(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    campus = campus_mod.build(db_session, app)
    campus_mod.sign_in(client, campus.sam)
    assert client.get("/").status_code == 200
    _user(db_session, campus.sam.id).is_active = False  # the request closed our copy's session
    db_session.commit()
    response = client.get("/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_signing_out_ends_the_session(app: Flask, client: FlaskClient, db_session: Session) -> None:
    campus = campus_mod.build(db_session, app)
    campus_mod.sign_in(client, campus.sam)
    response = client.post("/auth/logout", data={"csrf_token": _token(client)})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_a_cookie_copied_before_sign_out_is_dead_after(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    """Sign-ins are rows the sign-out deletes, so the signed cookie alone is not enough."""
    campus = campus_mod.build(db_session, app)
    _user(db_session, campus.sam.id).password_hash = hash_password("sam-password-1")
    db_session.commit()
    response = client.post(
        "/auth/login",
        data={
            "csrf_token": _token(client, "/auth/login"),
            "email": campus.sam.email,
            "password": "sam-password-1",
        },
    )
    assert response.status_code == 302
    stolen = client.get_cookie("session")
    assert stolen is not None
    thief = app.test_client()
    thief.set_cookie("session", stolen.value)
    assert thief.get("/").status_code == 200  # the copy works while the sign-in lives
    client.post("/auth/logout", data={"csrf_token": _token(client)})
    assert thief.get("/").status_code == 302
    assert "/auth/login" in thief.get("/").headers["Location"]


def test_an_out_of_date_graph_form_says_so_and_sends_nothing(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    """The graph form's script gets the reason as JSON (it shows it in the live region);
    the form without script goes back to the graph on the quiz page."""
    campus = campus_mod.build(db_session, app)
    campus_mod.sign_in(client, campus.sam)
    attempt_id = campus.fill(
        next(r for r in app.url_map.iter_rules() if r.rule.endswith("/graph")), "sam"
    ).split("/")[2]
    path = f"/attempts/{attempt_id}/graph"
    stored = db_session.scalar(select(func.count()).select_from(Submission))
    data = {"answer-y": "0.5", "csrf_token": "garbage", "quiz_id": str(campus.world.quiz.id)}
    response = client.post(path, data=data, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "out of date" in response.get_json()["error"]
    response = client.post(path, data=data)
    assert response.status_code in (302, 303)
    assert response.headers["Location"].endswith(f"#graph-{attempt_id}")
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Submission)) == stored
