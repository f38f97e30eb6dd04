"""GET /api/v1/units/directory: any unit finds a unit to transfer a report to."""

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session

from app.auth import Principal, get_principal
from app.contract import Page, error_responses
from app.db import RequestSession
from app.directory.lookup import UnitDirectoryEntry, UnitLookupFilters, find_units

router = APIRouter(prefix="/api/v1/units", tags=["directory"])


@router.get(
    "/directory",
    response_model=Page[UnitDirectoryEntry],
    summary="查找单位 (find a unit to transfer to)",
    responses=error_responses(401, 422),
)
def unit_directory(
    filters: UnitLookupFilters = Query(),
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
) -> Page[UnitDirectoryEntry]:
    """Every unit whose name contains `q`, by name: its id, name and parent's name only (no
    contact details, no webhook), for any unit token: a misrouted report may belong anywhere."""
    items, total = find_units(session=session, filters=filters)
    return Page[UnitDirectoryEntry](
        items=items, total=total, limit=filters.limit, offset=filters.offset
    )
