"""Screenshots with their report; reports kept off the public list of answers

Revision ID: 20261202f001
Revises: 20261202p001
Create Date: 2026-12-02 01:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261202f001"
down_revision: str | None = "20261202p001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE eventkind ADD VALUE IF NOT EXISTS 'publication_changed'")
    op.create_table(
        "report_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_report_attachment_report_id_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_attachment")),
        sa.UniqueConstraint("report_id", "n", name=op.f("uq_report_attachment_report_id")),
    )
    op.create_index(
        op.f("ix_report_attachment_report_id"), "report_attachment", ["report_id"], unique=False
    )
    with op.batch_alter_table("report") as batch:
        batch.add_column(
            sa.Column("published", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.create_index(
        "ix_report_answered", "report", ["status", "published", "closed_at", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_report_answered", table_name="report")
    with op.batch_alter_table("report") as batch:
        batch.drop_column("published")
    op.drop_index(op.f("ix_report_attachment_report_id"), table_name="report_attachment")
    op.drop_table("report_attachment")
    # PostgreSQL cannot drop a value from an enum type: publication_changed stays in eventkind.
