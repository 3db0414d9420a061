"""Resources: courses, exercises (YAML in, line/field errors out), quizzes, attempts and
submissions graded exactly as the browser grades them."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlalchemy import select

from grader.models import Exercise
from grader.models import Submission
from grader.services import attempts as attempt_service
from grader.services import submissions as submission_service
from tests.support.student_world import DELTA_RULE


def keys_in(value):
    """Every dict key anywhere in a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from keys_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from keys_in(v)


def start(api, token, world):
    response = api.as_(token).post(f"/quizzes/{world.quiz.id}/items/{world.item.id}/attempt")
    assert response.status_code in (200, 201), response.json
    return response


def test_courses_list_and_read_with_role(api, toks, world):
    body = api.as_(toks.student).get("/courses").json
    assert body["items"] == [
        {"id": world.course.id, "code": "API101", "title": "Backprop 101", "role": "student"}
    ]
    assert body["next_cursor"] is None
    assert api.as_(toks.instructor).get(f"/courses/{world.course.id}").json["role"] == "instructor"


def test_a_course_you_are_not_in_is_403_and_a_missing_one_404(api, toks, db_session):
    from grader.models import Course

    stranger = Course(code="XX1", title="Not yours")
    db_session.add(stranger)
    db_session.commit()
    assert api.as_(toks.student).get(f"/courses/{stranger.id}").status_code == 403
    assert api.as_(toks.student).get("/courses/2147483647").status_code == 404
    assert api.as_(toks.student).get("/courses/2147483648").status_code == 404
    assert api.as_(toks.student).get("/courses/0").status_code == 404


# --------------------------------------------------------------------------- exercises

GOOD = DELTA_RULE.read_text(encoding="utf-8").replace(
    "id: delta-rule-classic", "id: api-delta-copy", 1
)


def test_exercises_list_and_read(api, toks, world):
    listed = api.as_(toks.instructor).get(f"/courses/{world.course.id}/exercises").json
    slugs = [e["slug"] for e in listed["items"]]
    assert "delta-rule-classic" in slugs
    one = (
        api.as_(toks.instructor)
        .get(f"/courses/{world.course.id}/exercises/{world.exercise.id}")
        .json
    )
    assert one["slug"] == "delta-rule-classic"
    assert one["source_yaml"].startswith("id:") or "id: delta-rule-classic" in one["source_yaml"]
    assert one["editable"] is False  # the built-in library is read-only for instructors


def test_students_cannot_list_or_read_exercises(api, toks, world):
    """Exercise texts hold the answer formulas: course staff only."""
    assert api.as_(toks.student).get(f"/courses/{world.course.id}/exercises").status_code == 403
    path = f"/courses/{world.course.id}/exercises/{world.exercise.id}"
    assert api.as_(toks.student).get(path).status_code == 403


def test_validate_reports_every_problem_with_line_and_field(api, toks, world):
    broken = GOOD.replace("family: delta_rule", "family: no_such_family")
    response = api.as_(toks.instructor).post(
        f"/courses/{world.course.id}/exercises/validate",
        data=broken,
        content_type="application/yaml",
    )
    assert response.status_code == 200
    body = response.json
    assert body["valid"] is False
    problem = body["errors"][0]
    assert problem["field"] == "family"
    assert problem["line"] == broken.splitlines().index("family: no_such_family") + 1
    ok = api.as_(toks.instructor).post(
        f"/courses/{world.course.id}/exercises/validate", json={"source": GOOD}
    )
    assert ok.json == {"valid": True, "errors": []}


def test_yaml_syntax_errors_have_a_line(api, toks, world):
    response = api.as_(toks.instructor).post(
        f"/courses/{world.course.id}/exercises/validate",
        data="id: x\ntitle: [unclosed\n",
        content_type="text/plain",
    )
    body = response.json
    assert body["valid"] is False
    assert body["errors"][0]["line"] in (2, 3)


def test_create_then_update_an_exercise(api, toks, world, db_session):
    created = api.as_(toks.instructor).post(
        f"/courses/{world.course.id}/exercises", data=GOOD, content_type="application/yaml"
    )
    assert created.status_code == 201, created.json
    body = created.json
    assert body["slug"] == "api-delta-copy"
    assert body["course_id"] == world.course.id
    assert body["version"] == 1
    assert created.headers["Location"].endswith(f"/exercises/{body['id']}")
    # same id again: 409
    again = api.as_(toks.instructor).post(
        f"/courses/{world.course.id}/exercises", data=GOOD, content_type="application/yaml"
    )
    assert again.status_code == 409
    # a new version
    edited = GOOD.replace("title:", "title: Edited -", 1)
    updated = api.as_(toks.instructor).put(
        f"/courses/{world.course.id}/exercises/{body['id']}",
        json={"source": edited},
    )
    assert updated.status_code == 200, updated.json
    assert updated.json["version"] == 2
    assert updated.json["written"] is True
    unchanged = api.as_(toks.instructor).put(
        f"/courses/{world.course.id}/exercises/{body['id']}", json={"source": edited}
    )
    assert unchanged.json["written"] is False
    assert (
        db_session.scalar(select(func.count(Exercise.id)).where(Exercise.slug == "api-delta-copy"))
        == 1
    )


def test_saving_invalid_yaml_is_a_400_listing_the_problems(api, toks, world):
    broken = GOOD.replace("family: delta_rule", "family: 12")
    response = api.as_(toks.instructor).post(
        f"/courses/{world.course.id}/exercises", data=broken, content_type="application/yaml"
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"][0]["field"] == "family"
    assert isinstance(response.json["errors"][0]["line"], int)


def test_students_cannot_create_exercises(api, toks, world):
    response = api.as_(toks.student).post(
        f"/courses/{world.course.id}/exercises", data=GOOD, content_type="application/yaml"
    )
    assert response.status_code == 403


# --------------------------------------------------------------------------- quizzes


def test_quizzes_list_and_read(api, toks, world, db_session):
    from tests.support.student_world import make_quiz

    make_quiz(db_session, world.course, [world.exercise], title="Draft", is_published=False)
    db_session.commit()
    student = api.as_(toks.student).get(f"/courses/{world.course.id}/quizzes").json["items"]
    staff = api.as_(toks.instructor).get(f"/courses/{world.course.id}/quizzes").json["items"]
    assert [q["title"] for q in student] == ["Quiz 1"]
    assert sorted(q["title"] for q in staff) == ["Draft", "Quiz 1"]
    quiz = api.as_(toks.student).get(f"/quizzes/{world.quiz.id}").json
    assert quiz["items"][0]["exercise"]["slug"] == "delta-rule-classic"
    draft = next(q for q in staff if q["title"] == "Draft")
    assert api.as_(toks.student).get(f"/quizzes/{draft['id']}").status_code == 404


# --------------------------------------------------------------------------- attempts & submissions


def test_attempt_is_the_browsers_variant_without_the_key(api, toks, world, db_session, app):
    first = start(api, toks.student, world)
    assert first.status_code == 201
    again = start(api, toks.student, world)
    assert again.status_code == 200
    assert again.json["id"] == first.json["id"]
    # the browser's path derives the same attempt (seed from the server secret)
    attempt = attempt_service.start_or_resume(
        db_session, world.student, world.item, secret=app.config["SECRET_KEY"]
    )
    assert attempt.id == first.json["id"]
    variant = first.json["variant"]
    assert variant["seed"] == attempt.seed
    leaked = {"key", "key_text", "mistakes", "solution_md", "solution_diagram_svg", "params"}
    assert not leaked & set(keys_in(first.json))
    assert [p["part_id"] for p in first.json["progress"]["parts"]] == [
        p["id"] for p in attempt.variant["parts"]
    ]


def _submit(api, token, attempt_id, part, answer, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return api.as_(token).post(
        f"/attempts/{attempt_id}/submissions",
        json={"part_id": part, "answer": answer},
        headers=headers,
    )


@pytest.mark.parametrize("kind", ["right", "mistake", "wrong", "invalid"])
def test_submission_gets_the_same_verdict_score_and_feedback_as_the_browser(
    api, toks, world, db_session, app, kind
):
    attempt_json = start(api, toks.student, world).json
    attempt = attempt_service.get_attempt(db_session, world.student, attempt_json["id"])
    part = next(p for p in attempt.variant["parts"] if p["id"] == "w1")
    answer = {
        "right": part["key_text"],
        "mistake": str(part["mistakes"][0]["value"]) if part["mistakes"] else "12345",
        "wrong": "12345",
        "invalid": "0.3.4 +",
    }[kind]
    response = _submit(api, toks.student, attempt.id, "w1", answer, key=f"api-{kind}")
    assert response.status_code == 201, response.json
    body = response.json
    # the browser path, for the other student with an identical answer on their variant,
    # is not comparable; compare with the stored row the browser would render instead
    row = db_session.get(Submission, body["id"])
    assert (body["status"], body["verdict"], body["score"]) == (row.status, row.verdict, row.score)
    assert body["feedback"] == row.feedback
    # and with submit() itself on a twin attempt: same verdict and score for the same answer
    twin = submission_service.submit(
        db_session,
        user=world.student,
        attempt=attempt,
        part_id="w1",
        raw_answer=answer,
        idempotency_key=f"twin-{kind}",
    )
    assert (twin.verdict, twin.raw_score, twin.feedback["message"]) == (
        body["verdict"],
        body["raw_score"],
        body["feedback"]["message"],
    )
    if kind == "right":
        assert (body["verdict"], body["score"]) == ("correct", 1.0)
    if kind == "invalid":
        assert (body["status"], body["counts_as_try"]) == ("invalid", False)


def test_idempotency_key_replays_and_refuses_reuse(api, toks, world, db_session):
    attempt_id = start(api, toks.student, world).json["id"]
    first = _submit(api, toks.student, attempt_id, "w1", "1.5", key="k-1")
    assert first.status_code == 201
    replay = _submit(api, toks.student, attempt_id, "w1", "1.5", key="k-1")
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json == first.json
    reuse = _submit(api, toks.student, attempt_id, "w1", "2.5", key="k-1")
    assert reuse.status_code == 409
    count = db_session.scalar(
        select(func.count(Submission.id)).where(Submission.attempt_id == attempt_id)
    )
    assert count == 1
    for bad in ("", " ", "x" * 65, "caf\u00e9"):
        response = api.as_(toks.student).post(
            f"/attempts/{attempt_id}/submissions",
            json={"part_id": "w1", "answer": "1"},
            headers={"Idempotency-Key": bad},
        )
        assert response.status_code == 400, bad


def test_no_tries_left_and_unknown_part(api, toks, world, db_session):
    world.quiz.attempts_allowed = 1
    db_session.commit()
    attempt_id = start(api, toks.student, world).json["id"]
    assert _submit(api, toks.student, attempt_id, "w1", "12345").status_code == 201
    again = _submit(api, toks.student, attempt_id, "w1", "12346")
    assert again.status_code == 409
    assert "no tries left" in again.json["detail"]
    assert _submit(api, toks.student, attempt_id, "nope", "1").status_code == 404


def test_staff_may_read_but_not_answer_a_students_attempt(api, toks, world):
    attempt_id = start(api, toks.student, world).json["id"]
    sub = _submit(api, toks.student, attempt_id, "w1", "12345").json
    assert api.as_(toks.instructor).get(f"/attempts/{attempt_id}").status_code == 200
    assert api.as_(toks.instructor).get(f"/submissions/{sub['id']}").json["id"] == sub["id"]
    listed = (
        api.as_(toks.instructor)
        .get(f"/courses/{world.course.id}/attempts?user_id={world.student.id}")
        .json["items"]
    )
    assert [a["id"] for a in listed] == [attempt_id]
    assert _submit(api, toks.instructor, attempt_id, "w1", "1").status_code == 403


def test_attempt_and_submission_lists_paginate(api, toks, world):
    attempt_id = start(api, toks.student, world).json["id"]
    ids = [
        _submit(api, toks.student, attempt_id, "y", f"1.{i}", key=f"p{i}").json["id"]
        for i in range(3)
    ]
    page = api.as_(toks.student).get(f"/attempts/{attempt_id}/submissions?limit=2")
    assert [s["id"] for s in page.json["items"]] == ids[:2]
    assert 'rel="next"' in page.headers["Link"]
    cursor = page.json["next_cursor"]
    rest = api.as_(toks.student).get(f"/attempts/{attempt_id}/submissions?limit=2&cursor={cursor}")
    assert [s["id"] for s in rest.json["items"]] == ids[2:]
    assert rest.json["next_cursor"] is None
    assert "Link" not in rest.headers
    # the Link header is a usable URL
    link = page.headers["Link"].split(";")[0].strip("<>")
    assert "cursor=" in link
    assert "limit=2" in link
