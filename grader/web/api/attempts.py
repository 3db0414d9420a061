"""Attempts and submissions.

Who sees what is ``grader.services.permissions``': a student sees only their own
attempts and submissions (anyone else's is a 404, as if it did not exist), course staff
see every student's in their course. Answering goes through
``grader.services.submissions.submit``, the browser's own path, so the API gets the same
verdict, score and feedback.

``Idempotency-Key`` (optional, up to 64 printable ASCII characters): a retried POST with
the same key returns the submission stored the first time (200, header
``Idempotent-Replayed: true``) instead of grading twice; the same key with a different
part or answer is a 409.
"""

from __future__ import annotations

from flask import Response
from flask import jsonify
from flask import request
from flask import url_for
from sqlalchemy import select

from grader.db import get_session
from grader.errors import BadRequest
from grader.errors import Conflict
from grader.errors import NotFound
from grader.models import Attempt
from grader.models import Course
from grader.models import Quiz
from grader.models import QuizItem
from grader.services import attempts as attempt_service
from grader.services import permissions
from grader.services import submissions as submission_service
from grader.web.api import serialize
from grader.web.api.auth import api_user
from grader.web.api.auth import require_course
from grader.web.api.auth import require_object_in_scope
from grader.web.api.blueprint import ID
from grader.web.api.blueprint import bp
from grader.web.api.body import Field
from grader.web.api.body import int_arg
from grader.web.api.body import json_object
from grader.web.api.pagination import page_request
from grader.web.api.pagination import paginate

IDEMPOTENCY_HEADER = "Idempotency-Key"


@bp.get(f"/courses/<{ID}:course_id>/attempts")
def list_attempts(course_id: int) -> Response:
    """Attempts in the course: a student's own; staff may filter by ``user_id``.

    Query: ``user_id`` (staff: any student; a student: only themselves), ``quiz_id``.
    """
    require_course(course_id)
    session = get_session()
    user = api_user()
    if session.get(Course, course_id) is None:
        raise NotFound(f"no course {course_id}")
    permissions.require_member(session, user, course_id)
    student_id = int_arg("user_id")
    quiz_id = int_arg("quiz_id")
    if not permissions.is_course_staff(session, user, course_id):
        if student_id is not None and student_id != user.id:
            raise NotFound(f"no student {student_id} in course {course_id}")
        student_id = user.id
    page = page_request()
    query = (
        select(Attempt, QuizItem.quiz_id)
        .join(QuizItem, QuizItem.id == Attempt.quiz_item_id)
        .join(Quiz, Quiz.id == QuizItem.quiz_id)
        .where(Quiz.course_id == course_id, Attempt.id > page.after)
        .order_by(Attempt.id)
        .limit(page.limit + 1)
    )
    if student_id is not None:
        query = query.where(Attempt.user_id == student_id)
    if quiz_id is not None:
        query = query.where(QuizItem.quiz_id == quiz_id)
    rows = session.execute(query).all()
    return paginate(rows, lambda r: serialize.attempt(r[0], r[1]), key=lambda r: r[0].id)


def _visible_attempt(attempt_id: int) -> Attempt:
    session = get_session()
    attempt = attempt_service.get_attempt(session, api_user(), attempt_id)
    require_object_in_scope(
        permissions.attempt_course_id(session, attempt), f"attempt {attempt_id}"
    )
    return attempt


@bp.get(f"/attempts/<{ID}:attempt_id>")
def get_attempt(attempt_id: int) -> Response:
    """An attempt: its variant as the student sees it, the progress per part, and the
    answers and worked solution the quiz's solution policy shows now (the quiz page's
    rule, ``attempt_service.solution_visibility``)."""
    attempt = _visible_attempt(attempt_id)
    progress = attempt_service.attempt_progress(get_session(), attempt)
    quiz = attempt.quiz_item.quiz
    solution = attempt_service.solution_visibility(quiz, progress)
    return jsonify(serialize.attempt(attempt, quiz.id, progress, solution))


@bp.get(f"/attempts/<{ID}:attempt_id>/submissions")
def list_submissions(attempt_id: int) -> Response:
    """Every answer given in the attempt, oldest first."""
    attempt = _visible_attempt(attempt_id)
    progress = attempt_service.attempt_progress(get_session(), attempt)
    rows = [s for part in progress.parts for s in part.submissions]
    return paginate(rows, serialize.submission)


def _idempotency_key() -> str | None:
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if (
        not key
        or len(key) > submission_service.MAX_KEY_LENGTH
        or not (key.isascii() and key.isprintable())
    ):
        raise BadRequest(
            f"{IDEMPOTENCY_HEADER} must be 1 to {submission_service.MAX_KEY_LENGTH} "
            "printable characters"
        )
    return key


@bp.post(f"/attempts/<{ID}:attempt_id>/submissions")
def create_submission(attempt_id: int) -> tuple[Response, int, dict[str, str]]:
    """Answer one part: stored, then graded; the verdict, score and feedback come back."""
    session = get_session()
    user = api_user()
    attempt = _visible_attempt(attempt_id)
    permissions.require_attempt_owner(session, user, attempt)
    body = json_object(
        [
            Field("part_id", str, max_length=submission_service.MAX_KEY_LENGTH),
            Field("answer", str, max_length=submission_service.MAX_ANSWER_LENGTH),
        ]
    )
    key = _idempotency_key()
    if key is not None:
        earlier = submission_service.find_by_key(session, attempt.id, key)
        if earlier is not None:
            if earlier.part_id != body["part_id"] or earlier.raw_answer != body["answer"]:
                raise Conflict(
                    f"{IDEMPOTENCY_HEADER} {key!r} was used for a different answer; "
                    "use a new key for a new answer"
                )
            return jsonify(serialize.submission(earlier)), 200, {"Idempotent-Replayed": "true"}
    submission = submission_service.submit(
        session,
        user=user,
        attempt=attempt,
        part_id=body["part_id"],
        raw_answer=body["answer"],
        idempotency_key=key,
    )
    location = url_for("api.get_submission", submission_id=submission.id)
    return jsonify(serialize.submission(submission)), 201, {"Location": location}


@bp.get(f"/submissions/<{ID}:submission_id>")
def get_submission(submission_id: int) -> Response:
    """One submission with its verdict and feedback."""
    session = get_session()
    submission = submission_service.get_submission(session, api_user(), submission_id)
    require_object_in_scope(
        permissions.attempt_course_id(session, submission.attempt), f"submission {submission_id}"
    )
    return jsonify(serialize.submission(submission))
