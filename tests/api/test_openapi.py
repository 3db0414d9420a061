"""The OpenAPI document matches the code: every route documented and vice versa, every
schema valid, and real responses from a tour of every operation validate against it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import request_finished
from jsonschema import Draft202012Validator

from grader.web.api.openapi import document
from tests.support.student_world import DELTA_RULE

METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH"}


def flask_to_openapi(rule: str) -> str:
    """``/api/v1/courses/<int(min=1):course_id>`` -> ``/courses/{course_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([a-z_]+)>", r"{\1}", rule.removeprefix("/api/v1"))


def routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            for method in rule.methods & METHODS:
                found.add((method.lower(), flask_to_openapi(rule.rule)))
    return found


def documented() -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in document()["paths"].items()
        for method in item
        if method.upper() in METHODS
    }


def test_every_route_is_documented_and_every_operation_exists(app):
    assert routes(app) == documented()


def test_the_document_is_served_without_a_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body = response.json
    assert body["openapi"] == "3.1.0"
    assert body == document()


def test_operation_ids_are_unique_and_every_schema_is_valid():
    doc = document()
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    # every $ref points at something
    text = repr(doc)
    for ref in set(re.findall(r"#/components/(\w+)/(\w+)", text)):
        assert ref[1] in doc["components"][ref[0]], ref


# --------------------------------------------------------------------------- the tour


class Recorder:
    """Collects (method, documented path, response) for every API request."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, Any]] = []

    def __call__(self, sender: Any, response: Any, **extra: Any) -> None:
        from flask import request

        if request.url_rule is not None and request.path.startswith("/api/v1"):
            path = flask_to_openapi(request.url_rule.rule)
            response.direct_passthrough = False
            self.seen.append((request.method.lower(), path, response))


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        _, kind, name = node["$ref"].removeprefix("#/").split("/")
        node = doc["components"][kind][name]
    return node


def check(doc: dict[str, Any], method: str, path: str, response: Any) -> None:
    op = doc["paths"][path][method]
    status = str(response.status_code)
    assert status in op["responses"], f"{method.upper()} {path}: undocumented {status}"
    spec = _resolve(doc, op["responses"][status])
    content = spec.get("content")
    if not content:
        assert not response.get_data(), f"{method} {path} {status} should have no body"
        return
    assert response.mimetype in content, (method, path, status, response.mimetype)
    for header, header_spec in spec.get("headers", {}).items():
        if header_spec.get("required"):
            assert header in response.headers, (method, path, header)
    schema = content[response.mimetype]["schema"]
    if response.mimetype.endswith("json"):
        validator = Draft202012Validator({**schema, "components": doc["components"]})
        errors = sorted(validator.iter_errors(response.json), key=str)
        assert not errors, f"{method.upper()} {path} {status}: {errors[0].message}"
    else:
        assert isinstance(response.get_data(as_text=True), str)


GOOD = DELTA_RULE.read_text(encoding="utf-8").replace(
    "id: delta-rule-classic", "id: api-tour-copy", 1
)


def test_real_responses_validate_against_the_document(app, api, toks, world, db_session):
    recorder = Recorder()
    request_finished.connect(recorder, app)
    try:
        _tour(app, api, toks, world)
    finally:
        request_finished.disconnect(recorder, app)
    doc = document()
    ok_ops = set()
    for method, path, response in recorder.seen:
        check(doc, method, path, response)
        if response.status_code < 300:
            ok_ops.add((method, path))
    missing = documented() - ok_ops
    assert not missing, f"the tour never got a 2xx from {sorted(missing)}"
    assert len(recorder.seen) >= 40
    statuses = {r.status_code for _, _, r in recorder.seen}
    assert {400, 401, 403, 404, 409, 413, 415, 429} <= statuses


def _tour(app, api, toks, world) -> None:
    ins, stu = api.as_(toks.instructor), api.as_(toks.student)
    c = f"/courses/{world.course.id}"
    api.get("/openapi.json")
    stu.get("/me")
    stu.get("/courses")
    stu.get(c)
    ins.get(f"{c}/exercises?limit=1")
    ins.get(f"{c}/exercises/{world.exercise.id}")
    ins.post(f"{c}/exercises/validate", data=GOOD, content_type="application/yaml")
    ins.post(f"{c}/exercises/validate", json={"source": "id: [broken"})
    created = ins.post(f"{c}/exercises", data=GOOD, content_type="text/plain").json
    ins.post(f"{c}/exercises", data=GOOD, content_type="text/plain")  # 409 id taken
    ins.put(f"{c}/exercises/{created['id']}", json={"source": GOOD.replace("title:", "title: B")})
    ins.put(f"{c}/exercises/{created['id']}", json={"source": "family: 1"})  # 400 with errors
    stu.get(f"{c}/quizzes")
    stu.get(f"/quizzes/{world.quiz.id}")
    attempt = stu.post(f"/quizzes/{world.quiz.id}/items/{world.item.id}/attempt").json
    stu.post(f"/quizzes/{world.quiz.id}/items/{world.item.id}/attempt")
    stu.get(f"{c}/attempts")
    stu.get(f"/attempts/{attempt['id']}")
    subs = f"/attempts/{attempt['id']}/submissions"
    first = stu.post(
        subs, json={"part_id": "w1", "answer": "1.5"}, headers={"Idempotency-Key": "t1"}
    )
    stu.post(subs, json={"part_id": "w1", "answer": "1.5"}, headers={"Idempotency-Key": "t1"})
    stu.post(subs, json={"part_id": "w1", "answer": "9"}, headers={"Idempotency-Key": "t1"})
    stu.post(subs, json={"part_id": "w1", "answer": "1 +"})
    stu.post(subs, json={"part_id": "w1"})  # 400
    stu.post(subs, data="answer=1")  # 415
    stu.get(f"{subs}?limit=1")
    stu.get(f"/submissions/{first.json['id']}")
    ins.get(f"{c}/grades")
    ins.get(f"/quizzes/{world.quiz.id}/analysis")
    stu.get(f"/quizzes/{world.quiz.id}/analysis")  # 403
    stu.get(f"{c}/grades")
    for lms in ("canvas", "moodle", "brightspace", "blackboard"):
        ins.get(f"{c}/grades.csv?lms={lms}")
    stu.get(f"{c}/grades.csv?lms=canvas")  # 403
    hook = ins.post(f"{c}/webhooks", json={"url": "http://127.0.0.1:9/h"}).json
    ins.get(f"{c}/webhooks")
    ins.get(f"{c}/webhooks/{hook['id']}")
    ins.get(f"{c}/webhooks/{hook['id']}/deliveries")
    ins.delete(f"{c}/webhooks/{hook['id']}")
    ins.get(f"{c}/webhooks/{hook['id']}")  # 404
    api.get("/me")  # 401
    app.config["MAX_CONTENT_LENGTH"] = 1024
    stu.post(subs, json={"part_id": "w1", "answer": "1" * 4000})  # 413
    app.config.update(API_RATE_LIMIT_BURST=1, API_RATE_LIMIT_PER_MINUTE=1)
    from grader.web.api.auth import LIMITER_KEY

    app.extensions.pop(LIMITER_KEY, None)
    stu.get("/me")
    stu.get("/me")  # 429


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("/api/v1/courses/<int(min=1, max=2147483647):course_id>", "/courses/{course_id}"),
        ("/api/v1/me", "/me"),
    ],
)
def test_flask_to_openapi(rule, expected):
    assert flask_to_openapi(rule) == expected
