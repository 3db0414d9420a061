"""A student removed from a course loses it at once, on every route, web and JSON API.

The test walks the app's URL map: every route whose URL names something of the course
(a course, quiz, item, attempt, submission, exercise, member, regrade or webhook) and the
preview (whose body names an attempt) is called by the removed student, with real ids of
real rows, and must answer 403 or 404. The routes that name nothing of a course are
listed with the reason they are left out, and the test fails when a route is neither
walked nor listed, so a new route cannot slip past. Before the removal the same student
succeeds on the student routes, so the refusals are the removal's doing.

Runs on SQLite and PostgreSQL (the ``client`` fixture).
"""

from __future__ import annotations

import io
import re
from typing import Any

from sqlalchemy import select

from grader.models import AccountLink
from grader.models import Enrolment
from grader.models import Job
from grader.models import Submission
from grader.models import Webhook
from grader.services import attempts
from grader.services import enrolments
from grader.services import regrade
from grader.services import submissions
from grader.services import tokens
from tests.support.student_world import DELTA_RULE
from tests.support.student_world import make_world
from tests.web.test_student_views import login_as

#: routes that name nothing of a course, and why they are not walked
NOT_COURSE_ROUTES = {
    "/": "the dashboard lists the student's own courses (checked below: not this one)",
    "/auth/login": "signing in",
    "/auth/logout": "signing out",
    "/auth/logout-everywhere": "signing out",
    "/auth/register": "registering",
    "/auth/forgot": "asking for a sign-in link",
    "/auth/set-password/<token>": "a single-use link, not a course's",
    "/teach/format": "the exercise format reference",
    "/courses/join": "joining by code is how a student comes back",
    "/healthz": "health",
    "/metrics": "operations metrics (a token or a direct loopback request), no course data",
    "/static/<path:filename>": "static files",
    "/api/v1/courses": "lists the caller's own courses (checked below: not this one)",
    "/api/v1/me": "the caller",
    "/api/v1/openapi.json": "the API's description",
    "/teach/": "the instructor start page lists the courses one teaches",
    "/teach/courses": "creating a course (instructors only)",
}
#: LTI routes: launches carry their own membership from the LMS; the admin is site admins'
LTI_PREFIX = "/lti/"
REFUSED = (403, 404)
#: routes whose view turns the refusal into a flashed message and a redirect back (the
#: instructor pages' pattern for this form); the test checks they did nothing
REFUSED_BY_REDIRECT = {"instructor.send_link": "no sign-in link is issued"}
#: what a student uses: walked for sure
STUDENT_ENDPOINTS = {
    "student.quiz",
    "student.history",
    "student.answer",
    "student.submission",
    "preview.preview",
    "api.get_course",
    "api.list_quizzes",
    "api.get_quiz",
    "api.start_attempt",
    "api.list_attempts",
    "api.get_attempt",
    "api.list_submissions",
    "api.create_submission",
    "api.get_submission",
}


def _ids(db_session: Any, world: Any) -> dict[str, Any]:
    attempt = attempts.start_or_resume(db_session, world.student, world.item, secret="x")
    sub = submissions.submit(
        db_session,
        user=world.student,
        attempt=attempt,
        part_id="w1",
        raw_answer="0.5",
        idempotency_key="before",
    )
    prof_enrolment = db_session.scalar(
        select(Enrolment.id).where(Enrolment.user_id == world.instructor.id)
    )
    hook = Webhook(
        course_id=world.course.id,
        url="https://hooks.example.com/grader",
        secret="whsec_test",
        events=["submission.graded"],
        created_by_id=world.instructor.id,
    )
    db_session.add(hook)
    db_session.commit()
    job: Job = regrade.start_regrade(db_session, world.instructor, world.quiz.id)
    return {
        "course_id": world.course.id,
        "quiz_id": world.quiz.id,
        "item_id": world.item.id,
        "attempt_id": attempt.id,
        "part_id": "w1",
        "submission_id": sub.id,
        "exercise_id": world.exercise.id,
        "enrolment_id": prof_enrolment,
        "user_id": world.student.id,
        "webhook_id": hook.id,
        "job_id": job.id,
    }


def _csrf(client: Any) -> str:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


def _call(client: Any, method: str, url: str, token: str, csrf: str, ids: dict[str, Any]) -> Any:
    headers = {"X-CSRFToken": csrf}
    if url.startswith("/api/v1/"):
        headers["Authorization"] = f"Bearer {token}"
    if method == "GET":
        return client.get(url, headers=headers)
    if url.startswith("/api/") or url.endswith(("/exercises/validate", "/exercises/preview")):
        body = _api_body(url, ids)
        return client.open(url, method=method, json=body, headers=headers)
    form: dict[str, Any] = {
        "csrf_token": csrf,
        "answer": "0.5",
        "idempotency_key": "after",
        "reason": "x",
        "points": "1",
        # well-formed instructor forms too, so only membership may refuse them
        "email": "new@example.com",
        "name": "New",
        "role": "student",
        "exercise_id": str(ids["exercise_id"]),
        "target_id": str(ids["course_id"]),
        "course_id": str(ids["course_id"]),
        "title": "Quiz 2",
        "source": DELTA_RULE.read_text(encoding="utf-8"),
        "seed": "1",
        "action": "save",
        "direction": "up",
        "published": "1",
        "show_solutions": "after_due",
    }
    if url.endswith("/override"):
        form["part_id"] = "w1"  # (elsewhere a part_* field would be a part's points)
    if url.endswith("/roster"):
        form["roster"] = (io.BytesIO(b"email,name,role\nnew@example.com,New,student\n"), "r.csv")
    return client.open(url, method=method, data=form, headers=headers)


def test_a_removed_student_is_refused_on_every_route(app, client, db_session) -> None:
    world = make_world(db_session, prefix="rm", attempts_allowed=None)
    ids = _ids(db_session, world)
    token = tokens.create_token(db_session, user=world.student, name="t").secret
    login_as(client, world.student)
    csrf = _csrf(client)

    # Before: the student's own routes work.
    before = {
        ("GET", f"/quizzes/{ids['quiz_id']}"): 200,
        ("GET", f"/quizzes/{ids['quiz_id']}/history"): 200,
        ("GET", f"/submissions/{ids['submission_id']}"): 200,
        ("POST", f"/attempts/{ids['attempt_id']}/parts/w1"): 302,
        ("POST", "/api/preview"): 200,
        ("GET", f"/api/v1/courses/{ids['course_id']}"): 200,
        ("GET", f"/api/v1/attempts/{ids['attempt_id']}"): 200,
        ("GET", f"/api/v1/submissions/{ids['submission_id']}"): 200,
        ("GET", f"/api/v1/attempts/{ids['attempt_id']}/submissions"): 200,
        ("POST", f"/api/v1/attempts/{ids['attempt_id']}/submissions"): 201,
    }
    for (method, url), status in before.items():
        response = _call(client, method, url, token, csrf, ids)
        assert response.status_code == status, (method, url, response.get_data(as_text=True))

    enrolment_id = db_session.scalar(
        select(Enrolment.id).where(
            Enrolment.user_id == world.student.id, Enrolment.course_id == world.course.id
        )
    )
    enrolments.remove_member(db_session, world.instructor, world.course.id, enrolment_id)
    stored_before = _stored(db_session, ids)

    walked: list[tuple[str, str]] = []
    endpoints: set[str] = set()
    for rule in app.url_map.iter_rules():
        if rule.rule in NOT_COURSE_ROUTES or rule.rule.startswith(LTI_PREFIX):
            continue
        url = rule.rule
        for name in rule.arguments:
            assert name in ids, f"{rule.rule}: no id for <{name}>; add one or list the route"
            url = re.sub(rf"<(?:\w+:)?{name}>", str(ids[name]), url)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = _call(client, method, url, token, csrf, ids)
            if rule.endpoint in REFUSED_BY_REDIRECT:
                assert response.status_code == 303, (method, url, response.status_code)
                walked.append((method, rule.rule))
                continue
            assert response.status_code in REFUSED, (
                method,
                url,
                response.status_code,
                response.get_data(as_text=True)[:300],
            )
            walked.append((method, rule.rule))
            endpoints.add(rule.endpoint)
    assert endpoints >= STUDENT_ENDPOINTS
    assert len(walked) >= 50  # the whole map (57 calls when written), not a handful

    # Nothing was stored by the refused answers; the course is gone from both lists.
    assert _stored(db_session, ids) == stored_before
    assert not db_session.scalars(select(AccountLink.id)).all()  # no link was issued
    assert "Backprop 101" not in client.get("/").get_data(as_text=True)
    listed = client.get("/api/v1/courses", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    assert ids["course_id"] not in [c["id"] for c in listed.get_json()["items"]]

    # Every route is either walked or listed with a reason.
    listed_rules = set(NOT_COURSE_ROUTES)
    for rule in app.url_map.iter_rules():
        assert (
            rule.rule in listed_rules
            or rule.rule.startswith(LTI_PREFIX)
            or any(r == rule.rule for _, r in walked)
        ), rule.rule


def _api_body(url: str, ids: dict[str, Any]) -> dict[str, Any]:
    """A well-formed body for each JSON POST/PUT: only membership may refuse it."""
    if url == "/api/preview":
        return {"attempt_id": ids["attempt_id"], "part_id": "w1", "text": "0.5"}
    if url.endswith("/webhooks"):
        return {"url": "https://hooks.example.com/x", "events": ["submission.graded"]}
    if "/exercises" in url:
        return {"source": DELTA_RULE.read_text(encoding="utf-8"), "seed": 1}
    return {"part_id": "w1", "answer": "0.5"}


def _stored(db_session: Any, ids: dict[str, Any]) -> int:
    db_session.expire_all()
    return len(
        db_session.scalars(
            select(Submission.id).where(Submission.attempt_id == ids["attempt_id"])
        ).all()
    )
