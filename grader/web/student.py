"""The student pages: my courses, a quiz, answering, history. Thin over the services.

Answering is a plain form POST per part (no JavaScript needed) that redirects back to
the quiz at that part's feedback (post/redirect/get), carrying a hidden idempotency key
made for each rendered form, so a double click or a resent form never grades twice.
"""

from __future__ import annotations

import base64
import html
import re
import secrets
from typing import Any

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from markupsafe import Markup

from grader.db import get_session
from grader.errors import BadRequest
from grader.errors import Conflict
from grader.services import attempts as attempt_service
from grader.services import courses as course_service
from grader.services import submissions as submission_service
from grader.web.forms import JoinForm
from grader.web.security import login_required
from grader.web.security import require_user

bp = Blueprint("student", __name__)

_SVG_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def new_idempotency_key() -> str:
    """A fresh key for one rendered answer form."""
    return secrets.token_urlsafe(18)


def svg_img(svg: str | None, fallback_alt: str) -> Markup:
    """An ``<img>`` showing our diagram from a ``data:`` URI.

    As an image, an SVG cannot run script or load anything, whatever text ended up in
    it; its ``<title>`` (escaped) becomes the alt text.
    """
    if not svg:
        return Markup("")
    match = _SVG_TITLE.search(svg)
    alt = html.unescape(match.group(1)).strip() if match else fallback_alt
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return Markup('<img class="diagram" src="data:image/svg+xml;base64,{}" alt="{}">').format(
        data, alt or fallback_alt
    )


@bp.app_template_global()
def answer_key() -> str:
    """Templates call this once per form."""
    return new_idempotency_key()


@bp.get("/")
@login_required
def dashboard() -> str:
    """My courses, their quizzes with dates and scores so far, and joining a course."""
    user = require_user()
    courses = course_service.dashboard(get_session(), user)
    return render_template("student/dashboard.html", courses=courses, form=JoinForm())


@bp.post("/courses/join")
@login_required
def join() -> Response:
    form = JoinForm()
    if form.validate_on_submit():
        try:
            course = course_service.join_by_code(
                get_session(), require_user(), form.join_code.data or ""
            )
        except BadRequest as exc:
            flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")
        else:
            flash(f"You are enrolled in {course.title}.", "success")
    else:
        flash("Enter the join code your instructor gave you.", "error")
    return redirect(url_for("student.dashboard"))  # type: ignore[return-value]


@bp.get("/quizzes/<int:quiz_id>")
@login_required
def quiz(quiz_id: int) -> str:
    """The quiz with this student's variants, an answer box per part, and feedback."""
    page = attempt_service.quiz_page(
        get_session(), require_user(), quiz_id, secret=current_app.config["SECRET_KEY"]
    )
    return render_template("student/quiz.html", page=page, svg_img=svg_img)


@bp.post("/attempts/<int:attempt_id>/parts/<part_id>")
@login_required
def answer(attempt_id: int, part_id: str) -> Response:
    """Store and grade one answer, then back to the quiz at that part."""
    session = get_session()
    user = require_user()
    attempt = attempt_service.get_attempt(session, user, attempt_id)
    values = request.form.getlist("answer")
    raw = ",".join(values) if len(values) > 1 else (values[0] if values else "")
    try:
        submission_service.submit(
            session,
            user=user,
            attempt=attempt,
            part_id=part_id,
            raw_answer=raw,
            idempotency_key=request.form.get("idempotency_key"),
        )
    except (Conflict, BadRequest) as exc:
        flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")
    quiz_id = attempt.quiz_item.quiz_id
    return redirect(  # type: ignore[return-value]
        url_for("student.quiz", quiz_id=quiz_id, _anchor=f"part-{attempt_id}-{part_id}")
    )


@bp.get("/quizzes/<int:quiz_id>/history")
@login_required
def history(quiz_id: int) -> str:
    """Every answer this student gave in the quiz, with its score."""
    quiz, rows = submission_service.quiz_history(get_session(), require_user(), quiz_id)
    return render_template("student/history.html", quiz=quiz, rows=rows)


@bp.get("/submissions/<int:submission_id>")
@login_required
def submission(submission_id: int) -> str:
    """One answer with its feedback (the student's own, or any in a course one teaches)."""
    sub = submission_service.get_submission(get_session(), require_user(), submission_id)
    attempt = sub.attempt
    parts: list[dict[str, Any]] = attempt.variant.get("parts", [])
    part: dict[str, Any] = next((p for p in parts if p["id"] == sub.part_id), {})
    return render_template(
        "student/submission.html",
        sub=sub,
        quiz=attempt.quiz_item.quiz,
        title=attempt.variant.get("title", ""),
        part_prompt=part.get("prompt_md", ""),
    )
