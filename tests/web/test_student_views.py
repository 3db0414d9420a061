"""The student pages through the test client: what a student sees, and never sees."""

from __future__ import annotations

import json
import re

from markupsafe import escape
from sqlalchemy import func
from sqlalchemy import select

from grader.models import Attempt
from grader.models import Submission
from grader.models import utcnow
from grader.services import attempts
from grader.web import security
from tests.support.student_world import hours
from tests.support.student_world import make_world


def login_as(client, user):
    values = security.new_sign_in(client.application, user.id)
    with client.session_transaction() as s:
        s.update(values)


def csrf(html):
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def open_quiz(client, world):
    response = client.get(f"/quizzes/{world.quiz.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def my_attempt(db_session, world, user=None):
    return db_session.scalar(
        select(Attempt).where(
            Attempt.quiz_item_id == world.item.id, Attempt.user_id == (user or world.student).id
        )
    )


def secrets_of(attempt):
    """Strings a student must not receive before the quiz allows: keys, mistakes, solution."""
    public = json.dumps(attempt.variant["prompt_md"]) + json.dumps(
        [p["prompt_md"] for p in attempt.variant["parts"]]
    )
    found = []
    for part in attempt.variant["parts"]:
        found.append(part["key_text"])
        found += [m["feedback"] for m in part["mistakes"]]
        found += [str(m["value"]) for m in part["mistakes"]]
    found.append("Worked solution")
    found.append(attempt.variant["solution_md"][:40])
    # a value that is also printed in the prompt is not a secret; the page holds a
    # secret HTML-escaped ("weight's" as "weight&#39;s"), so look for that form too
    kept = [s for s in found if s and s not in public]
    return kept + [str(escape(s)) for s in kept if str(escape(s)) != s]


def answer(client, html, attempt, part, text, key=None):
    key = key or re.search(
        rf'/attempts/{attempt.id}/parts/{part}".*?name="idempotency_key" value="([^"]+)"',
        html,
        re.S,
    ).group(1)
    return client.post(
        f"/attempts/{attempt.id}/parts/{part}",
        data={"answer": text, "idempotency_key": key, "csrf_token": csrf(html)},
    )


def key_text(attempt, part):
    return next(p["key_text"] for p in attempt.variant["parts"] if p["id"] == part)


def test_signed_out_visitors_are_sent_to_sign_in(client, db_session):
    world = make_world(db_session)
    response = client.get(f"/quizzes/{world.quiz.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/auth/login?next=/quizzes/{world.quiz.id}"


def test_dashboard_lists_quizzes_with_dates_and_score(client, db_session):
    world = make_world(db_session, due_at=utcnow() + hours(48))
    login_as(client, world.student)
    html = client.get("/").get_data(as_text=True)
    assert world.course.title in html
    assert f'href="/quizzes/{world.quiz.id}"' in html
    assert "Not started (5 points)" in html
    assert "<time datetime=" in html
    assert "Instructor</a>" not in html  # no instructor link for a student


def test_quiz_page_shows_labelled_boxes_and_no_secrets(client, db_session):
    world = make_world(db_session, show_solutions="after_due", due_at=utcnow() + hours(2))
    login_as(client, world.student)
    html = open_quiz(client, world)
    attempt = my_attempt(db_session, world)
    for part in ("y", "w1", "w2"):
        assert f'<label for="answer-{attempt.id}-{part}">' in html
        assert f'id="preview-{attempt.id}-{part}" aria-live="polite"' in html
    assert html.count('name="idempotency_key"') == 3
    assert 'src="data:image/svg+xml;base64,' in html  # the diagram, as an image
    for secret in secrets_of(attempt):
        assert secret not in html, secret


def test_submitting_without_javascript_shows_score_and_diagnosis(client, db_session):
    world = make_world(db_session, penalty_per_retry=0.25)
    login_as(client, world.student)
    html = open_quiz(client, world)
    attempt = my_attempt(db_session, world)
    mistake = next(p for p in attempt.variant["parts"] if p["id"] == "w1")["mistakes"][0]
    response = answer(client, html, attempt, "w1", str(mistake["value"]))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/quizzes/{world.quiz.id}#part-{attempt.id}-w1"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    # escaped as the page escapes it: which mistake comes first depends on the variant,
    # whose seed depends on ids (PostgreSQL's sequences do not roll back between tests),
    # and some feedback has an apostrophe ("weight's" is "weight&#39;s" in the HTML)
    assert str(escape(mistake["feedback"])) in html
    assert "2 tries left" in html
    html = client.get(f"/quizzes/{world.quiz.id}").get_data(as_text=True)
    answer(client, html, attempt, "w1", key_text(attempt, "w1"))
    html = client.get(f"/quizzes/{world.quiz.id}").get_data(as_text=True)
    assert "Correct" in html
    assert "1.5 / 2 points" in html  # one retry: 25% off
    history = client.get(f"/quizzes/{world.quiz.id}/history").get_data(as_text=True)
    assert history.count("<tr>") == 3  # header + two answers
    assert "75%" in history


def test_a_resent_form_grades_once(client, db_session):
    world = make_world(db_session)
    login_as(client, world.student)
    html = open_quiz(client, world)
    attempt = my_attempt(db_session, world)
    no_token = client.post(f"/attempts/{attempt.id}/parts/y", data={"answer": "1"})
    assert no_token.status_code == 400  # CSRF is checked on answers too
    for _ in range(3):
        answer(client, html, attempt, "y", "0.123", key="same-key")
    count = db_session.scalar(
        select(func.count(Submission.id)).where(Submission.attempt_id == attempt.id)
    )
    assert count == 1


def test_no_tries_left_is_a_message_not_an_error_page(client, db_session):
    world = make_world(db_session, attempts_allowed=1)
    login_as(client, world.student)
    html = open_quiz(client, world)
    attempt = my_attempt(db_session, world)
    answer(client, html, attempt, "y", "0.123", key="a")
    response = answer(client, html, attempt, "y", "0.124", key="b")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No tries left for part y" in html
    assert f'action="/attempts/{attempt.id}/parts/y"' not in html


def test_solution_and_keys_appear_once_allowed(client, db_session):
    world = make_world(db_session, show_solutions="after_due", due_at=utcnow() - hours(1))
    login_as(client, world.student)
    html = open_quiz(client, world)
    attempt = my_attempt(db_session, world)
    assert "Worked solution" in html
    assert f"Answer: <code>{key_text(attempt, 'w1')}</code>" in html
    assert "does not accept answers now" in html
    assert "Submit answer" not in html


def test_classmates_never_reach_each_others_work(client, db_session):
    world = make_world(db_session)
    theirs = attempts.start_or_resume(db_session, world.other, world.item)
    login_as(client, world.other)
    html = open_quiz(client, world)
    answer(client, html, theirs, "y", "0.5")
    sub_id = db_session.scalar(select(Submission.id).where(Submission.attempt_id == theirs.id))

    login_as(client, world.student)
    html = open_quiz(client, world)
    assert client.get(f"/submissions/{sub_id}").status_code == 404
    assert answer(client, html, theirs, "y", "0.5", key="k").status_code == 404
    preview = client.post(
        "/api/preview",
        json={"attempt_id": theirs.id, "part_id": "y", "text": "1"},
        headers={"X-CSRFToken": csrf(html)},
    )
    assert preview.status_code == 404
    assert preview.mimetype == "application/problem+json"
    # staff of the course may look
    login_as(client, world.instructor)
    assert client.get(f"/submissions/{sub_id}").status_code == 200


def test_unpublished_quizzes_are_not_found_for_students(client, db_session):
    world = make_world(db_session, is_published=False)
    login_as(client, world.student)
    assert client.get(f"/quizzes/{world.quiz.id}").status_code == 404
    assert client.get(f"/quizzes/{world.quiz.id}/history").status_code == 404


def test_preview_endpoint_needs_csrf_and_reveals_no_key(client, db_session):
    world = make_world(db_session)
    login_as(client, world.student)
    html = open_quiz(client, world)
    attempt = my_attempt(db_session, world)
    body = {"attempt_id": attempt.id, "part_id": "w1", "text": key_text(attempt, "w1")}
    assert client.post("/api/preview", json=body).status_code == 400
    response = client.post("/api/preview", json=body, headers={"X-CSRFToken": csrf(html)})
    assert response.status_code == 200
    data = response.json
    assert set(data) == {"ok", "latex", "text", "variables", "message", "offset"}
    assert data["ok"] is True
    # "text" and "latex" echo what the student typed (the key itself here); a key or a
    # mistake's value may be a prefix of it, so look for secrets in everything else.
    rest = json.dumps({k: v for k, v in data.items() if k not in {"text", "latex"}})
    for secret in secrets_of(attempt):
        assert secret not in rest
    bad = client.post(
        "/api/preview", json=body | {"text": "1 +"}, headers={"X-CSRFToken": csrf(html)}
    ).json
    assert (bad["ok"], bad["offset"]) == (False, 2)
    letters = client.post(
        "/api/preview", json=body | {"text": "2*x"}, headers={"X-CSRFToken": csrf(html)}
    ).json
    assert letters["ok"] is False
    assert "not the name x" in letters["message"]


def test_students_reach_no_instructor_page(app, client, db_session):
    world = make_world(db_session)
    attempt = attempts.start_or_resume(db_session, world.student, world.item)
    ids = {
        "course_id": world.course.id,
        "quiz_id": world.quiz.id,
        "item_id": world.item.id,
        "exercise_id": world.exercise.id,
        "attempt_id": attempt.id,
        "user_id": world.student.id,
    }
    login_as(client, world.student)
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("instructor.") or "GET" not in rule.methods:
            continue
        if not set(rule.arguments) <= set(ids):
            continue
        path = rule.build({k: ids[k] for k in rule.arguments})[1]
        response = client.get(path)
        if rule.arguments:
            assert response.status_code in (403, 404), path
        else:  # a landing page may answer, but with nothing of the course in it
            assert response.status_code in (200, 302, 403, 404), path
            assert world.course.title not in response.get_data(as_text=True), path
        checked += 1
    # once the instructor blueprint is registered, its pages are checked here
    assert checked or "instructor.index" not in app.view_functions
