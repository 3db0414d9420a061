"""The instructor pages under ``/teach``: courses and rosters, the exercise editor, the quiz
builder, the gradebook (detail, overrides, regrades, CSV) and item analysis.

Views only parse the request, call a service and render; every role check lives in the
services (``grader.services.enrolments.require_staff``), which answer Forbidden to students.
"""

from __future__ import annotations

from grader.web.instructor import courses
from grader.web.instructor import exercises
from grader.web.instructor import grades
from grader.web.instructor import quizzes
from grader.web.instructor.blueprint import bp  # the route modules register on it

__all__ = ["bp", "courses", "exercises", "grades", "quizzes"]
