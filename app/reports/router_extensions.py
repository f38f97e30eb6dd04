"""Deadline extensions (延期申请): the owner asks, a unit above it or an admin decides."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlmodel import Session

from app.auth import Principal, get_principal
from app.config import Settings
from app.contract import MAX_ID, Page, error_responses
from app.db import RequestSession
from app.deps import get_app_settings, get_now, get_work_calendar
from app.reports import extensions
from app.reports.extension_models import (
    ExtensionDecisionIn,
    ExtensionFilters,
    ExtensionIn,
    ExtensionOut,
)
from app.reports.router_unit import ACTION_ERRORS, ReportId
from app.workdays.calendar import WorkCalendar

router = APIRouter(prefix="/api/v1/unit", tags=["unit"])

ExtensionId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="the extension request's id (from the list)")
]


@router.post(
    "/reports/{report_id}/extension",
    status_code=201,
    response_model=ExtensionOut,
    summary="申请延期办结 (ask for more time before the resolution is due)",
    responses=ACTION_ERRORS,
)
def request_extension(
    report_id: ReportId,
    extension_in: ExtensionIn,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    settings: Settings = Depends(get_app_settings),
) -> ExtensionOut:
    """The owner unit asks, before its resolution due date, for more working days (延期申请).

    At most `ZHAOCUO_MAX_EXTENSION_WORKDAYS` (10) in total per clock, one pending request at a
    time; a supervisor of a unit above the owner, or an admin, decides it.
    """
    request = extensions.request_extension(
        session=session,
        principal=principal,
        report_id=report_id,
        extension_in=extension_in,
        now=now,
        settings=settings,
    )
    return extensions.to_out(session=session, principal=principal, request=request, now=now)


@router.get(
    "/extensions",
    response_model=Page[ExtensionOut],
    summary="延期申请列表 (extension requests: one's own and those to decide)",
    responses=error_responses(401, 422),
)
def list_extensions(
    filters: ExtensionFilters = Query(),
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
) -> Page[ExtensionOut]:
    """The caller's unit's own requests; a supervisor's also those of every unit below it
    (`can_decide` marks those it may decide); an admin's every request. Newest first."""
    items, total = extensions.list_extensions(
        session=session, principal=principal, filters=filters, now=now
    )
    return Page[ExtensionOut](items=items, total=total, limit=filters.limit, offset=filters.offset)


@router.post(
    "/extensions/{extension_id}/approve",
    response_model=ExtensionOut,
    summary="批准延期 (approve: the resolution due date moves)",
    responses=ACTION_ERRORS,
)
def approve_extension(
    extension_id: ExtensionId,
    decision_in: ExtensionDecisionIn,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    calendar: WorkCalendar = Depends(get_work_calendar),
    settings: Settings = Depends(get_app_settings),
) -> ExtensionOut:
    """Approve a pending request: the resolution due date moves by its working days, counted
    from the current one; the first-reply date stays. A lapsed request (its date passed while
    it was pending) cannot be approved: 409 `extension_lapsed`."""
    request = extensions.approve(
        session=session,
        principal=principal,
        extension_id=extension_id,
        decision_in=decision_in,
        now=now,
        calendar=calendar,
        settings=settings,
    )
    return extensions.to_out(session=session, principal=principal, request=request, now=now)


@router.post(
    "/extensions/{extension_id}/refuse",
    response_model=ExtensionOut,
    summary="不予批准延期 (refuse: the due dates stay)",
    responses=ACTION_ERRORS,
)
def refuse_extension(
    extension_id: ExtensionId,
    decision_in: ExtensionDecisionIn,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
) -> ExtensionOut:
    """Refuse a pending request, lapsed or not; the report's due dates do not change."""
    request = extensions.refuse(
        session=session,
        principal=principal,
        extension_id=extension_id,
        decision_in=decision_in,
        now=now,
    )
    return extensions.to_out(session=session, principal=principal, request=request, now=now)
