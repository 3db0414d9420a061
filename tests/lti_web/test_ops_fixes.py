"""LTI fixes from operating grader: an unapproved deployment is logged, listed for one-click
approval and explained to the student; scores go to the placement the student launched."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from grader.models_lti import LtiPendingDeployment
from grader.models_lti import LtiResourceLink
from grader.models_lti import LtiScore
from grader.web import security
from tests.lti_web.lms import Lms
from tests.lti_web.lms import answer_part
from tests.lti_web.lms import csrf
from tests.lti_web.lms import signed_in_user
from tests.support.student_world import make_user

NEW_DEPLOYMENT = "dep-added-by-the-lms-admin"


def _launch_through(lms: Lms, client_id: str, deployment_id: str, user: str = "stu-3"):  # type: ignore[no-untyped-def]
    browser = lms.browser()
    attempt = lms.attempt(browser, client_id, user=user, deployment_id=deployment_id)
    attempt.form["id_token"] = lms.token(client_id, attempt, deployment_id=deployment_id, user=user)
    return browser, lms.post_launch(browser, attempt)


def test_unknown_deployment_is_logged_listed_and_approved_in_one_click(
    lms: Lms, caplog: pytest.LogCaptureFixture
) -> None:
    client_id = lms.connect()
    lms.launch(lms.browser(), client_id, user="teacher-1")  # the course exists
    with caplog.at_level(logging.WARNING, logger="grader.lti"):
        browser, refused = _launch_through(lms, client_id, NEW_DEPLOYMENT)
        _launch_through(lms, client_id, NEW_DEPLOYMENT)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403
    assert "LTI set-up is incomplete" in page
    assert "could not be verified" not in page
    assert signed_in_user(browser) is None
    assert any(NEW_DEPLOYMENT in r.getMessage() for r in caplog.records)
    [pending] = lms.db.scalars(select(LtiPendingDeployment)).all()
    assert (pending.deployment_id, pending.launches) == (NEW_DEPLOYMENT, 2)

    admin = make_user(lms.db, "root@example.edu", role="admin")
    lms.db.commit()
    client = lms.browser()
    with client.session_transaction() as cookie:
        cookie.update(security.new_sign_in(client.application, admin.id))
    html = client.get("/lti/admin").get_data(as_text=True)
    assert "Waiting for approval" in html
    assert f"<code>{NEW_DEPLOYMENT}</code>: 2 launches" in html
    approved = client.post(
        f"/lti/admin/registrations/{pending.registration_id}/deployments",
        data={"deployment_id": NEW_DEPLOYMENT, "csrf_token": csrf(html)},
    )
    assert approved.status_code == 302
    lms.db.expire_all()
    assert lms.db.scalars(select(LtiPendingDeployment)).all() == []
    assert "Waiting for approval" not in client.get("/lti/admin").get_data(as_text=True)
    # The next launch through it is a normal one (a new course context: the teacher's).
    _, accepted = _launch_through(lms, client_id, NEW_DEPLOYMENT, user="teacher-1")
    assert accepted.status_code == 302


def test_scores_go_to_the_placement_the_student_launched(lms: Lms) -> None:
    client_id = lms.connect()
    quiz, graded = lms.linked_quiz(client_id)
    plain = lms.platform.add_resource_link(
        client_id, title="Same quiz, plain link", custom={"quiz_id": str(quiz.id)}
    )
    only_graded = lms.student(client_id, "stu-1", graded)
    only_plain = lms.student(client_id, "stu-2", plain)
    answer_part(only_graded, lms.db, quiz.id, "w1")
    answer_part(only_plain, lms.db, quiz.id, "w1")
    lms.db.expire_all()
    links = {row.id: row.lms_link_id for row in lms.db.scalars(select(LtiResourceLink)).all()}
    sent_to = {
        (row.sub, links[row.lti_resource_link_id]) for row in lms.db.scalars(select(LtiScore)).all()
    }
    assert sent_to == {("stu-1", graded.id), ("stu-2", plain.id)}
