"""Claims that are checked, failures that back off, and workers that say they are alive.

Pending submissions get a try count (the claim's token), a lease/backoff time and the last
grading error, so workers never grade one row twice and an ungradable answer ends as
``error`` after a bounded number of tries. Jobs get a claim count and a heartbeat, so a
regrade whose worker died is queued again. ``worker_heartbeats`` holds one row per live
worker process for operations (heartbeat age on /metrics).

Revision ID: 0008
Revises: 8905a3f9f272
Create Date: 2026-12-07 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import grader.models

revision: str = "0008"
down_revision: str | None = "8905a3f9f272"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("started_at", grader.models.TZDateTime(timezone=True), nullable=False),
        sa.Column("beat_at", grader.models.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_heartbeats")),
    )
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_heartbeats_beat_at"), ["beat_at"], unique=False)
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("grading_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("grade_after", grader.models.TZDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("grading_error", sa.Text(), nullable=True))
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("heartbeat_at", grader.models.TZDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("attempts")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("grading_error")
        batch_op.drop_column("grade_after")
        batch_op.drop_column("grading_attempts")
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_heartbeats_beat_at"))
    op.drop_table("worker_heartbeats")
