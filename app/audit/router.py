from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator
from sqlmodel import Field, Session, SQLModel

from app.audit import service
from app.audit.models import Action, EntityKind
from app.auth import Principal, require_admin
from app.contract import (
    DEFAULT_LIMIT,
    LimitQuery,
    LocalDateTime,
    OffsetQuery,
    Page,
    describe_enum,
    error_responses,
)
from app.db import RequestSession
from app.fields import ID_MAX, IsoDateTime

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])

describe_enum(
    EntityKind,
    {
        EntityKind.unit: "单位",
        EntityKind.site: "网站",
        EntityKind.token: "令牌",
        EntityKind.calendar: "工作日历（编号为年份）",
        EntityKind.report: "留言（管理员分办、转办）",
    },
)
describe_enum(
    Action,
    {
        Action.created: "新建",
        Action.updated: "修改",
        Action.revoked: "吊销",
        Action.loaded: "载入",
        Action.routed: "分办",
        Action.transferred: "转办",
    },
)


def _with_offset(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("must carry its offset, e.g. 2026-12-04T10:00:00+08:00")
    return instant


# Strict ISO 8601 with its offset: a bare date or a naive instant would be ambiguous.
Instant = Annotated[IsoDateTime, AfterValidator(_with_offset)]


class HistoryEntry(SQLModel):
    """One change, as it was made: who, when, what, and the object before and after."""

    id: int = Field(description="the entry's id")
    at: LocalDateTime = Field(description="when, in the business time zone with its offset")
    actor: str = Field(description="token:<id>, cli (an operator's command) or system")
    actor_token_id: int | None = Field(description="the token that made the change, if any")
    actor_holder: str = Field(description="the token's holder, or the operator's account")
    actor_unit_id: int | None = Field(description="the unit the token acts for")
    actor_unit_name: str | None = Field(description="that unit's name at the time")
    entity_kind: EntityKind = Field(description="what kind of object changed")
    entity_id: int = Field(description="its id (the year, for a calendar)")
    action: Action = Field(description="what was done to it")
    before: dict[str, Any] | None = Field(description="the object before; null when created")
    after: dict[str, Any] | None = Field(description="the object after")


@router.get(
    "/history",
    response_model=Page[HistoryEntry],
    summary="管理操作记录 (the admin history)",
    responses=error_responses(401, 403, 422),
)
def read_history(
    entity_kind: EntityKind | None = Query(None, description="only this kind of object"),
    entity_id: int | None = Query(None, ge=0, le=ID_MAX, description="only this object's id"),
    actor_token_id: int | None = Query(
        None, ge=0, le=ID_MAX, description="only changes made with this token"
    ),
    since: Instant | None = Query(None, description="from this instant (included)"),
    until: Instant | None = Query(None, description="up to this instant (excluded)"),
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
    _: Principal = Depends(require_admin),
    session: Session = RequestSession,
) -> Page[HistoryEntry]:
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
    items = [HistoryEntry.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)
