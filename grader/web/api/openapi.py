"""The OpenAPI 3.1 document of ``/api/v1``, served at ``/api/v1/openapi.json``.

Written by hand next to the code rather than generated, and held to the code by tests:
every route of the ``api`` blueprint is documented and every documented operation
exists (``tests/api/test_openapi.py``), real responses validate against these schemas,
and schemathesis fuzzes the API from this document.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import jsonify

from grader.services import grade_exports
from grader.services import webhooks as webhook_service
from grader.version import __version__
from grader.web.api.blueprint import bp
from grader.web.api.pagination import MAX_LIMIT
from grader.web.ids import MAX_ID

JSON = "application/json"
PROBLEM = "application/problem+json"

_STR = {"type": "string"}
_INT = {"type": "integer"}
_NUM = {"type": "number"}
_BOOL = {"type": "boolean"}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema["type"]
    return {**schema, "type": [kind, "null"]}


def _object(props: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": [k for k in props if k not in optional],
    }


def _page(item: str) -> dict[str, Any]:
    return _object(
        {
            "items": {"type": "array", "items": _ref(item)},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` to get the next page; null on the last page.",
            },
        }
    )


SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "An RFC 9457 problem document; extra members carry details.",
        "properties": {
            "type": _STR,
            "title": _STR,
            "status": _INT,
            "detail": _STR,
            "field": _nullable(_STR),
            "line": _nullable(_INT),
            "errors": {"type": "array", "items": _ref("SpecProblem")},
        },
        "required": ["type", "title", "status", "detail"],
    },
    "SpecProblem": _object({"line": _nullable(_INT), "field": _nullable(_STR), "message": _STR}),
    "User": _object(
        {
            "id": _INT,
            "email": _STR,
            "name": _STR,
            "role": {"enum": ["admin", "instructor", "student"]},
        }
    ),
    "Token": _object(
        {
            "id": _INT,
            "name": _STR,
            "prefix": _STR,
            "course_id": _nullable(_INT),
            "created_at": _TIME,
            "last_used_at": _TIME,
        }
    ),
    "Me": _object({"user": _ref("User"), "token": _ref("Token")}),
    "Course": _object(
        {
            "id": _INT,
            "code": _STR,
            "title": _STR,
            "role": {"enum": ["instructor", "ta", "student"]},
        }
    ),
    "Exercise": _object(
        {
            "id": _INT,
            "slug": _STR,
            "title": _STR,
            "course_id": _nullable(_INT),
            "is_builtin": _BOOL,
            "current_version": _INT,
            "updated_at": _TIME,
            "used_in": _nullable(_INT),
            "editable": _nullable(_BOOL),
        }
    ),
    "ExerciseDetail": {
        "allOf": [
            _ref("Exercise"),
            _object(
                {
                    "version": _nullable(_INT),
                    "source_yaml": _nullable(_STR),
                    "written": _BOOL,
                },
                optional=("written",),
            ),
        ]
    },
    "ExerciseSource": {
        "type": "object",
        "properties": {"source": {"type": "string", "minLength": 1, "maxLength": 100_000}},
        "required": ["source"],
        "additionalProperties": False,
    },
    "ValidationResult": _object(
        {"valid": _BOOL, "errors": {"type": "array", "items": _ref("SpecProblem")}}
    ),
    "QuizItem": _object(
        {
            "id": _INT,
            "position": _INT,
            "points": _NUM,
            "exercise": _object({"id": _INT, "slug": _STR, "title": _STR}),
        }
    ),
    "Quiz": _object(
        {
            "id": _INT,
            "course_id": _INT,
            "title": _STR,
            "description": _STR,
            "opens_at": _TIME,
            "due_at": _TIME,
            "attempts_allowed": _nullable(_INT),
            "penalty_per_retry": _NUM,
            "follow_through_credit": _NUM,
            "late_policy": {"type": "object"},
            "show_solutions": _STR,
            "is_published": _BOOL,
            "items": {"type": "array", "items": _ref("QuizItem")},
        },
        optional=("items",),
    ),
    "PublicPart": {
        "type": "object",
        "properties": {
            "id": _STR,
            "prompt_md": _STR,
            "type": _STR,
            "points": _NUM,
            "check": {"type": "object"},
            "choices": {"type": ["array", "null"]},
            "hints": {"type": "array", "items": _STR},
            "shape": {"type": ["array", "null"], "items": _INT},
        },
        "required": ["id", "prompt_md", "type", "points"],
    },
    "PublicVariant": {
        "type": "object",
        "description": "The exercise as the student sees it: no answer key, no solution.",
        "properties": {
            "schema_version": _INT,
            "exercise_id": _STR,
            "spec_version": _INT,
            "seed": _INT,
            "title": _STR,
            "prompt_md": _STR,
            "parts": {"type": "array", "items": _ref("PublicPart")},
            "diagram_svg": _nullable(_STR),
            "topics": {"type": "array", "items": _STR},
        },
        "required": ["exercise_id", "title", "prompt_md", "parts"],
    },
    "PartProgress": _object(
        {
            "part_id": _STR,
            "points": _NUM,
            "tries_used": _INT,
            "tries_left": _nullable(_INT),
            "credit": _nullable(_NUM),
            "earned": _NUM,
        }
    ),
    "Attempt": _object(
        {
            "id": _INT,
            "quiz_id": _INT,
            "quiz_item_id": _INT,
            "user_id": _INT,
            "exercise_version": _INT,
            "created_at": _TIME,
            "variant": _ref("PublicVariant"),
            "progress": _object(
                {
                    "earned": _NUM,
                    "possible": _NUM,
                    "finished": _BOOL,
                    "parts": {"type": "array", "items": _ref("PartProgress")},
                }
            ),
            "solution": _object(
                {
                    "answers": {
                        "type": "object",
                        "description": "part id -> answer key, only for the parts whose "
                        "answer the quiz's solution policy shows now (the same rule as "
                        "the quiz page)",
                        "additionalProperties": _STR,
                    },
                    "worked_md": _nullable(_STR),
                }
            ),
        },
        optional=("variant", "progress", "solution"),
    ),
    "NewSubmission": {
        "type": "object",
        "properties": {
            "part_id": {"type": "string", "minLength": 1, "maxLength": 64},
            "answer": {"type": "string", "maxLength": 10_000},
        },
        "required": ["part_id", "answer"],
        "additionalProperties": False,
    },
    "Submission": _object(
        {
            "id": _INT,
            "attempt_id": _INT,
            "part_id": _STR,
            "answer": _STR,
            "status": {"enum": ["pending", "graded", "invalid", "error"]},
            "verdict": {
                "enum": ["correct", "incorrect", "consistent", "invalid", "undetermined", None],
                "description": "consistent: wrong against the key but right given the "
                "student's own wrong earlier answers (follow-through); it earns the quiz's "
                "follow_through_credit and counts as a try. Dependent parts are re-judged "
                "when an earlier answer changes.",
            },
            "score": _nullable(_NUM),
            "raw_score": _nullable(_NUM),
            "feedback": {
                "type": ["object", "null"],
                "description": "What the student is shown: message, diagnosis, LaTeX, offset; "
                "for a consistent answer also follows (the wrong earlier answers it follows "
                "from: [{part, label, value}]) and first_wrong (the part id of the first "
                "wrong step).",
            },
            "counts_as_try": _BOOL,
            "is_late": _BOOL,
            "created_at": _TIME,
            "graded_at": _TIME,
        }
    ),
    "Grades": _object(
        {
            "course": _object({"id": _INT, "code": _STR, "title": _STR}),
            "columns": {
                "type": "array",
                "items": _object(
                    {"quiz_id": _INT, "title": _STR, "max_points": _NUM, "is_published": _BOOL}
                ),
            },
            "rows": {
                "type": "array",
                "items": _object(
                    {
                        "user_id": _INT,
                        "name": _STR,
                        "email": _STR,
                        "scores": {"type": "array", "items": _nullable(_NUM)},
                        "total": _NUM,
                        "follow_points": {
                            "type": "array",
                            "items": _nullable(_NUM),
                            "description": "Per quiz, like `scores`: of its points, those "
                            "earned by follow-through (answers right only given the "
                            "student's own wrong earlier answer, verdict `consistent`); "
                            "null where the student has not started.",
                        },
                    }
                ),
            },
            "max_total": _NUM,
        }
    ),
    "DiagnosisCount": {
        **_object({"note": _STR, "label": _STR, "count": _INT}),
        "description": "A diagnosis and how often it was seen. `note` is the stored code "
        "(`mistake:<code>`, `diagnosis:<code>`, `incorrect`, `invalid`...; in `first_wrong` "
        "causes, `other` groups every wrong answer no named mistake or diagnosis explains); "
        "`label` is readable text (a mistake's own feedback).",
    },
    "PartAnalysis": _object(
        {
            "part_id": _STR,
            "name": {"type": "string", "description": "How feedback names the part (∂L/∂y)."},
            "students": {"type": "integer", "description": "Students with a credit here."},
            "mean": {
                "type": ["number", "null"],
                "description": "Mean credit 0..1 (best answer or override); null: no answers.",
            },
            "bands": {
                "type": "array",
                "items": _INT,
                "description": "Students per credit band 0-20%, 20-40%, 40-60%, 60-80%, 80-100%.",
            },
            "submissions": {"type": "integer", "description": "Graded answers."},
            "right": {"type": "integer", "description": "Students with a correct answer."},
            "follow": {
                "type": "integer",
                "description": "Students right only by follow-through (a `consistent` "
                "answer, none correct).",
            },
            "wrong": {"type": "integer", "description": "Students with neither."},
            "notes": {
                "type": "array",
                "items": _ref("DiagnosisCount"),
                "description": "The most common diagnoses of wrong answers, most common first.",
            },
        }
    ),
    "FirstWrongStep": {
        **_object(
            {
                "part_id": _STR,
                "name": _STR,
                "count": {"type": "integer", "description": "Attempts that broke first here."},
                "causes": {
                    "type": "array",
                    "items": _ref("DiagnosisCount"),
                    "description": "Those attempts split by the diagnosis of the answer, most "
                    "common first (`other` after named ones on a tie).",
                },
            }
        ),
        "description": "A part some attempts broke first at: a wrong newest answer with no "
        "wrong part upstream of it (the exercise's follow-through rules say what is upstream).",
    },
    "QuizAnalysis": _object(
        {
            "quiz_id": _INT,
            "items": {
                "type": "array",
                "items": _object(
                    {
                        "item_id": _INT,
                        "title": _STR,
                        "slug": _STR,
                        "students": {"type": "integer", "description": "Students who started."},
                        "parts": {"type": "array", "items": _ref("PartAnalysis")},
                        "first_wrong": {
                            "type": "array",
                            "items": _ref("FirstWrongStep"),
                            "description": "Where students break first, most common first.",
                        },
                    }
                ),
            },
        }
    ),
    "NewWebhook": {
        "type": "object",
        "properties": {
            "url": {"type": "string", "format": "uri", "minLength": 1, "maxLength": 2000},
            "events": {
                "type": "array",
                "items": {"enum": list(webhook_service.EVENTS)},
                "minItems": 1,
                "uniqueItems": True,
            },
        },
        "required": ["url"],
        "additionalProperties": False,
    },
    "Webhook": _object(
        {
            "id": _INT,
            "course_id": _INT,
            "url": _STR,
            "events": {"type": "array", "items": {"enum": list(webhook_service.EVENTS)}},
            "is_active": _BOOL,
            "created_at": _TIME,
            "secret": {
                "type": "string",
                "description": "The HMAC-SHA256 signing secret; only in the answer to POST.",
            },
        },
        optional=("secret",),
    ),
    "Delivery": _object(
        {
            "id": _INT,
            "event": _STR,
            "status": {"enum": ["pending", "delivered", "failed"]},
            "attempts": _INT,
            "next_attempt_at": _TIME,
            "last_error": _nullable(_STR),
            "created_at": _TIME,
            "delivered_at": _TIME,
        }
    ),
}
for _name in ("Course", "Exercise", "Quiz", "Attempt", "Submission", "Webhook", "Delivery"):
    SCHEMAS[f"{_name}Page"] = _page(_name)


def _problem(description: str, *, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM: {"schema": _ref("Problem")}},
    }
    if headers:
        response["headers"] = headers
    return response


RESPONSES: dict[str, Any] = {
    "BadRequest": _problem("The request is malformed: bad JSON, a wrong type, a bad parameter."),
    "Unauthorized": _problem(
        "No token, or an unknown or revoked one.",
        headers={"WWW-Authenticate": {"schema": _STR}},
    ),
    "Forbidden": _problem("The token's user may not do this, or the course is out of scope."),
    "NotFound": _problem("No such object, or not one this token may see."),
    "Conflict": _problem("Refused in the current state (quiz closed, no tries left, id taken)."),
    "TooLarge": _problem("The body exceeds the size limit."),
    "UnsupportedMediaType": _problem("The body's Content-Type is not accepted here."),
    "ServiceUnavailable": _problem(
        "The database is not answering; nothing unconfirmed was kept. Retry shortly.",
        headers={"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}},
    ),
    "TooManyRequests": _problem(
        "Rate limit exceeded.",
        headers={
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "string", "pattern": "^[0-9]+$"},
                "required": True,
            }
        },
    ),
}

PARAMETERS: dict[str, Any] = {
    name: {"name": name, "in": "path", "required": True, "schema": _ID}
    for name in (
        "course_id",
        "exercise_id",
        "quiz_id",
        "item_id",
        "attempt_id",
        "submission_id",
        "webhook_id",
    )
}
PARAMETERS["limit"] = {
    "name": "limit",
    "in": "query",
    "description": f"Page size, 1..{MAX_LIMIT} (default 50).",
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
}
PARAMETERS["cursor"] = {
    "name": "cursor",
    "in": "query",
    "description": "The `next_cursor` of the previous page.",
    "schema": _STR,
}
PARAMETERS["quiz_ids"] = {
    "name": "quiz_id",
    "in": "query",
    "description": "Only these quizzes' columns (repeat the parameter for several).",
    "schema": {"type": "array", "items": _ID},
    "style": "form",
    "explode": True,
}


def _param(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/parameters/{name}"}


def _resp(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/responses/{name}"}


def _json(schema: str, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {JSON: {"schema": _ref(schema)}},
    }
    if headers:
        response["headers"] = headers
    return response


_LINK = {"Link": {"description": 'RFC 8288 link to the next page (rel="next").', "schema": _STR}}
_LOCATION = {"Location": {"description": "URL of the created resource.", "schema": _STR}}


def _op(
    op_id: str,
    summary: str,
    tag: str,
    ok: dict[str, Any],
    *,
    params: tuple[str, ...] = (),
    extra_params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    errors: tuple[str, ...] = (),
    description: str | None = None,
) -> dict[str, Any]:
    responses = dict(ok)
    standard = {
        "400": "BadRequest",
        "401": "Unauthorized",
        "403": "Forbidden",
        "404": "NotFound",
        "429": "TooManyRequests",
        "503": "ServiceUnavailable",
    }
    if body is not None:
        standard.update({"409": "Conflict", "413": "TooLarge", "415": "UnsupportedMediaType"})
    for status in errors:
        standard[status] = {"409": "Conflict", "413": "TooLarge"}[status]
    for status, name in sorted(standard.items()):
        responses.setdefault(status, _resp(name))
    op: dict[str, Any] = {
        "operationId": op_id,
        "summary": summary,
        "tags": [tag],
        "parameters": [_param(p) for p in params] + (extra_params or []),
        "responses": responses,
    }
    if description:
        op["description"] = description
    if body is not None:
        op["requestBody"] = body
    return op


def _list(op_id: str, summary: str, tag: str, item: str, params: tuple[str, ...]) -> dict[str, Any]:
    return _op(
        op_id,
        summary,
        tag,
        {"200": _json(f"{item}Page", "One page, ordered by id.", _LINK)},
        params=(*params, "limit", "cursor"),
    )


_YAML_BODY = {
    "required": True,
    "description": "The exercise as YAML text, or JSON {source}.",
    "content": {
        "application/yaml": {"schema": {"type": "string", "minLength": 1, "maxLength": 100_000}},
        "text/plain": {"schema": {"type": "string", "minLength": 1, "maxLength": 100_000}},
        JSON: {"schema": _ref("ExerciseSource")},
    },
}

_INT_QUERY = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _paths() -> dict[str, Any]:
    c = ("course_id",)
    return {
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "summary": "This document.",
                "tags": ["meta"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 document.",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    },
                    "429": _resp("TooManyRequests"),
                },
            }
        },
        "/me": {
            "get": _op(
                "getMe", "The token's user and the token.", "meta", {"200": _json("Me", "You.")}
            )
        },
        "/courses": {
            "get": _list("listCourses", "Your courses, with your role.", "courses", "Course", ())
        },
        "/courses/{course_id}": {
            "get": _op(
                "getCourse",
                "One of your courses.",
                "courses",
                {"200": _json("Course", "It.")},
                params=c,
            )
        },
        "/courses/{course_id}/exercises": {
            "get": _list(
                "listExercises",
                "The course's exercises and the built-in library (course staff).",
                "exercises",
                "Exercise",
                c,
            ),
            "post": _op(
                "createExercise",
                "Save YAML as a new exercise of the course (instructors).",
                "exercises",
                {"201": _json("ExerciseDetail", "Created.", _LOCATION)},
                params=c,
                body=_YAML_BODY,
                description="An invalid text is a 400 whose `errors` list every problem "
                "with its line and field; an id already taken is a 409.",
            ),
        },
        "/courses/{course_id}/exercises/validate": {
            "post": _op(
                "validateExercise",
                "Check YAML without saving it (course staff).",
                "exercises",
                {"200": _json("ValidationResult", "Every problem found, first one first.")},
                params=c,
                body=_YAML_BODY,
            )
        },
        "/courses/{course_id}/exercises/{exercise_id}": {
            "get": _op(
                "getExercise",
                "One exercise with its newest YAML text (course staff).",
                "exercises",
                {"200": _json("ExerciseDetail", "It.")},
                params=(*c, "exercise_id"),
            ),
            "put": _op(
                "updateExercise",
                "Save YAML as the exercise's next version (instructors; admins for built-ins).",
                "exercises",
                {"200": _json("ExerciseDetail", "Saved (`written` is false when unchanged).")},
                params=(*c, "exercise_id"),
                body=_YAML_BODY,
            ),
        },
        "/courses/{course_id}/quizzes": {
            "get": _list("listQuizzes", "The course's quizzes you may open.", "quizzes", "Quiz", c)
        },
        "/quizzes/{quiz_id}": {
            "get": _op(
                "getQuiz",
                "One quiz with its items.",
                "quizzes",
                {"200": _json("Quiz", "It.")},
                params=("quiz_id",),
            )
        },
        "/quizzes/{quiz_id}/analysis": {
            "get": _op(
                "getQuizAnalysis",
                "Item analysis: credit, diagnoses, follow-through and first wrong steps "
                "(course staff).",
                "grades",
                {"200": _json("QuizAnalysis", "Per item and part.")},
                params=("quiz_id",),
                description="Per part: students right, right only by follow-through, and "
                "wrong; the common diagnoses. Per item: the parts students most often break "
                "first at, each split by diagnosis. Counts students of the course only.",
            )
        },
        "/quizzes/{quiz_id}/items/{item_id}/attempt": {
            "post": _op(
                "startAttempt",
                "Start, or resume, your attempt at a quiz item.",
                "attempts",
                {
                    "200": _json("Attempt", "Your existing attempt.", _LOCATION),
                    "201": _json("Attempt", "A new attempt.", _LOCATION),
                },
                params=("quiz_id", "item_id"),
                errors=("409",),
            )
        },
        "/courses/{course_id}/attempts": {
            "get": _op(
                "listAttempts",
                "Attempts in the course: your own, or (staff) any student's.",
                "attempts",
                {"200": _json("AttemptPage", "One page, ordered by id.", _LINK)},
                params=(*c, "limit", "cursor"),
                extra_params=[
                    {
                        "name": "user_id",
                        "in": "query",
                        "description": "A student (staff); students may give only their own id.",
                        "schema": _INT_QUERY,
                    },
                    {"name": "quiz_id", "in": "query", "schema": _INT_QUERY},
                ],
            )
        },
        "/attempts/{attempt_id}": {
            "get": _op(
                "getAttempt",
                "An attempt: the variant as the student sees it and the progress per part.",
                "attempts",
                {"200": _json("Attempt", "It.")},
                params=("attempt_id",),
            )
        },
        "/attempts/{attempt_id}/submissions": {
            "get": _list(
                "listSubmissions",
                "The answers given in an attempt.",
                "submissions",
                "Submission",
                ("attempt_id",),
            ),
            "post": _op(
                "createSubmission",
                "Answer one part; graded as in the browser.",
                "submissions",
                {
                    "200": _json(
                        "Submission",
                        "A replay: the submission stored under this Idempotency-Key.",
                        {"Idempotent-Replayed": {"schema": {"enum": ["true"]}}},
                    ),
                    "201": _json("Submission", "Stored and graded.", _LOCATION),
                },
                params=("attempt_id",),
                extra_params=[
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "description": "Retries with the same key return the first result.",
                        "schema": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 64,
                            "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$",
                        },
                    }
                ],
                body={
                    "required": True,
                    "content": {JSON: {"schema": _ref("NewSubmission")}},
                },
                description="Only the student whose attempt it is may answer (staff: 403). "
                "A closed quiz or no tries left is a 409.",
            ),
        },
        "/submissions/{submission_id}": {
            "get": _op(
                "getSubmission",
                "One submission with its verdict and feedback.",
                "submissions",
                {"200": _json("Submission", "It.")},
                params=("submission_id",),
            )
        },
        "/courses/{course_id}/grades": {
            "get": _op(
                "getGrades",
                "Grades in points: every student (staff) or your own row (students).",
                "grades",
                {"200": _json("Grades", "Students x quizzes.")},
                params=(*c, "quiz_ids"),
            )
        },
        "/courses/{course_id}/grades.csv": {
            "get": _op(
                "exportGrades",
                "Grades as CSV in an LMS's import format (course staff).",
                "grades",
                {
                    "200": {
                        "description": "The CSV file (UTF-8, CRLF, no BOM).",
                        "headers": {"Content-Disposition": {"schema": _STR}},
                        "content": {"text/csv": {"schema": _STR}},
                    }
                },
                params=(*c, "quiz_ids"),
                extra_params=[
                    {
                        "name": "lms",
                        "in": "query",
                        "required": True,
                        "schema": {"enum": list(grade_exports.DIALECTS)},
                    },
                    {
                        "name": "student_key",
                        "in": "query",
                        "description": "email (default) or login (the email before the @).",
                        "schema": {"enum": list(grade_exports.STUDENT_KEYS)},
                    },
                ],
                description="Dialects: canvas (Student, ID, SIS User ID, SIS Login ID, Section, "
                "a Points Possible row), moodle (First name, Last name, Email address), "
                "brightspace (OrgDefinedId, Username, '<item> Points Grade "
                "<Numeric MaxPoints:N>', End-of-Line Indicator), blackboard (Last Name, "
                "First Name, Username, Student ID, '<item> [Total Pts: N Score]'). Text "
                "cells are guarded against formula injection.",
            )
        },
        "/courses/{course_id}/webhooks": {
            "get": _list(
                "listWebhooks", "The course's webhooks (course staff).", "webhooks", "Webhook", c
            ),
            "post": _op(
                "createWebhook",
                "Subscribe a receiver to grade events (instructors).",
                "webhooks",
                {"201": _json("Webhook", "Created; `secret` is shown this once.", _LOCATION)},
                params=c,
                body={"required": True, "content": {JSON: {"schema": _ref("NewWebhook")}}},
                description="Events: " + ", ".join(webhook_service.EVENTS) + ". Each POST "
                "carries Grader-Event, Grader-Delivery (an id to de-duplicate on), "
                "Grader-Timestamp (Unix seconds) and Grader-Signature: sha256=HMAC-SHA256("
                "secret, timestamp + '.' + body) in hex. Failed deliveries are retried with "
                "exponential backoff.",
            ),
        },
        "/courses/{course_id}/webhooks/{webhook_id}": {
            "get": _op(
                "getWebhook",
                "One webhook (course staff).",
                "webhooks",
                {"200": _json("Webhook", "It (without its secret).")},
                params=(*c, "webhook_id"),
            ),
            "delete": _op(
                "deleteWebhook",
                "Remove a webhook and its undelivered events (instructors).",
                "webhooks",
                {"204": {"description": "Deleted."}},
                params=(*c, "webhook_id"),
            ),
        },
        "/courses/{course_id}/webhooks/{webhook_id}/deliveries": {
            "get": _list(
                "listDeliveries",
                "A webhook's deliveries and their outcome (course staff).",
                "webhooks",
                "Delivery",
                (*c, "webhook_id"),
            )
        },
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document (server URL relative, so it works behind any host)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "grader JSON API",
            "version": __version__,
            "description": (
                "Authenticate with `Authorization: Bearer grd_...` (tokens from "
                "`grader create-token`). Errors are application/problem+json (RFC 9457). "
                "Lists are paginated with `limit` and `cursor` and a Link header. "
                "Each token may make bursts of requests up to a limit, then a steady rate; "
                "beyond it the answer is 429 with Retry-After."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "grd_..."}
            },
            "schemas": SCHEMAS,
            "responses": RESPONSES,
            "parameters": PARAMETERS,
        },
    }


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The API's OpenAPI document (no token needed)."""
    return jsonify(document())
