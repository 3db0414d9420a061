"""Exercises of a course (its own and the built-in library): list, read, validate, save.

YAML comes either raw (``Content-Type: application/yaml``, ``text/yaml`` or
``text/plain``) or as JSON ``{"source": "..."}``. Validation answers 200 with every
problem found (``line``, ``field``, ``message``); saving an invalid text answers a 400
problem carrying the same ``errors`` list. The rules (who may edit what, versions, id
clashes) are ``grader.services.authoring``'s.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response
from flask import jsonify
from flask import request
from flask import url_for
from werkzeug.exceptions import UnsupportedMediaType

from grader.db import get_session
from grader.errors import BadRequest
from grader.services import authoring
from grader.services.enrolments import require_staff
from grader.web.api import serialize
from grader.web.api.auth import api_user
from grader.web.api.auth import require_course
from grader.web.api.blueprint import ID
from grader.web.api.blueprint import bp
from grader.web.api.body import Field
from grader.web.api.body import is_json_request
from grader.web.api.body import json_object
from grader.web.api.pagination import paginate

#: characters YAML refuses (PyYAML's Reader.NON_PRINTABLE)
_NOT_YAML = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

YAML_TYPES = frozenset(
    {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}
)


def yaml_source() -> str:
    """The exercise text of the request, raw YAML or ``{"source": ...}``.

    Raises:
        UnsupportedMediaType: neither JSON nor YAML/plain text (415).
        BadRequest: not UTF-8, empty, or too long.
    """
    if is_json_request():
        text = json_object([Field("source", str, max_length=authoring.MAX_SOURCE_CHARS)])["source"]
    elif request.mimetype in YAML_TYPES:
        try:
            text = request.get_data(cache=True).decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("the body is not UTF-8 text") from None
    else:
        raise UnsupportedMediaType(
            "send the exercise as application/yaml (or text/plain), "
            'or as application/json {"source": "..."}'
        )
    if not text.strip():
        raise BadRequest("the exercise text is empty")
    if "\x00" in text:
        raise BadRequest("the exercise text contains a NUL character")
    if len(text) > authoring.MAX_SOURCE_CHARS:
        raise BadRequest(f"an exercise has at most {authoring.MAX_SOURCE_CHARS} characters")
    return text


def unreadable(text: str) -> list[dict[str, Any]]:
    """A problem for a character YAML cannot hold (the loader would fail before parsing).

    Checked here because ``grader.exercises``' loader lets PyYAML's ReaderError escape for
    these (reported to the lead); empty when the text is fine.
    """
    found = _NOT_YAML.search(text)
    if found is None:
        return []
    line = text.count("\n", 0, found.start()) + 1
    char = f"U+{ord(found.group()):04X}"
    return [{"line": line, "field": None, "message": f"character {char} is not allowed in YAML"}]


def _check_readable(text: str) -> None:
    problems = unreadable(text)
    if problems:
        raise BadRequest(problems[0]["message"], detail={"errors": problems})


@bp.get(f"/courses/<{ID}:course_id>/exercises")
def list_exercises(course_id: int) -> Response:
    """The course's exercises and the built-in library (course staff)."""
    require_course(course_id)
    rows = authoring.list_exercises(get_session(), api_user(), course_id)
    return paginate(
        rows,
        lambda r: serialize.exercise(r.exercise, used_in=r.used_in, editable=r.editable),
        key=lambda r: r.exercise.id,
    )


@bp.get(f"/courses/<{ID}:course_id>/exercises/<{ID}:exercise_id>")
def get_exercise(course_id: int, exercise_id: int) -> Response:
    """One exercise with its newest YAML text (course staff)."""
    require_course(course_id)
    exercise, version, editable = authoring.get_exercise(
        get_session(), api_user(), course_id, exercise_id
    )
    return jsonify(serialize.exercise_detail(exercise, version, editable))


@bp.post(f"/courses/<{ID}:course_id>/exercises/validate")
def validate_exercise(course_id: int) -> Response:
    """Check a YAML text without saving it: ``{"valid": bool, "errors": [...]}``."""
    require_course(course_id)
    require_staff(get_session(), api_user(), course_id)
    text = yaml_source()
    errors = unreadable(text) or authoring.validate_source(text)
    return jsonify({"valid": not errors, "errors": errors})


@bp.post(f"/courses/<{ID}:course_id>/exercises")
def create_exercise(course_id: int) -> tuple[Response, int, dict[str, str]]:
    """Save a YAML text as a new exercise of the course (instructors)."""
    require_course(course_id)
    session = get_session()
    require_staff(session, api_user(), course_id, manage=True)
    text = yaml_source()
    _check_readable(text)
    exercise, _ = authoring.save(session, api_user(), course_id, text)
    exercise, version, editable = authoring.get_exercise(
        session, api_user(), course_id, exercise.id
    )
    location = url_for("api.get_exercise", course_id=course_id, exercise_id=exercise.id)
    return (
        jsonify(serialize.exercise_detail(exercise, version, editable)),
        201,
        {"Location": location},
    )


@bp.put(f"/courses/<{ID}:course_id>/exercises/<{ID}:exercise_id>")
def update_exercise(course_id: int, exercise_id: int) -> Response:
    """Save a YAML text as the exercise's next version; an unchanged text writes nothing."""
    require_course(course_id)
    session = get_session()
    require_staff(session, api_user(), course_id, manage=True)
    text = yaml_source()
    _check_readable(text)
    _, written = authoring.save(session, api_user(), course_id, text, exercise_id=exercise_id)
    exercise, version, editable = authoring.get_exercise(
        session, api_user(), course_id, exercise_id
    )
    body = serialize.exercise_detail(exercise, version, editable)
    body["written"] = written
    return jsonify(body)
