"""Webhooks: management over the API, events recorded with the grade, signed delivery from
the outbox to a real loopback receiver that fails and then recovers."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from grader.errors import BadRequest
from grader.models import GradeOverride
from grader.models import WebhookDelivery
from grader.models import utcnow
from grader.services import attempts as attempt_service
from grader.services import submissions as submission_service
from grader.services import webhooks
from tests.support.student_world import enrol
from tests.support.student_world import make_user


class Receiver:
    """An HTTP server on loopback answering the status codes it is told, recording requests."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.requests.append((dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def grade_one(db_session, world, app, answer="12345", key="wh-1", user=None):
    user = user or world.student
    attempt = attempt_service.start_or_resume(
        db_session, user, world.item, secret=app.config["SECRET_KEY"]
    )
    return submission_service.submit(
        db_session, user=user, attempt=attempt, part_id="w1", raw_answer=answer, idempotency_key=key
    )


def deliveries(db_session):
    db_session.expire_all()
    return list(db_session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


# --------------------------------------------------------------------------- management


def test_create_list_get_delete(api, toks, world, receiver):
    base = f"/courses/{world.course.id}/webhooks"
    created = api.as_(toks.instructor).post(base, json={"url": receiver.url})
    assert created.status_code == 201, created.json
    hook = created.json
    assert hook["secret"].startswith("whsec_")
    assert hook["events"] == list(webhooks.EVENTS)
    assert created.headers["Location"].endswith(f"{base}/{hook['id']}")
    listed = api.as_(toks.instructor).get(base).json["items"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0]
    one = api.as_(toks.instructor).get(f"{base}/{hook['id']}").json
    assert "secret" not in one
    assert api.as_(toks.instructor).delete(f"{base}/{hook['id']}").status_code == 204
    assert api.as_(toks.instructor).get(f"{base}/{hook['id']}").status_code == 404
    assert api.as_(toks.instructor).get(base).json["items"] == []


def test_only_instructors_manage_webhooks(api, toks, world, db_session):
    base = f"/courses/{world.course.id}/webhooks"
    assert api.as_(toks.student).get(base).status_code == 403
    assert api.as_(toks.student).post(base, json={"url": "http://127.0.0.1:1/"}).status_code == 403
    ta = make_user(db_session, "api-ta@example.com")
    enrol(db_session, world.course, ta, "ta")
    db_session.commit()
    from tests.api.conftest import issue

    ta_token = issue(db_session, ta)
    assert api.as_(ta_token).get(base).status_code == 200
    assert api.as_(ta_token).post(base, json={"url": "http://127.0.0.1:1/"}).status_code == 403


BAD_WEBHOOK_BODIES = [
    {"url": "ftp://example.com/x"},
    {"url": "http://user:pw@example.com/x"},
    {"url": "not a url"},
    {"url": "http://127.0.0.1:1/", "events": ["nope"]},
    {"url": "http://127.0.0.1:1/", "events": []},
    {"url": 5},
    {"url": "http://127.0.0.1:1/", "extra": 1},
    {"url": "http://127.0.0.1:1/\u0000"},
]


def test_bad_webhook_bodies_are_400(api, toks, world):
    for body in BAD_WEBHOOK_BODIES:
        response = api.as_(toks.instructor).post(f"/courses/{world.course.id}/webhooks", json=body)
        assert response.status_code == 400, (body, response.json)
        assert response.mimetype == "application/problem+json"


def test_private_receivers_are_refused_in_production_settings(api, app, toks, world):
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = False
    for url in (
        "http://127.0.0.1:8080/h",
        "http://10.1.2.3/h",
        "http://[::1]/h",
        "http://localhost/h",
    ):
        response = api.as_(toks.instructor).post(
            f"/courses/{world.course.id}/webhooks", json={"url": url}
        )
        assert response.status_code == 400, url
        assert "public internet" in response.json["detail"]


def test_check_url_accepts_a_public_address_literal():
    assert webhooks.check_url("https://93.184.215.14/hook") == "https://93.184.215.14/hook"
    with pytest.raises(BadRequest):
        webhooks.check_url("https://169.254.169.254/latest/meta-data")


# --------------------------------------------------------------------------- recording


def test_a_graded_submission_records_one_event_per_webhook(db_session, world, app):
    hook, _ = webhooks.create_webhook(
        db_session, world.instructor, world.course.id, url="http://127.0.0.1:1/", allow_private=True
    )
    sub = grade_one(db_session, world, app)
    rows = deliveries(db_session)
    assert [(r.webhook_id, r.event, r.status) for r in rows] == [
        (hook.id, "submission.graded", "pending")
    ]
    payload = rows[0].payload
    assert payload["type"] == "submission.graded"
    assert payload["course"] == {"id": world.course.id, "code": "API101"}
    assert payload["student"]["email"] == world.student.email
    assert payload["submission"]["id"] == sub.id
    assert payload["submission"]["score"] == sub.score
    assert payload["submission"]["verdict"] == sub.verdict
    assert "raw_answer" not in json.dumps(payload)


def test_no_webhook_no_rows_and_invalid_answers_record_nothing(db_session, world, app):
    grade_one(db_session, world, app, key="a")
    assert deliveries(db_session) == []
    webhooks.create_webhook(
        db_session, world.instructor, world.course.id, url="http://127.0.0.1:1/", allow_private=True
    )
    grade_one(db_session, world, app, answer="0.3.4 +", key="b")  # invalid: no grade
    assert deliveries(db_session) == []


def test_event_filter_and_overrides(db_session, world, app):
    webhooks.create_webhook(
        db_session,
        world.instructor,
        world.course.id,
        url="http://127.0.0.1:1/",
        events=["grade.overridden"],
        allow_private=True,
    )
    sub = grade_one(db_session, world, app)
    assert deliveries(db_session) == []
    db_session.add(
        GradeOverride(
            attempt_id=sub.attempt_id,
            part_id="w1",
            score=0.5,
            reason="partial credit",
            created_by_id=world.instructor.id,
        )
    )
    db_session.commit()
    rows = deliveries(db_session)
    assert [r.event for r in rows] == ["grade.overridden"]
    assert rows[0].payload["override"]["score"] == 0.5


def test_a_rolled_back_grade_leaves_no_event(db_session, world, app):
    webhooks.create_webhook(
        db_session, world.instructor, world.course.id, url="http://127.0.0.1:1/", allow_private=True
    )
    attempt = attempt_service.start_or_resume(
        db_session, world.student, world.item, secret=app.config["SECRET_KEY"]
    )
    from grader.models import Submission

    db_session.add(
        Submission(attempt_id=attempt.id, part_id="w1", raw_answer="1", status="graded", score=1.0)
    )
    db_session.flush()
    db_session.rollback()
    assert deliveries(db_session) == []


# --------------------------------------------------------------------------- delivering


def test_failing_receiver_gets_the_event_exactly_once_after_recovery(
    db_session, world, app, receiver
):
    hook, secret = webhooks.create_webhook(
        db_session, world.instructor, world.course.id, url=receiver.url, allow_private=True
    )
    grade_one(db_session, world, app)
    receiver.statuses = [500]
    start = utcnow()

    first = webhooks.deliver_pending(db_session, now=start, allow_private=True)
    assert (first.delivered, first.retried) == (0, 1)
    row = deliveries(db_session)[0]
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error == "HTTP 500"
    assert row.next_attempt_at == start + webhooks.backoff(1)

    # not due yet: nothing is sent
    assert webhooks.deliver_pending(db_session, now=start, allow_private=True).attempted == 0
    assert len(receiver.requests) == 1

    later = start + webhooks.backoff(1) + dt.timedelta(seconds=1)
    second = webhooks.deliver_pending(db_session, now=later, allow_private=True)
    assert second.delivered == 1
    assert len(receiver.requests) == 2
    for _ in range(3):  # delivered rows are never sent again
        webhooks.deliver_pending(db_session, now=later + dt.timedelta(days=1), allow_private=True)
    assert len(receiver.requests) == 2
    row = deliveries(db_session)[0]
    assert (row.status, row.attempts, row.last_error) == ("delivered", 2, None)

    # both tries carried the same delivery id; the accepted one verifies with the secret
    (h1, b1), (h2, b2) = receiver.requests
    assert h1["Grader-Delivery"] == h2["Grader-Delivery"] == str(row.id)
    assert b1 == b2
    assert h2["Content-Type"] == "application/json"
    assert h2["Grader-Event"] == "submission.graded"
    assert webhooks.verify_signature(
        secret,
        timestamp=h2["Grader-Timestamp"],
        body=b2,
        signature=h2["Grader-Signature"],
        now=later.timestamp(),
    )
    assert json.loads(b2)["student"]["id"] == world.student.id
    assert hook.id == row.webhook_id


def test_signature_refuses_tampering_wrong_secret_and_old_timestamps():
    body = b'{"a":1}'
    sig = webhooks.sign("s3cret", 1_700_000_000, body)
    ok = {"timestamp": "1700000000", "body": body, "signature": sig, "now": 1_700_000_010}
    assert webhooks.verify_signature("s3cret", **ok)
    assert not webhooks.verify_signature("other", **ok)
    assert not webhooks.verify_signature("s3cret", **{**ok, "body": b'{"a":2}'})
    assert not webhooks.verify_signature("s3cret", **{**ok, "now": 1_700_001_000})
    assert not webhooks.verify_signature("s3cret", **{**ok, "timestamp": "soon"})


def test_a_receiver_that_never_recovers_ends_failed(db_session, world, app):
    webhooks.create_webhook(
        db_session, world.instructor, world.course.id, url="http://127.0.0.1:9/", allow_private=True
    )
    grade_one(db_session, world, app)
    now = utcnow()
    for _ in range(webhooks.MAX_ATTEMPTS):
        webhooks.deliver_pending(db_session, now=now, allow_private=True, timeout=0.5)
        now += webhooks.BACKOFF_CAP + dt.timedelta(seconds=1)
    row = deliveries(db_session)[0]
    assert row.status == "failed"
    assert row.attempts == webhooks.MAX_ATTEMPTS
    assert "ConnectionError" in row.last_error
    assert webhooks.deliver_pending(db_session, now=now, allow_private=True).attempted == 0


def test_delivery_refuses_private_receivers_unless_allowed(db_session, world, app, receiver):
    webhooks.create_webhook(
        db_session, world.instructor, world.course.id, url=receiver.url, allow_private=True
    )
    grade_one(db_session, world, app)
    report = webhooks.deliver_pending(db_session)  # production default: no private hosts
    assert report.failed == 1
    assert receiver.requests == []
    assert "public internet" in deliveries(db_session)[0].last_error


def test_backoff_doubles_and_caps():
    assert webhooks.backoff(1) == dt.timedelta(seconds=30)
    assert webhooks.backoff(2) == dt.timedelta(seconds=60)
    assert webhooks.backoff(40) == webhooks.BACKOFF_CAP


def test_deliveries_are_listed_over_the_api(api, toks, world, db_session, app):
    hook, _ = webhooks.create_webhook(
        db_session, world.instructor, world.course.id, url="http://127.0.0.1:9/", allow_private=True
    )
    grade_one(db_session, world, app)
    body = (
        api.as_(toks.instructor)
        .get(f"/courses/{world.course.id}/webhooks/{hook.id}/deliveries")
        .json
    )
    assert [d["event"] for d in body["items"]] == ["submission.graded"]
    assert body["items"][0]["status"] == "pending"


def test_a_crashed_workers_claim_is_retried_after_its_lease(db_session, world, app, receiver):
    webhooks.create_webhook(
        db_session, world.instructor, world.course.id, url=receiver.url, allow_private=True
    )
    grade_one(db_session, world, app)
    now = utcnow()
    lease = dt.timedelta(seconds=60)
    assert len(webhooks._claim(db_session, now, 10, lease)) == 1  # ... and the worker died
    assert webhooks.deliver_pending(db_session, now=now, allow_private=True).attempted == 0
    later = now + lease + dt.timedelta(seconds=1)
    assert webhooks.deliver_pending(db_session, now=later, allow_private=True).delivered == 1
    assert len(receiver.requests) == 1


@pytest.mark.postgres
def test_two_workers_never_claim_the_same_row(postgres_engine):
    """FOR UPDATE SKIP LOCKED: rows one worker holds are skipped by the other (real commits,
    so this test cleans up after itself)."""
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from grader.models import Course
    from grader.models import Webhook

    with Session(postgres_engine) as setup:
        course = Course(code="SKIPLOCKED", title="Skip locked")
        setup.add(course)
        setup.flush()
        hook = Webhook(course_id=course.id, url="http://127.0.0.1:9/", secret="s", events=[])
        setup.add(hook)
        setup.flush()
        for i in range(4):
            setup.add(
                WebhookDelivery(webhook_id=hook.id, event="submission.graded", payload={"i": i})
            )
        setup.commit()
        course_id, hook_id = course.id, hook.id
    try:
        with Session(postgres_engine) as first, Session(postgres_engine) as second:
            held = first.scalars(
                select(WebhookDelivery.id)
                .where(WebhookDelivery.webhook_id == hook_id)
                .order_by(WebhookDelivery.id)
                .limit(2)
                .with_for_update(skip_locked=True)
            ).all()
            claimed = webhooks._claim(second, utcnow(), 10, dt.timedelta(seconds=60))
            assert len(held) == 2
            assert len(claimed) == 2
            assert set(held).isdisjoint(claimed)
            first.rollback()
    finally:
        with Session(postgres_engine) as cleanup:
            cleanup.execute(delete(Course).where(Course.id == course_id))
            cleanup.commit()


def test_a_row_taken_by_another_worker_is_not_taken_again(db_session, world, app):
    """The conditional UPDATE (SQLite's claim): a worker that read the row as due before
    another leased it updates nothing."""
    webhooks.create_webhook(
        db_session, world.instructor, world.course.id, url="http://127.0.0.1:9/", allow_private=True
    )
    grade_one(db_session, world, app)
    now = utcnow()
    lease = dt.timedelta(seconds=60)
    stale = [row.id for row in deliveries(db_session)]  # what the slower worker had read
    assert webhooks._take(db_session, stale, now, lease) == stale  # the faster worker
    assert webhooks._take(db_session, stale, now, lease) == []  # the slower one: nothing
    assert deliveries(db_session)[0].attempts == 1
