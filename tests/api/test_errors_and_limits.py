"""Problem+json for every refusal, clear 400s for bad bodies, 413, 415, pagination
parameters, and the per-token rate limit answering 429 with Retry-After."""

from __future__ import annotations

import pytest

from grader.errors import TooManyRequests
from grader.services.ratelimit import TokenBucketLimiter
from grader.web.api.auth import LIMITER_KEY
from tests.api.conftest import issue


def submissions_path(api, toks, world):
    response = api.as_(toks.student).post(f"/quizzes/{world.quiz.id}/items/{world.item.id}/attempt")
    return f"/attempts/{response.json['id']}/submissions"


def assert_problem(response, status, *words):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["status"] == status
    for word in words:
        assert word in body["detail"], body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


BAD_BODIES = [
    ('{"part_id": "w1", "answer": ', ("not valid JSON", "line 1")),
    ("[1, 2]", ("must be a JSON object", "an array")),
    ('{"part_id": 5, "answer": "1"}', ("'part_id' must be a string", "a number")),
    ('{"part_id": "w1", "answer": null}', ("'answer' is required",)),
    ('{"part_id": "w1"}', ("'answer' is required",)),
    ('{"part_id": "w1", "answer": "1", "score": 1}', ("unknown member 'score'",)),
    ('{"part_id": "w1", "answer": true}', ("a boolean",)),
    ("", ("empty",)),
    ("[" * 100_000 + "]" * 100_000, ("nested too deeply",)),
]


def test_bad_json_bodies_are_clear_400s(api, toks, world):
    path = submissions_path(api, toks, world)
    for data, words in BAD_BODIES:
        response = api.as_(toks.student).post(path, data=data, content_type="application/json")
        body = assert_problem(response, 400, *words)
        if words[0].startswith(("'", "unknown")):
            assert "field" in body


def test_bad_utf8_is_a_400(api, toks, world):
    path = submissions_path(api, toks, world)
    response = api.as_(toks.student).post(path, data=b"\xff\xfe{}", content_type="application/json")
    assert_problem(response, 400, "UTF-8")


def test_wrong_content_type_is_415(api, toks, world):
    path = submissions_path(api, toks, world)
    response = api.as_(toks.student).post(path, data="part_id=w1&answer=1")
    assert_problem(response, 415, "application/json")
    response = api.as_(toks.instructor).post(
        f"/courses/{world.course.id}/exercises/validate", data="x", content_type="image/png"
    )
    assert_problem(response, 415, "application/yaml")


def test_oversized_bodies_are_413_problems(app, api, toks, world):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    path = submissions_path(api, toks, world)
    big = '{"part_id": "w1", "answer": "' + "1" * 8000 + '"}'
    response = api.as_(toks.student).post(path, data=big, content_type="application/json")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_overlong_answer_is_a_400_before_it_is_stored(api, toks, world):
    path = submissions_path(api, toks, world)
    response = api.as_(toks.student).post(path, json={"part_id": "w1", "answer": "1" * 10_001})
    assert_problem(response, 400, "at most 10000 characters")


BAD_PAGES = [
    "?limit=0",
    "?limit=201",
    "?limit=ten",
    "?limit=\u00b2",
    "?cursor=zzz",
    "?cursor=aWQ6LTE",
]
BAD_FILTERS = ["?user_id=abc", "?user_id=0", "?quiz_id=99999999999", "?limit=-1"]


def test_bad_page_and_filter_parameters_are_400(api, toks, world):
    for query in BAD_PAGES:
        word = "limit" if "limit" in query else "cursor"
        assert_problem(api.as_(toks.student).get(f"/courses{query}"), 400, word)
    for query in BAD_FILTERS:
        response = api.as_(toks.instructor).get(f"/courses/{world.course.id}/attempts{query}")
        assert_problem(response, 400)


def test_unknown_routes_and_methods_are_problems(api, toks):
    assert_problem(api.as_(toks.student).get("/nothing/here"), 404)
    response = api.as_(toks.student).open("PATCH", "/me")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "GET" in response.headers["Allow"]


# --------------------------------------------------------------------------- rate limit


def test_token_bucket_refills_with_time():
    now = [0.0]
    limiter = TokenBucketLimiter(rate=1.0, burst=2, clock=lambda: now[0])
    limiter.hit("k")
    limiter.hit("k")
    with pytest.raises(TooManyRequests) as info:
        limiter.hit("k")
    assert info.value.retry_after == 1
    limiter.hit("other")  # buckets are per key
    now[0] = 1.0
    limiter.hit("k")
    now[0] = 100.0
    assert limiter.remaining("k") == 2  # never more than the burst


def test_token_bucket_forgets_the_oldest_keys():
    limiter = TokenBucketLimiter(rate=1.0, burst=1, clock=lambda: 0.0, max_keys=2)
    for key in ("a", "b", "c"):
        limiter.hit(key)
    limiter.hit("a")  # "a" was forgotten, so its bucket is full again
    with pytest.raises(TooManyRequests):
        limiter.hit("c")


def test_a_burst_past_the_limit_gets_429_with_retry_after(app, api, toks, db_session, world):
    app.config.update(API_RATE_LIMIT_BURST=3, API_RATE_LIMIT_PER_MINUTE=6)
    app.extensions.pop(LIMITER_KEY, None)
    for _ in range(3):
        assert api.as_(toks.student).get("/me").status_code == 200
    response = api.as_(toks.student).get("/me")
    body = assert_problem(response, 429, "rate limit")
    assert "retry_after" not in body
    retry = int(response.headers["Retry-After"])
    assert 1 <= retry <= 10
    # another token has its own bucket
    assert api.as_(toks.instructor).get("/me").status_code == 200
    # guessing tokens is limited per client address
    for _ in range(3):
        assert api.as_("grd_guess").get("/me").status_code == 401
    assert api.as_("grd_guess").get("/me").status_code == 429
    assert issue(db_session, world.other)  # unrelated: the service still works


def test_a_database_outage_is_a_documented_503(api, toks, world, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from grader.services import courses

    def down(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(courses, "courses_for_user", down)
    response = api.as_(toks.student).get("/courses")
    assert_problem(response, 503, "try again")
    assert response.headers["Retry-After"] == "5"
    from grader.web.api.openapi import document

    assert "503" in document()["paths"]["/courses"]["get"]["responses"]
