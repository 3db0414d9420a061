"""Grade passback (AGS): the score outbox, its line items, and the worker that sends it.

Recording. Importing this module installs an ``after_flush`` listener on every SQLAlchemy
Session (like :mod:`grader.services.webhooks`): when a submission becomes graded, a regrade
changes its score, or an instructor stores a ``GradeOverride``, one ``lti_scores`` row is
written per LMS placement of that quiz the student launched from (``lti_link_users``; a
student with no recorded launch of the quiz, e.g. synced from the roster or from before
that table, gets one per placement of the quiz), *in the transaction that changed the
grade*. So every path that grades (browser, API, regrade job, overrides) feeds
the LMS, and a rolled-back grade leaves no row behind. Canvas' Test Student is skipped.

Sending (:func:`send_pending`, run by ``grader worker``):

1. *Claim* due ``pending`` rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two workers
   never take one row; a conditional UPDATE settles it on SQLite too). An older row of a
   student and link with a newer one pending is ``superseded``: the newer carries the
   current total. A row claimed the first time gets its score fixed: the student's current
   quiz total after overrides, the quiz's real maximum, the real submission time, and a
   timestamp strictly after every earlier one of that student and link (unique in the
   table). The claim pushes ``next_attempt_at`` forward (a lease) and commits, so no
   transaction stays open during HTTP.
2. *Resolve* the link's line item: the one the platform named at launch (deep-linked links),
   else found or created once. ``lti_line_items`` has one row per link and a worker leases
   it before asking the platform, so two workers never create two columns.
3. *Send* the score. Success → ``sent``. A retryable error (5xx, 429, timeouts) → back off
   exponentially (honouring ``Retry-After``) up to :data:`MAX_ATTEMPTS`. A permanent error
   (Canvas' 422 "User not found in course or is not a student") → ``failed`` with the
   platform's message kept for the instructor's status page. A worker killed between the
   POST and the commit re-sends after the lease with the *same* timestamp, which platforms
   ignore as not newer: a change is never applied twice.

   Moodle answers such a re-send with 409 "Refusing score with an earlier timestamp". That
   409 counts as delivered only if an earlier POST of *this row* may have reached the score
   endpoint: our timestamps step by whole seconds per student and link, so no other row of
   ours can hold its second (a resend or a newer row gets a later one). The row records it in
   ``sent_at``, which on a ``pending`` row means "a POST went out and its answer never came":
   it is committed right before the POST (after the line item and the token, so a worker
   killed after posting leaves it behind), kept when the client reports ``answer_lost`` (the
   request was written whole, then a read timeout or a dropped connection), and put back as
   it was when the POST never went out whole (connection refused, DNS, TLS, the token
   endpoint down) or the platform answered. A crash before the POST never sets it. Any other
   409 means the LMS holds a grade at least as new (changed in the LMS): ``failed``, with
   Moodle's words, for the instructor to resend if they want ours.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import inspect
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grader.db import writes
from grader.lti import AgsClient
from grader.lti import LineItemSpec
from grader.lti import MemoryTokenCache
from grader.lti import PermanentServiceError
from grader.lti import Registration
from grader.lti import Score
from grader.lti import ServiceClient
from grader.lti import ServiceError
from grader.lti import claims as c
from grader.lti import next_timestamp
from grader.models import Attempt
from grader.models import GradeOverride
from grader.models import Quiz
from grader.models import QuizItem
from grader.models import Submission
from grader.models import User
from grader.models import utcnow
from grader.models_lti import LtiContext
from grader.models_lti import LtiDeployment
from grader.models_lti import LtiLineItem
from grader.models_lti import LtiLinkUser
from grader.models_lti import LtiRegistration
from grader.models_lti import LtiResourceLink
from grader.models_lti import LtiScore
from grader.models_lti import LtiUser

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 20
BACKOFF_BASE = dt.timedelta(seconds=10)
BACKOFF_CAP = dt.timedelta(hours=1)
LEASE = dt.timedelta(minutes=2)
LINE_ITEM_LEASE = dt.timedelta(seconds=60)
BUSY_RETRY = dt.timedelta(seconds=5)
MAX_ERROR = 500
LINE_ITEM_TAG = "grader"


# --------------------------------------------------------------------------- recording


def _graded_changes(session: Session, now: dt.datetime) -> list[tuple[int, str, dt.datetime]]:
    """(attempt id, reason, changed_at) for every grade change in this flush."""
    changes: list[tuple[int, str, dt.datetime]] = []
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Submission):
            if obj.status != "graded":
                continue
            attempt_id = obj.attempt_id
            if attempt_id is None:
                attempt = obj.__dict__.get("attempt")
                attempt_id = attempt.id if attempt is not None else None
            if attempt_id is None:
                continue
            if obj in session.new:
                changes.append((attempt_id, "submission", obj.created_at or now))
                continue
            state = inspect(obj)
            status_hist = state.attrs.status.history
            if status_hist.has_changes() and "graded" not in (status_hist.deleted or ()):
                # Newly graded: the score's time is when the student submitted it.
                changes.append((attempt_id, "submission", obj.created_at or now))
            elif state.attrs.score.history.has_changes():
                changes.append((attempt_id, "regrade", obj.graded_at or now))
        elif isinstance(obj, GradeOverride) and obj in session.new:
            changes.append((obj.attempt_id, "override", obj.created_at or now))
    return changes


@functools.cache
def _links_query() -> Select[int, int, int | None, int, str]:
    """Graded attempts → the LTI links of their quizzes and their students' LTI identities.

    Built once: it runs inside every submit, and building it costs more CPU than running it.
    """
    return (
        select(
            Attempt.id, LtiResourceLink.id, LtiResourceLink.quiz_id, LtiUser.user_id, LtiUser.sub
        )
        .join(QuizItem, QuizItem.id == Attempt.quiz_item_id)
        .join(LtiResourceLink, LtiResourceLink.quiz_id == QuizItem.quiz_id)
        .join(LtiContext, LtiContext.id == LtiResourceLink.lti_context_id)
        .join(LtiDeployment, LtiDeployment.id == LtiContext.lti_deployment_id)
        .join(
            LtiUser,
            (LtiUser.registration_id == LtiDeployment.registration_id)
            & (LtiUser.user_id == Attempt.user_id),
        )
        .where(
            Attempt.id.in_(bindparam("attempt_ids", expanding=True)),
            LtiUser.is_test_user.is_(False),
        )
    )


def _launched_placements(
    conn: Connection, candidates: set[tuple[int, int | None, int, str]]
) -> set[tuple[int, int | None, int, str]]:
    """Keep, per (student, quiz), the placements the student launched from; all of them when
    the student launched from none (roster-synced, or launched before we recorded it)."""
    launched = {
        (row.lti_resource_link_id, row.user_id)
        for row in conn.execute(
            select(LtiLinkUser.lti_resource_link_id, LtiLinkUser.user_id).where(
                LtiLinkUser.lti_resource_link_id.in_(sorted({c[0] for c in candidates})),
                LtiLinkUser.user_id.in_(sorted({c[2] for c in candidates})),
            )
        )
    }
    chosen_somewhere = {
        (user_id, quiz_id)
        for link_id, quiz_id, user_id, _ in candidates
        if (link_id, user_id) in launched
    }
    return {
        c for c in candidates if (c[0], c[2]) in launched or (c[2], c[1]) not in chosen_somewhere
    }


def _after_flush(session: Session, _context: Any) -> None:
    """Queue LTI scores for grade changes, in the transaction that made them."""
    now = utcnow()
    changes = _graded_changes(session, now)
    if not changes:
        return
    conn = session.connection()
    # One query from the changed attempts to the LTI links of their quizzes and the LTI
    # identities of their students: without LTI (most submits) it finds nothing and that
    # is all this costs inside the submit's transaction.
    links = conn.execute(_links_query(), {"attempt_ids": sorted({a for a, _, _ in changes})}).all()
    if not links:
        return
    # (user, quiz) → the latest change in this flush
    owner = {attempt_id: (user_id, quiz_id) for attempt_id, _, quiz_id, user_id, _ in links}
    latest: dict[tuple[int, int | None], tuple[str, dt.datetime]] = {}
    for attempt_id, reason, changed_at in changes:
        key = owner.get(attempt_id)
        if key is None:
            continue
        if key not in latest or changed_at > latest[key][1]:
            latest[key] = (reason, changed_at)
    unique_links = _launched_placements(
        conn, {(link_id, quiz_id, user_id, sub) for _, link_id, quiz_id, user_id, sub in links}
    )
    rows = []
    for link_id, quiz_id, user_id, sub in sorted(unique_links):
        found = latest.get((user_id, quiz_id)) if quiz_id is not None else None
        if found is None:
            continue
        reason, changed_at = found
        rows.append(
            {
                "lti_resource_link_id": link_id,
                "user_id": user_id,
                "sub": sub,
                "reason": reason,
                "changed_at": changed_at,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    if rows:
        conn.execute(insert(LtiScore), rows)
        logger.debug("queued %d lti scores", len(rows))


event.listen(Session, "after_flush", _after_flush)


@writes
def queue_resend(session: Session, score: LtiScore) -> LtiScore:
    """A new pending row for the same student and link (after fixing a permanent error)."""
    row = LtiScore(
        lti_resource_link_id=score.lti_resource_link_id,
        user_id=score.user_id,
        sub=score.sub,
        reason="resync",
        changed_at=utcnow(),
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    if score.status == "failed":
        score.status = "superseded"
    session.add(row)
    session.commit()
    return row


# --------------------------------------------------------------------------- service clients


def registration_of(row: LtiRegistration) -> Registration:
    return Registration(
        issuer=row.issuer,
        client_id=row.client_id,
        auth_login_url=row.auth_login_url,
        token_url=row.token_url,
        jwks_url=row.jwks_url,
        deployment_ids=frozenset(d.deployment_id for d in row.deployments),
        auth_audience=row.auth_audience,
        platform_family=row.platform_family,  # type: ignore[arg-type]
    )


class ServiceClients:
    """One ``ServiceClient`` per registration and signing key, per process, sharing a token
    cache (keyed by issuer, client id and scopes). Rebuilt when the active key rotates."""

    def __init__(self, key_secret: str, **client_kwargs: Any) -> None:
        self._secret = key_secret
        self._kwargs = client_kwargs
        self._tokens = MemoryTokenCache()
        self._clients: dict[tuple[int, str], ServiceClient] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, registration: LtiRegistration) -> ServiceClient:
        from grader.services import lti_keys

        key = lti_keys.signing_key(session, self._secret)
        cache_key = (registration.id, key.kid)
        with self._lock:
            client = self._clients.get(cache_key)
            if client is None:
                client = ServiceClient(
                    registration_of(registration), key, token_cache=self._tokens, **self._kwargs
                )
                self._clients[cache_key] = client
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


# --------------------------------------------------------------------------- scores


def quiz_total_points(quiz: Quiz) -> float:
    """The most a student can score on the quiz (the line item's ``scoreMaximum``)."""
    total = 0.0
    for item in quiz.items:
        total += float(sum(item.part_points.values())) if item.part_points else float(item.points)
    return round(total, 6)


def student_total(session: Session, user: User, quiz: Quiz) -> float:
    """The student's current quiz total, overrides included (the student pages' number)."""
    from grader.services import attempts

    score = attempts.quiz_scores(session, user, [quiz])[quiz.id]
    return round(max(0.0, score.earned), 6)


def last_submitted_at(session: Session, user_id: int, quiz_id: int) -> dt.datetime | None:
    """When the student last submitted a graded answer in the quiz (the real time)."""
    value = session.scalar(
        select(func.max(Submission.created_at))
        .join(Attempt, Attempt.id == Submission.attempt_id)
        .join(QuizItem, QuizItem.id == Attempt.quiz_item_id)
        .where(
            Attempt.user_id == user_id,
            QuizItem.quiz_id == quiz_id,
            Submission.status == "graded",
        )
    )
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def backoff(attempts: int) -> dt.timedelta:
    """Wait before try ``attempts + 1``: 10 s, 20 s, 40 s ... capped at one hour."""
    delay = BACKOFF_BASE * (2 ** max(0, min(attempts, 30) - 1))
    return min(delay, BACKOFF_CAP)


@dataclasses.dataclass
class OutboxReport:
    """What one :func:`send_pending` run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    superseded: int = 0
    deferred: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.retried + self.failed

    def __bool__(self) -> bool:
        return bool(self.attempted or self.superseded or self.deferred)


def _fix_score(session: Session, row: LtiScore) -> bool:
    """Fill in score, maximum, submission time and timestamp; False if nothing to send."""
    link = session.get(LtiResourceLink, row.lti_resource_link_id)
    quiz = session.get(Quiz, link.quiz_id) if link is not None and link.quiz_id else None
    user = session.get(User, row.user_id)
    if quiz is None or user is None:
        return False
    row.score_maximum = quiz_total_points(quiz)
    row.score_given = student_total(session, user, quiz)
    row.submitted_at = last_submitted_at(session, row.user_id, quiz.id)
    last = session.scalar(
        select(func.max(LtiScore.timestamp)).where(
            LtiScore.lti_resource_link_id == row.lti_resource_link_id,
            LtiScore.user_id == row.user_id,
        )
    )
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    row.timestamp = next_timestamp(row.changed_at, last)
    return True


def _claim(session: Session, now: dt.datetime, limit: int) -> tuple[list[tuple[int, int]], int]:
    """Claim due rows (see the module docstring); returns ((id, token) to send, superseded).

    The token is the row's ``attempts`` after the claim: only this claim may settle it."""
    query = (
        select(LtiScore)
        .where(LtiScore.status == "pending", LtiScore.next_attempt_at <= now)
        .order_by(LtiScore.id)
        .limit(limit)
        .execution_options(populate_existing=True)  # outcomes are written with Core UPDATEs
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = session.scalars(query).all()
    claimed: list[tuple[int, int]] = []
    superseded = 0
    for row in rows:
        # The conditional update is what makes the claim exclusive where SKIP LOCKED is absent.
        won = session.execute(
            update(LtiScore)
            .where(
                LtiScore.id == row.id,
                LtiScore.status == "pending",
                LtiScore.next_attempt_at == row.next_attempt_at,
                LtiScore.attempts == row.attempts,
            )
            .values(next_attempt_at=now + LEASE, attempts=row.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if int(won.rowcount or 0) != 1:  # type: ignore[attr-defined]
            continue
        session.refresh(row)
        newer = session.scalar(
            select(LtiScore.id)
            .where(
                LtiScore.lti_resource_link_id == row.lti_resource_link_id,
                LtiScore.user_id == row.user_id,
                LtiScore.id > row.id,
                LtiScore.status == "pending",
            )
            .limit(1)
        )
        if newer is not None:
            row.status = "superseded"
            row.attempts -= 1
            superseded += 1
            continue
        if row.timestamp is None and not _fix_score(session, row):
            row.status = "failed"
            row.last_error = "the LMS link no longer points at a quiz"
            continue
        session.flush()
        claimed.append((row.id, row.attempts))
    try:
        session.commit()
    except IntegrityError:
        # Two workers fixed the same timestamp for one student at once; try again later.
        session.rollback()
        logger.warning("lti score claim collided; will retry")
        return [], 0
    return claimed, superseded


class LineItemBusy(Exception):
    """Another worker is finding or creating this link's line item right now."""


def _error_text(exc: ServiceError) -> str:
    detail = exc.detail.strip()
    try:
        data = json.loads(detail) if detail.startswith("{") else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        errors = data.get("errors")
        inner = errors if isinstance(errors, dict) else data
        for key in ("message", "error_description", "error", "detail"):
            if isinstance(inner.get(key), str):
                detail = inner[key]
                break
    status = f"HTTP {exc.status}: " if exc.status else ""
    return (f"{status}{detail}" if detail else f"{status}{exc.message}")[:MAX_ERROR]


def ensure_line_item(
    session: Session,
    link: LtiResourceLink,
    quiz: Quiz,
    client: ServiceClient,
    now: dt.datetime,
) -> str:
    """The link's line item URL: stored, or found or created once on the platform.

    Raises:
        LineItemBusy: another worker holds the lease; try again shortly.
        PermanentServiceError / RetryableServiceError: from the platform.
    """
    item = session.scalar(select(LtiLineItem).where(LtiLineItem.lti_resource_link_id == link.id))
    if item is not None and item.url:
        return item.url
    if item is None:
        try:
            with session.begin_nested():
                item = LtiLineItem(lti_resource_link_id=link.id, created_at=now, updated_at=now)
                session.add(item)
                session.flush()
        except IntegrityError:
            item = session.scalar(
                select(LtiLineItem).where(LtiLineItem.lti_resource_link_id == link.id)
            )
            assert item is not None
        session.commit()
    won = session.execute(
        update(LtiLineItem)
        .where(
            LtiLineItem.id == item.id,
            LtiLineItem.url.is_(None),
            or_(LtiLineItem.lease_until.is_(None), LtiLineItem.lease_until < now),
        )
        .values(lease_until=now + LINE_ITEM_LEASE)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.refresh(item)
    if int(won.rowcount or 0) != 1:  # type: ignore[attr-defined]
        if item.url:
            return item.url
        raise LineItemBusy()
    context = session.get(LtiContext, link.lti_context_id)
    assert context is not None
    try:
        if not context.lineitems_url or c.SCOPE_LINEITEM not in (context.ags_scopes or []):
            raise PermanentServiceError(
                "no_ags",
                "the LMS did not grant grade passback (line items) for this course",
            )
        spec = LineItemSpec(
            score_maximum=quiz_total_points(quiz),
            label=(link.title or quiz.title)[:200] or quiz.title,
            resource_id=f"quiz-{quiz.id}",
            tag=LINE_ITEM_TAG,
        )
        found = AgsClient(client).find_or_create_line_item(
            context.lineitems_url, spec, resource_link_id=link.lms_link_id
        )
    except (ServiceError, ValueError) as exc:
        item.lease_until = None
        item.last_error = (
            _error_text(exc) if isinstance(exc, ServiceError) else str(exc)[:MAX_ERROR]
        )
        item.updated_at = now
        session.commit()
        raise
    item.url = found.id
    item.lease_until = None
    item.last_error = None
    item.updated_at = now
    session.commit()
    logger.info("lti line item ready for link %s", link.id)
    return found.id


def _landed_before(posted_before: dt.datetime | None, error: ServiceError) -> bool:
    """A 409 "not newer" to a re-send of a score whose earlier POST may have been applied.

    ``posted_before`` is the row's ``sent_at`` before this try: set only when an earlier POST
    of this row was written whole and its answer was lost (or its worker died after writing
    the marker). Our timestamps grow by whole seconds per student and link, so only that POST
    can hold this second unless the grade was changed in the LMS. A try that never sent its
    POST (connection refused, token endpoint down, a crash before the POST) or that got an
    HTTP answer leaves nothing, so a 409 after it is the LMS's grade: ``failed``, visible.
    """
    return error.status == 409 and posted_before is not None


def _mine(score_id: int, token: int) -> tuple[Any, ...]:
    return (LtiScore.id == score_id, LtiScore.status == "pending", LtiScore.attempts == token)


def _settle(session: Session, score_id: int, token: int, values: dict[str, Any]) -> bool:
    """Write a claimed row's outcome if this claim still holds it; commits."""
    done = session.execute(
        update(LtiScore)
        .where(*_mine(score_id, token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if int(getattr(done, "rowcount", 0) or 0) != 1:
        logger.warning("lti score_id=%s was taken back; its outcome is not kept", score_id)
        return False
    return True


def _send_one(
    session: Session,
    clients: ServiceClients,
    claim: tuple[int, int],
    now: dt.datetime,
    report: OutboxReport,
) -> None:
    score_id, token = claim
    row = session.get(LtiScore, score_id, populate_existing=True)
    if row is None or row.status != "pending" or row.attempts != token:
        session.commit()
        return
    link = session.get(LtiResourceLink, row.lti_resource_link_id)
    context = session.get(LtiContext, link.lti_context_id) if link is not None else None
    deployment = session.get(LtiDeployment, context.lti_deployment_id) if context else None
    registration = session.get(LtiRegistration, deployment.registration_id) if deployment else None
    quiz = session.get(Quiz, link.quiz_id) if link is not None and link.quiz_id else None
    posted_before = row.sent_at  # an earlier POST of this row that may have landed
    link_id = row.lti_resource_link_id
    posting = False
    error: ServiceError | None = None
    try:
        if link is None or quiz is None or registration is None:
            raise PermanentServiceError("gone", "the LMS link no longer points at a quiz")
        if not registration.is_active:
            raise PermanentServiceError("inactive", "the LMS registration is deactivated")
        client = clients.get(session, registration)
        url = ensure_line_item(session, link, quiz, client, now)
        assert row.timestamp is not None
        score = Score(
            user_id=row.sub,
            score_given=row.score_given,
            score_maximum=row.score_maximum,
            timestamp=row.timestamp,
            activity_progress="Submitted",
            grading_progress="FullyGraded",
            submitted_at=row.submitted_at,
        )
        client.access_token([c.SCOPE_SCORE])  # a token failure is not a POST: before the marker
        # The marker, only now that nothing but the POST is left: a worker killed from here
        # on may have posted. Every answer (or error) below settles it again.
        if posted_before is None and not _settle(session, score_id, token, {"sent_at": utcnow()}):
            return
        posting = True
        AgsClient(client).post_score(url, score)
    except LineItemBusy:
        session.rollback()
        if _settle(
            session,
            score_id,
            token,
            {"next_attempt_at": now + BUSY_RETRY, "attempts": max(0, token - 1)},
        ):
            report.deferred += 1
        return
    except ServiceError as exc:
        error = exc
    except ValueError as exc:  # a score the protocol layer refuses to build
        error = PermanentServiceError("bad_score", str(exc))
    session.rollback()
    if error is not None and _landed_before(posted_before, error):
        logger.info("lti score already delivered (409 on a re-send): score_id=%s", score_id)
        error = None
    values: dict[str, Any]
    if error is None:
        values = {"status": "sent", "sent_at": utcnow(), "last_error": None, "error_status": None}
    elif error.retryable and token < MAX_ATTEMPTS:
        wait = backoff(token)
        if error.retry_after:
            wait = max(wait, dt.timedelta(seconds=min(error.retry_after, 86400)))
        values = {
            "next_attempt_at": now + wait,
            "last_error": _error_text(error),
            "error_status": error.status,
        }
        if not (posting and error.answer_lost):  # this try's POST did not land
            values["sent_at"] = posted_before
    else:
        values = {
            "status": "failed",
            "sent_at": None,
            "last_error": _error_text(error),
            "error_status": error.status,
        }
    if not _settle(session, score_id, token, values):
        return
    if error is None:
        report.sent += 1
        logger.info("lti score sent: score_id=%s link=%s", score_id, link_id)
    elif values.get("status") == "failed":
        report.failed += 1
        logger.warning("lti score failed: score_id=%s (%s)", score_id, error.code)
    else:
        report.retried += 1
        logger.info(
            "lti score will be retried: score_id=%s attempts=%s (%s)", score_id, token, error.code
        )


def send_pending(
    session: Session,
    clients: ServiceClients,
    *,
    now: dt.datetime | None = None,
    limit: int = 50,
    concurrency: int = 1,
) -> OutboxReport:
    """Claim and send due scores once each; ``grader worker`` calls this in a loop.

    Rows are claimed ``concurrency`` at a time and each group is sent at once, a thread and
    a database session per row, so the :data:`LEASE` covers the one send it guards however
    many rows a run takes, and one slow LMS holds up at most its own rows.

    Args:
        now: the current time (tests move it forward past the backoff).
        limit: rows claimed in one run.
        concurrency: scores sent at once (sessions bound to a connection, as in tests
            that roll back, always send one at a time).
    """
    now = now or utcnow()
    report = OutboxReport()
    bind = session.get_bind()
    group = max(1, concurrency) if isinstance(bind, Engine) else 1
    pool = ThreadPoolExecutor(group, thread_name_prefix="grader-lti") if group > 1 else None
    lock = threading.Lock()

    def send(claim: tuple[int, int]) -> None:
        part = OutboxReport()
        with Session(bind, expire_on_commit=False) as own:
            _send_guarded(own, clients, claim, now, part)
        with lock:
            report.sent += part.sent
            report.retried += part.retried
            report.failed += part.failed
            report.deferred += part.deferred

    try:
        taken = 0
        while taken < limit:
            claimed, superseded = _claim(session, now, min(group, limit - taken))
            report.superseded += superseded
            taken += len(claimed) + superseded
            if not claimed and not superseded:
                break
            if pool is None:
                for claim in claimed:
                    _send_guarded(session, clients, claim, now, report)
            else:
                list(pool.map(send, claimed))
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return report


def _send_guarded(
    session: Session,
    clients: ServiceClients,
    claim: tuple[int, int],
    now: dt.datetime,
    report: OutboxReport,
) -> None:
    try:
        _send_one(session, clients, claim, now, report)
    except Exception:
        # A bug for one row must not stop the rest; the lease brings it back later.
        session.rollback()
        logger.exception("lti score crashed: score_id=%s", claim[0])
