"""The JSON API gives course staff the item analysis (right / follow-through / wrong per
part, first wrong steps split by diagnosis) and follow-through points in the grades, as the
instructor pages show them, described by the OpenAPI document."""

from __future__ import annotations

import pytest

from grader.exercises import Variant
from grader.services import attempts as attempt_service
from grader.services import gradebook
from grader.web.api.openapi import document
from tests.api.test_resources import _submit
from tests.api.test_resources import start
from tests.support.follow_values import text
from tests.support.follow_values import wrong_chain


def test_item_analysis_and_follow_points_through_the_api(api, toks, world, db_session):
    attempt_json = start(api, toks.student, world).json
    attempt = attempt_service.get_attempt(db_session, world.student, attempt_json["id"])
    variant = Variant.from_json(attempt.variant)
    chain = wrong_chain(variant, "y")
    y_wrong = text(chain["y"])
    assert _submit(api, toks.student, attempt.id, "y", y_wrong).json["verdict"] == ("incorrect")
    body = _submit(api, toks.student, attempt.id, "w1", text(chain["w1"])).json
    assert body["verdict"] == "consistent"

    staff = api.as_(toks.instructor)
    response = staff.get(f"/quizzes/{world.quiz.id}/analysis")
    assert response.status_code == 200, response.json
    (item,) = response.json["items"]
    assert item["item_id"] == world.item.id
    assert item["students"] == 1
    parts = {p["part_id"]: p for p in item["parts"]}
    assert (parts["y"]["right"], parts["y"]["follow"], parts["y"]["wrong"]) == (0, 0, 1)
    assert (parts["w1"]["right"], parts["w1"]["follow"], parts["w1"]["wrong"]) == (0, 1, 0)
    assert parts["w1"]["mean"] == pytest.approx(1.0)
    assert item["first_wrong"] == [
        {
            "part_id": "y",
            "name": variant.part("y").name,
            "count": 1,
            "causes": [
                {"note": "other", "label": "Other: wrong, no known mistake matched", "count": 1}
            ],
        }
    ]
    # Students may not read it; a quiz that does not exist is a 404.
    assert api.as_(toks.student).get(f"/quizzes/{world.quiz.id}/analysis").status_code == 403
    assert staff.get("/quizzes/999999/analysis").status_code == 404

    weights = gradebook.part_weights(world.item, gradebook.variant_parts(attempt.variant))
    grades = staff.get(f"/courses/{world.course.id}/grades").json
    mine = next(r for r in grades["rows"] if r["user_id"] == world.student.id)
    assert mine["follow_points"] == [pytest.approx(weights["w1"])]
    other = next(r for r in grades["rows"] if r["user_id"] == world.other.id)
    assert other["follow_points"] == [None]
    # The student's own row says the same.
    own = api.as_(toks.student).get(f"/courses/{world.course.id}/grades").json["rows"]
    assert [r["follow_points"] for r in own] == [[pytest.approx(weights["w1"])]]


def test_openapi_describes_follow_points_and_the_analysis():
    doc = document()
    row = doc["components"]["schemas"]["Grades"]["properties"]["rows"]["items"]
    assert "follow_points" in row["required"]
    assert "follow-through" in row["properties"]["follow_points"]["description"]
    op = doc["paths"]["/quizzes/{quiz_id}/analysis"]["get"]
    assert op["operationId"] == "getQuizAnalysis"
    steps = doc["components"]["schemas"]["FirstWrongStep"]
    assert set(steps["required"]) == {"part_id", "name", "count", "causes"}
    part = doc["components"]["schemas"]["PartAnalysis"]["properties"]
    assert "follow-through" in part["follow"]["description"]
