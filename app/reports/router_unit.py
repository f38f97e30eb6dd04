from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlmodel import Session

from app.auth import Principal, get_principal, require_admin
from app.config import Settings
from app.contract import MAX_ID, Page, error_responses
from app.db import RequestSession
from app.deps import get_app_settings, get_now, get_work_calendar
from app.reports import service
from app.reports.schemas import (
    DeclineIn,
    InboxFilters,
    InfoRequestIn,
    ReplyIn,
    ReportDetail,
    ReportSummary,
    ResolveIn,
    RouteIn,
    TransferIn,
)
from app.workdays.calendar import WorkCalendar

router = APIRouter(prefix="/api/v1/unit/reports", tags=["unit"])


ReportId = Annotated[int, Path(ge=1, le=MAX_ID, description="the report's id (from the inbox)")]
# A unit action: its token, the report within its reach, its state, its payload.
ACTION_ERRORS = error_responses(401, 403, 404, 409, 413, 422)


@router.get(
    "",
    response_model=Page[ReportSummary],
    summary="收件箱 (the inbox)",
    responses=error_responses(401, 404, 422),
)
def list_reports(
    filters: InboxFilters = Query(),
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    calendar: WorkCalendar = Depends(get_work_calendar),
    settings: Settings = Depends(get_app_settings),
) -> Page[ReportSummary]:
    """The inbox: a handler's own unit, a supervisor's subtree, everything for an admin."""
    rows, total = service.inbox(
        session=session,
        principal=principal,
        filters=filters,
        now=now,
        calendar=calendar,
        settings=settings,
    )
    return Page[ReportSummary](
        items=[ReportSummary.model_validate(r) for r in rows],
        total=total,
        limit=filters.limit,
        offset=filters.offset,
    )


@router.get(
    "/{report_id}",
    response_model=ReportDetail,
    summary="一条留言及其全部记录 (one report and its history)",
    responses=error_responses(401, 404, 422),
)
def read_report(
    report_id: ReportId,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
) -> ReportDetail:
    """One report with the citizen's contact details and its whole history."""
    report = service.get_for_unit(session=session, principal=principal, report_id=report_id)
    return service.unit_view(session=session, principal=principal, report=report)


@router.post(
    "/{report_id}/reply",
    response_model=ReportDetail,
    summary="首次答复 (give the first reply)",
    responses=ACTION_ERRORS,
)
def reply(
    report_id: ReportId,
    reply_in: ReplyIn,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    calendar: WorkCalendar = Depends(get_work_calendar),
    settings: Settings = Depends(get_app_settings),
) -> ReportDetail:
    """Give the first reply (首次答复)."""
    report = service.reply(
        session=session,
        principal=principal,
        report_id=report_id,
        reply_in=reply_in,
        now=now,
        calendar=calendar,
        settings=settings,
    )
    return service.unit_view(session=session, principal=principal, report=report)


@router.post(
    "/{report_id}/resolve",
    response_model=ReportDetail,
    summary="办结 (resolve with a verdict)",
    responses=ACTION_ERRORS,
)
def resolve(
    report_id: ReportId,
    resolve_in: ResolveIn,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    calendar: WorkCalendar = Depends(get_work_calendar),
    settings: Settings = Depends(get_app_settings),
) -> ReportDetail:
    """Close the report (办结) as confirmed (属实, fixed) or not confirmed (不属实)."""
    report = service.resolve(
        session=session,
        principal=principal,
        report_id=report_id,
        resolve_in=resolve_in,
        now=now,
        calendar=calendar,
        settings=settings,
    )
    return service.unit_view(session=session, principal=principal, report=report)


@router.post(
    "/{report_id}/decline",
    response_model=ReportDetail,
    summary="不予受理 (decline)",
    responses=ACTION_ERRORS,
)
def decline(
    report_id: ReportId,
    decline_in: DeclineIn,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    calendar: WorkCalendar = Depends(get_work_calendar),
    settings: Settings = Depends(get_app_settings),
) -> ReportDetail:
    """Decline the report (不予受理): duplicate, out of scope, too little information, other."""
    report = service.decline(
        session=session,
        principal=principal,
        report_id=report_id,
        decline_in=decline_in,
        now=now,
        calendar=calendar,
        settings=settings,
    )
    return service.unit_view(session=session, principal=principal, report=report)


@router.post(
    "/{report_id}/transfer",
    response_model=ReportDetail,
    summary="转办 (transfer to another unit)",
    responses=ACTION_ERRORS,
)
def transfer(
    report_id: ReportId,
    transfer_in: TransferIn,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    calendar: WorkCalendar = Depends(get_work_calendar),
    settings: Settings = Depends(get_app_settings),
) -> ReportDetail:
    """Transfer (转办) a misrouted report; the receiving unit's clocks start afresh."""
    report = service.transfer(
        session=session,
        principal=principal,
        report_id=report_id,
        transfer_in=transfer_in,
        now=now,
        calendar=calendar,
        settings=settings,
    )
    return service.unit_view(session=session, principal=principal, report=report)


@router.post(
    "/{report_id}/request-info",
    response_model=ReportDetail,
    summary="请网民补充信息 (ask the citizen; the clocks pause)",
    responses=ACTION_ERRORS,
)
def request_info(
    report_id: ReportId,
    info_in: InfoRequestIn,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    settings: Settings = Depends(get_app_settings),
) -> ReportDetail:
    """Ask the citizen for more information; the clocks pause until they answer or for at
    most ZHAOCUO_PAUSE_MAX_WORKDAYS working days; at most ZHAOCUO_MAX_INFO_REQUESTS questions
    per clock (another is 409 info_request_limit_reached)."""
    report = service.request_info(
        session=session,
        principal=principal,
        report_id=report_id,
        info_in=info_in,
        now=now,
        settings=settings,
    )
    return service.unit_view(session=session, principal=principal, report=report)


@router.post(
    "/{report_id}/route",
    response_model=ReportDetail,
    summary="分办未匹配的留言 (route an unrouted report, admin)",
    responses=ACTION_ERRORS,
)
def route(
    report_id: ReportId,
    route_in: RouteIn,
    principal: Principal = Depends(require_admin),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    calendar: WorkCalendar = Depends(get_work_calendar),
    settings: Settings = Depends(get_app_settings),
) -> ReportDetail:
    """Route an unrouted report to a site's owner unit or to a unit (admin)."""
    report = service.route(
        session=session,
        principal=principal,
        report_id=report_id,
        route_in=route_in,
        now=now,
        calendar=calendar,
        settings=settings,
    )
    return service.unit_view(session=session, principal=principal, report=report)
