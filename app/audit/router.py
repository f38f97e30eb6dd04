from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime
from sqlmodel import Field, Session, SQLModel

from app.audit import service
from app.audit.models import Action, EntityKind
from app.auth import Principal, require_admin
from app.config import Settings
from app.db import RequestSession
from app.deps import get_app_settings

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])

MAX_ID = 2**31 - 1  # the columns are 32-bit integers on PostgreSQL


class HistoryEntry(SQLModel):
    id: int
    at: datetime = Field(description="when, in the business time zone with its offset")
    actor: str
    actor_token_id: int | None
    actor_holder: str
    actor_unit_id: int | None
    actor_unit_name: str | None
    entity_kind: EntityKind
    entity_id: int
    action: Action
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class HistoryPage(SQLModel):
    items: list[HistoryEntry]
    total: int
    limit: int
    offset: int


@router.get("/history", response_model=HistoryPage)
def read_history(
    entity_kind: EntityKind | None = None,
    entity_id: int | None = Query(None, ge=0, le=MAX_ID),
    actor_token_id: int | None = Query(None, ge=0, le=MAX_ID),
    since: AwareDatetime | None = Query(None, description="from this instant (included)"),
    until: AwareDatetime | None = Query(None, description="up to this instant (excluded)"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_ID),
    _: Principal = Depends(require_admin),
    settings: Settings = Depends(get_app_settings),
    session: Session = RequestSession,
) -> HistoryPage:
    """Every change to units, sites, tokens and calendars, newest first (admin)."""
    rows, total = service.list_history(
        session=session,
        entity_kind=entity_kind,
        entity_id=entity_id,
        actor_token_id=actor_token_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    items = [
        HistoryEntry.model_validate(row, update={"at": row.at.astimezone(settings.tz)})
        for row in rows
    ]
    return HistoryPage(items=items, total=total, limit=limit, offset=offset)
