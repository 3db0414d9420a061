"""The student pages: my courses, a quiz, answering, history. Thin over the services.

Answering is a plain form POST per part (no JavaScript needed) that redirects back to
the quiz at that part's feedback (post/redirect/get), carrying a hidden idempotency key
made for each rendered form, so a double click or a resent form never grades twice.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session as web_session
from flask import url_for
from flask_wtf.csrf import CSRFError
from itsdangerous import BadData
from itsdangerous import URLSafeTimedSerializer
from markupsafe import Markup

from grader.db import get_session
from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import NotFound
from grader.models import Quiz
from grader.models import utcnow
from grader.services import attempts as attempt_service
from grader.services import courses as course_service
from grader.services import grading
from grader.services import graph_answers
from grader.services import permissions
from grader.services import submissions as submission_service
from grader.web import display
from grader.web import security
from grader.web.errors import http_error_response
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


@bp.app_template_filter("when")
def when(value: dt.datetime | None) -> Markup:
    """A ``<time>`` in UTC that grader.js rewrites into the reader's own time zone."""
    if value is None:
        return Markup("")
    return Markup('<time datetime="{}" data-localize>{}</time>').format(
        display.iso_utc(value), display.utc_text(value)
    )


@bp.app_template_filter("percent")
def percent(value: float) -> str:
    return display.percent(value)


@bp.app_template_global()
def late_summary(quiz: Quiz) -> Markup:
    """What happens after the due date, in one line, before the student acts."""
    policy = grading.late_policy(quiz)
    end = grading.closes_at(quiz)
    if quiz.due_at is None:
        return Markup("")
    if policy.mode == "refuse":
        return Markup("No late answers.")
    lose = (
        Markup("lose {} of the credit").format(display.percent(policy.penalty))
        if policy.penalty
        else Markup("keep full credit")
    )
    if end is not None:
        return Markup("Late answers until {} {}.").format(when(end), lose)
    return Markup("Late answers {}.").format(lose)


@bp.app_template_global()
def part_points(parts: list[attempt_service.PartView]) -> dict[str, str]:
    """Each part's points as shown, adding up to the question's total."""
    return dict(
        zip([p.id for p in parts], display.shared_points([p.points for p in parts]), strict=True)
    )


@bp.app_template_global()
def is_late_now(quiz: Quiz) -> bool:
    return grading.is_late(quiz, utcnow())


@bp.app_template_global()
def late_penalty(quiz: Quiz) -> float:
    return grading.late_policy(quiz).penalty


bp.add_app_template_global(display.part_number, "part_number")
bp.add_app_template_global(display.readable_key, "readable_key")
bp.add_app_template_global(display.answer_example, "answer_example")


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
def quiz(quiz_id: int) -> Response | str:
    """The quiz with this student's variants, an answer box per part, and feedback."""
    session = get_session()
    user = require_user()
    try:
        page = attempt_service.quiz_page(
            session, user, quiz_id, secret=current_app.config["SECRET_KEY"]
        )
    except NotFound:
        scheduled = course_service.scheduled_quiz(session, user, quiz_id)
        if scheduled is None:
            raise
        # Published but not open yet: say when, rather than "not found".
        return render_template("student/opens_later.html", quiz=scheduled)
    staff = permissions.is_admin(user) or (
        permissions.course_role(session, user, page.quiz.course_id) in permissions.STAFF_ROLES
    )
    pending = _read_pending(page)
    response = Response(
        render_template(
            "student/quiz.html",
            page=page,
            svg_img=svg_img,
            staff_preview=staff,
            pending=pending,
            answer_view=answer_view(),
            verdict_text=graph_verdict_text,
            hint_text=graph_hint_text,
        ),
        mimetype="text/html",
    )
    if PENDING_COOKIE in request.cookies:
        response.delete_cookie(PENDING_COOKIE, path="/")
    return response


#: the student's choice of answer form for graph-shaped exercises, kept in the session
ANSWER_VIEWS = ("graph", "plain")


def answer_view() -> str:
    """``graph`` (boxes beside the diagram) or ``plain`` (one box per part).

    A choice in the query string (``?answer_view=plain``) is remembered for the session;
    without one, the page shows the graph form, except inside an LMS frame
    (``Sec-Fetch-Dest: iframe``), where the narrower plain form fits better.
    """
    chosen = request.args.get("answer_view")
    if chosen in ANSWER_VIEWS:
        web_session["answer_view"] = chosen
        return chosen
    remembered = web_session.get("answer_view")
    if remembered in ANSWER_VIEWS:
        return str(remembered)
    return "plain" if request.headers.get("Sec-Fetch-Dest") == "iframe" else "graph"


_VERDICT_WORDS = {
    "empty": "",
    "correct": "Correct",
    "consistent": "Right, given your earlier answer",
    "partial": "Partly right",
    "incorrect": "Incorrect",
    "pending": "Saved, being graded",
    "invalid": "Not understood – no try used",
    "undetermined": "Could not decide – no try used",
    "error": "Could not be graded – your instructor can see it",
}


def graph_verdict_text(field: graph_answers.FieldState) -> str:
    """The sentence under a box on the graph: the verdict, then what the feedback says
    (the earlier value a consistent answer follows, or the diagnosis)."""
    words = _VERDICT_WORDS.get(field.status, field.status)
    if not words:
        return ""
    why = " ".join(t for t in (field.message, field.diagnosis) if t)
    return f"{words}. {why}" if why and field.status != "correct" else f"{words}."


def graph_hint_text(field: graph_answers.FieldState) -> str:
    """The line under a box: what to type, and the points it has earned."""
    earned, points = display.format_points(field.earned), display.format_points(field.points)
    return f"{field.input_hint} · {earned} / {points} points"


def _graph_json(state: graph_answers.GraphState, refused: list[dict[str, str]]) -> Response:
    data = state.to_json()
    for node, node_state in zip(data["nodes"], state.nodes, strict=True):
        for field, field_state in zip(node["fields"], node_state.fields, strict=True):
            field["verdict_text"] = graph_verdict_text(field_state)
            field["hint_text"] = graph_hint_text(field_state)
    return jsonify({"graph": data, "refused": refused})


def _json_error(message: str, status: int) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


@bp.post("/attempts/<int:attempt_id>/graph")
@login_required
def answer_graph(attempt_id: int) -> Response:
    """Send the changed boxes of a graph form (the ordinary submit path, part by part).

    A form post redirects back to the graph (post/redirect/get); the page's script asks
    for JSON and gets every node's verdict and the first wrong node instead.
    """
    session = get_session()
    user = require_user()
    wants_json = request.accept_mimetypes.best == "application/json"
    answers = {
        name.removeprefix("answer-"): value
        for name, value in request.form.items()
        if name.startswith("answer-")
    }
    try:
        attempt = attempt_service.get_attempt(session, user, attempt_id)
    except NotFound:
        if wants_json:
            return _json_error("This question is no longer available to you.", 404)
        return _not_sent(
            "\n".join(answers.values()), "This question is no longer available to you.", None, 404
        )
    result = graph_answers.submit_graph(
        session,
        user=user,
        attempt=attempt,
        answers=answers,
        idempotency_key=request.form.get("idempotency_key"),
    )
    refused = [{"part": part, "message": message} for part, message in result.refused]
    if wants_json:
        state = graph_answers.attempt_graph(session, attempt)
        if state is None:
            return _json_error("This question has no graph to answer on.", 404)
        return _graph_json(state, refused)
    for item in refused:
        flash(f"Part {item['part']}: {item['message']}.", "error")
    return redirect(  # type: ignore[return-value]
        url_for("student.quiz", quiz_id=attempt.quiz_item.quiz_id, _anchor=f"graph-{attempt_id}")
    )


#: an unsent answer carried through the sign-in round trip (also without JavaScript)
PENDING_COOKIE = "grader_unsent"
PENDING_MAX_CHARS = 2000  # a cookie holds about 4 KB
PENDING_MAX_AGE = 3600
PENDING_MAX_COOKIE = 3800  # characters of the signed value that browsers still keep


def _pending_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="grader.unsent-answer")


def _read_pending(page: attempt_service.QuizPage) -> dict[str, str]:
    """``{"<attempt id>-<part id>": text}`` of an unsent answer to one of this page's
    parts (the signature and the page's own attempts keep anyone else's text out)."""
    raw = request.cookies.get(PENDING_COOKIE)
    if not raw:
        return {}
    try:
        data = _pending_signer().loads(raw, max_age=PENDING_MAX_AGE)
    except BadData:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("t"), str):
        return {}
    mine = {f"{item.attempt_id}-{part.id}" for item in page.items for part in item.parts}
    key = f"{data.get('a')}-{data.get('p')}"
    return {key: data["t"]} if key in mine else {}


@bp.post("/attempts/<int:attempt_id>/parts/<part_id>")
@login_required
def answer(attempt_id: int, part_id: str) -> Response:
    """Store and grade one answer, then back to the quiz at that part."""
    session = get_session()
    user = require_user()
    raw = _typed_answer()
    try:
        attempt = attempt_service.get_attempt(session, user, attempt_id)
    except NotFound:
        return _not_sent(raw, "This question is no longer available to you.", None, 404)
    quiz_id = attempt.quiz_item.quiz_id
    try:
        submission_service.submit(
            session,
            user=user,
            attempt=attempt,
            part_id=part_id,
            raw_answer=raw,
            idempotency_key=request.form.get("idempotency_key"),
        )
    except Conflict as exc:
        quiz = attempt.quiz_item.quiz
        if not grading.accepts_answers(quiz, utcnow()):
            # Closed or withdrawn meanwhile: say so, and give back what was typed.
            reason = (
                "Your instructor withdrew this quiz."
                if not quiz.is_published
                else "This quiz closed before your answer arrived."
            )
            return _not_sent(raw, reason, quiz if quiz.is_published else None, 409)
        flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")
    except BadRequest as exc:
        flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")
    return redirect(  # type: ignore[return-value]
        url_for("student.quiz", quiz_id=quiz_id, _anchor=f"part-{attempt_id}-{part_id}")
    )


def _typed_answer() -> str:
    values = request.form.getlist("answer")
    return ",".join(values) if len(values) > 1 else (values[0] if values else "")


def _not_sent(raw: str, reason: str, quiz: Quiz | None, status: int) -> Response:
    """A page saying the answer was not recorded, with the typed text to copy."""
    body = render_template("student/not_sent.html", raw=raw, reason=reason, quiz=quiz)
    return Response(body, status=status, mimetype="text/html")


@bp.errorhandler(CSRFError)
def _csrf_failed(exc: CSRFError) -> Response:
    """An answer form whose sign-in ended (in another tab, or it expired).

    The text the student typed comes back in its box after they sign in again and return
    to the part: from a short-lived signed cookie set here (works without JavaScript, up
    to ``PENDING_MAX_CHARS``), and from grader.js's copy in the tab's sessionStorage.
    """
    if not request.path.startswith("/attempts/"):  # joining a course and the like
        return http_error_response(exc)
    graph = request.path.endswith("/graph")  # the graph form: all of an exercise's boxes
    if graph and request.accept_mimetypes.best == "application/json":  # its script
        return _json_error(
            "This page is out of date (its security token, CSRF, expired), so nothing was "
            "sent: reload the page, then send your answers again.",
            400,
        )
    back = request.form.get("quiz_id", "")
    part = request.path.rsplit("/", 1)[-1]
    attempt = request.path.split("/")[2]
    target = None
    if back.isdigit():
        anchor = f"graph-{attempt}" if graph else f"part-{attempt}-{part}"
        target = url_for("student.quiz", quiz_id=int(back), _anchor=anchor)
    if security.current_user() is None:
        flash(
            "Your sign-in ended, so your answer was not sent. Sign in, then send it again: "
            "the text you typed is back in its box.",
            "error",
        )
        response = redirect(url_for("auth.login", next=target) if target else url_for("auth.login"))
    elif target:
        flash(
            "This page was out of date, so your answer was not sent. Your text is back in "
            "its box: send it again.",
            "error",
        )
        response = redirect(target)
    else:
        return _not_sent(
            _typed_answer(), "This form was out of date, so nothing was sent.", None, 400
        )
    text = "" if graph else _typed_answer()  # one box's text; the graph form has many
    if target and attempt.isdigit() and text and len(text) <= PENDING_MAX_CHARS:
        value = _pending_signer().dumps({"a": int(attempt), "p": part, "t": text})
    else:
        value = ""
    # A form posted from another site fails CSRF too: it must not plant text in a
    # student's answer box. A browser drops a cookie over ~4 KB (escaped non-ASCII text).
    if value and len(value) <= PENDING_MAX_COOKIE and _posted_from_this_site():
        response.set_cookie(
            PENDING_COOKIE,
            value,
            max_age=PENDING_MAX_AGE,
            path="/",
            httponly=True,
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            samesite="Lax",
        )
    return response  # type: ignore[return-value]


def _posted_from_this_site() -> bool:
    """Whether the request came from one of this site's own pages (Sec-Fetch-Site, or
    Origin / Referer where a browser sends no Sec-Fetch-Site); unknown counts as no."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    netloc = urlsplit(source).netloc
    public = urlsplit(str(current_app.config.get("PUBLIC_URL") or "")).netloc
    return bool(netloc) and netloc in (request.host, public)


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
