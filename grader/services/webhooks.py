"""Webhooks: signed grade events POSTed to a course's receivers from a database outbox.

Recording. Grade events are written to ``webhook_deliveries`` in the *same transaction*
as the grade itself, by listeners on every SQLAlchemy Session (installed when this module
is imported; the web app, and so the CLI and the worker, always import it): ``after_flush``
notes graded submissions and new overrides, ``before_commit`` writes one row per event and
subscribed webhook with the final values, a rollback forgets them. So every path
that grades (the browser, the JSON API, LTI, ``grader regrade``) records its events without
having to remember to, and a rolled-back grade leaves no event behind. Events:

* ``submission.graded``: a submission became ``graded``, or a regrade changed its score;
* ``grade.overridden``: an instructor stored a manual score (a ``GradeOverride``).

Delivering. :func:`deliver_pending` (run by the worker) claims due rows, with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL so several workers never claim the same row,
leases them (pushes ``next_attempt_at`` forward and commits, so no transaction stays open
during HTTP), POSTs each one and records the outcome. A receiver that fails (non-2xx,
timeout, refused connection) is retried with exponential backoff, 30 s doubling up to
6 h, for at most :data:`MAX_ATTEMPTS` tries; then the row is ``failed`` with its last
error kept. Delivery is at-least-once: a worker killed between the POST and the commit
re-sends after the lease runs out, so receivers should de-duplicate on the
``Grader-Delivery`` header (one id per event and receiver) or on ``event_id``.

Signing. Each POST carries ``Grader-Timestamp`` (Unix seconds) and ``Grader-Signature:
sha256=<hex>``, the HMAC-SHA256 with the webhook's secret of ``"<timestamp>." + body``.
Receivers check it with :func:`verify_signature` (or its three lines in any language)
and refuse timestamps older than a few minutes, which defeats replays.

Safety. URLs must be http(s) without credentials; unless ``allow_private`` is set, hosts
that resolve to loopback, private, link-local or reserved addresses are refused, at
creation and again before each delivery, and redirects are never followed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from grader import url_guard
from grader.db import writes
from grader.errors import BadRequest
from grader.errors import NotFound
from grader.models import Attempt
from grader.models import Course
from grader.models import GradeOverride
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import Submission
from grader.models import User
from grader.models import Webhook
from grader.models import WebhookDelivery
from grader.models import utcnow
from grader.services.enrolments import require_staff

logger = logging.getLogger(__name__)

EVENTS = ("submission.graded", "grade.overridden")
MAX_URL_LENGTH = 2000
MAX_WEBHOOKS_PER_COURSE = 20
MAX_ATTEMPTS = 15
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(hours=6)
SIGNATURE_TOLERANCE = 300  # seconds a receiver should accept a timestamp for
USER_AGENT = "grader-webhooks/1"

SIGNATURE_HEADER = "Grader-Signature"
TIMESTAMP_HEADER = "Grader-Timestamp"
EVENT_HEADER = "Grader-Event"
DELIVERY_HEADER = "Grader-Delivery"


# --------------------------------------------------------------------------- signing


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Grader-Signature`` value for a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance: int = SIGNATURE_TOLERANCE,
    now: float | None = None,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = dt.datetime.now(dt.UTC).timestamp() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)


# --------------------------------------------------------------------------- URLs


def check_url(url: str, *, allow_private: bool = False) -> str:
    """A receiver URL we are willing to POST to, trimmed (the shared :mod:`grader.url_guard`).

    Raises:
        BadRequest: not http(s), credentials in it, too long, or (unless
            ``allow_private``) a host that is or resolves to a non-public address.
    """
    url = (url or "").strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise BadRequest(f"a webhook URL has 1 to {MAX_URL_LENGTH} characters")
    try:
        return url_guard.check_url(url, allow_private=allow_private, what="webhook URL")
    except url_guard.UnsafeUrl as exc:
        raise BadRequest(str(exc)) from None


# --------------------------------------------------------------------------- CRUD


def _check_events(events: Iterable[str] | None) -> list[str]:
    if events is None:
        return list(EVENTS)
    chosen = list(dict.fromkeys(events))
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown or not chosen:
        raise BadRequest(f"events must be a non-empty list drawn from {', '.join(EVENTS)}")
    return chosen


@writes
def create_webhook(
    session: Session,
    actor: User | None,
    course_id: int,
    *,
    url: str,
    events: Iterable[str] | None = None,
    allow_private: bool = False,
) -> tuple[Webhook, str]:
    """Subscribe a receiver to the course's grade events; returns it and its signing secret.

    The secret is returned here only: store it at the receiver.

    Raises:
        Forbidden: the actor is not an instructor of the course.
        BadRequest: a bad URL or event name, or too many webhooks.
    """
    require_staff(session, actor, course_id, manage=True)
    assert actor is not None
    url = check_url(url, allow_private=allow_private)
    chosen = _check_events(events)
    count = len(session.scalars(select(Webhook.id).where(Webhook.course_id == course_id)).all())
    if count >= MAX_WEBHOOKS_PER_COURSE:
        raise BadRequest(f"a course has at most {MAX_WEBHOOKS_PER_COURSE} webhooks")
    secret = "whsec_" + secrets.token_urlsafe(32)
    hook = Webhook(
        course_id=course_id, url=url, secret=secret, events=chosen, created_by_id=actor.id
    )
    session.add(hook)
    session.commit()
    logger.info("webhook created webhook_id=%s course_id=%s", hook.id, course_id)
    return hook, secret


def list_webhooks(session: Session, actor: User | None, course_id: int) -> list[Webhook]:
    """The course's webhooks (staff only; secrets are never listed)."""
    require_staff(session, actor, course_id)
    return list(
        session.scalars(select(Webhook).where(Webhook.course_id == course_id).order_by(Webhook.id))
    )


def get_webhook(session: Session, actor: User | None, course_id: int, webhook_id: int) -> Webhook:
    """One of the course's webhooks.

    Raises:
        NotFound: no such webhook in this course.
    """
    require_staff(session, actor, course_id)
    hook = session.get(Webhook, webhook_id)
    if hook is None or hook.course_id != course_id:
        raise NotFound(f"no webhook {webhook_id} in course {course_id}")
    return hook


@writes
def delete_webhook(session: Session, actor: User | None, course_id: int, webhook_id: int) -> None:
    """Remove a webhook and its undelivered events (instructors only)."""
    require_staff(session, actor, course_id, manage=True)
    hook = get_webhook(session, actor, course_id, webhook_id)
    session.delete(hook)
    session.commit()
    logger.info("webhook deleted webhook_id=%s course_id=%s", webhook_id, course_id)


def list_deliveries(
    session: Session,
    actor: User | None,
    course_id: int,
    webhook_id: int,
    *,
    after: int = 0,
    limit: int = 50,
) -> list[WebhookDelivery]:
    """The webhook's deliveries with ids above ``after``, oldest first (to see why a
    receiver is not getting events)."""
    get_webhook(session, actor, course_id, webhook_id)
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.id > after)
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
    )


# --------------------------------------------------------------------------- recording


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _graded_submissions(session: Session) -> list[Submission]:
    found = []
    for obj in session.new:
        if isinstance(obj, Submission) and obj.status == "graded":
            found.append(obj)
    for obj in session.dirty:
        if not isinstance(obj, Submission) or obj.status != "graded":
            continue
        state = inspect(obj)
        if state.attrs.status.history.has_changes() or state.attrs.score.history.has_changes():
            found.append(obj)
    return found


def _new_overrides(session: Session) -> list[GradeOverride]:
    return [obj for obj in session.new if isinstance(obj, GradeOverride)]


def _attempt_id(obj: Submission) -> int | None:
    if obj.attempt_id is not None:
        return obj.attempt_id
    attempt = obj.__dict__.get("attempt")
    return attempt.id if attempt is not None else None


_PENDING = "grader.webhooks.pending"


def _after_flush(session: Session, _context: Any) -> None:
    """Note grade changes as they are flushed; they become events at commit."""
    submissions = _graded_submissions(session)
    overrides = _new_overrides(session)
    if not submissions and not overrides:
        return
    pending = session.info.setdefault(_PENDING, {})
    for obj in (*submissions, *overrides):
        pending[id(obj)] = obj


def _before_commit(session: Session) -> None:
    """Turn the transaction's grade changes into outbox rows, inside the same transaction.

    One event per submission per transaction, with its final values: a grade that is
    flushed twice before the commit (status, then score) is still one event.
    """
    session.flush()  # changes not flushed yet are noted by _after_flush now
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    submissions = [
        o for o in pending.values() if isinstance(o, Submission) and o.status == "graded"
    ]
    overrides = [o for o in pending.values() if isinstance(o, GradeOverride)]
    if submissions or overrides:
        _record(session, submissions, overrides)


def _after_soft_rollback(session: Session, _previous: Any) -> None:
    """Rolled-back grades are no events."""
    session.info.pop(_PENDING, None)


@functools.cache
def _hooks_query() -> Select[int, int, list[str]]:
    """Graded attempts → the active hooks of their courses (built once: every submit runs
    it, and building it costs more CPU than running it)."""
    return (
        select(Attempt.id, Webhook.id, Webhook.events)
        .join(QuizItem, QuizItem.id == Attempt.quiz_item_id)
        .join(Quiz, Quiz.id == QuizItem.quiz_id)
        .join(Webhook, Webhook.course_id == Quiz.course_id)
        .where(
            Attempt.id.in_(bindparam("attempt_ids", expanding=True)),
            Webhook.is_active.is_(True),
        )
    )


def _record(
    session: Session, submissions: list[Submission], overrides: list[GradeOverride]
) -> None:
    """Insert one delivery row per (event, subscribed webhook)."""
    items: list[tuple[str, int, dict[str, Any]]] = []
    for sub in submissions:
        attempt_id = _attempt_id(sub)
        if attempt_id is None:
            continue
        items.append(
            (
                "submission.graded",
                attempt_id,
                {
                    "submission": {
                        "id": sub.id,
                        "part_id": sub.part_id,
                        "status": sub.status,
                        "verdict": sub.verdict,
                        "score": sub.score,
                        "raw_score": sub.raw_score,
                        "is_late": bool(sub.is_late),
                        "created_at": _iso(sub.created_at),
                        "graded_at": _iso(sub.graded_at),
                    }
                },
            )
        )
    for override in overrides:
        items.append(
            (
                "grade.overridden",
                override.attempt_id,
                {
                    "override": {
                        "id": override.id,
                        "part_id": override.part_id,
                        "score": override.score,
                        "reason": override.reason,
                        "created_at": _iso(override.created_at),
                    }
                },
            )
        )
    conn = session.connection()
    attempt_ids = {attempt_id for _, attempt_id, _ in items}
    # The subscribed hooks first: most courses have none, and then this one query is all
    # a graded answer costs here (it runs inside every submit's transaction).
    hook_rows = conn.execute(_hooks_query(), {"attempt_ids": sorted(attempt_ids)}).all()
    if not hook_rows:
        return
    hooks: dict[int, list[tuple[int, list[str] | None]]] = {}
    for attempt_id, hook_id, hook_events in hook_rows:
        hooks.setdefault(attempt_id, []).append((hook_id, hook_events))
    context_rows = conn.execute(
        select(
            Attempt.id,
            Attempt.user_id,
            Attempt.quiz_item_id,
            Quiz.id,
            Quiz.title,
            Course.id,
            Course.code,
            User.email,
            User.name,
        )
        .join(QuizItem, QuizItem.id == Attempt.quiz_item_id)
        .join(Quiz, Quiz.id == QuizItem.quiz_id)
        .join(Course, Course.id == Quiz.course_id)
        .join(User, User.id == Attempt.user_id)
        .where(Attempt.id.in_(hooks))
    ).all()
    contexts = {row[0]: row for row in context_rows}
    now = utcnow()
    rows = []
    for kind, attempt_id, detail in items:
        ctx = contexts.get(attempt_id)
        if ctx is None:
            continue
        _, user_id, quiz_item_id, quiz_id, quiz_title, course_id, course_code, email, name = ctx
        payload = {
            "event_id": uuid.uuid4().hex,
            "type": kind,
            "created_at": now.isoformat(),
            "course": {"id": course_id, "code": course_code},
            "quiz": {"id": quiz_id, "title": quiz_title},
            "quiz_item_id": quiz_item_id,
            "attempt_id": attempt_id,
            "student": {"id": user_id, "email": email, "name": name},
            **detail,
        }
        for hook_id, subscribed in hooks.get(attempt_id, ()):
            if not subscribed or kind in subscribed:
                rows.append(
                    {
                        "webhook_id": hook_id,
                        "event": kind,
                        "payload": payload,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
    if rows:
        conn.execute(insert(WebhookDelivery), rows)
        logger.debug("recorded %d webhook deliveries", len(rows))


event.listen(Session, "after_flush", _after_flush)
event.listen(Session, "before_commit", _before_commit)
event.listen(Session, "after_soft_rollback", _after_soft_rollback)


# --------------------------------------------------------------------------- delivering


@dataclasses.dataclass
class DeliveryReport:
    """What one :func:`deliver_pending` run did."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retried + self.failed


def backoff(attempts: int) -> dt.timedelta:
    """Wait before try ``attempts + 1``: 30 s, 60 s, 2 min ... capped at 6 h."""
    delay = BACKOFF_BASE * (2 ** max(0, attempts - 1))
    return min(delay, BACKOFF_CAP)


def _claim(session: Session, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[int]:
    """Lease up to ``limit`` due rows to this worker and commit; returns their ids.

    PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` (rows another worker holds are
    skipped). SQLite has no row locks: the candidates are read, that read transaction is
    ended, and each row is taken with a conditional UPDATE in a transaction that starts
    with the write, so two workers never both take one row (the loser updates 0 rows).
    """
    due = (WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
    if session.get_bind().dialect.name == "postgresql":
        rows = session.scalars(
            select(WebhookDelivery)
            .where(*due)
            .order_by(WebhookDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)  # outcomes are Core UPDATEs
        ).all()
        for row in rows:
            row.next_attempt_at = now + lease
            row.attempts += 1
        ids = [row.id for row in rows]
        session.commit()
        return ids
    candidates = list(
        session.scalars(
            select(WebhookDelivery.id).where(*due).order_by(WebhookDelivery.id).limit(limit)
        )
    )
    session.commit()
    return _take(session, candidates, now, lease)


def _take(
    session: Session, candidates: list[int], now: dt.datetime, lease: dt.timedelta
) -> list[int]:
    """Lease each candidate that is still due (conditional UPDATE), commit; the ids won."""
    due = (WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
    claimed = []
    for delivery_id in candidates:
        result = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, *due)
            .values(next_attempt_at=now + lease, attempts=WebhookDelivery.attempts + 1)
            .execution_options(synchronize_session="fetch")
        )
        if getattr(result, "rowcount", 0) == 1:
            claimed.append(delivery_id)
    session.commit()
    return claimed


def _post(
    http: requests.Session,
    hook: Webhook,
    delivery: WebhookDelivery,
    now: dt.datetime,
    timeout: float,
) -> str | None:
    """POST one delivery; None on success, else a short reason."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(hook.secret, timestamp, body),
    }
    try:
        response = http.post(
            hook.url, data=body, headers=headers, timeout=timeout, allow_redirects=False
        )
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {str(exc)[:300]}"
    with response:
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"


@dataclasses.dataclass(frozen=True)
class _Claimed:
    """A leased delivery read into plain values, so a thread can send it."""

    id: int
    token: int  # ``attempts`` after the claim: only this claim records the outcome
    event: str
    payload: dict[str, Any]
    webhook_id: int
    url: str | None  # None: its webhook was deleted or disabled
    secret: str


def _load(session: Session, ids: list[int]) -> list[_Claimed]:
    claimed = []
    for delivery_id in ids:
        delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
        if delivery is None:  # its webhook was deleted meanwhile
            continue
        hook = session.get(Webhook, delivery.webhook_id)
        active = hook is not None and hook.is_active
        claimed.append(
            _Claimed(
                id=delivery.id,
                token=delivery.attempts,
                event=delivery.event,
                payload=delivery.payload,
                webhook_id=delivery.webhook_id,
                url=hook.url if hook is not None and active else None,
                secret=hook.secret if hook is not None else "",
            )
        )
    session.commit()
    return claimed


def _attempt(
    item: _Claimed, http: requests.Session, now: dt.datetime, timeout: float, allow_private: bool
) -> tuple[str | None, bool]:
    """Send one delivery: (error or None, whether the error is final)."""
    if item.url is None:
        return "webhook disabled", True
    try:
        check_url(item.url, allow_private=allow_private)
    except BadRequest as exc:
        return exc.message, True
    hook = Webhook(id=item.webhook_id, url=item.url, secret=item.secret)
    delivery = WebhookDelivery(id=item.id, event=item.event, payload=item.payload)
    return _post(http, hook, delivery, now, timeout), False


def _settle(
    session: Session,
    item: _Claimed,
    outcome: tuple[str | None, bool],
    now: dt.datetime,
    report: DeliveryReport,
) -> None:
    """Store the outcome if this claim still holds the row (else another worker has it)."""
    error, final = outcome
    values: dict[str, Any]
    if error is None:
        values = {"status": "delivered", "delivered_at": utcnow(), "last_error": None}
    elif final or item.token >= MAX_ATTEMPTS:
        values = {"status": "failed", "last_error": error}
    else:
        values = {"next_attempt_at": now + backoff(item.token), "last_error": error}
    if final:
        values["attempts"] = MAX_ATTEMPTS
    done = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == item.id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.attempts == item.token,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if int(getattr(done, "rowcount", 0) or 0) != 1:
        logger.warning("webhook delivery_id=%s was taken back; its outcome is not kept", item.id)
        return
    if error is None:
        report.delivered += 1
    elif values.get("status") == "failed":
        report.failed += 1
        logger.warning(
            "webhook delivery failed for good delivery_id=%s webhook_id=%s: %s",
            item.id,
            item.webhook_id,
            error,
        )
    else:
        report.retried += 1
        logger.info(
            "webhook delivery will be retried delivery_id=%s attempts=%s: %s",
            item.id,
            item.token,
            error,
        )


def deliver_pending(
    session: Session,
    *,
    now: dt.datetime | None = None,
    limit: int = 50,
    timeout: float = 5.0,
    allow_private: bool = False,
    http: requests.Session | None = None,
    concurrency: int = 1,
) -> DeliveryReport:
    """Send due webhook deliveries once each; the worker calls this in a loop.

    Rows are leased ``concurrency`` at a time and each group is sent at once (a thread
    per row), so a lease (two timeouts plus 30 s) covers the one POST it guards however
    many rows a run takes; an outcome is stored only while this claim still holds the row.

    Args:
        now: the current time (tests move it forward to pass the backoff).
        limit: rows claimed in one run.
        timeout: seconds per POST (connect and read).
        allow_private: allow loopback/private receivers (development and tests).
        http: a ``requests.Session`` to reuse connections (sequential sends only).
        concurrency: deliveries sent at once.
    """
    now = now or utcnow()
    report = DeliveryReport()
    lease = dt.timedelta(seconds=timeout * 2 + 30)
    group = max(1, concurrency)
    own_http = http is None
    http = http or requests.Session()
    pool = ThreadPoolExecutor(group, thread_name_prefix="grader-webhook") if group > 1 else None

    def send(item: _Claimed) -> tuple[str | None, bool]:
        with requests.Session() as own:
            return _attempt(item, own, now, timeout, allow_private)

    try:
        taken = 0
        while taken < limit:
            ids = _claim(session, now, min(group, limit - taken), lease)
            if not ids:
                break
            taken += len(ids)
            items = _load(session, ids)
            if pool is None:
                outcomes = [_attempt(i, http, now, timeout, allow_private) for i in items]
            else:
                outcomes = list(pool.map(send, items))
            for item, outcome in zip(items, outcomes, strict=True):
                _settle(session, item, outcome, now, report)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
        if own_http:
            http.close()
    return report
