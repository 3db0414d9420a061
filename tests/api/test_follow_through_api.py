"""The JSON API gives follow-through verdicts as the browser does, described by OpenAPI."""

from __future__ import annotations

from grader.exercises import Variant
from grader.models import Submission
from grader.services import attempts as attempt_service
from grader.web.api.openapi import document
from tests.api.test_resources import _submit
from tests.api.test_resources import start
from tests.support.follow_values import text
from tests.support.follow_values import wrong_chain


def test_a_consistent_answer_through_the_api(api, toks, world, db_session):
    attempt_json = start(api, toks.student, world).json
    attempt = attempt_service.get_attempt(db_session, world.student, attempt_json["id"])
    variant = Variant.from_json(attempt.variant)
    chain = wrong_chain(variant, "y")
    y_wrong = text(chain["y"])
    first = _submit(api, toks.student, attempt.id, "y", y_wrong)
    assert first.status_code == 201, first.json
    assert first.json["verdict"] == "incorrect"
    body = _submit(api, toks.student, attempt.id, "w1", text(chain["w1"])).json
    assert (body["verdict"], body["score"], body["counts_as_try"]) == ("consistent", 1.0, True)
    assert body["feedback"]["follows"] == [{"part": "y", "label": "y", "value": y_wrong}]
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
