"""The gradebook (quiz and course), a submission's detail with overrides, CSV export,
regrades with progress, and item analysis."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import flash
from flask import jsonify
from flask import render_template
from flask import request
from flask import url_for

from grader.errors import BadRequest
from grader.errors import NotFound
from grader.models import Job
from grader.services import analysis
from grader.services import enrolments
from grader.services import gradebook
from grader.services import regrade
from grader.services.quizzes import get_quiz
from grader.web.instructor import worker
from grader.web.instructor._common import actor
from grader.web.instructor._common import back
from grader.web.instructor._common import db
from grader.web.instructor._common import fail
from grader.web.instructor._common import form_float
from grader.web.instructor.analysis_charts import first_wrong_chart
from grader.web.instructor.analysis_charts import outcome_chart
from grader.web.instructor.analysis_charts import part_charts
from grader.web.instructor.blueprint import bp
from grader.web.security import login_required
from grader.web.student import svg_img


def job_json(job: Job) -> dict[str, Any]:
    """What the progress poller needs."""
    return {
        "id": job.id,
        "status": job.status,
        "progress": job.progress,
        "total": job.total,
        "error": job.error,
        "changed": job.payload.get("changed"),
        "finished": job.status in ("done", "failed"),
    }


@bp.get("/quizzes/<int:quiz_id>/gradebook")
@login_required
def quiz_gradebook(quiz_id: int) -> str:
    """Students x items with scores, links to each attempt, export and regrade."""
    session, user = db(), actor()
    book = gradebook.quiz_gradebook(session, user, quiz_id)
    quiz = book.quiz
    assert quiz is not None
    active = regrade.active_regrade(session, quiz_id)
    return render_template(
        "instructor/gradebook.html",
        book=book,
        quiz=quiz,
        course=quiz.course,
        manager=enrolments.can_manage(session, user, quiz.course_id),
        active=active,
        history=regrade.regrade_history(session, quiz_id, limit=5),
        job_json=job_json,
        # One url_for, not one per cell: a big class has thousands of cells.
        attempt_href=url_for("instructor.attempt", attempt_id=0).removesuffix("0"),
    )


@bp.get("/quizzes/<int:quiz_id>/gradebook.csv")
@login_required
def quiz_gradebook_csv(quiz_id: int) -> Response:
    session, user = db(), actor()
    text = gradebook.export_csv(session, user, quiz_id)
    quiz = get_quiz(session, user, quiz_id)
    response = Response(text.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{gradebook.csv_filename(quiz)}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/courses/<int:course_id>/gradebook")
@login_required
def course_gradebook(course_id: int) -> str:
    session, user = db(), actor()
    book = gradebook.course_gradebook(session, user, course_id)
    return render_template(
        "instructor/course_gradebook.html",
        book=book,
        course=enrolments.get_course(session, course_id),
    )


@bp.get("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int) -> str:
    """One student's attempt at one item: variant with key, submissions, overrides."""
    session, user = db(), actor()
    detail = gradebook.attempt_detail(session, user, attempt_id)
    return render_template(
        "instructor/attempt.html",
        d=detail,
        course=detail.quiz.course,
        changes=regrade.changes_for_attempt(session, detail.quiz.id, attempt_id),
        svg_img=svg_img,
    )


@bp.post("/attempts/<int:attempt_id>/override")
@login_required
def override(attempt_id: int) -> Response:
    part_id = request.form.get("part_id", "")
    try:
        gradebook.override_grade(
            db(),
            actor(),
            attempt_id,
            part_id,
            points=form_float("points"),
            reason=request.form.get("reason", ""),
        )
    except (BadRequest, NotFound) as exc:
        fail(exc.message)
    else:
        flash(f"Grade for part {part_id} overridden. The reason is kept with it.", "success")
    return back("instructor.attempt", f"part-{part_id}", attempt_id=attempt_id)


@bp.post("/quizzes/<int:quiz_id>/regrade")
@login_required
def start_regrade(quiz_id: int) -> Response:
    """Queue a regrade and start a background runner; the gradebook shows its progress."""
    job = regrade.start_regrade(db(), actor(), quiz_id)
    worker.kick()
    flash(
        "Regrade started: every answer is judged again against the current version of "
        "each exercise.",
        "success",
    )
    return back("instructor.regrade_status_page", quiz_id=quiz_id, job_id=job.id)


@bp.get("/quizzes/<int:quiz_id>/regrades/<int:job_id>")
@login_required
def regrade_status_page(quiz_id: int, job_id: int) -> str:
    """The regrade's progress (reload to update; the script polls the JSON instead)."""
    session, user = db(), actor()
    job = regrade.get_regrade(session, user, quiz_id, job_id)
    quiz = get_quiz(session, user, quiz_id)
    changed = [c.get("attempt_id") for c in (job.payload or {}).get("changes", [])[:200]]
    return render_template(
        "instructor/regrade.html",
        students=regrade.attempt_students(session, [a for a in changed if isinstance(a, int)]),
        job=job,
        quiz=quiz,
        course=quiz.course,
        status_url=url_for("instructor.regrade_status", quiz_id=quiz_id, job_id=job_id),
        info=job_json(job),
    )


@bp.get("/quizzes/<int:quiz_id>/regrades/<int:job_id>.json")
@login_required
def regrade_status(quiz_id: int, job_id: int) -> Response:
    job = regrade.get_regrade(db(), actor(), quiz_id, job_id)
    response = jsonify(job_json(job))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/quizzes/<int:quiz_id>/analysis")
@login_required
def quiz_analysis(quiz_id: int) -> str:
    quiz, items = analysis.quiz_analysis(db(), actor(), quiz_id)
    return render_template(
        "instructor/analysis.html",
        quiz=quiz,
        course=quiz.course,
        items=items,
        part_charts=part_charts,
        first_wrong_chart=first_wrong_chart,
        outcome_chart=outcome_chart,
    )
