"""Schemathesis fuzzes the API from our own OpenAPI document, in-process over WSGI.

Positive cases (valid per the document) go to real objects of a small course, so bodies
reach the services (answers are graded, YAML is parsed); negative cases (invalid per the
document) use whatever ids schemathesis makes up. Every response must be no 5xx, a
documented status and content type, and valid against the documented schema; invalid
input must be refused with a 4xx.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings

from grader.services import attempts as attempt_service
from grader.services import submissions as submission_service
from grader.services import webhooks as webhook_service
from tests.support.requirements import unavailable

EXAMPLES = 12
STUDENT_OPERATIONS = {"startAttempt", "createSubmission", "listSubmissions", "getAttempt"}


def fuzz(strategy, token: str, checks: list) -> int:
    """Run one strategy; returns how many requests were made."""
    calls = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        nonlocal calls
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        response = case.call()
        calls += 1
        case.validate_response(response, checks=checks)

    run()
    return calls


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_nothing_outside_the_schema(
    app, db_session, world, toks
):
    try:
        import schemathesis
        from schemathesis import GenerationMode
        from schemathesis import checks
    except ImportError:
        unavailable("schemathesis is not installed (pip install schemathesis)")
    base_checks = [
        checks.not_a_server_error,
        checks.status_code_conformance,
        checks.content_type_conformance,
        checks.response_headers_conformance,
        checks.response_schema_conformance,
    ]
    app.config.update(API_RATE_LIMIT_BURST=1_000_000, API_RATE_LIMIT_PER_MINUTE=60_000_000)
    attempt = attempt_service.start_or_resume(
        db_session, world.student, world.item, secret=app.config["SECRET_KEY"]
    )
    submission = submission_service.submit(
        db_session,
        user=world.student,
        attempt=attempt,
        part_id="w1",
        raw_answer="1",
        idempotency_key="fuzz",
    )
    hook, _ = webhook_service.create_webhook(
        db_session, world.instructor, world.course.id, url="http://127.0.0.1:9/", allow_private=True
    )
    real_ids = {
        "course_id": world.course.id,
        "exercise_id": world.exercise.id,
        "quiz_id": world.quiz.id,
        "item_id": world.item.id,
        "attempt_id": attempt.id,
        "submission_id": submission.id,
        "webhook_id": hook.id,
    }
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        op_id = operation.definition.raw.get("operationId", "")
        token = toks.student if op_id in STUDENT_OPERATIONS else toks.instructor
        names = [p.name for p in operation.path_parameters]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fixed = {n: real_ids[n] for n in names} if mode is GenerationMode.POSITIVE else None
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)
            negative = mode is GenerationMode.NEGATIVE
            applied = [*base_checks, checks.negative_data_rejection] if negative else base_checks
            tried += fuzz(strategy, token, applied)
    print(f"schemathesis made {tried} requests")
    assert tried >= EXAMPLES * 25
