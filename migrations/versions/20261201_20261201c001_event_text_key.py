"""Event history: the written text of every event under one key, "text"

Replies, resolutions and declines kept it as "answer", requests for information as "question",
transfers as "note"; the API now calls all of them "text" (CHANGELOG.md, 0.2.0).

Revision ID: 20261201c001
Revises: 20261201o001
Create Date: 2026-12-01 22:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201c001"
down_revision: str | None = "20261201o001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KEYS = {
    "replied": "answer",
    "resolved": "answer",
    "declined": "answer",
    "info_requested": "question",
    "transferred": "note",
}
BATCH = 1000

# `kind` is a native enum on PostgreSQL: compared as text, so one statement serves both backends.
events = sa.table(
    "report_event",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("data", sa.JSON),
)


def _rename(mapping: dict[str, tuple[str, str]]) -> None:
    """Rename a key of each event's data, kind by kind, in batches by id."""
    bind = op.get_bind()
    for kind, (old, new) in mapping.items():
        last_id = 0
        while True:
            rows = bind.execute(
                sa.select(events.c.id, events.c.data)
                .where(sa.cast(events.c.kind, sa.String) == kind, events.c.id > last_id)
                .order_by(events.c.id)
                .limit(BATCH)
            ).all()
            if not rows:
                break
            for event_id, data in rows:
                if data and old in data:
                    data = {(new if key == old else key): value for key, value in data.items()}
                    bind.execute(events.update().where(events.c.id == event_id).values(data=data))
            last_id = rows[-1][0]


def upgrade() -> None:
    _rename({kind: (old, "text") for kind, old in OLD_KEYS.items()})


def downgrade() -> None:
    _rename({kind: ("text", old) for kind, old in OLD_KEYS.items()})
