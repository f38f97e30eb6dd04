"""Citizen messages (e-mail and SMS outbox) and the pause_expired event and notification

Revision ID: 20261202m001
Revises: 20261201n001
Create Date: 2026-12-02 01:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "20261202m001"
down_revision: str | None = "20261201n001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Native enums on PostgreSQL; SQLite stores the names as text.
        op.execute("ALTER TYPE eventkind ADD VALUE IF NOT EXISTS 'pause_expired'")
        op.execute("ALTER TYPE notificationkind ADD VALUE IF NOT EXISTS 'pause_expired'")
    op.create_table(
        "citizen_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.Enum("email", "sms", name="citizenchannel"), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name=op.f("fk_citizen_message_report_id_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_citizen_message")),
        sa.UniqueConstraint("key", name=op.f("uq_citizen_message_key")),
    )
    with op.batch_alter_table("citizen_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_citizen_message_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_citizen_message_report_id"), ["report_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("citizen_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_citizen_message_report_id"))
        batch_op.drop_index(batch_op.f("ix_citizen_message_next_attempt_at"))
    op.drop_table("citizen_message")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TYPE IF EXISTS citizenchannel")
    # PostgreSQL cannot drop an enum value: pause_expired stays in eventkind and
    # notificationkind, unused.
