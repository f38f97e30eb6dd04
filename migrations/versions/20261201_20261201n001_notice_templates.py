"""Notice templates: per issuing unit, what its notices say besides the figures

Revision ID: 20261201n001
Revises: 20261201c001
Create Date: 2026-12-01 22:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261201n001"
down_revision: str | None = "20261201c001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_template",
        sa.Column("issuer_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("document_prefix", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("recipients", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("contact_phone", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("rectification_workdays", sa.Integer(), nullable=False),
        sa.Column("report_to", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_notice_template_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_notice_template")),
    )


def downgrade() -> None:
    op.drop_table("notice_template")
