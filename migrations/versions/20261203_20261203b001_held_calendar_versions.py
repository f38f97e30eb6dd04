"""The calendar's shared lock and its loaded versions in one call (PostgreSQL)

Revision ID: 20261203b001
Revises: 20261203a001
Create Date: 2026-12-03 12:20:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "20261203b001"
down_revision: str | None = "20261203a001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# VOLATILE: the SELECT takes its snapshot after the lock is granted, so a calendar load that
# committed while this waited is seen. One statement holding both (a lock in the select list)
# would read a snapshot taken before the wait.
HOLD_CALENDAR_VERSIONS = """
CREATE FUNCTION zhaocuo_hold_calendar_versions(lock_key bigint)
RETURNS TABLE (year integer, version varchar)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(lock_key);
    RETURN QUERY SELECT calendar_year.year, calendar_year.version FROM calendar_year;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(HOLD_CALENDAR_VERSIONS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION zhaocuo_hold_calendar_versions(bigint)")
