"""A student cannot read another student's attempts or submissions through any API route.

The test walks every route of the blueprint (so a route added later is covered, or the
test fails asking how to fill its parameters), calls it as student Sam with the ids of
student Olive's objects, and checks that nothing of Olive's comes back.
"""

from __future__ import annotations

import re

from sqlalchemy import func
from sqlalchemy import select

from grader.models import Submission
from grader.services import attempts as attempt_service
from grader.services import submissions as submission_service
from grader.services import webhooks as webhook_service

MARKER = "424242.125"  # Olive's answer: must never appear in Sam's responses


def _olive_objects(db_session, world, app):
    attempt = attempt_service.start_or_resume(
        db_session, world.other, world.item, secret=app.config["SECRET_KEY"]
    )
    submission = submission_service.submit(
        db_session,
        user=world.other,
        attempt=attempt,
        part_id="w1",
        raw_answer=MARKER,
        idempotency_key="olive-1",
    )
    hook, _ = webhook_service.create_webhook(
        db_session,
        world.instructor,
        world.course.id,
        url="http://127.0.0.1:9/h",
        allow_private=True,
    )
    return attempt, submission, hook


def test_every_route_keeps_other_students_data_out(app, api, toks, world, db_session):
    attempt, submission, hook = _olive_objects(db_session, world, app)
    values = {
        "course_id": world.course.id,
        "exercise_id": world.exercise.id,
        "quiz_id": world.quiz.id,
        "item_id": world.item.id,
        "attempt_id": attempt.id,
        "submission_id": submission.id,
        "webhook_id": hook.id,
    }
    query = f"?user_id={world.other.id}&lms=canvas"
    before = db_session.scalar(select(func.count(Submission.id)))
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.endpoint == "api.openapi_document":
            continue
        names = re.findall(r"<(?:[^:<>]+:)?([a-z_]+)>", rule.rule)
        unknown = [n for n in names if n not in values]
        assert not unknown, f"teach this test how to fill {unknown} in {rule.rule}"
        path = rule.rule
        for name in names:
            path = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(values[name]), path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = api.as_(toks.student).open(method, path + query)
            checked += 1
            text = response.get_data(as_text=True)
            assert MARKER not in text, f"{method} {path} leaked Olive's answer"
            assert world.other.email not in text, f"{method} {path} leaked Olive's email"
            if "attempt_id" in names or "submission_id" in names:
                assert response.status_code == 404, (method, path, response.status_code)
            assert response.status_code < 500, (method, path, response.status_code)
    assert checked >= 20
    # the POSTs into Olive's attempt stored nothing
    assert db_session.scalar(select(func.count(Submission.id))) == before


def test_student_lists_only_their_own_attempts(api, toks, world, db_session, app):
    theirs, _, _ = _olive_objects(db_session, world, app)
    mine = api.as_(toks.student).post(f"/quizzes/{world.quiz.id}/items/{world.item.id}/attempt")
    listed = api.as_(toks.student).get(f"/courses/{world.course.id}/attempts").json["items"]
    assert [a["id"] for a in listed] == [mine.json["id"]]
    asked = api.as_(toks.student).get(
        f"/courses/{world.course.id}/attempts?user_id={world.other.id}"
    )
    assert asked.status_code == 404
    assert theirs.id not in [a["id"] for a in listed]


def test_student_grades_are_their_own_row_and_csv_is_staff_only(api, toks, world, db_session, app):
    _olive_objects(db_session, world, app)
    body = api.as_(toks.student).get(f"/courses/{world.course.id}/grades").json
    assert [r["user_id"] for r in body["rows"]] == [world.student.id]
    csv = api.as_(toks.student).get(f"/courses/{world.course.id}/grades.csv?lms=canvas")
    assert csv.status_code == 403
