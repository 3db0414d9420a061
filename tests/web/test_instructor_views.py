"""The instructor pages through the test client: roles, CSRF, forms, JSON endpoints."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.models import Attempt
from grader.models import Enrolment
from grader.models import Job
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import User
from grader.web import security
from tests.services.test_gradebook import SOURCE
from tests.services.test_gradebook import Class
from tests.services.test_gradebook import attempt
from tests.services.test_gradebook import build_class


@pytest.fixture
def teach(app: Flask, db_session: Session) -> Class:
    app.config["INSTRUCTOR_JOBS"] = "inline"  # the test session cannot cross threads
    c = build_class(db_session, students=2, items=1, names=["Ann", "=HYPERLINK(1)"])
    attempt(db_session, c.items[0], c.students[0], {"y": 1.0, "w1": 0.25})
    db_session.commit()
    return c


def sign_in(client: FlaskClient, user: User) -> None:
    values = security.new_sign_in(client.application, user.id)
    with client.session_transaction() as s:
        s.update(values)


def token(client: FlaskClient) -> str:
    html = client.get("/teach/").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    return client.post(path, data={**(data or {}), "csrf_token": token(client)}, **kw)


def post_json(client: FlaskClient, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json=body, headers={"X-CSRFToken": token(client)})


def test_pages_render_for_staff_and_refuse_students(
    client: FlaskClient, teach: Class, db_session: Session
) -> None:
    c = teach
    the_attempt = db_session.scalar(select(Attempt))
    assert the_attempt is not None
    pages = [
        "/teach/",
        f"/teach/courses/{c.course.id}",
        f"/teach/courses/{c.course.id}/exercises",
        f"/teach/courses/{c.course.id}/exercises/new",
        f"/teach/courses/{c.course.id}/exercises/{c.exercise.id}",
        f"/teach/courses/{c.course.id}/exercises/{c.exercise.id}/analysis",
        f"/teach/courses/{c.course.id}/quizzes/new",
        f"/teach/courses/{c.course.id}/gradebook",
        f"/teach/quizzes/{c.quiz.id}",
        f"/teach/quizzes/{c.quiz.id}/gradebook",
        f"/teach/quizzes/{c.quiz.id}/analysis",
        f"/teach/attempts/{the_attempt.id}",
    ]
    assert client.get(pages[1]).status_code == 302  # signed out: to the sign-in page
    sign_in(client, c.prof)
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert "instructor.js" in html
        assert "<script>" not in html  # CSP: no inline script
    sign_in(client, c.students[0])
    for path in pages[1:]:
        assert client.get(path).status_code == 403, path
    assert client.get(f"/teach/quizzes/{c.quiz.id}/gradebook.csv").status_code == 403
    response = post_json(
        client, f"/teach/courses/{c.course.id}/exercises/preview", {"source": SOURCE, "seed": 7}
    )
    assert response.status_code == 403
    assert "answer" not in response.get_data(as_text=True).lower()


def test_every_post_needs_the_csrf_token(client: FlaskClient, teach: Class) -> None:
    sign_in(client, teach.prof)
    cid = teach.course.id
    bare = client.post(f"/teach/courses/{cid}/members", data={"email": "x@example.com"})
    assert bare.status_code == 400
    no_header = client.post(f"/teach/courses/{cid}/exercises/validate", json={"source": SOURCE})
    assert no_header.status_code == 400
    ok = post_json(client, f"/teach/courses/{cid}/exercises/validate", {"source": SOURCE})
    assert ok.status_code == 200


def test_roster_forms(client: FlaskClient, teach: Class, db_session: Session) -> None:
    c = teach
    sign_in(client, c.prof)
    cid = c.course.id
    response = post(
        client, f"/teach/courses/{cid}/members", {"email": "Ta@Example.com", "role": "ta"}
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Created an account for ta@example.com and added it as ta." in page
    bad = post(
        client,
        f"/teach/courses/{cid}/roster",
        {"roster": (io.BytesIO(b"email,name\nok@example.com,Ok\nnope,No\n"), "r.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "Nothing was imported" in html
    assert "Line 3: not an email address" in html
    good = post(
        client,
        f"/teach/courses/{cid}/roster",
        {"roster": (io.BytesIO(b"ok@example.com,Ok\nzed@example.com,Zed,ta\n"), "r.csv")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 303
    roles = dict(
        db_session.execute(
            select(User.email, Enrolment.role)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(Enrolment.course_id == cid)
        ).all()
    )
    assert roles["ok@example.com"] == "student"
    assert roles["zed@example.com"] == "ta"
    zed = db_session.scalar(select(Enrolment).join(User).where(User.email == "zed@example.com"))
    assert zed is not None
    zed_id = zed.id  # each request closes the shared session: look rows up again after it
    post(client, f"/teach/courses/{cid}/members/{zed_id}/role", {"role": "student"})
    assert db_session.get(Enrolment, zed_id).role == "student"  # type: ignore[union-attr]
    post(client, f"/teach/courses/{cid}/members/{zed_id}/remove")
    assert db_session.get(Enrolment, zed_id) is None


def test_editor_validates_previews_and_saves(client: FlaskClient, teach: Class) -> None:
    c = teach
    sign_in(client, c.prof)
    base = f"/teach/courses/{c.course.id}/exercises"
    broken = SOURCE.replace("    points: 2\n    hints", "    points: -2\n    hints")
    line = broken.splitlines().index("    points: -2") + 1
    result = post_json(client, f"{base}/validate", {"source": broken}).get_json()
    assert result["ok"] is False
    assert result["errors"][0]["line"] == line
    assert result["errors"][0]["field"] == "parts[1].points"

    preview = post_json(client, f"{base}/preview", {"source": SOURCE, "seed": 7}).get_json()
    assert preview["ok"] is True
    assert preview["seed"] == 7
    assert "Seed 7" in preview["html"]
    assert "Answer key" in preview["html"]
    assert "sign_flipped" in preview["html"]
    assert "Worked solution" in preview["html"]
    bad_seed = post_json(client, f"{base}/preview", {"source": SOURCE, "seed": "x"})
    assert bad_seed.status_code == 400

    # Without JavaScript: the form's buttons.
    page = post(
        client, f"{base}/{c.exercise.id}", {"source": broken, "seed": "7", "action": "preview"}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-line="{line}">Line {line}</a>' in html
    assert f'<span class="err">{line}</span>' in html
    refused = post(client, f"{base}/{c.exercise.id}", {"source": broken, "action": "save"})
    assert refused.status_code == 400
    fixed = SOURCE.replace("id: delta-rule-classic", f"id: {c.exercise.slug}").replace(
        "What is the output $y$?", "What does the neuron output?"
    )
    saved = post(
        client, f"{base}/{c.exercise.id}", {"source": fixed, "seed": "7", "action": "save"}
    )
    assert saved.status_code == 303
    html = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Saved as version 2" in html
    assert "What does the neuron output?" in html


def test_quiz_builder(client: FlaskClient, teach: Class, db_session: Session) -> None:
    c = teach
    sign_in(client, c.prof)
    created = post(
        client,
        f"/teach/courses/{c.course.id}/quizzes",
        {
            "title": "Week 2",
            "opens_at": "2026-03-02T09:00",
            "due_at": "2026-03-09T09:00",
            "tz": "Europe/Berlin",
            "attempts_allowed": "",
            "penalty_per_retry": "10",
            "late_mode": "penalty",
            "late_penalty": "50",
            "late_until": "2026-03-10T09:00",
            "show_solutions": "after_due",
        },
    )
    assert created.status_code == 303
    quiz = db_session.scalar(select(Quiz).where(Quiz.title == "Week 2"))
    assert quiz is not None
    assert quiz.due_at is not None
    assert quiz.due_at.isoformat() == "2026-03-09T08:00:00+00:00"
    assert quiz.attempts_allowed is None
    assert quiz.penalty_per_retry == pytest.approx(0.1)
    assert quiz.late_policy == {
        "mode": "penalty",
        "penalty": 0.5,
        "until": "2026-03-10T08:00:00+00:00",
    }
    quiz_id = quiz.id
    post(
        client,
        f"/teach/quizzes/{quiz_id}/items",
        {"exercise_id": str(c.exercise.id), "points": "4"},
    )
    item_id = db_session.scalar(select(QuizItem.id).where(QuizItem.quiz_id == quiz_id))
    post(
        client,
        f"/teach/quizzes/{quiz_id}/items/{item_id}",
        {"points": "4", "part_y": "1", "part_w1": "2", "part_w2": "2"},
    )
    item = db_session.get(QuizItem, item_id)
    assert item is not None
    assert (item.points, item.part_points) == (5.0, {"y": 1.0, "w1": 2.0, "w2": 2.0})
    post(client, f"/teach/quizzes/{quiz_id}/publish", {"published": "1"})
    assert db_session.get(Quiz, quiz_id).is_published  # type: ignore[union-attr]
    page = client.get(f"/teach/quizzes/{quiz_id}").get_data(as_text=True)
    assert 'value="2026-03-09T08:00"' in page  # UTC in the form; the script shows local time
    bad = post(
        client,
        f"/teach/quizzes/{quiz_id}/settings",
        {
            "title": "Week 2",
            "due_at": "2026-03-01T00:00",
            "opens_at": "2026-03-02T09:00",
            "tz": "UTC",
        },
    )
    assert bad.status_code == 400
    assert "due date must come after" in bad.get_data(as_text=True)


def test_gradebook_override_export_and_regrade(
    client: FlaskClient, teach: Class, db_session: Session
) -> None:
    c = teach
    sign_in(client, c.prof)
    html = client.get(f"/teach/quizzes/{c.quiz.id}/gradebook").get_data(as_text=True)
    assert "Ann" in html
    assert "1.5" in html  # y (1 point) + a quarter of w1 (2 points)
    the_attempt = db_session.scalar(select(Attempt))
    assert the_attempt is not None
    response = post(
        client,
        f"/teach/attempts/{the_attempt.id}/override",
        {"part_id": "w1", "points": "2", "reason": "the key was ambiguous"},
    )
    assert response.status_code == 303
    detail = client.get(f"/teach/attempts/{the_attempt.id}").get_data(as_text=True)
    assert "the key was ambiguous" in detail
    exported = client.get(f"/teach/quizzes/{c.quiz.id}/gradebook.csv")
    assert exported.mimetype == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.get_data().decode("utf-8-sig"))))
    assert rows[1][1] == "'=HYPERLINK(1)"
    assert rows[2][1:] == ["Ann", "3", "3", "0"]

    started = post(client, f"/teach/quizzes/{c.quiz.id}/regrade")
    assert started.status_code == 303
    job = db_session.scalar(select(Job).order_by(Job.id.desc()))
    assert job is not None
    assert job.status == "done"  # INSTRUCTOR_JOBS=inline in tests
    status = client.get(f"/teach/quizzes/{c.quiz.id}/regrades/{job.id}.json").get_json()
    assert status == {
        "id": job.id,
        "status": "done",
        "progress": 2,
        "total": 2,
        "error": None,
        "changed": status["changed"],
        "finished": True,
    }
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "Done: 2 answers judged again" in page
    sign_in(client, c.students[0])
    assert client.get(f"/teach/quizzes/{c.quiz.id}/regrades/{job.id}.json").status_code == 403
