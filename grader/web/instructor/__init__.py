"""The instructor pages under ``/teach``: courses and rosters, the exercise editor, the quiz
builder, the gradebook (detail, overrides, regrades, CSV) and item analysis.

Views only parse the request, call a service and render; every role check lives in the
services (``grader.services.enrolments.require_staff``), which answer Forbidden to students.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("instructor", __name__, url_prefix="/teach")

# The route modules register themselves on ``bp``; imported last so they can import it.
from grader.web.instructor import courses  # noqa: E402
from grader.web.instructor import exercises  # noqa: E402
from grader.web.instructor import grades  # noqa: E402
from grader.web.instructor import quizzes  # noqa: E402

__all__ = ["bp", "courses", "exercises", "grades", "quizzes"]
