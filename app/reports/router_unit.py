from datetime import datetime

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session

from app.auth import Principal, get_principal, require_admin
from app.config import Settings
from app.db import RequestSession
from app.deps import get_app_settings, get_now, get_work_calendar
from app.fields import Id
from app.reports import service
from app.reports.schemas import (
    DeclineIn,
    InboxFilters,
    InboxPage,
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


@router.get("", response_model=InboxPage)
def list_reports(
    filters: InboxFilters = Query(),
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    calendar: WorkCalendar = Depends(get_work_calendar),
    settings: Settings = Depends(get_app_settings),
) -> InboxPage:
    """The inbox: a handler's own unit, a supervisor's subtree, everything for an admin."""
    rows, total = service.inbox(
        session=session,
        principal=principal,
        filters=filters,
        now=now,
        calendar=calendar,
        settings=settings,
    )
    return InboxPage(
        items=[ReportSummary.model_validate(r) for r in rows],
        total=total,
        limit=filters.limit,
        offset=filters.offset,
    )


@router.get("/{report_id}", response_model=ReportDetail)
def read_report(
    report_id: Id,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
) -> ReportDetail:
    """One report with the citizen's contact details and its whole history."""
    report = service.get_for_unit(session=session, principal=principal, report_id=report_id)
    return service.unit_view(session=session, principal=principal, report=report)


@router.post("/{report_id}/reply", response_model=ReportDetail)
def reply(
    report_id: Id,
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


@router.post("/{report_id}/resolve", response_model=ReportDetail)
def resolve(
    report_id: Id,
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


@router.post("/{report_id}/decline", response_model=ReportDetail)
def decline(
    report_id: Id,
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


@router.post("/{report_id}/transfer", response_model=ReportDetail)
def transfer(
    report_id: Id,
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


@router.post("/{report_id}/request-info", response_model=ReportDetail)
def request_info(
    report_id: Id,
    info_in: InfoRequestIn,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
) -> ReportDetail:
    """Ask the citizen for more information; the clocks pause until they answer."""
    report = service.request_info(
        session=session, principal=principal, report_id=report_id, info_in=info_in, now=now
    )
    return service.unit_view(session=session, principal=principal, report=report)


@router.post("/{report_id}/route", response_model=ReportDetail)
def route(
    report_id: Id,
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
