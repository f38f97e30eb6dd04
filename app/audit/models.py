import getpass
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, event
from sqlmodel import Field, SQLModel

from app.db import UtcDateTime


class EntityKind(StrEnum):
    unit = "unit"
    site = "site"
    token = "token"
    calendar = "calendar"  # entity_id is the year
    report = "report"  # an admin routing or transferring a report


class Action(StrEnum):
    created = "created"
    updated = "updated"
    revoked = "revoked"
    loaded = "loaded"
    routed = "routed"
    transferred = "transferred"


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a token (its id, holder and unit) or an operator's command."""

    label: str  # "token:<id>", "cli" or "system"
    token_id: int | None = None
    holder: str = ""
    unit_id: int | None = None
    unit_name: str | None = None


# Code that is no operator's action (test fixtures, internal set-up) records as "system".
SYSTEM_ACTOR = Actor(label="system")


def cli_actor() -> Actor:
    """An operator at the server's command line; the holder is the account that ran it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in some containers
        user = ""
    return Actor(label="cli", holder=user)


class AdminHistory(SQLModel, table=True):
    """Append-only: a row per change, written in the transaction of the change itself."""

    __tablename__ = "admin_history"
    __table_args__ = (Index("ix_admin_history_entity", "entity_kind", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    actor: str = Field(max_length=40, description="token:<id>, cli or system")
    actor_token_id: int | None = Field(default=None, index=True)
    actor_holder: str = Field(default="", max_length=100)
    actor_unit_id: int | None = None
    actor_unit_name: str | None = Field(default=None, max_length=200)
    # Plain text rather than database enums: a new kind of entity needs no migration.
    entity_kind: str = Field(max_length=20, description="an EntityKind")
    entity_id: int
    action: str = Field(max_length=20, description="an Action")
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class HistoryIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AdminHistory, "before_update")
@event.listens_for(AdminHistory, "before_delete")
def _refuse_rewriting_history(_mapper, _connection, entry: AdminHistory) -> None:
    raise HistoryIsAppendOnly(f"admin history entry {entry.id} cannot be changed or deleted")
