"""Bearer tokens: stored hashed, revocable, course-scoped, last use recorded, CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from grader.cli import api_cmds
from grader.errors import BadRequest
from grader.errors import Forbidden
from grader.errors import Unauthorized
from grader.models import ApiToken
from grader.models import Course
from grader.services import tokens
from grader.web import security
from tests.api.conftest import issue
from tests.support.student_world import enrol
from tests.support.student_world import make_user


def test_only_the_hash_and_a_prefix_are_stored(db_session, world):
    issued = tokens.create_token(db_session, user=world.instructor, name="sync")
    assert issued.secret.startswith("grd_")
    assert len(issued.secret) > 40
    row = db_session.get(ApiToken, issued.row.id)
    assert row.token_hash == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert row.prefix == issued.secret[:12]
    stored = [str(v) for v in (row.token_hash, row.prefix, row.name)]
    assert issued.secret not in stored


def test_authenticate_accepts_live_tokens_and_records_last_use(db_session, world):
    secret = issue(db_session, world.instructor)
    row = tokens.authenticate(db_session, secret)
    assert row.user_id == world.instructor.id
    first = row.last_used_at
    assert first is not None
    # within a minute the stamp is not rewritten (no write per request) ...
    tokens.authenticate(db_session, secret, now=first + dt.timedelta(seconds=10))
    assert row.last_used_at == first
    # ... after it, it is
    later = first + dt.timedelta(minutes=5)
    tokens.authenticate(db_session, secret, now=later)
    assert row.last_used_at == later


def test_authenticate_refuses_unknown_tokens(db_session):
    for raw in ["", "grd_", "grd_nope", "Bearer grd_x", "x" * 200, "grd_" + "A" * 43]:
        with pytest.raises(Unauthorized):
            tokens.authenticate(db_session, raw)


def test_revoked_and_deactivated_tokens_are_refused(db_session, world):
    secret = issue(db_session, world.instructor)
    row = tokens.authenticate(db_session, secret)
    tokens.revoke_token(db_session, row)
    with pytest.raises(Unauthorized):
        tokens.authenticate(db_session, secret)
    other = issue(db_session, world.student)
    world.student.is_active = False
    db_session.commit()
    with pytest.raises(Unauthorized):
        tokens.authenticate(db_session, other)


def test_who_may_issue_tokens(db_session, world):
    # an instructor for themselves: yes; for a student: no; a student for themselves: no
    tokens.create_token(db_session, user=world.instructor, actor=world.instructor)
    with pytest.raises(Forbidden):
        tokens.create_token(db_session, user=world.student, actor=world.instructor)
    with pytest.raises(Forbidden):
        tokens.create_token(db_session, user=world.student, actor=world.student)
    admin = make_user(db_session, "api-admin@example.com", role="admin")
    tokens.create_token(db_session, user=world.student, actor=admin)


def test_course_scope_needs_membership(db_session, world):
    elsewhere = Course(code="ELSE1", title="Elsewhere")
    db_session.add(elsewhere)
    db_session.flush()
    with pytest.raises(BadRequest, match="not a member"):
        tokens.create_token(db_session, user=world.student, course_id=elsewhere.id)
    with pytest.raises(BadRequest, match="name"):
        tokens.create_token(db_session, user=world.student, name="  ")


def test_revoked_token_gets_401_over_http(api, db_session, world):
    secret = issue(db_session, world.instructor)
    assert api.as_(secret).get("/me").status_code == 200
    tokens.revoke_token(db_session, tokens.find_token(db_session, secret[:12]))
    response = api.as_(secret).get("/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_or_malformed_authorization_is_401(api):
    for header in [
        None,
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Token grd_abc",
        "bearer grd_x",
    ]:
        headers = {} if header is None else {"Authorization": header}
        response = api.get("/me", headers=headers)
        assert response.status_code == 401, header
        assert response.json["status"] == 401


def test_cookies_do_not_authenticate(api, client, world):
    """A signed-in browser session is no API credential (so the API needs no CSRF)."""
    values = security.new_sign_in(client.application, world.instructor.id)
    with client.session_transaction() as cookie:
        cookie.update(values)
    assert client.get("/").status_code == 200  # a live browser session...
    assert api.get("/me").status_code == 401  # ...that the API does not accept


def test_api_posts_need_no_csrf_token(app, api, client, toks, world):
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/auth/logout").status_code == 400  # the browser side wants a token
    response = api.as_(toks.instructor).post(
        f"/courses/{world.course.id}/exercises/validate",
        data="id: x\n",
        content_type="text/plain",
    )
    assert response.status_code == 200


def test_me_shows_the_token_without_its_secret(api, db_session, world):
    secret = issue(db_session, world.instructor, name="gradebook sync")
    body = api.as_(secret).get("/me").json
    assert body["user"]["email"] == world.instructor.email
    assert body["token"]["name"] == "gradebook sync"
    assert body["token"]["prefix"] == secret[:12]
    assert secret not in str(body)


def test_course_scoped_token_reaches_only_its_course(api, db_session, world):
    other_course = Course(code="API202", title="Other course")
    db_session.add(other_course)
    db_session.flush()
    enrol(db_session, other_course, world.instructor, "instructor")
    db_session.commit()
    scoped = issue(db_session, world.instructor, course_id=world.course.id)
    broad = issue(db_session, world.instructor)
    assert api.as_(broad).get(f"/courses/{other_course.id}").status_code == 200
    assert [c["id"] for c in api.as_(broad).get("/courses").json["items"]] == sorted(
        [world.course.id, other_course.id]
    )
    # the scoped token: its own course yes, the other one no (403 on course routes)
    assert api.as_(scoped).get(f"/courses/{world.course.id}").status_code == 200
    assert [c["id"] for c in api.as_(scoped).get("/courses").json["items"]] == [world.course.id]
    for path in ("", "/quizzes", "/exercises", "/grades", "/attempts", "/webhooks"):
        response = api.as_(scoped).get(f"/courses/{other_course.id}{path}")
        assert response.status_code == 403, path
        assert "limited to course" in response.json["detail"]


def test_course_scoped_token_sees_other_courses_objects_as_absent(api, db_session, world):
    from tests.support.student_world import make_world

    second = make_world(db_session, prefix="scp")
    enrol(db_session, second.course, world.student)
    db_session.commit()
    scoped = issue(db_session, world.student, course_id=world.course.id)
    broad = issue(db_session, world.student)
    assert api.as_(broad).get(f"/quizzes/{second.quiz.id}").status_code == 200
    assert api.as_(scoped).get(f"/quizzes/{second.quiz.id}").status_code == 404
    started = api.as_(broad).post(f"/quizzes/{second.quiz.id}/items/{second.item.id}/attempt")
    assert started.status_code == 201
    attempt_id = started.json["id"]
    assert api.as_(scoped).get(f"/attempts/{attempt_id}").status_code == 404
    assert api.as_(scoped).get(f"/attempts/{attempt_id}/submissions").status_code == 404
    response = api.as_(scoped).post(f"/quizzes/{second.quiz.id}/items/{second.item.id}/attempt")
    assert response.status_code == 404


def test_tokens_never_reach_the_logs(api, db_session, world, caplog):
    caplog.set_level(logging.DEBUG)
    secret = issue(db_session, world.instructor)
    api.as_(secret).get("/me")
    api.as_(secret + "x").get("/me")
    tokens.revoke_token(db_session, tokens.find_token(db_session, secret[:12]))
    assert caplog.records, "expected some log lines to check"
    for record in caplog.records:
        assert secret not in record.getMessage()


# --------------------------------------------------------------------------- CLI


def test_cli_creates_lists_and_revokes_tokens(app, db_session, world):
    runner = app.test_cli_runner()
    result = runner.invoke(
        api_cmds.create_token,
        args=[
            "--user",
            world.instructor.email,
            "--course",
            "API101",
            "--name",
            "ci",
        ],
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("grd_")
    assert "\n" not in secret
    assert "shown only now" in result.stderr
    row = db_session.scalar(select(ApiToken).where(ApiToken.prefix == secret[:12]))
    assert row.course_id == world.course.id
    assert row.name == "ci"

    listed = runner.invoke(api_cmds.list_tokens, args=["--user", world.instructor.email])
    assert listed.exit_code == 0
    assert secret[:12] in listed.stdout
    assert secret not in listed.stdout

    revoked = runner.invoke(api_cmds.revoke_token, args=[secret[:12]])
    assert revoked.exit_code == 0, revoked.output
    db_session.expire_all()
    assert db_session.get(ApiToken, row.id).revoked_at is not None
    with pytest.raises(Unauthorized):
        tokens.authenticate(db_session, secret)


def test_cli_errors_are_one_clear_line(app, world):
    cases = [
        ("create_token", ["--user", "nobody@example.com"], "no user"),
        ("create_token", ["--user", "api-sam@example.com", "--course", "NOPE"], "no course"),
        ("revoke_token", ["grd_doesnotexist"], "no API token"),
        ("revoke_token", ["999999"], "no API token"),
    ]
    for command, args, message in cases:
        result = app.test_cli_runner().invoke(getattr(api_cmds, command), args=args)
        assert result.exit_code == 1, args
        assert message in result.stderr


@pytest.mark.slow
def test_the_real_command_prints_only_the_token_on_stdout(tmp_path):
    """``TOKEN=$(grader create-token --user ...)`` works: one line on stdout, the rest on stderr."""
    from sqlalchemy.orm import Session

    from grader.db import make_engine
    from grader.migrate import upgrade

    url = f"sqlite:///{tmp_path}/tokens.sqlite3"
    engine = make_engine(url)
    with engine.begin() as conn:
        upgrade(conn)
    with Session(engine) as session:
        make_user(session, "cli-prof@example.com", role="instructor")
        session.commit()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env["GRADER_DATABASE_URL"] = url
    created = subprocess.run(
        [
            str(Path(sys.executable).parent / "grader"),
            "create-token",
            "--user",
            "cli-prof@example.com",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    lines = created.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("grd_")
    with Session(engine) as session:
        assert tokens.authenticate(session, lines[0]).name == "api"
    engine.dispose()
