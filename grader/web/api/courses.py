"""``/me`` and ``/courses``: who the token acts for and the courses it reaches."""

from __future__ import annotations

from flask import Response
from flask import jsonify

from grader.db import get_session
from grader.errors import NotFound
from grader.models import Course
from grader.services import courses as course_service
from grader.services import permissions
from grader.web.api import serialize
from grader.web.api.auth import api_token
from grader.web.api.auth import api_user
from grader.web.api.auth import require_course
from grader.web.api.blueprint import ID
from grader.web.api.blueprint import bp
from grader.web.api.pagination import paginate


@bp.get("/me")
def me() -> Response:
    """The token's user and the token itself (never its secret)."""
    return jsonify({"user": serialize.user(api_user()), "token": serialize.token(api_token())})


@bp.get("/courses")
def list_courses() -> Response:
    """The user's courses with their role; a course-scoped token lists only its course."""
    scope = api_token().course_id
    mine = course_service.courses_for_user(get_session(), api_user())
    rows = [m for m in mine if scope is None or m.course.id == scope]
    return paginate(rows, lambda m: serialize.course(m.course, m.role), key=lambda m: m.course.id)


@bp.get(f"/courses/<{ID}:course_id>")
def get_course(course_id: int) -> Response:
    """One course the user belongs to, with their role."""
    require_course(course_id)
    session = get_session()
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound(f"no course {course_id}")
    role = permissions.require_member(session, api_user(), course_id)
    return jsonify(serialize.course(course, role))
