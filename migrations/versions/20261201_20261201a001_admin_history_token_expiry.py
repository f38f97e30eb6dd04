"""Admin history of directory, token and calendar changes; token holder and expiry

Revision ID: 20261201a001
Revises: 0ffc083e1328
Create Date: 2026-12-01 22:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261201a001"
down_revision: str | None = "0ffc083e1328"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("actor_token_id", sa.Integer(), nullable=True),
        sa.Column("actor_holder", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("actor_unit_id", sa.Integer(), nullable=True),
        sa.Column("actor_unit_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("entity_kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_history")),
    )
    with op.batch_alter_table("admin_history", schema=None) as batch_op:
        batch_op.create_index("ix_admin_history_entity", ["entity_kind", "entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_admin_history_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_admin_history_actor_token_id"), ["actor_token_id"], unique=False
        )

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "holder",
                sqlmodel.sql.sqltypes.AutoString(length=100),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("holder")
    with op.batch_alter_table("admin_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_history_actor_token_id"))
        batch_op.drop_index(batch_op.f("ix_admin_history_at"))
        batch_op.drop_index("ix_admin_history_entity")
    op.drop_table("admin_history")
