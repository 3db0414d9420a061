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
    with op.batch_alter_table("quizzes") as batch:
        batch.add_column(
            sa.Column(
                "follow_through_credit",
                sa.Float(),
                nullable=False,
                server_default=sa.text("1.0"),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("quizzes") as batch:
        batch.drop_column("follow_through_credit")
