"""The JSON API gives follow-through verdicts as the browser does, described by OpenAPI."""

from __future__ import annotations

from grader.exercises import Variant
from grader.exercises.recipe import evaluate
from grader.models import Submission
from grader.services import attempts as attempt_service
from grader.web.api.openapi import document
from tests.api.test_resources import _submit
from tests.api.test_resources import start


def test_a_consistent_answer_through_the_api(api, toks, world, db_session):
    attempt_json = start(api, toks.student, world).json
    attempt = attempt_service.get_attempt(db_session, world.student, attempt_json["id"])
    variant = Variant.from_json(attempt.variant)
    y_wrong = round(float(variant.part("y").key) * 1.5 + 0.2, 4)
    first = _submit(api, toks.student, attempt.id, "y", str(y_wrong))
    assert first.status_code == 201, first.json
    assert first.json["verdict"] == "incorrect"
    w1 = evaluate(variant.part("w1").follow.recipe, {"y": y_wrong})
    body = _submit(api, toks.student, attempt.id, "w1", f"{w1:.6g}").json
    assert (body["verdict"], body["score"], body["counts_as_try"]) == ("consistent", 1.0, True)
    assert body["feedback"]["follows"] == [{"part": "y", "label": "y", "value": str(y_wrong)}]
    assert body["feedback"]["first_wrong"] == "y"
    row = db_session.get(Submission, body["id"])
    assert (row.verdict, row.feedback) == (body["verdict"], body["feedback"])
    # fixing y re-judges w1: reading it again through the API shows the new verdict
    _submit(api, toks.student, attempt.id, "y", variant.part("y").key_text)
    again = api.as_(toks.student).get(f"/submissions/{body['id']}").json
    assert again["verdict"] == "incorrect"


def test_openapi_describes_consistent():
    schema = document()["components"]["schemas"]["Submission"]["properties"]["verdict"]
    assert "consistent" in schema["enum"]
    assert "follow-through" in schema["description"]
