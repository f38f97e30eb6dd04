"""Deadline extensions (延期申请) and routing the citizen can trust

Revision ID: 20261202e001
Revises: 20261202f001
Create Date: 2026-12-02 01:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261202e001"
down_revision: str | None = "20261202f001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_EVENT_KINDS = ("extension_requested", "extension_approved", "extension_refused")
UNSETTLED_BEFORE = [
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
]


def _unsettled_index(batch_op, columns: list[str]) -> None:
    batch_op.create_index(
        "ix_report_unsettled",
        columns,
        unique=False,
        postgresql_where=sa.text("settled = false"),
        sqlite_where=sa.text("settled = 0"),
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # ADD VALUE cannot run inside a transaction block on older PostgreSQL versions.
        with op.get_context().autocommit_block():
            for kind in NEW_EVENT_KINDS:
                op.execute(f"ALTER TYPE eventkind ADD VALUE IF NOT EXISTS '{kind}'")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "extension_workdays", sa.Integer(), server_default=sa.text("0"), nullable=False
            )
        )
        batch_op.add_column(sa.Column("extended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("site_closed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "page_host_site_code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True
            )
        )
        batch_op.drop_index("ix_report_unsettled")
        _unsettled_index(batch_op, [*UNSETTLED_BEFORE, "extended_at"])
    with op.batch_alter_table("settled_figures", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("extended", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
    op.create_table(
        "extension_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("clock", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("workdays", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("pending", "approved", "refused", name="extensionstate"),
            nullable=False,
        ),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolution_due_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolution_due_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("decided_by_unit_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_unit_id"],
            ["unit.id"],
            name=op.f("fk_extension_request_decided_by_unit_id_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_extension_request_report_id_report")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_extension_request_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extension_request")),
    )
    with op.batch_alter_table("extension_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_extension_request_report_clock", ["report_id", "clock"], unique=False
        )
        batch_op.create_index("ix_extension_request_unit_state", ["unit_id", "state"], unique=False)


def downgrade() -> None:
    op.drop_table("extension_request")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TYPE IF EXISTS extensionstate")
    with op.batch_alter_table("settled_figures", schema=None) as batch_op:
        batch_op.drop_column("extended")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_unsettled")
        _unsettled_index(batch_op, UNSETTLED_BEFORE)
        batch_op.drop_column("page_host_site_code")
        batch_op.drop_column("site_closed")
        batch_op.drop_column("extended_at")
        batch_op.drop_column("extension_workdays")
    # PostgreSQL cannot drop values from an enum type: the event kinds stay (unused).
