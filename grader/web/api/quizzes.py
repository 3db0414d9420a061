"""Quizzes of a course, and starting (or resuming) an attempt at one of their items.

Visibility is ``grader.services.courses``': staff see every quiz, students the published
ones that have opened; a quiz a user may not see is a 404, like a missing one.
"""

from __future__ import annotations

from flask import Response
from flask import current_app
from flask import jsonify
from flask import url_for

from grader.db import get_session
from grader.errors import NotFound
from grader.models import Course
from grader.services import attempts as attempt_service
from grader.services import courses as course_service
from grader.web.api import serialize
from grader.web.api.auth import api_user
from grader.web.api.auth import require_course
from grader.web.api.auth import require_object_in_scope
from grader.web.api.blueprint import ID
from grader.web.api.blueprint import bp
from grader.web.api.pagination import paginate


@bp.get(f"/courses/<{ID}:course_id>/quizzes")
def list_quizzes(course_id: int) -> Response:
    """The course's quizzes the user may open."""
    require_course(course_id)
    session = get_session()
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound(f"no course {course_id}")
    quizzes = course_service.visible_quizzes(session, api_user(), course)
    return paginate(quizzes, serialize.quiz)


@bp.get(f"/quizzes/<{ID}:quiz_id>")
def get_quiz(quiz_id: int) -> Response:
    """One quiz with its items (exercise and points of each)."""
    quiz = course_service.get_quiz(get_session(), api_user(), quiz_id)
    require_object_in_scope(quiz.course_id, f"quiz {quiz_id}")
    return jsonify(serialize.quiz(quiz, items=list(quiz.items)))


@bp.post(f"/quizzes/<{ID}:quiz_id>/items/<{ID}:item_id>/attempt")
def start_attempt(quiz_id: int, item_id: int) -> tuple[Response, int, dict[str, str]]:
    """The user's attempt at a quiz item: 201 when it is created now, 200 when it existed.

    The variant is the same one the browser shows: the seed comes from the server secret
    and (user, item), exactly as on the student pages.
    """
    session = get_session()
    user = api_user()
    quiz = course_service.get_quiz(session, user, quiz_id)
    require_object_in_scope(quiz.course_id, f"quiz {quiz_id}")
    item = next((i for i in quiz.items if i.id == item_id), None)
    if item is None:
        raise NotFound(f"quiz {quiz_id} has no item {item_id}")
    existed = attempt_service.find_attempt(session, user, item) is not None
    attempt = attempt_service.start_or_resume(
        session, user, item, secret=current_app.config["SECRET_KEY"]
    )
    progress = attempt_service.attempt_progress(session, attempt)
    solution = attempt_service.solution_visibility(quiz, progress)
    location = url_for("api.get_attempt", attempt_id=attempt.id)
    return (
        jsonify(serialize.attempt(attempt, quiz.id, progress, solution)),
        200 if existed else 201,
        {"Location": location},
    )
