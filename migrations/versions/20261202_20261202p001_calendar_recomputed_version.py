"""Calendar year: the version open reports' due dates were recomputed to (pending recompute)

Revision ID: 20261202p001
Revises: 20261202m001
Create Date: 2026-12-02 01:05:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261202p001"
down_revision: str | None = "20261202m001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calendar_year") as batch_op:
        batch_op.add_column(
            sa.Column(
                "recomputed_version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
            )
        )
    # Years loaded before this revision were recomputed inside their load.
    op.execute("UPDATE calendar_year SET recomputed_version = version")


def downgrade() -> None:
    with op.batch_alter_table("calendar_year") as batch_op:
        batch_op.drop_column("recomputed_version")
