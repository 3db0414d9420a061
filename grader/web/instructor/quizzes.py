"""The quiz builder: settings (dates in the browser's zone), items and points, publishing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response
from flask import flash
from flask import render_template
from flask import request

from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import NotFound
from grader.models import Quiz
from grader.services import course_linking
from grader.services import enrolments
from grader.services import quizzes as quiz_service
from grader.services.quizzes import LATE_MODES
from grader.services.quizzes import SHOW_SOLUTIONS
from grader.services.quizzes import QuizSettings
from grader.services.quizzes import parse_local_datetime
from grader.web.instructor._common import actor
from grader.web.instructor._common import back
from grader.web.instructor._common import db
from grader.web.instructor._common import fail
from grader.web.instructor._common import form_float
from grader.web.instructor._common import form_int
from grader.web.instructor.blueprint import bp
from grader.web.security import login_required


def utc_input(value: dt.datetime | None) -> str:
    """A stored time as a ``datetime-local`` value in UTC (the script shows local time)."""
    return "" if value is None else value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")


def _percent(name: str) -> float:
    return form_float(name, 0.0) / 100.0


def settings_from_form() -> QuizSettings:
    """Parse the settings form; the service checks the values."""
    form = request.form
    zone = form.get("tz", "UTC")
    attempts = form.get("attempts_allowed", "").strip()
    try:
        attempts_allowed = int(attempts) if attempts else None
    except ValueError:
        raise BadRequest(
            "attempts allowed must be a whole number, or empty for unlimited"
        ) from None
    return QuizSettings(
        title=form.get("title", ""),
        description=form.get("description", ""),
        opens_at=parse_local_datetime(form.get("opens_at"), zone),
        due_at=parse_local_datetime(form.get("due_at"), zone),
        attempts_allowed=attempts_allowed,
        penalty_per_retry=_percent("penalty_per_retry"),
        late_mode=form.get("late_mode", "refuse"),
        late_penalty=_percent("late_penalty"),
        late_until=parse_local_datetime(form.get("late_until"), zone),
        show_solutions=form.get("show_solutions", "after_due"),
        # an older form without the field keeps the default: full credit
        follow_through_credit=form_float("follow_through_credit", 100.0) / 100.0,
    )


def _settings_context(settings: QuizSettings | None, raw: Any = None) -> dict[str, Any]:
    """Values for the settings form: from the stored settings, or the form just posted."""
    if raw is not None:
        # Re-show what was posted; times go back to UTC (the script converts them again).
        values = {k: raw.get(k, "") for k in raw}
        for name in ("opens_at", "due_at", "late_until"):
            try:
                values[name] = utc_input(parse_local_datetime(raw.get(name), raw.get("tz")))
            except BadRequest:
                values[name] = ""
        values["tz"] = "UTC"
    else:
        s = settings or QuizSettings(title="")
        values = {
            "title": s.title,
            "description": s.description,
            "opens_at": utc_input(s.opens_at),
            "due_at": utc_input(s.due_at),
            "late_until": utc_input(s.late_until),
            "tz": "UTC",
            "attempts_allowed": "" if s.attempts_allowed is None else str(s.attempts_allowed),
            "penalty_per_retry": f"{s.penalty_per_retry * 100:g}",
            "late_mode": s.late_mode,
            "late_penalty": f"{s.late_penalty * 100:g}",
            "show_solutions": s.show_solutions,
            "follow_through_credit": f"{s.follow_through_credit * 100:g}",
        }
    return {"values": values, "late_modes": LATE_MODES, "show_solutions": SHOW_SOLUTIONS}


@bp.get("/courses/<int:course_id>/quizzes/new")
@login_required
def new_quiz(course_id: int) -> str:
    session = db()
    enrolments.require_staff(session, actor(), course_id, manage=True)
    return render_template(
        "instructor/quiz_new.html",
        course=enrolments.get_course(session, course_id),
        **_settings_context(QuizSettings(title="")),
    )


@bp.post("/courses/<int:course_id>/quizzes")
@login_required
def create_quiz(course_id: int) -> Response | tuple[str, int]:
    session = db()
    try:
        quiz = quiz_service.create_quiz(session, actor(), course_id, settings_from_form())
    except BadRequest as exc:
        fail(exc.message)
        html = render_template(
            "instructor/quiz_new.html",
            course=enrolments.get_course(session, course_id),
            **_settings_context(None, request.form),
        )
        return html, 400
    flash("Quiz created. Add exercises, then publish it.", "success")
    return back("instructor.quiz", "items", quiz_id=quiz.id)


def _builder(quiz: Quiz, status: int = 200, raw: Any = None) -> tuple[str, int]:
    session, user = db(), actor()
    parts = {}
    for item in quiz.items:
        try:
            parts[item.id] = quiz_service.exercise_parts(session, item.exercise)
        except (Conflict, NotFound):
            parts[item.id] = []
    html = render_template(
        "instructor/quiz.html",
        quiz=quiz,
        course=quiz.course,
        manager=enrolments.can_manage(session, user, quiz.course_id),
        exercises=quiz_service.available_exercises(session, user, quiz.course_id),
        parts=parts,
        copy_targets=course_linking.manageable_courses(session, user),
        **_settings_context(QuizSettings.of(quiz), raw),
    )
    return html, status


@bp.get("/quizzes/<int:quiz_id>")
@login_required
def quiz(quiz_id: int) -> tuple[str, int]:
    """The builder: settings, items with their points, publishing, links to the results."""
    return _builder(quiz_service.get_quiz(db(), actor(), quiz_id))


@bp.post("/quizzes/<int:quiz_id>/copy")
@login_required
def copy_quiz(quiz_id: int) -> Response:
    """Copy the quiz (settings and items, unpublished) into a course the actor teaches."""
    try:
        copy = course_linking.copy_quiz(db(), actor(), quiz_id, form_int("course_id"))
    except (BadRequest, Conflict, NotFound) as exc:
        fail(exc.message)
        return back("instructor.quiz", "copy", quiz_id=quiz_id)
    flash(f"Copied into {copy.course.code} as a draft: check its dates, then publish.", "success")
    return back("instructor.quiz", quiz_id=copy.id)


@bp.post("/quizzes/<int:quiz_id>/settings")
@login_required
def quiz_settings(quiz_id: int) -> Response | tuple[str, int]:
    session, user = db(), actor()
    try:
        quiz_service.update_quiz(session, user, quiz_id, settings_from_form())
    except BadRequest as exc:
        fail(exc.message)
        return _builder(quiz_service.get_quiz(session, user, quiz_id), 400, request.form)
    flash("Settings saved.", "success")
    return back("instructor.quiz", "settings", quiz_id=quiz_id)


def _part_points(prefix: str = "part_") -> dict[str, float] | None:
    given = {
        key[len(prefix) :]: value.strip()
        for key, value in request.form.items()
        if key.startswith(prefix) and value.strip()
    }
    if not given:
        return None
    try:
        return {pid: float(v.replace(",", ".")) for pid, v in given.items()}
    except ValueError:
        raise BadRequest("part points must be numbers") from None


@bp.post("/quizzes/<int:quiz_id>/items")
@login_required
def add_item(quiz_id: int) -> Response:
    try:
        exercise_id = int(request.form.get("exercise_id", ""))
        quiz_service.add_item(db(), actor(), quiz_id, exercise_id, points=form_float("points", 1.0))
    except ValueError:
        fail("choose an exercise to add")
    except (BadRequest, Conflict, NotFound) as exc:
        fail(exc.message)
    else:
        flash("Exercise added.", "success")
    return back("instructor.quiz", "items", quiz_id=quiz_id)


@bp.post("/quizzes/<int:quiz_id>/items/<int:item_id>")
@login_required
def update_item(quiz_id: int, item_id: int) -> Response:
    try:
        quiz_service.update_item(
            db(),
            actor(),
            quiz_id,
            item_id,
            points=form_float("points", 1.0),
            part_points=_part_points(),
        )
    except (BadRequest, Conflict, NotFound) as exc:
        fail(exc.message)
    else:
        flash("Points saved.", "success")
    return back("instructor.quiz", f"item-{item_id}", quiz_id=quiz_id)


@bp.post("/quizzes/<int:quiz_id>/items/<int:item_id>/remove")
@login_required
def remove_item(quiz_id: int, item_id: int) -> Response:
    try:
        quiz_service.remove_item(db(), actor(), quiz_id, item_id)
    except (Conflict, NotFound) as exc:
        fail(exc.message)
    else:
        flash("Exercise removed from the quiz.", "success")
    return back("instructor.quiz", "items", quiz_id=quiz_id)


@bp.post("/quizzes/<int:quiz_id>/items/<int:item_id>/move")
@login_required
def move_item(quiz_id: int, item_id: int) -> Response:
    offset = -1 if request.form.get("direction") == "up" else 1
    quiz_service.move_item(db(), actor(), quiz_id, item_id, offset)
    return back("instructor.quiz", f"item-{item_id}", quiz_id=quiz_id)


@bp.post("/quizzes/<int:quiz_id>/publish")
@login_required
def publish(quiz_id: int) -> Response:
    published = request.form.get("published") == "1"
    try:
        quiz_service.set_published(db(), actor(), quiz_id, published)
    except Conflict as exc:
        fail(exc.message)
    else:
        flash("Published: students can see it now." if published else "Withdrawn.", "success")
    return back("instructor.quiz", quiz_id=quiz_id)
