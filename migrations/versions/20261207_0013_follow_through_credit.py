"""Follow-through credit: a quiz's credit for an answer right given the student's own
wrong earlier values (``consistent``). Existing quizzes get full credit (1.0).

Revision ID: 0013
Revises: 0007
Create Date: 2026-12-07 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch: on SQLite a batch would copy and drop ``quizzes``,
    # and with foreign keys on, dropping it deletes every quiz item (ON DELETE CASCADE).
    op.add_column(
        "quizzes",
        sa.Column(
            "follow_through_credit",
            sa.Float(),
            nullable=False,
            server_default=sa.text("1.0"),
        ),
    )


def downgrade() -> None:
    op.drop_column("quizzes", "follow_through_credit")  # not a batch either (see upgrade)
