"""Deadline extensions (延期申请): the owner asks, a unit above it or an admin decides.

The owner unit asks before its resolution due date for at most
`ZHAOCUO_MAX_EXTENSION_WORKDAYS` working days in total on the report's clock (a transfer or a
reopening starts a new clock, with a fresh allowance), one pending request at a time. A
supervisor of any unit above the owner, or an admin, approves or refuses it with a note.

Approval moves the resolution due date (never the first-reply date) by that many working days,
counted from the current resolution due date on the working-day calendar, and replans the
escalation ladder. The report keeps the working days granted (`extension_workdays`), so a
resume after a pause or a calendar load recomputes the same extended date.

A request still pending when the resolution due date passes changes nothing: the report is
overdue from that moment, and the request has lapsed. A lapsed request can only be refused:
approving it is a 409 (`extension_lapsed`), so no report's lateness is ever undone after the
fact, and statistics of any cut-off judge each report against the date in force then.
"""

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.auth import Principal, Role
from app.config import Settings
from app.db import isoformat_or_none
from app.directory import service as directory
from app.directory.models import Unit
from app.errors import Conflict, Forbidden, NotFound
from app.reports import service
from app.reports.clocks import end_of_local_day, local_date
from app.reports.extension_models import (
    ExtensionDecisionIn,
    ExtensionFilters,
    ExtensionIn,
    ExtensionOut,
    ExtensionRequest,
    ExtensionState,
)
from app.reports.hooks import plan_next_rung
from app.reports.models import CLOCKED_STATUSES, RUNNING_STATUSES, EventKind, Report
from app.workdays.calendar import WorkCalendar


def _granted_on_clock(*, session: Session, report: Report) -> int:
    """Working days already approved on the report's current clock."""
    total = session.exec(
        select(func.coalesce(func.sum(ExtensionRequest.workdays), 0)).where(
            ExtensionRequest.report_id == report.id,
            ExtensionRequest.clock == report.clock,
            ExtensionRequest.state == ExtensionState.approved,
        )
    ).one()
    return int(total)


def _is_lapsed(*, request: ExtensionRequest, report: Report, now: datetime) -> bool:
    """A pending request that can no longer be approved: its date passed, or its clock ended."""
    return request.state == ExtensionState.pending and (
        request.clock != report.clock
        or report.status not in CLOCKED_STATUSES
        or report.resolution_due_at is None
        or now > report.resolution_due_at
    )


def request_extension(
    *,
    session: Session,
    principal: Principal,
    report_id: int,
    extension_in: ExtensionIn,
    now: datetime,
    settings: Settings,
) -> ExtensionRequest:
    """The owner unit asks for more working days before its resolution due date."""
    report = service._get_for_update(session=session, principal=principal, report_id=report_id)
    service._require_owner(principal=principal, report=report)
    if report.status not in CLOCKED_STATUSES:
        raise Conflict(
            "这条留言已办结或不予受理，不能申请延期",
            en="a closed report cannot be extended",
            code="extension_report_closed",
        )
    if report.resolution_due_at is None or now > report.resolution_due_at:
        raise Conflict(
            "办结期限已过，不能再申请延期：延期须在办结期限届满前申请，请尽快办结",
            en="the resolution due date has passed: an extension must be asked for before it",
            code="extension_after_due",
        )
    pending = session.exec(
        select(ExtensionRequest.id).where(
            ExtensionRequest.report_id == report.id,
            ExtensionRequest.clock == report.clock,
            ExtensionRequest.state == ExtensionState.pending,
        )
    ).first()
    if pending is not None:
        raise Conflict(
            f"这条留言已有一份待审批的延期申请（编号{pending}），请等待上级单位审批",
            en=f"extension request {pending} of this report is still pending",
            code="extension_pending",
        )
    granted = _granted_on_clock(session=session, report=report)
    limit = settings.max_extension_workdays
    if granted + extension_in.workdays > limit:
        raise Conflict(
            f"每次办理期限内累计延期不得超过{limit}个工作日，已批准{granted}个工作日，"
            f"最多还可申请{max(limit - granted, 0)}个工作日",
            en=f"extensions total at most {limit} working days per clock; {granted} already "
            f"approved, at most {max(limit - granted, 0)} more",
            code="extension_limit_exceeded",
        )
    request = ExtensionRequest(
        report_id=report.id,
        clock=report.clock,
        unit_id=report.owner_unit_id,
        workdays=extension_in.workdays,
        reason=extension_in.reason,
        requested_by=principal.actor,
        requested_at=now,
        resolution_due_before=report.resolution_due_at,
    )
    session.add(request)
    session.flush()
    service.record_event(
        session=session,
        report=report,
        kind=EventKind.extension_requested,
        principal=principal,
        at=now,
        data={
            "extension_id": request.id,
            "workdays": extension_in.workdays,
            "reason": extension_in.reason,
            "resolution_due_at": isoformat_or_none(report.resolution_due_at),
        },
    )
    service._touch(session=session, report=report, now=now)
    return request


def _may_read(*, session: Session, principal: Principal, request: ExtensionRequest) -> bool:
    if principal.role == Role.admin or request.unit_id == principal.unit_id:
        return True
    return principal.role == Role.supervisor and directory.is_within(
        session=session, unit_id=request.unit_id, root_unit_id=principal.unit_id
    )


def _may_decide(*, session: Session, principal: Principal, request: ExtensionRequest) -> bool:
    """An admin, or a supervisor of a unit strictly above the one that asked."""
    if principal.role == Role.admin:
        return True
    return (
        principal.role == Role.supervisor
        and request.unit_id != principal.unit_id
        and directory.is_within(
            session=session, unit_id=request.unit_id, root_unit_id=principal.unit_id
        )
    )


def _get_for_decision(
    *, session: Session, principal: Principal, extension_id: int
) -> tuple[ExtensionRequest, Report]:
    """A pending request the caller may decide, and its report, both locked; or 404/403/409."""
    request = session.get(ExtensionRequest, extension_id)
    if request is None or not _may_read(session=session, principal=principal, request=request):
        raise NotFound(
            f"延期申请 {extension_id} 不存在或不在您的单位范围内",
            en=f"extension request {extension_id} not found",
            code="extension_not_found",
        )
    if not _may_decide(session=session, principal=principal, request=request):
        raise Forbidden(
            "延期申请须由主办单位的上级单位（上级单位令牌）或管理员审批",
            en="an extension is decided by a supervisor of a unit above the owner, or an admin",
            code="extension_decider_required",
        )
    # The report first, then the request: the order every writer of a report takes.
    report = session.get(Report, request.report_id, with_for_update=True, populate_existing=True)
    request = session.get(
        ExtensionRequest, extension_id, with_for_update=True, populate_existing=True
    )
    if request.state != ExtensionState.pending:
        raise Conflict(
            "这份延期申请已经审批过，不能再次审批",
            en=f"this extension request is already {request.state.value}",
            code="extension_already_decided",
        )
    return request, report


def _decide(
    *,
    request: ExtensionRequest,
    state: ExtensionState,
    principal: Principal,
    note: str,
    now: datetime,
) -> None:
    request.state = state
    request.decided_by = principal.actor
    request.decided_by_unit_id = principal.unit_id
    request.decided_at = now
    request.note = note


def approve(
    *,
    session: Session,
    principal: Principal,
    extension_id: int,
    decision_in: ExtensionDecisionIn,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> ExtensionRequest:
    """Approve a pending request: the resolution due date moves by its working days."""
    request, report = _get_for_decision(
        session=session, principal=principal, extension_id=extension_id
    )
    if _is_lapsed(request=request, report=report, now=now):
        raise Conflict(
            "这份延期申请已失效：留言的办结期限已过（或留言已办结、转办、重办），不能再批准，"
            "留言按原期限计为超期；如需结束这份申请，请不予批准",
            en="this request has lapsed: the resolution due date passed (or the report was "
            "closed, transferred or reopened) while it was pending; it can only be refused",
            code="extension_lapsed",
        )
    granted = _granted_on_clock(session=session, report=report)
    limit = settings.max_extension_workdays
    if granted + request.workdays > limit:
        raise Conflict(
            f"每次办理期限内累计延期不得超过{limit}个工作日，已批准{granted}个工作日",
            en=f"extensions total at most {limit} working days per clock; {granted} approved",
            code="extension_limit_exceeded",
        )
    tz = settings.tz
    before = report.resolution_due_at
    new_day = calendar.add_workdays(local_date(before, tz), request.workdays)
    report.resolution_due_at = end_of_local_day(new_day, tz)
    report.deadlines_provisional = not calendar.is_official(new_day)
    report.extension_workdays += request.workdays
    report.extended_at = now
    # A paused clock has no rung pending; the citizen's supplement replans it.
    if report.status in RUNNING_STATUSES:
        plan_next_rung(report=report, calendar=calendar, settings=settings)
    _decide(
        request=request,
        state=ExtensionState.approved,
        principal=principal,
        note=decision_in.note,
        now=now,
    )
    request.resolution_due_after = report.resolution_due_at
    session.add(request)
    service.record_event(
        session=session,
        report=report,
        kind=EventKind.extension_approved,
        principal=principal,
        at=now,
        data={
            "extension_id": request.id,
            "workdays": request.workdays,
            "note": decision_in.note,
            "resolution_due_at": [
                isoformat_or_none(before),
                isoformat_or_none(report.resolution_due_at),
            ],
        },
    )
    service._touch(session=session, report=report, now=now)
    return request


def refuse(
    *,
    session: Session,
    principal: Principal,
    extension_id: int,
    decision_in: ExtensionDecisionIn,
    now: datetime,
) -> ExtensionRequest:
    """Refuse a pending request (a lapsed one too): the due dates stay as they are."""
    request, report = _get_for_decision(
        session=session, principal=principal, extension_id=extension_id
    )
    _decide(
        request=request,
        state=ExtensionState.refused,
        principal=principal,
        note=decision_in.note,
        now=now,
    )
    session.add(request)
    service.record_event(
        session=session,
        report=report,
        kind=EventKind.extension_refused,
        principal=principal,
        at=now,
        data={"extension_id": request.id, "workdays": request.workdays, "note": decision_in.note},
    )
    service._touch(session=session, report=report, now=now)
    return request


def list_extensions(
    *, session: Session, principal: Principal, filters: ExtensionFilters, now: datetime
) -> tuple[list[ExtensionOut], int]:
    """The owner's own requests and, for supervisors, those of the units below; newest first."""
    query = (
        select(ExtensionRequest, Report, Unit.name)
        .join(Report, col(Report.id) == ExtensionRequest.report_id)
        .join(Unit, col(Unit.id) == ExtensionRequest.unit_id)
    )
    if principal.role == Role.supervisor:
        query = query.where(
            col(ExtensionRequest.unit_id).in_(directory.subtree_ids_query(principal.unit_id))
        )
    elif principal.role == Role.handler:
        query = query.where(ExtensionRequest.unit_id == principal.unit_id)
    if filters.state is not None:
        query = query.where(ExtensionRequest.state == filters.state)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(ExtensionRequest.id).desc()).limit(filters.limit).offset(filters.offset)
    ).all()
    items = [
        to_out(
            session=session,
            principal=principal,
            request=request,
            report=report,
            now=now,
            unit_name=name,
        )
        for request, report, name in rows
    ]
    return items, total


def to_out(
    *,
    session: Session,
    principal: Principal,
    request: ExtensionRequest,
    report: Report | None = None,
    now: datetime,
    unit_name: str | None = None,
) -> ExtensionOut:
    """A request as the API shows it, with whether it lapsed and whether the caller decides it."""
    report = report or session.get(Report, request.report_id)
    if unit_name is None:
        unit_name = service.unit_name(session=session, unit_id=request.unit_id) or ""
    pending = request.state == ExtensionState.pending
    return ExtensionOut.model_validate(
        request,
        update={
            "unit_name": unit_name,
            "lapsed": _is_lapsed(request=request, report=report, now=now),
            "can_decide": pending
            and _may_decide(session=session, principal=principal, request=request),
        },
    )
