"""Database models (SQLAlchemy 2, typed ``Mapped[...]``).

Tables are plural snake case, classes singular. Business rules live in
``grader.services``; models hold columns, relationships and tiny helpers. Stored JSON
(variants, feedback) carries its own ``schema_version`` inside the document.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import false
from sqlalchemy import text
from sqlalchemy import true
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from grader.db import Base
from grader.model_types import TZDateTime
from grader.model_types import utcnow

__all__ = ["TZDateTime", "utcnow"]  # re-exported: older imports name grader.models


ROLES = ("admin", "instructor", "student")
COURSE_ROLES = ("instructor", "ta", "student")
SUBMISSION_STATES = ("pending", "graded", "invalid", "error")


class User(Base):
    """A person. ``role`` is the site-wide role; course roles live on Enrolment."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="student")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)

    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="user")


class UserSession(Base):
    """One sign-in (a browser's cookie session), so it can be ended from the server.

    The cookie carries a random token; the row's id is the token's SHA-256 hex digest,
    never the token (as API tokens are stored). Signing out deletes the row, so a copy of
    the cookie is dead after it; deleting every row of a user signs them out everywhere.
    A row past ``expires_at`` is refused and deleted at that user's next sign-in.
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), index=True)
    user_agent: Mapped[str | None] = mapped_column(String(200))  # trimmed, for a device list
    ip: Mapped[str | None] = mapped_column(String(45))  # the address that signed in


class LoginFailure(Base):
    """One wrong password, for the login limit all workers share.

    ``key_hash`` is the SHA-256 hex digest of the limiter's (email, client address) key:
    neither is stored in the clear, though someone with the table could confirm a guessed
    pair. Rows older than the limit's window (15 minutes) are pruned.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_hash_created_at", "key_hash", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow, index=True)


ACCOUNT_LINK_PURPOSES = ("invite", "reset")


class AccountLink(Base):
    """A single-use, expiring link that lets a person set their password.

    ``invite``: an account made from a roster or "Add a person" (no password yet);
    ``reset``: forgot-password, or an instructor's "send a new link". Only the token's
    SHA-256 is stored (like sign-ins and API tokens): the link is shown or mailed once.
    A link is spent when used; issuing a new one for the same person spends the old ones.
    """

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(TZDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    join_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)

    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="course")
    quizzes: Mapped[list[Quiz]] = relationship(back_populates="course")


class Enrolment(Base):
    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="student")
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)

    course: Mapped[Course] = relationship(back_populates="enrolments")
    user: Mapped[User] = relationship(back_populates="enrolments")


class Exercise(Base):
    """An exercise by its stable id (``slug``); its text lives in versions.

    Built-in exercises have no course; an instructor's belong to their course.
    """

    __tablename__ = "exercises"
    __table_args__ = (UniqueConstraint("slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120))
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    is_builtin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)

    versions: Mapped[list[ExerciseVersion]] = relationship(
        back_populates="exercise", order_by="ExerciseVersion.version"
    )


class ExerciseVersion(Base):
    """One saved text of an exercise. Never edited: saving makes a new version."""

    __tablename__ = "exercise_versions"
    __table_args__ = (UniqueConstraint("exercise_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    source_yaml: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)

    exercise: Mapped[Exercise] = relationship(back_populates="versions")


class Quiz(Base):
    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    due_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    # None means unlimited tries per part. No column default: a default would silently
    # turn an explicit None ("unlimited") into a number on insert.
    attempts_allowed: Mapped[int | None] = mapped_column(Integer)
    # Fraction of the part's credit lost per graded try after the first.
    penalty_per_retry: Mapped[float] = mapped_column(Float, default=0.0)
    #: credit (0..1) of a follow-through (``consistent``) answer: right given the
    #: student's own wrong earlier values
    follow_through_credit: Mapped[float] = mapped_column(
        Float, default=1.0, server_default=text("1.0")
    )
    # {"mode": "none"|"penalty"|"refuse", "penalty": 0.2, "until": iso-datetime}
    late_policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # "after_due" | "always" | "after_last_try" | "never"
    show_solutions: Mapped[str] = mapped_column(String(20), default="after_due")
    is_published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)

    course: Mapped[Course] = relationship(back_populates="quizzes")
    items: Mapped[list[QuizItem]] = relationship(
        back_populates="quiz", order_by="QuizItem.position", cascade="all, delete-orphan"
    )


class QuizItem(Base):
    """An exercise placed in a quiz with its points."""

    __tablename__ = "quiz_items"
    __table_args__ = (UniqueConstraint("quiz_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id", ondelete="RESTRICT"))
    points: Mapped[float] = mapped_column(Float, default=1.0)
    # Optional {part_id: points}; otherwise the exercise's own part points, scaled.
    part_points: Mapped[dict[str, float] | None] = mapped_column(JSON)

    quiz: Mapped[Quiz] = relationship(back_populates="items")
    exercise: Mapped[Exercise] = relationship()


class Attempt(Base):
    """A student's variant of one quiz item: the seed and the answer key, stored.

    The variant (with its key) is stored, not recomputed, so a later change to the
    exercise or the engine never changes a grade already given.
    """

    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("quiz_item_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_item_id: Mapped[int] = mapped_column(ForeignKey("quiz_items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    exercise_version: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    variant: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)

    quiz_item: Mapped[QuizItem] = relationship()
    user: Mapped[User] = relationship()
    submissions: Mapped[list[Submission]] = relationship(
        back_populates="attempt", order_by="Submission.id"
    )


class Submission(Base):
    """One answer to one part, stored before it is graded.

    ``status`` is ``pending`` until grading fills in the verdict; a crash in between
    leaves a pending row that ``grader regrade --pending`` finishes.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("attempt_id", "idempotency_key"),
        Index("ix_submissions_attempt_id_part_id", "attempt_id", "part_id"),
        Index("ix_submissions_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    part_id: Mapped[str] = mapped_column(String(64))
    raw_answer: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    verdict: Mapped[str | None] = mapped_column(
        String(20)
    )  # correct|incorrect|invalid|undetermined
    raw_score: Mapped[float | None] = mapped_column(Float)  # credit before penalties, 0..1
    score: Mapped[float | None] = mapped_column(Float)  # credit after penalties, 0..1
    note: Mapped[str | None] = mapped_column(String(120))  # machine-readable diagnosis code
    feedback: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    counts_as_try: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    is_late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    graded_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    # Background grading of a row left pending (grader.services.pending): each claim counts
    # a try (the count is also the claim's token); ``grade_after`` is the claim's lease or
    # the backoff after a failure; ``grading_error`` the last failure, kept on ``error``.
    grading_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    grade_after: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    grading_error: Mapped[str | None] = mapped_column(Text)

    attempt: Mapped[Attempt] = relationship(back_populates="submissions")


class ApiToken(Base):
    """A bearer token for the JSON API, stored as a SHA-256 hash (never the token)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in the UI to tell tokens apart
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())


class GradeOverride(Base):
    """An instructor's manual score for one part of one attempt, with the reason.

    The newest override for (attempt, part) replaces the computed score; older ones
    stay as the audit trail.
    """

    __tablename__ = "grade_overrides"
    __table_args__ = (Index("ix_grade_overrides_attempt_id_part_id", "attempt_id", "part_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    part_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)  # credit 0..1, like Submission.score
    reason: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)


JOB_STATES = ("queued", "running", "done", "failed")


class Job(Base):
    """Background work (bulk regrades, roster syncs) as a row workers claim.

    On PostgreSQL workers claim with ``SELECT ... FOR UPDATE SKIP LOCKED``, so several
    app servers can share one database without a queue server.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    # Claims so far (the current claim's token: finishing checks it) and the running
    # claim's last sign of life; a running job silent too long is queued again.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())


class WorkerHeartbeat(Base):
    """One background worker process (``grader worker`` or a server's embedded thread),
    stamped every few seconds so operations can see which are alive; a clean stop deletes
    its row, and rows silent for a day are pruned."""

    __tablename__ = "worker_heartbeats"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # host:pid:random
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))  # "worker" | "embedded"
    started_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    beat_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow, index=True)


class Webhook(Base):
    """A course's subscription to signed grade events (HMAC-SHA256 over the body)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # The shared signing secret has to be readable to sign; it is never shown again.
    secret: Mapped[str] = mapped_column(String(128))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)


class WebhookDelivery(Base):
    """One event to POST to one webhook: an outbox row, retried with backoff until delivered."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())


# LTI tables live in their own module; importing it here registers them on Base.metadata.
from grader import models_lti  # noqa: E402, F401
