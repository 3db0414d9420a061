"""The exercise list and editor: YAML with live validation at its line, a preview of any
seed (prompt, answer key, mistakes, worked solution), save as a new version.

Without JavaScript the editor's buttons post the form and the page comes back with the
problems and the preview; with it, ``instructor.js`` asks the two JSON endpoints as the
instructor types and when they press Preview.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from flask import Response
from flask import flash
from flask import jsonify
from flask import render_template
from flask import request

from grader import exercises as exercises_package
from grader.errors import BadRequest
from grader.errors import Conflict
from grader.exercises import FAMILIES
from grader.exercises import reference
from grader.services import analysis
from grader.services import authoring
from grader.services import enrolments
from grader.web.instructor._common import actor
from grader.web.instructor._common import back
from grader.web.instructor._common import db
from grader.web.instructor.analysis_charts import first_wrong_chart
from grader.web.instructor.analysis_charts import outcome_chart
from grader.web.instructor.analysis_charts import part_charts
from grader.web.instructor.blueprint import bp
from grader.web.security import login_required
from grader.web.student import svg_img

DEFAULT_SEED = 1


def format_value(value: Any) -> str:
    """A key or mistake value for people: numbers to 6 significant figures, lists nested."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


@bp.get("/courses/<int:course_id>/exercises")
@login_required
def exercises(course_id: int) -> str:
    session, user = db(), actor()
    rows = authoring.list_exercises(session, user, course_id)
    return render_template(
        "instructor/exercises.html",
        course=enrolments.get_course(session, course_id),
        rows=rows,
        manager=enrolments.can_manage(session, user, course_id),
    )


def _render_editor(
    course_id: int,
    *,
    exercise_id: int | None,
    source: str,
    seed: int,
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
    show_preview: bool = True,
) -> tuple[str, int]:
    session, user = db(), actor()
    course = enrolments.get_course(session, course_id)
    exercise = version = None
    editable = True
    history: list[Any] = []
    if exercise_id is not None:
        exercise, version, editable = authoring.get_exercise(session, user, course_id, exercise_id)
        history = authoring.versions(session, user, course_id, exercise_id)
    else:
        enrolments.require_staff(session, user, course_id, manage=True)
    preview = (
        authoring.editor_preview(session, user, course_id, source, seed) if show_preview else None
    )
    if errors is None:
        errors = preview.errors if preview is not None else []
    html = render_template(
        "instructor/editor.html",
        course=course,
        exercise=exercise,
        version=version,
        editable=editable,
        history=history,
        source=source,
        seed=seed,
        errors=errors,
        error_lines={e["line"] for e in errors if e.get("line")},
        preview=preview,
        format_value=format_value,
        svg_img=svg_img,
    )
    return html, status


def format_reference_md() -> str:
    """FORMAT.md, its families section generated from the registry right now (so a new
    family shows up here without editing anything)."""
    path = Path(exercises_package.__file__).with_name("FORMAT.md")
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    families = reference.family_reference_md()
    if reference.BEGIN in text and reference.END in text:
        head, rest = text.split(reference.BEGIN, 1)
        tail = rest.split(reference.END, 1)[1]
        return head + families + tail
    return text + "\n\n## Families\n\n" + families


@dataclasses.dataclass(frozen=True)
class FamilySummary:
    name: str
    description: str
    parameters: list[str]


@bp.app_template_global()
def exercise_families() -> list[FamilySummary]:
    """Every registered family with its parameters, for the editor's side list."""
    return [
        FamilySummary(name, family.description, list(family.parameter_defaults({})))
        for name, family in FAMILIES.items()
    ]


@bp.get("/format")
@login_required
def format_reference() -> str:
    """The exercise format reference, with every family and its parameters and keys."""
    return render_template("instructor/format.html", reference_md=format_reference_md())


@bp.get("/courses/<int:course_id>/exercises/new")
@login_required
def new_exercise(course_id: int) -> tuple[str, int]:
    """The editor with a starter exercise, or a copy of ``?copy=<exercise id>``."""
    session, user = db(), actor()
    copy = request.args.get("copy", type=int)
    if copy is not None:
        source = authoring.copy_source(session, user, course_id, copy)
    else:
        source = authoring.starter_source(session, user, course_id)
    return _render_editor(course_id, exercise_id=None, source=source, seed=DEFAULT_SEED)


@bp.get("/courses/<int:course_id>/exercises/<int:exercise_id>")
@login_required
def edit_exercise(course_id: int, exercise_id: int) -> tuple[str, int]:
    _, version, _ = authoring.get_exercise(db(), actor(), course_id, exercise_id)
    seed = authoring.parse_seed(request.args.get("seed", DEFAULT_SEED))
    source = version.source_yaml if version is not None else ""
    return _render_editor(course_id, exercise_id=exercise_id, source=source, seed=seed)


@bp.post("/courses/<int:course_id>/exercises/new", endpoint="save_new_exercise")
@bp.post("/courses/<int:course_id>/exercises/<int:exercise_id>")
@login_required
def save_exercise(course_id: int, exercise_id: int | None = None) -> Response | tuple[str, int]:
    """The editor's form: ``action=preview`` shows problems and the preview, ``save`` saves."""
    source = request.form.get("source", "").replace("\r\n", "\n")
    try:
        seed = authoring.parse_seed(request.form.get("seed", DEFAULT_SEED))
    except BadRequest:
        seed = DEFAULT_SEED
    if request.form.get("action") != "save":
        return _render_editor(course_id, exercise_id=exercise_id, source=source, seed=seed)
    try:
        exercise, written = authoring.save(
            db(), actor(), course_id, source, exercise_id=exercise_id
        )
    except (BadRequest, Conflict) as exc:
        errors = exc.detail.get("errors")
        problems = (
            errors
            if isinstance(errors, list)
            else [{"line": None, "field": None, "message": exc.message}]
        )
        return _render_editor(
            course_id,
            exercise_id=exercise_id,
            source=source,
            seed=seed,
            errors=problems,
            status=exc.status,
            show_preview=False,
        )
    if written:
        flash(
            f"Saved as version {exercise.current_version}. Students who already started keep "
            "the version they were given.",
            "success",
        )
    else:
        flash("Nothing changed: the text is the same as the saved version.", "success")
    return back("instructor.edit_exercise", course_id=course_id, exercise_id=exercise.id, seed=seed)


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("source"), str):
        raise BadRequest('send JSON like {"source": "...yaml..."}')
    return body


@bp.post("/courses/<int:course_id>/exercises/validate")
@login_required
def validate_json(course_id: int) -> Response:
    """``{"source"}`` → ``{"ok", "errors": [{line, field, message}]}`` for the live editor."""
    body = _json_body()
    errors = authoring.editor_validate(db(), actor(), course_id, body["source"])
    return jsonify({"ok": not errors, "errors": errors})


@bp.post("/courses/<int:course_id>/exercises/preview")
@login_required
def preview_json(course_id: int) -> Response:
    """``{"source", "seed"}`` → the preview pane's HTML (or the problems in the way)."""
    body = _json_body()
    result = authoring.editor_preview(
        db(), actor(), course_id, body["source"], body.get("seed", DEFAULT_SEED)
    )
    html = render_template(
        "instructor/_variant.html",
        preview=result,
        format_value=format_value,
        svg_img=svg_img,
    )
    return jsonify(
        {"ok": not result.errors, "errors": result.errors, "seed": result.seed, "html": html}
    )


@bp.get("/courses/<int:course_id>/exercises/<int:exercise_id>/analysis")
@login_required
def exercise_analysis(course_id: int, exercise_id: int) -> str:
    """One exercise across every quiz of the course that uses it."""
    session, user = db(), actor()
    exercise, _, _ = authoring.get_exercise(session, user, course_id, exercise_id)
    stats = analysis.exercise_analysis(session, user, course_id, exercise_id)
    return render_template(
        "instructor/exercise_analysis.html",
        course=enrolments.get_course(session, course_id),
        exercise=exercise,
        items=[stats] if stats else [],
        part_charts=part_charts,
        first_wrong_chart=first_wrong_chart,
        outcome_chart=outcome_chart,
    )
