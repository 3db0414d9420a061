"""Grades of a course: JSON for everyone in it (a student gets their own row), and CSV in
the grade-import formats of Canvas, Moodle, Brightspace and Blackboard (course staff).

The dialects, and what each follows, are described in ``grader.services.grade_exports``.
"""

from __future__ import annotations

from flask import Response
from flask import jsonify

from grader.db import get_session
from grader.services import enrolments
from grader.services import grade_exports
from grader.web.api import serialize
from grader.web.api.auth import api_user
from grader.web.api.auth import require_course
from grader.web.api.blueprint import ID
from grader.web.api.blueprint import bp
from grader.web.api.body import choice_arg
from grader.web.api.body import int_args


@bp.get(f"/courses/<{ID}:course_id>/grades")
def get_grades(course_id: int) -> Response:
    """Students x quizzes in points (``quiz_id`` may be repeated to pick columns)."""
    require_course(course_id)
    table = grade_exports.course_grades(
        get_session(), api_user(), course_id, quiz_ids=int_args("quiz_id")
    )
    return jsonify(serialize.grades(table))


@bp.get(f"/courses/<{ID}:course_id>/grades.csv")
def export_grades(course_id: int) -> Response:
    """The grades as a CSV file to import into an LMS (``lms`` picks the dialect)."""
    require_course(course_id)
    # Who may export comes before what they asked for: a stranger learns nothing here.
    enrolments.require_staff(get_session(), api_user(), course_id)
    lms = choice_arg("lms", grade_exports.DIALECTS)
    key = choice_arg("student_key", grade_exports.STUDENT_KEYS, "email")
    filename, text = grade_exports.export_csv(
        get_session(), api_user(), course_id, lms=lms, key=key, quiz_ids=int_args("quiz_id")
    )
    return Response(
        text.encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )
