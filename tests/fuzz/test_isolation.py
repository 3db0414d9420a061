"""A student cannot read or change another student's data through ANY route.

The test walks ``app.url_map`` (so a route added later is covered, or the test asks how
to fill its parameters in ``campus.py``), signs in as Sam, fills every id with Olive's
objects (her attempt, her submission, her enrolment; the course's quiz, exercise, job,
LMS registration), and sends each method with a valid CSRF token and a plausible form.

* nothing of Olive's (her answer, her override's reason, her email) is in any answer;
* reading a route that names Olive's objects, or a staff route about an object, answers
  401/403/404 (or 405); staff index pages may answer, empty; a refused form may also
  redirect back with a message (post/redirect/get), which is read too;
* no submission, override, enrolment, job, exercise or quiz is written.
The JSON API with bearer tokens has its own walk in tests/api/test_isolation.py; here the
API routes are called with Sam's browser cookie.
"""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.models import Course
from grader.models import Enrolment
from grader.models import Exercise
from grader.models import GradeOverride
from grader.models import Job
from grader.models import Quiz
from grader.models import Submission
from tests.fuzz import campus as campus_mod
from tests.fuzz.campus import MARKER
from tests.fuzz.campus import OLIVE_REASON

OLIVES = ("attempt_id", "submission_id", "enrolment_id")
STAFF_PREFIXES = ("/teach", "/lti/admin", "/lti/courses", "/lti/deep-link", "/lti/links")
REFUSED = {401, 403, 404, 405}
FORM = {"answer": "0.5", "part_id": "y", "points": "0.5", "reason": "x", "role": "ta"}


def _counts(session: Session) -> dict[str, int]:
    return {
        model.__name__: int(session.scalar(select(func.count()).select_from(model)) or 0)
        for model in (Submission, GradeOverride, Enrolment, Job, Exercise, Quiz, Course)
    }


def _token(client: FlaskClient) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(True))
    assert match
    return match.group(1)


def test_a_student_reaches_nothing_of_another_student(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    campus = campus_mod.build(db_session, app)
    campus_mod.sign_in(client, campus.sam)
    token = _token(client)
    before = _counts(db_session)
    secrets = (MARKER, OLIVE_REASON, campus.olive.email)
    checked = 0
    for rule, method in campus_mod.routes(app):
        path = campus.fill(rule, "olive")
        campus_mod.sign_in(client, campus.sam, fresh=False)  # a route may sign Sam out
        if method != "GET":
            token = _token(client)  # ...and take the CSRF token with the session
        response = client.open(
            path,
            method=method,
            data=None if method == "GET" else {**FORM, "csrf_token": token},
            headers={"X-CSRFToken": token},
        )
        if method != "GET" and response.status_code in (400, 415):
            # A JSON endpoint refuses the form before anything else: send it JSON too.
            response = client.open(
                path,
                method=method,
                json={**FORM, "source": "id: x", "seed": 1, "text": "0.5", "attempt_id": 1},
                headers={"X-CSRFToken": token},
            )
        body = response.get_data(as_text=True)
        where = f"{method} {path} -> {response.status_code}"
        if method != "GET" and response.status_code in (302, 303):
            # A refused form goes back to a page with a message (post/redirect/get).
            body += client.get(response.headers["Location"]).get_data(as_text=True)
        for secret in secrets:
            assert secret not in body, f"{where} shows {secret!r}"
        assert "Traceback" not in body, where
        assert response.status_code < 500, where
        staff_object = rule.rule.startswith(STAFF_PREFIXES) and rule.arguments
        if set(rule.arguments) & set(OLIVES) or staff_object:
            # 400: refused as malformed (form and JSON) before anything was read.
            allowed = REFUSED if method == "GET" else REFUSED | {302, 303, 400}
            assert response.status_code in allowed, where
        checked += 1
    assert checked >= 60
    assert _counts(db_session) == before


def test_sams_own_pages_show_his_work_and_not_olives(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    """The pages Sam may see, seen: his answer is there, Olive's is not."""
    campus = campus_mod.build(db_session, app)
    campus_mod.sign_in(client, campus.sam)
    quiz = client.get(f"/quizzes/{campus.world.quiz.id}")
    history = client.get(f"/quizzes/{campus.world.quiz.id}/history")
    for page in (quiz, history):
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "1.5" in text
        assert MARKER not in text
        assert OLIVE_REASON not in text


def test_the_markers_are_visible_to_those_allowed(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    """The walk above is not vacuous: the same routes do show Olive's data to her teacher."""
    campus = campus_mod.build(db_session, app)
    campus_mod.sign_in(client, campus.prof)
    seen = client.get(f"/submissions/{campus.olive_submission.id}").get_data(as_text=True)
    assert MARKER in seen
    detail = client.get(f"/teach/attempts/{campus.olive_attempt.id}").get_data(as_text=True)
    assert OLIVE_REASON in detail
    campus_mod.sign_in(client, campus.olive)
    assert MARKER in client.get(f"/quizzes/{campus.world.quiz.id}").get_data(as_text=True)
