"""Account links: single-use, expiring set-password links (invitations and resets).

Accounts made from a roster had no password and no way to get one. A link's token is
stored only as its SHA-256; the table starts empty.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-07 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import grader.models

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("created_at", grader.models.TZDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", grader.models.TZDateTime(timezone=True), nullable=False),
        sa.Column("used_at", grader.models.TZDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_account_links_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_links_token_hash")),
    )
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_links_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("account_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_links_user_id"))
    op.drop_table("account_links")
