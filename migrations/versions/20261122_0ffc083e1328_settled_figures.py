"""Settled figures: closed reports added into per-unit rows per month and year

Revision ID: 0ffc083e1328
Revises: 4944e5827b47
Create Date: 2026-11-22 16:50:47.352409

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0ffc083e1328"
down_revision: str | None = "4944e5827b47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "settled_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("settled_through", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_reports", sa.Integer(), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settled_state")),
    )
    op.create_table(
        "settled_figures",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("declined", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("first_replies_due", sa.Integer(), nullable=False),
        sa.Column("first_replies_in_time", sa.Integer(), nullable=False),
        sa.Column("late_first_replies", sa.Integer(), nullable=False),
        sa.Column("handling_workdays_total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_settled_figures_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("unit_id", "starts_on", "months", name=op.f("pk_settled_figures")),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("settled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            "ix_report_unsettled",
            [
                "received_at",
                "owner_unit_id",
                "status",
                "verdict",
                "closed_at",
                "first_responded_at",
                "first_reply_due_at",
                "resolution_due_at",
                "paused_at",
                "handling_workdays",
            ],
            unique=False,
            postgresql_where=sa.text("settled = false"),
            sqlite_where=sa.text("settled = 0"),
        )


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_unsettled")
        batch_op.drop_column("settled")

    op.drop_table("settled_figures")
    op.drop_table("settled_state")
