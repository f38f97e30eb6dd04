"""Scheduler heartbeat and job outcome: what /readyz and /metrics read about scheduled work

Revision ID: 20261201o001
Revises: 20261201a001
Create Date: 2026-12-01 21:56:19.300358

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261201o001"
down_revision: str | None = "20261201a001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_outcome",
        sa.Column("job", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_duration_seconds", sa.Float(), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_reason", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_job_outcome")),
    )
    op.create_table(
        "scheduler_heartbeat",
        sa.Column("instance", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_job", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("leader", sa.Boolean(), nullable=False),
        sa.Column("last_result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("instance", name=op.f("pk_scheduler_heartbeat")),
    )
    with op.batch_alter_table("scheduler_heartbeat", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scheduler_heartbeat_last_run_at"), ["last_run_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("scheduler_heartbeat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduler_heartbeat_last_run_at"))

    op.drop_table("scheduler_heartbeat")
    op.drop_table("job_outcome")
