"""Finding a unit to transfer to: any unit token may look units up by name (no contact data)."""

from pydantic import ConfigDict
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel, col, select

from app.contract import DEFAULT_LIMIT, MAX_LIMIT
from app.directory.models import UNIT_NAME_MAX, Unit
from app.directory.service import count_and_page
from app.fields import Offset, SingleLineText


class UnitLookupFilters(SQLModel):
    q: SingleLineText(UNIT_NAME_MAX) | None = Field(
        default=None, description="a name or part of one, e.g. 教育局; empty: every unit"
    )
    limit: int = Field(
        default=DEFAULT_LIMIT,
        ge=1,
        le=MAX_LIMIT,
        description="page size, 50 by default, at most 500",
    )
    offset: Offset = Field(default=0, description="items to skip: 0 for the first page")


class UnitDirectoryEntry(SQLModel):
    """A unit as any unit sees it when choosing where to transfer a report."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="the unit's id, for to_unit_id of a transfer")
    name: str = Field(description="the unit's name")
    parent_name: str | None = Field(description="the name of the unit that supervises it")


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_units(
    *, session: Session, filters: UnitLookupFilters
) -> tuple[list[UnitDirectoryEntry], int]:
    """Units whose name contains the text, by name, with their parents' names."""
    parent = aliased(Unit)
    query = (
        select(Unit.id, Unit.name, parent.name)
        .outerjoin(parent, col(parent.id) == Unit.parent_id)
        .order_by(Unit.name, Unit.id)
    )
    text = (filters.q or "").strip()
    if text:
        query = query.where(col(Unit.name).like(_like_pattern(text), escape="\\"))
    rows, total = count_and_page(
        session=session, query=query, limit=filters.limit, offset=filters.offset
    )
    entries = [
        UnitDirectoryEntry(id=unit_id, name=name, parent_name=parent_name)
        for unit_id, name, parent_name in rows
    ]
    return entries, total
