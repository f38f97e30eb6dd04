"""Ratings and reopening (评价 / 重办), duplicates: report columns, figures, event kinds

The settled figures gain four counts (ratings, satisfied ratings, reopened, duplicates
declined); rows settled before them lack the duplicates already declined, so they are dropped
and every report is marked unsettled: the next settle run (nightly, or `zhaocuo settle`)
rebuilds them, and until then statistics read the reports.

Revision ID: 20261202r001
Revises: 20261202e001
Create Date: 2026-12-02 01:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261202r001"
down_revision: str | None = "20261202e001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_FIGURES = ("ratings", "satisfied_ratings", "reopened", "duplicates_declined")
# ix_report_unsettled holds every column statistics read of a report not settled yet.
UNSETTLED_COLUMNS = [
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
    "extended_at",  # 20261202e001
]
LOOP_COLUMNS = ["decline_reason", "rating", "rated_at", "reopened_at"]


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
        # ALTER TYPE … ADD VALUE runs outside the transaction block on older servers.
        with op.get_context().autocommit_block():
            for value in ("rated", "reopened"):
                op.execute(f"ALTER TYPE eventkind ADD VALUE IF NOT EXISTS '{value}'")
            op.execute("ALTER TYPE notificationkind ADD VALUE IF NOT EXISTS 'reopened'")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rating", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True)
        )
        batch_op.add_column(sa.Column("rating_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rating_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("normalized_page_url", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("page_url_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "possible_duplicate_ids", sa.JSON(), server_default=sa.text("'[]'"), nullable=False
            )
        )
        batch_op.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_report_duplicate_of_id_report"), "report", ["duplicate_of_id"], ["id"]
        )
        batch_op.create_index(
            "ix_report_duplicate_lookup",
            ["page_url_key", "site_id", "category", "received_at"],
            unique=False,
        )
        batch_op.drop_index("ix_report_unsettled")
        _unsettled_index(batch_op, UNSETTLED_COLUMNS + LOOP_COLUMNS)
    with op.batch_alter_table("settled_figures", schema=None) as batch_op:
        for name in NEW_FIGURES:
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))
    op.execute("DELETE FROM settled_figures")
    op.execute("UPDATE report SET settled = false WHERE settled")
    op.execute("UPDATE settled_state SET settled_through = NULL, settled_reports = 0")


def downgrade() -> None:
    with op.batch_alter_table("settled_figures", schema=None) as batch_op:
        for name in NEW_FIGURES:
            batch_op.drop_column(name)
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_unsettled")
        _unsettled_index(batch_op, UNSETTLED_COLUMNS)
        batch_op.drop_index("ix_report_duplicate_lookup")
        batch_op.drop_constraint(batch_op.f("fk_report_duplicate_of_id_report"), type_="foreignkey")
        for name in (
            "duplicate_of_id",
            "possible_duplicate_ids",
            "page_url_key",
            "normalized_page_url",
            "reopened_at",
            "rating_due_at",
            "rated_at",
            "rating_comment",
            "rating",
        ):
            batch_op.drop_column(name)
    # PostgreSQL cannot drop a value from an enum type; the unused values stay.
