"""Our keys in /lti/jwks and their rotation, the Canvas config, the admin page, the roster
button and the CLI."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from sqlalchemy import select

from grader.cli import lti_cmds
from grader.errors import ConfigError
from grader.lti import claims as c
from grader.models import Enrolment
from grader.models import User
from grader.models_lti import LtiRegistration
from grader.models_lti import LtiToolKey
from grader.services import lti_keys
from grader.web import security
from tests.lti_web.lms import Lms
from tests.lti_web.lms import csrf
from tests.lti_web.lms import deep_link
from tests.support.student_world import make_user


def login_as(client, user) -> None:
    values = security.new_sign_in(client.application, user.id)
    with client.session_transaction() as session:
        session.update(values)


def test_key_rotation_is_visible_in_jwks_and_used_for_signing(lms: Lms) -> None:
    client = lms.browser()
    before = client.get("/lti/jwks")
    assert before.status_code == 200
    assert before.mimetype == "application/json"
    keys = before.get_json()["keys"]
    assert len(keys) == 2
    for key in keys:
        assert key["kty"] == "RSA"
        assert key["alg"] == "RS256"
        assert key["use"] == "sig"
        assert "d" not in key  # public parts only
    active, upcoming = keys[0]["kid"], keys[1]["kid"]
    states = dict(lms.db.execute(select(LtiToolKey.kid, LtiToolKey.state)).all())
    assert states == {active: "active", upcoming: "next"}

    result = lms.app.test_cli_runner().invoke(cli=lti_cmds.lti, args=["rotate-keys"])
    assert result.exit_code == 0, result.output
    assert f"active key: {upcoming}" in result.output

    after = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]
    assert len(after) == 3
    assert after[0] == upcoming  # the next key now signs
    assert active in after  # the retired key is still published
    lms.db.expire_all()
    states = dict(lms.db.execute(select(LtiToolKey.kid, LtiToolKey.state)).all())
    assert states[upcoming] == "active"
    assert states[active] == "retired"

    # What we sign from now on names the new key; the platform (told our new keys) accepts it.
    client_id = lms.connect()
    teacher = lms.browser()
    launched = lms.launch(
        teacher, client_id, user="teacher-1", message_type=c.MESSAGE_DEEP_LINKING_REQUEST
    )
    quiz = lms.add_quiz(lms.course_of())
    form = deep_link(teacher, launched, [quiz.id])
    assert jwt.get_unverified_header(form.fields["JWT"])["kid"] == upcoming

    assert lti_keys.prune_retired(lms.db, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=2)) == 1
    assert [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]] == after[:1] + [
        k for k in after[1:] if k != active
    ]


def test_keys_are_encrypted_at_rest_and_need_the_right_secret(lms: Lms) -> None:
    row = lms.db.scalars(select(LtiToolKey)).first()
    assert b"PRIVATE KEY" not in row.private_pem_encrypted.encode()
    with pytest.raises(ConfigError, match="cannot decrypt"):
        lti_keys.load_keys(lms.db, "another-secret")


def test_keys_are_created_on_first_use(db_session) -> None:
    records = lti_keys.ensure_keys(db_session, "first-use-secret")
    assert sorted(r.state.value for r in records) == ["active", "next"]
    assert lti_keys.ensure_keys(db_session, "first-use-secret") == records


def test_canvas_developer_key_json(lms: Lms) -> None:
    data = lms.browser().get("/lti/config/canvas.json").get_json()
    assert data["oidc_initiation_url"] == "http://localhost/lti/login"
    assert data["target_link_uri"] == "http://localhost/lti/launch"
    assert data["public_jwk_url"] == "http://localhost/lti/jwks"
    placements = data["extensions"][0]["settings"]["placements"]
    selection = next(p for p in placements if p["placement"] == "assignment_selection")
    assert selection["message_type"] == c.MESSAGE_DEEP_LINKING_REQUEST


def test_admin_page_is_for_admins_only(lms: Lms) -> None:
    client = lms.browser()
    assert client.get("/lti/admin").status_code == 302  # to sign in
    login_as(client, make_user(lms.db, "someone@example.edu", role="instructor"))
    lms.db.commit()
    assert client.get("/lti/admin").status_code == 403


def test_admin_registers_a_platform_and_approves_deployments(lms: Lms) -> None:
    admin = make_user(lms.db, "root@example.edu", role="admin")
    lms.db.commit()
    client = lms.browser()
    login_as(client, admin)
    page = client.get("/lti/admin")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://localhost/lti/login" in html
    form = {
        "csrf_token": csrf(html),
        "name": "Moodle at Uni",
        "platform_family": "moodle",
        "issuer": "https://moodle.example.edu",
        "client_id": "abc123",
        "auth_login_url": "https://moodle.example.edu/mod/lti/auth.php",
        "token_url": "https://moodle.example.edu/mod/lti/token.php",
        "jwks_url": "https://moodle.example.edu/mod/lti/certs.php",
        "deployment_ids": "1\n2",
    }
    assert client.post("/lti/admin/registrations", data=form).status_code == 302
    row = lms.db.scalar(select(LtiRegistration).where(LtiRegistration.client_id == "abc123"))
    assert sorted(d.deployment_id for d in row.deployments) == ["1", "2"]
    bad = client.post(
        "/lti/admin/registrations", data={**form, "client_id": "x", "jwks_url": "file:///etc"}
    )
    assert bad.status_code == 302
    assert "must be an http(s) URL" in client.get("/lti/admin").get_data(as_text=True)
    client.post(
        f"/lti/admin/registrations/{row.id}/deployments",
        data={"deployment_id": "3", "csrf_token": csrf(html)},
    )
    client.post(
        f"/lti/admin/registrations/{row.id}/active", data={"active": "0", "csrf_token": csrf(html)}
    )
    row = lms.db.get(LtiRegistration, row.id, populate_existing=True)
    assert sorted(d.deployment_id for d in row.deployments) == ["1", "2", "3"]
    assert row.is_active is False


def test_roster_sync_button(lms: Lms) -> None:
    client_id = lms.connect()
    teacher = lms.browser()
    lms.launch(teacher, client_id, user="teacher-1")
    course = lms.course_of()
    page = teacher.get(f"/lti/courses/{course.id}").get_data(as_text=True)
    response = teacher.post(f"/lti/courses/{course.id}/roster", data={"csrf_token": csrf(page)})
    assert response.status_code == 302
    assert "Roster synced" in teacher.get(response.headers["Location"]).get_data(as_text=True)
    roles = dict(
        lms.db.execute(
            select(User.name, Enrolment.role)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(Enrolment.course_id == course.id)
        ).all()
    )
    assert roles == {
        "Tess Teacher": "instructor",
        "Tim Assistant": "ta",
        "Ada Student": "student",
        "Bob Student": "student",
        "Cy Student": "student",
        "Fay Faculty": "student",  # faculty at the university, a learner here
        "Test Student": "student",
    }  # Dee Dropped is inactive in the LMS: not enrolled
    # every page was read (the fake pages by two and wants the cursor's case kept)
    member_pages = [r for r in lms.platform.request_log if "/memberships" in r[1]]
    assert len(member_pages) == 4


def test_status_page_is_for_the_courses_staff(lms: Lms) -> None:
    client_id = lms.connect()
    lms.launch(lms.browser(), client_id, user="teacher-1")
    course = lms.course_of()
    link = lms.platform.add_resource_link(client_id)
    student = lms.browser()
    lms.launch(student, client_id, user="stu-1", resource_link_id=link.id)
    assert student.get(f"/lti/courses/{course.id}").status_code == 403
    assert student.post(f"/lti/courses/{course.id}/roster").status_code in (400, 403)


def test_cli_add_platform_show_config_and_worker(lti_app, db_session) -> None:
    runner = lti_app.test_cli_runner()
    args = [
        "add-platform",
        "--issuer",
        "https://d2l.example.edu",
        "--client-id",
        "d2l-1",
        "--auth-login-url",
        "https://d2l.example.edu/d2l/lti/authenticate",
        "--token-url",
        "https://auth.brightspace.com/core/connect/token",
        "--jwks-url",
        "https://d2l.example.edu/d2l/.well-known/jwks",
        "--deployment-id",
        "dep-a",
        "--profile",
        "brightspace",
    ]
    result = runner.invoke(cli=lti_cmds.lti, args=args)
    assert result.exit_code == 0, result.output
    assert "registered" in result.output
    again = runner.invoke(cli=lti_cmds.lti, args=[*args[:-4], "--deployment-id", "dep-b"])
    assert "updated" in again.output
    row = db_session.scalar(select(LtiRegistration).where(LtiRegistration.client_id == "d2l-1"))
    assert row.auth_audience == "https://api.brightspace.com/auth/token"
    assert sorted(d.deployment_id for d in row.deployments) == ["dep-a", "dep-b"]

    bad = runner.invoke(cli=lti_cmds.lti, args=[*args[:6], "ftp://x", *args[7:]])
    assert bad.exit_code == 1
    assert "error:" in bad.output

    shown = runner.invoke(cli=lti_cmds.lti, args=["show-config"])
    assert "OIDC login / initiation URL: http://localhost/lti/login" in shown.output
    assert '"oidc_initiation_url": "http://localhost/lti/login"' in shown.output

    worked = runner.invoke(cli=lti_cmds.worker, args=["--once"])
    assert worked.exit_code == 0, worked.output
    assert "lti_scores=0" in worked.output
