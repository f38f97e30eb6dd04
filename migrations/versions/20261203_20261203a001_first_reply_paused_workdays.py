"""Report: the working days paused that moved the first-reply due (its own count)

Revision ID: 20261203a001
Revises: 20261202r001
Create Date: 2026-12-03 00:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203a001"
down_revision: str | None = "20261202r001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report") as batch_op:
        batch_op.add_column(
            sa.Column(
                "first_reply_paused_workdays",
                sa.Integer(),
                server_default=sa.text("0"),
                nullable=False,
            )
        )
    # Due dates stored before this revision moved both clocks by every pause: the same count
    # keeps the calendar recompute from moving them on its own.
    op.execute("UPDATE report SET first_reply_paused_workdays = paused_workdays")


def downgrade() -> None:
    with op.batch_alter_table("report") as batch_op:
        batch_op.drop_column("first_reply_paused_workdays")
