"""Item analysis of a quiz for course staff: per item and part, credit, common diagnoses,
right / follow-through / wrong, and where students break first (split by diagnosis) -- the
numbers the instructor's analysis page draws."""

from __future__ import annotations

from flask import Response
from flask import jsonify

from grader.db import get_session
from grader.services import analysis
from grader.services import courses as course_service
from grader.web.api import serialize
from grader.web.api.auth import api_user
from grader.web.api.auth import require_object_in_scope
from grader.web.api.blueprint import ID
from grader.web.api.blueprint import bp


@bp.get(f"/quizzes/<{ID}:quiz_id>/analysis")
def get_quiz_analysis(quiz_id: int) -> Response:
    """The quiz's item analysis (course staff; a quiz the user may not open is a 404)."""
    session, user = get_session(), api_user()
    quiz = course_service.get_quiz(session, user, quiz_id)
    require_object_in_scope(quiz.course_id, f"quiz {quiz_id}")
    _, items = analysis.quiz_analysis(session, user, quiz_id)
    return jsonify(serialize.quiz_analysis(quiz_id, items))
