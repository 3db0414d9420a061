"""LTI 1.3 tables: platform registrations, keys, launch state, link mappings, score outbox.

Kept apart from ``grader.models`` because the LTI wiring evolves on its own; imported
at the end of ``grader.models`` so every table is on one metadata.

Identity rules (../shared/LTI.md §1): a registration is (issuer, client_id), never the
issuer alone; LMS users are (registration, ``sub``); LMS courses are (deployment, context
id); placements are (context, resource link id). Secrets at rest: tool private keys are
encrypted (``grader.services.lti_keys``), login states and nonces are stored as SHA-256
hashes (the nonce itself only until its launch consumes it).
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
from sqlalchemy import true
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from grader.db import Base
from grader.models import TZDateTime
from grader.models import utcnow

PLATFORM_FAMILIES = ("generic", "canvas", "moodle", "blackboard", "brightspace")
KEY_STATES = ("next", "active", "retired")
SCORE_STATES = ("pending", "sent", "failed", "superseded")


class LtiRegistration(Base):
    """One tool registration on one platform: what an admin pastes from the LMS."""

    __tablename__ = "lti_registrations"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(2000))
    token_url: Mapped[str] = mapped_column(String(2000))
    jwks_url: Mapped[str] = mapped_column(String(2000))
    # The client-assertion audience when it is not the token URL (Brightspace).
    auth_audience: Mapped[str | None] = mapped_column(String(2000))
    platform_family: Mapped[str] = mapped_column(String(20), default="generic")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)

    deployments: Mapped[list[LtiDeployment]] = relationship(
        back_populates="registration", order_by="LtiDeployment.id", cascade="all, delete-orphan"
    )


class LtiDeployment(Base):
    """A deployment of a registration that an admin approved (unknown ones are refused)."""

    __tablename__ = "lti_deployments"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="CASCADE")
    )
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)

    registration: Mapped[LtiRegistration] = relationship(back_populates="deployments")


class LtiToolKey(Base):
    """One of our RSA signing keys: kid, encrypted private PEM, and next/active/retired."""

    __tablename__ = "lti_tool_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem_encrypted: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="next")
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    activated_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    retired_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())


class LtiLoginState(Base):
    """An OIDC login in progress: consumed once by its launch (``used_at``), then its nonce
    once (``nonce_used_at``). The plain nonce is kept only until the state is consumed."""

    __tablename__ = "lti_login_states"
    __table_args__ = (Index("ix_lti_login_states_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str | None] = mapped_column(String(128))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    target_link_uri: Mapped[str] = mapped_column(String(2000))
    deployment_id: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[dt.datetime] = mapped_column(TZDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    nonce_used_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)


class LtiUser(Base):
    """An LMS user (registration + ``sub``) mapped to our user."""

    __tablename__ = "lti_users"
    __table_args__ = (UniqueConstraint("registration_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="CASCADE")
    )
    sub: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Canvas' Test Student and the like: the platform refuses their scores.
    is_test_user: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    last_launch_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())


class LtiContext(Base):
    """An LMS course (deployment + context id) mapped to our course, with its service URLs."""

    __tablename__ = "lti_contexts"
    __table_args__ = (UniqueConstraint("lti_deployment_id", "lms_context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lti_deployment_id: Mapped[int] = mapped_column(
        ForeignKey("lti_deployments.id", ondelete="CASCADE")
    )
    lms_context_id: Mapped[str] = mapped_column(String(255))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    label: Mapped[str] = mapped_column(String(255), default="")
    lineitems_url: Mapped[str | None] = mapped_column(String(2000))
    memberships_url: Mapped[str | None] = mapped_column(String(2000))
    ags_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    roster_synced_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())

    deployment: Mapped[LtiDeployment] = relationship()


class LtiResourceLink(Base):
    """A placement in an LMS course, pointing at one of our quizzes once chosen."""

    __tablename__ = "lti_resource_links"
    __table_args__ = (UniqueConstraint("lti_context_id", "lms_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lti_context_id: Mapped[int] = mapped_column(ForeignKey("lti_contexts.id", ondelete="CASCADE"))
    lms_link_id: Mapped[str] = mapped_column(String(255))
    quiz_id: Mapped[int | None] = mapped_column(
        ForeignKey("quizzes.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)

    context: Mapped[LtiContext] = relationship()


class LtiLineItem(Base):
    """The gradebook column of one resource link: at most one row per link, so two workers
    never create two columns on the platform. ``url`` is None until it is found or created;
    ``lease_until`` says a worker is doing that right now."""

    __tablename__ = "lti_line_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    lti_resource_link_id: Mapped[int] = mapped_column(
        ForeignKey("lti_resource_links.id", ondelete="CASCADE"), unique=True
    )
    url: Mapped[str | None] = mapped_column(String(2000))
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)


class LtiScore(Base):
    """Outbox: one row per score change of one student on one resource link.

    Written in the transaction that changed the grade. The worker fixes ``score_given``,
    ``timestamp`` (strictly increasing per link and user) when it claims the row, sends it
    once, and keeps a permanent error (``failed``, ``last_error``) for the instructor.
    An older pending row of the same student and link is ``superseded`` by a newer one.
    """

    __tablename__ = "lti_scores"
    __table_args__ = (
        UniqueConstraint("lti_resource_link_id", "user_id", "timestamp"),
        Index("ix_lti_scores_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_lti_scores_lti_resource_link_id_user_id", "lti_resource_link_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lti_resource_link_id: Mapped[int] = mapped_column(
        ForeignKey("lti_resource_links.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(20))  # submission|override|regrade|resync
    changed_at: Mapped[dt.datetime] = mapped_column(TZDateTime())
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    score_given: Mapped[float | None] = mapped_column(Float)
    score_maximum: Mapped[float | None] = mapped_column(Float)
    timestamp: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    submitted_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    error_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    # ``sent``: when the platform accepted it. ``pending``: a POST of this row went out and its
    # answer never came (it may have been applied), so a later 409 "not newer" is our own
    # score (see ``grader.services.lti_outbox``). None otherwise.
    sent_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())


class LtiLaunch(Base):
    """A validated launch, kept briefly so later pages (the deep-linking picker, the quiz
    chooser) act for it. Found by the hash of a random handle bound to the signed-in user."""

    __tablename__ = "lti_launches"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="CASCADE")
    )
    lti_deployment_id: Mapped[int] = mapped_column(
        ForeignKey("lti_deployments.id", ondelete="CASCADE")
    )
    message_type: Mapped[str] = mapped_column(String(40))
    lti_context_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_contexts.id", ondelete="CASCADE")
    )
    lti_resource_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_resource_links.id", ondelete="CASCADE")
    )
    course_role: Mapped[str | None] = mapped_column(String(20))
    # Deep linking settings (only for LtiDeepLinkingRequest).
    deep_linking: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(TZDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(TZDateTime())


class LtiPendingDeployment(Base):
    """A deployment id a registered platform launched with before an admin approved it.

    The launch was signed by the platform, so the id is genuine; it is refused (the student is
    told the course's set-up is incomplete) and listed on ``/lti/admin`` for one-click
    approval. Approving moves it to ``lti_deployments`` and deletes this row.
    """

    __tablename__ = "lti_pending_deployments"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="CASCADE")
    )
    deployment_id: Mapped[str] = mapped_column(String(255))
    launches: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)


class LtiLinkUser(Base):
    """A student launched from this placement: scores go to the placements each student
    launched from (``grader.services.lti_outbox``), not to every link of the quiz."""

    __tablename__ = "lti_link_users"
    __table_args__ = (UniqueConstraint("lti_resource_link_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lti_resource_link_id: Mapped[int] = mapped_column(
        ForeignKey("lti_resource_links.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    first_launch_at: Mapped[dt.datetime] = mapped_column(TZDateTime(), default=utcnow)
