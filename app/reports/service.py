"""The report lifecycle: intake, routing, the unit workflow and its event history."""

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, insert
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.audit.models import Action, EntityKind
from app.auth import Principal, Role
from app.config import Settings
from app.contract import local_instant_text
from app.db import row_object, utcnow
from app.directory import routing
from app.directory import service as directory
from app.directory.models import Site, Unit
from app.directory.routing import RoutedSite
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.reports import duplicates, screenshots
from app.reports.attachments import PreparedImage
from app.reports.clocks import (
    compute_deadlines,
    end_of_local_day,
    handling_workdays,
    local_date,
    paused_workdays_between,
    start_of_local_day,
)
from app.reports.hooks import clear_next_rung, notify_new_report, on_event, plan_next_rung
from app.reports.models import (
    CATEGORY_LABELS,
    CLOCKED_STATUSES,
    PUBLIC_EVENT_KINDS,
    RUNNING_STATUSES,
    STATUS_LABELS,
    Category,
    EventKind,
    Report,
    ReportEvent,
    ReportStatus,
)
from app.reports.rating_window import open_rating_window, rating_open
from app.reports.schemas import (
    DeclineIn,
    DuplicateOriginal,
    InboxFilters,
    InfoRequestIn,
    PossibleDuplicate,
    PublicEvent,
    ReplyIn,
    ReportCreate,
    ReportDetail,
    ReportEventOut,
    ReportPublic,
    ReportReceipt,
    ResolveIn,
    RouteIn,
    TransferIn,
)
from app.statements import DirectStatement
from app.workdays.calendar import WorkCalendar

# Crockford-style alphabet without 0/O, 1/I/L: codes are read out over the phone.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 16  # about 79 bits: unguessable

# What _require_status refuses, in the words of the Chinese error message.
ACTION_LABELS = {
    "reply to": "答复",
    "resolve": "办结",
    "decline": "不予受理",
    "ask about": "请网民补充信息",
    "transfer": "转办",
    "route": "分办",
}

SYSTEM_ACTOR = "system"
SITE_CLOSED_NOTICE = "该网站已关停，您的留言已转交其主办单位办理。"
CITIZEN_ACTOR = "citizen"


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def record_event(
    *,
    session: Session,
    report: Report,
    kind: EventKind,
    at: datetime,
    actor: str | None = None,
    principal: Principal | None = None,
    data: dict[str, Any] | None = None,
    settings: Settings | None = None,
) -> ReportEvent:
    """Append an event by a unit's `principal`, or by another `actor`, to a report's history.

    The citizen is told of it (through the on_event hook) when its kind is one they hear of;
    `settings` are the request's or job's (the process's when not given).
    """
    values = {
        "report_id": report.id,
        "kind": kind,
        "actor": principal.actor if principal else actor,
        "actor_unit_id": principal.unit_id if principal else None,
        "at": at,
        "data": data or {},
    }
    # Written at once, not at the next flush: an event is never changed afterwards, and the
    # citizen's message (on_event) needs its id.
    event_id = _INSERT_EVENT.scalar(session.connection(), values)
    event = row_object(ReportEvent, {"id": event_id, **values})
    on_event(session=session, report=report, event=event, settings=settings)
    return event


_INSERT_EVENT = DirectStatement(insert(ReportEvent.__table__).returning(ReportEvent.__table__.c.id))


def apply_deadlines(*, report: Report, calendar: WorkCalendar, settings: Settings) -> None:
    """Set a report's due dates from its current clock and the working days it was paused."""
    deadlines = compute_deadlines(
        calendar=calendar,
        received_at=report.assigned_at,
        tz=settings.tz,
        first_reply_workdays=settings.first_reply_workdays,
        resolution_workdays=settings.resolution_workdays,
        paused_workdays=report.paused_workdays,
        first_reply_paused_workdays=report.first_reply_paused_workdays,
        extension_workdays=report.extension_workdays,
    )
    report.first_reply_due_at = deadlines.first_reply_due_at
    report.resolution_due_at = deadlines.resolution_due_at
    report.deadlines_provisional = deadlines.provisional
    plan_next_rung(report=report, calendar=calendar, settings=settings)


def _start_clock(
    *, report: Report, unit_id: int, now: datetime, calendar: WorkCalendar, settings: Settings
) -> None:
    """Give a report to a unit: a new clock with fresh deadlines and no response yet."""
    report.owner_unit_id = unit_id
    report.status = ReportStatus.assigned
    report.assigned_at = now
    report.clock += 1
    report.first_responded_at = None
    report.first_replied_at = None
    report.first_reply = None
    report.paused_at = None
    report.paused_workdays = 0
    report.first_reply_paused_workdays = 0
    report.status_before_pause = None
    # Extensions belong to a clock: the new one starts with none (app.reports.extensions).
    report.extension_workdays = 0
    report.extended_at = None
    apply_deadlines(report=report, calendar=calendar, settings=settings)


def _touch(*, session: Session, report: Report, now: datetime) -> None:
    report.updated_at = now
    session.add(report)
    session.flush()


def submit(
    *,
    session: Session,
    report_in: ReportCreate,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
    attachments: Sequence[PreparedImage] = (),
) -> Report:
    """Take a citizen's report and its screenshots; route it by site code, then by page host."""
    report, _site = _submit(
        session=session,
        report_in=report_in,
        now=now,
        calendar=calendar,
        settings=settings,
        attachments=attachments,
    )
    return session.get_one(Report, report.id)


def submit_with_receipt(
    *,
    session: Session,
    report_in: ReportCreate,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
    attachments: Sequence[PreparedImage] = (),
) -> tuple[Report, ReportReceipt]:
    """submit, and the citizen's receipt, from the site and owner unit read once for both.

    The report returned is the one written, outside the session: read it again to change it.
    """
    report, site = _submit(
        session=session,
        report_in=report_in,
        now=now,
        calendar=calendar,
        settings=settings,
        attachments=attachments,
    )
    return report, _receipt(report=report, owner_unit_name=site.owner_name if site else None)


def _submit(
    *,
    session: Session,
    report_in: ReportCreate,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
    attachments: Sequence[PreparedImage],
) -> tuple[Report, RoutedSite | None]:
    """The report stored, and the site it went to with its owner (None while unrouted).

    The hot path of the public API: the report is built as an object for the rules that set
    its clock, then written with one INSERT, the session's unit of work left out of it.
    """
    match = routing.match_site(
        session=session, site_code=report_in.site_code, page_url=report_in.page_url
    )
    site = match.site
    report = row_object(
        Report,
        _NEW_REPORT
        | dict(
            tracking_code=new_tracking_code(),
            site_id=site.id if site else None,
            site_code=report_in.site_code or (site.site_code if site else None),
            category=int(report_in.category),
            page_url=report_in.page_url,
            description=report_in.description,
            citizen_name=report_in.name,
            citizen_phone=report_in.phone,
            citizen_email=str(report_in.email) if report_in.email else None,
            status=ReportStatus.unrouted,
            site_closed=match.closed,
            page_host_site_code=match.host_site_code,
            received_at=now,
            created_at=now,
            updated_at=now,
            possible_duplicate_ids=[],
        ),
    )
    if site is not None:
        _start_clock(
            report=report, unit_id=site.owner_unit_id, now=now, calendar=calendar, settings=settings
        )
    duplicates.record_possible_duplicates(
        session=session, report=report, now=now, settings=settings
    )
    values = {column: getattr(report, column) for column in _REPORT_COLUMNS}
    report.id = _INSERT_REPORT.scalar(session.connection(), values)
    screenshots.store(session=session, report_id=report.id, images=attachments, now=now)
    record_event(
        session=session,
        settings=settings,
        report=report,
        kind=EventKind.submitted,
        actor=CITIZEN_ACTOR,
        at=now,
        data={"owner_unit_id": report.owner_unit_id, "site_id": report.site_id},
    )
    if report.owner_unit_id is not None:
        notify_new_report(
            session=session,
            report=report,
            now=now,
            calendar=calendar,
            settings=settings,
            routed=site,
        )
    return report, site


# A new report's columns as the model defaults them; _submit gives the others.
_NEW_REPORT = {
    name: field.default
    for name, field in Report.model_fields.items()
    if not field.is_required() and field.default_factory is None
}
_REPORT_COLUMNS = [column.key for column in Report.__table__.columns if column.key != "id"]
_INSERT_REPORT = DirectStatement(insert(Report.__table__).returning(Report.__table__.c.id))


def get_by_tracking_code(
    *, session: Session, tracking_code: str, for_update: bool = False
) -> Report:
    """A report by tracking code, or 404; `for_update` locks its row for this transaction."""
    query = select(Report).where(Report.tracking_code == tracking_code.strip().upper())
    if for_update:
        # As in _get_for_update: the state checked next is the one this transaction writes over.
        query = query.with_for_update().execution_options(populate_existing=True)
    report = session.exec(query).first()
    if report is None:
        raise NotFound(
            "没有留言使用这个查询码，请与提交时的回执核对",
            en="no report has this tracking code; check it against your receipt",
            code="report_not_found",
        )
    return report


def unit_name(*, session: Session, unit_id: int | None) -> str | None:
    """A unit's name, or None for no unit."""
    if unit_id is None:
        return None
    unit = session.get(Unit, unit_id)
    return unit.name if unit else None


def receipt(*, session: Session, report: Report) -> ReportReceipt:
    """What a citizen gets back on submitting a report: its tracking code and due dates."""
    return _receipt(
        report=report, owner_unit_name=unit_name(session=session, unit_id=report.owner_unit_id)
    )


def _receipt(*, report: Report, owner_unit_name: str | None) -> ReportReceipt:
    return ReportReceipt(
        tracking_code=report.tracking_code,
        status=report.status,
        owner_unit_name=owner_unit_name,
        received_at=report.received_at,
        first_reply_due_at=report.first_reply_due_at,
        resolution_due_at=report.resolution_due_at,
        deadlines_provisional=report.deadlines_provisional,
        site_closed=report.site_closed,
        site_notice=SITE_CLOSED_NOTICE if report.site_closed else None,
    )


def events_of(*, session: Session, report_id: int) -> list[ReportEvent]:
    """A report's history, oldest first."""
    query = select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id)
    return list(session.exec(query).all())


def _public_event(*, session: Session, event: ReportEvent) -> PublicEvent:
    data = event.data
    text: str | None = None
    public: dict[str, Any] = {}
    match event.kind:
        case EventKind.replied | EventKind.info_requested | EventKind.supplemented:
            text = data.get("text")
        case EventKind.resolved:
            text = data.get("text")
            public = {"verdict": data.get("verdict")}
        case EventKind.declined:
            text = data.get("text")
            public = {"reason": data.get("reason")}
        case EventKind.extension_approved:
            # The new date and the days granted; the supervisor's note stays internal.
            due = (data.get("resolution_due_at") or [None, None])[-1]
            public = {
                "workdays": data.get("workdays"),
                "resolution_due_at": local_instant_text(datetime.fromisoformat(due))
                if due
                else None,
            }
        case EventKind.rated:
            text = data.get("text")
            public = {"rating": data.get("rating")}
        case EventKind.reopened:
            text = data.get("text")
            public = {"unit": unit_name(session=session, unit_id=data.get("to_unit_id"))}
        case EventKind.transferred | EventKind.routed:
            # Internal notes stay internal; the citizen learns who holds the report now.
            public = {"unit": unit_name(session=session, unit_id=data.get("to_unit_id"))}
    return PublicEvent(kind=event.kind, at=event.at, text=text, data=public)


def public_view(*, session: Session, report: Report, now: datetime | None = None) -> ReportPublic:
    """What the holder of a tracking code may see: status, answers, history, rating; no contact."""
    site = session.get(Site, report.site_id) if report.site_id else None
    events = events_of(session=session, report_id=report.id)
    question = None
    if report.status == ReportStatus.awaiting_citizen:
        asked = [e for e in events if e.kind == EventKind.info_requested]
        question = asked[-1].data.get("text") if asked else None
    return ReportPublic(
        tracking_code=report.tracking_code,
        status=report.status,
        category=Category(report.category),
        category_label=CATEGORY_LABELS[Category(report.category)],
        site_code=report.site_code,
        site_name=site.name if site else None,
        page_url=report.page_url,
        description=report.description,
        owner_unit_name=unit_name(session=session, unit_id=report.owner_unit_id),
        received_at=report.received_at,
        first_reply_due_at=report.first_reply_due_at,
        resolution_due_at=report.resolution_due_at,
        deadlines_provisional=report.deadlines_provisional,
        verdict=report.verdict,
        decline_reason=report.decline_reason,
        first_reply=report.first_reply,
        final_answer=report.final_answer,
        question=question,
        attachment_count=screenshots.count(session=session, report_id=report.id),
        events=[
            _public_event(session=session, event=e) for e in events if e.kind in PUBLIC_EVENT_KINDS
        ],
        **_rating_and_original(session=session, report=report, now=now or utcnow()),
    )


def _rating_and_original(*, session: Session, report: Report, now: datetime) -> dict[str, Any]:
    """The public view's rating fields, and a declined duplicate's original (answers only)."""
    can_rate = rating_open(report=report, now=now)
    original = duplicates.original_of(session=session, report=report)
    return {
        "rating": report.rating,
        "rating_comment": report.rating_comment,
        "rated_at": report.rated_at,
        "rating_open": can_rate,
        "rating_open_until": report.rating_due_at if can_rate else None,
        "reopened_at": report.reopened_at,
        "original": (
            DuplicateOriginal(
                status=original.status,
                verdict=original.verdict,
                first_reply=original.first_reply,
                final_answer=original.final_answer,
            )
            if original is not None
            else None
        ),
    }


def _end_pause(*, report: Report, now: datetime, calendar: WorkCalendar, settings: Settings) -> int:
    """End a report's pause: its clock moves by the working days paused, which are returned.

    A pause counts at most `pause_max_workdays`: past them it has ended by itself, whether the
    job that says so (app.reports.pauses) has run yet or not. It moves the first-reply due only
    if it began while the first reply was owed and not yet due: otherwise a reply already late
    would turn in time, and one already given could not be late any more.
    """
    paused = paused_workdays_between(
        calendar=calendar, paused_at=report.paused_at, resumed_at=now, tz=settings.tz
    )
    paused = min(paused, settings.pause_max_workdays)
    report.paused_workdays += paused
    if report.first_responded_at is None and report.paused_at <= report.first_reply_due_at:
        report.first_reply_paused_workdays += paused
    report.paused_at = None
    report.status_before_pause = None
    apply_deadlines(report=report, calendar=calendar, settings=settings)
    return paused


def supplement(
    *,
    session: Session,
    tracking_code: str,
    text: str,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> Report:
    """The citizen answers a request for information; the clocks resume, moved by the pause."""
    # Locked, and the state checked under the lock: a resolve, decline or transfer committed
    # meanwhile wins, and this supplement is refused rather than reopening or re-clocking it.
    report = get_by_tracking_code(session=session, tracking_code=tracking_code, for_update=True)
    if report.status != ReportStatus.awaiting_citizen:
        raise Conflict(
            "这条留言目前不需要您补充信息",
            en="this report is not waiting for information from you",
            code="report_not_awaiting_citizen",
        )
    report.status = report.status_before_pause or ReportStatus.assigned
    paused = _end_pause(report=report, now=now, calendar=calendar, settings=settings)
    record_event(
        session=session,
        settings=settings,
        report=report,
        kind=EventKind.supplemented,
        actor=CITIZEN_ACTOR,
        at=now,
        data={"text": text, "paused_workdays": paused},
    )
    _touch(session=session, report=report, now=now)
    return report


# --- Unit side -------------------------------------------------------------------------


def _visible(*, session: Session, principal: Principal, report: Report) -> bool:
    if principal.role == Role.admin:
        return True
    if report.owner_unit_id is None:
        return False
    if principal.role == Role.handler:
        return report.owner_unit_id == principal.unit_id
    return directory.is_within(
        session=session, unit_id=report.owner_unit_id, root_unit_id=principal.unit_id
    )


def _require_visible(
    *, session: Session, principal: Principal, report_id: int, report: Report | None
) -> Report:
    """The report if the caller may see it; another unit's is 404, its existence not leaked."""
    if report is None or not _visible(session=session, principal=principal, report=report):
        raise NotFound(
            f"留言 {report_id} 不存在或不在您的单位范围内",
            en=f"report {report_id} not found",
            code="report_not_found",
        )
    return report


def get_for_unit(*, session: Session, principal: Principal, report_id: int) -> Report:
    """A report the caller may see, or 404."""
    report = session.get(Report, report_id)
    return _require_visible(
        session=session, principal=principal, report_id=report_id, report=report
    )


def _get_for_update(*, session: Session, principal: Principal, report_id: int) -> Report:
    """A report the caller may see, locked for this transaction, or 404."""
    # Lock the row on PostgreSQL so two handlers cannot answer at once; SQLite locks the file.
    # populate_existing: a copy already in the session is overwritten by the locked row.
    report = session.get(Report, report_id, with_for_update=True, populate_existing=True)
    return _require_visible(
        session=session, principal=principal, report_id=report_id, report=report
    )


def _can_see_contact(*, session: Session, principal: Principal, report: Report) -> bool:
    """Contact details and screenshots stay with the owner unit and its supervisors."""
    return report.owner_unit_id is not None and directory.is_within(
        session=session, unit_id=report.owner_unit_id, root_unit_id=principal.unit_id
    )


def unit_view(*, session: Session, principal: Principal, report: Report) -> ReportDetail:
    """A report as a unit that may see it sees it: history; contact, screenshots if entitled."""
    events = events_of(session=session, report_id=report.id)
    update: dict[str, Any] = {
        "events": [ReportEventOut.model_validate(e) for e in events],
        "attachments": screenshots.infos(session=session, report_id=report.id),
        "possible_duplicates": [
            PossibleDuplicate(id=other.id, status=other.status, received_at=other.received_at)
            for other in duplicates.visible_duplicates(session=session, report=report)
        ],
    }
    if not _can_see_contact(session=session, principal=principal, report=report):
        update |= {"citizen_name": None, "citizen_phone": None, "citizen_email": None}
        update["attachments"] = []  # screenshots too stay with the owner unit and above
    return ReportDetail.model_validate(report, update=update)


def _require_owner(*, principal: Principal, report: Report) -> None:
    if report.owner_unit_id != principal.unit_id:
        raise Forbidden(
            "只有主办单位才能答复自己的留言；上级单位可以将其转办",
            en="only the owner unit answers its reports; a supervisor can transfer it instead",
            code="owner_unit_required",
        )


def _require_status(report: Report, allowed: tuple[ReportStatus, ...], action: str) -> None:
    if report.status not in allowed:
        raise Conflict(
            f"这条留言当前状态为“{STATUS_LABELS[report.status]}”，不能{ACTION_LABELS[action]}",
            en=f"cannot {action} a report that is {report.status.value}",
            code="report_state_conflict",
        )


def _mark_responded(report: Report, now: datetime) -> None:
    if report.first_responded_at is None:
        report.first_responded_at = now


def _close(*, report: Report, now: datetime, calendar: WorkCalendar, settings: Settings) -> None:
    if report.status == ReportStatus.awaiting_citizen:
        # Closed during a pause: judged against the due dates the pause moved, as on a resume.
        _end_pause(report=report, now=now, calendar=calendar, settings=settings)
    _mark_responded(report, now)
    report.closed_at = now
    open_rating_window(report=report, now=now, calendar=calendar, settings=settings)
    report.handling_workdays = handling_workdays(
        calendar=calendar,
        received_at=report.assigned_at,
        closed_at=now,
        tz=settings.tz,
        paused_workdays=report.paused_workdays,
    )
    clear_next_rung(report=report)


def reply(
    *,
    session: Session,
    principal: Principal,
    report_id: int,
    reply_in: ReplyIn,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> Report:
    """Give the first reply, which the citizen sees; the reminder and 催办 no longer apply."""
    report = _get_for_update(session=session, principal=principal, report_id=report_id)
    _require_owner(principal=principal, report=report)
    _require_status(report, (ReportStatus.assigned,), "reply to")
    report.status = ReportStatus.replied
    report.first_reply = reply_in.text
    report.first_replied_at = now
    _mark_responded(report, now)
    plan_next_rung(report=report, calendar=calendar, settings=settings)
    record_event(
        session=session,
        settings=settings,
        report=report,
        kind=EventKind.replied,
        principal=principal,
        at=now,
        data={"text": reply_in.text},
    )
    _touch(session=session, report=report, now=now)
    return report


def resolve(
    *,
    session: Session,
    principal: Principal,
    report_id: int,
    resolve_in: ResolveIn,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> Report:
    """Close a report with a verdict (属实 or 不属实) and the final answer."""
    report = _get_for_update(session=session, principal=principal, report_id=report_id)
    _require_owner(principal=principal, report=report)
    _require_status(report, CLOCKED_STATUSES, "resolve")
    _close(report=report, now=now, calendar=calendar, settings=settings)
    report.status = ReportStatus.resolved
    report.verdict = resolve_in.verdict
    report.final_answer = resolve_in.text
    record_event(
        session=session,
        settings=settings,
        report=report,
        kind=EventKind.resolved,
        principal=principal,
        at=now,
        data={"verdict": resolve_in.verdict.value, "text": resolve_in.text},
    )
    _touch(session=session, report=report, now=now)
    return report


def decline(
    *,
    session: Session,
    principal: Principal,
    report_id: int,
    decline_in: DeclineIn,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> Report:
    """Do not take a report up (不予受理), with the reason and an answer for the citizen."""
    # A bad payload is 422 whatever the report's state, before the row is locked.
    duplicates.check_decline_payload(reason=decline_in.reason, duplicate_of=decline_in.duplicate_of)
    report = _get_for_update(session=session, principal=principal, report_id=report_id)
    _require_owner(principal=principal, report=report)
    _require_status(report, CLOCKED_STATUSES, "decline")
    data: dict[str, Any] = {"reason": decline_in.reason.value, "text": decline_in.text}
    if decline_in.duplicate_of is not None:
        original = duplicates.resolve_original(
            session=session, report=report, duplicate_of=decline_in.duplicate_of
        )
        report.duplicate_of_id = original.id
        data["duplicate_of"] = original.id
    _close(report=report, now=now, calendar=calendar, settings=settings)
    report.status = ReportStatus.declined
    report.decline_reason = decline_in.reason
    report.final_answer = decline_in.text
    record_event(
        session=session,
        settings=settings,
        report=report,
        kind=EventKind.declined,
        principal=principal,
        at=now,
        data=data,
    )
    _touch(session=session, report=report, now=now)
    return report


def info_requests_on_clock(*, session: Session, report: Report) -> int:
    """The questions asked on a report's current clock (a transfer or reopening starts one)."""
    asked = session.exec(
        select(ReportEvent).where(
            ReportEvent.report_id == report.id, ReportEvent.kind == EventKind.info_requested
        )
    ).all()
    # Questions asked before the clock was recorded on them count from the clock's start.
    return sum(
        1
        for event in asked
        if event.data.get("clock", report.clock if event.at >= report.assigned_at else None)
        == report.clock
    )


def request_info(
    *,
    session: Session,
    principal: Principal,
    report_id: int,
    info_in: InfoRequestIn,
    now: datetime,
    settings: Settings,
) -> Report:
    """Ask the citizen for more information; the clocks stop until they answer or the pause
    runs out; at most `max_info_requests` questions per clock."""
    report = _get_for_update(session=session, principal=principal, report_id=report_id)
    _require_owner(principal=principal, report=report)
    _require_status(report, RUNNING_STATUSES, "ask about")
    asked = info_requests_on_clock(session=session, report=report)
    if asked >= settings.max_info_requests:
        raise Conflict(
            f"本轮办理已请网民补充信息 {asked} 次，达到上限 {settings.max_info_requests} 次，"
            "不能再次提问：请根据现有信息答复或办结，信息确实不足的可以“信息不足”为由不予受理",
            en=f"this clock has had {asked} questions, the most allowed "
            f"({settings.max_info_requests}); answer or resolve the report with what you have, "
            "or decline it as insufficient_info",
            code="info_request_limit_reached",
        )
    report.status_before_pause = report.status
    report.status = ReportStatus.awaiting_citizen
    report.paused_at = now
    clear_next_rung(report=report)
    record_event(
        session=session,
        settings=settings,
        report=report,
        kind=EventKind.info_requested,
        principal=principal,
        at=now,
        data={"text": info_in.text, "clock": report.clock},
    )
    _touch(session=session, report=report, now=now)
    return report


def _record_admin_action(
    *,
    session: Session,
    principal: Principal,
    report: Report,
    action: Action,
    from_unit_id: int | None,
    now: datetime,
) -> None:
    """An admin moving a report (to its own unit, say) is on record beside directory changes."""
    if principal.role != Role.admin:
        return
    audit.record(
        session=session,
        actor=principal.audit_actor,
        kind=EntityKind.report,
        entity_id=report.id,
        action=action,
        before={"owner_unit_id": from_unit_id},
        after={"owner_unit_id": report.owner_unit_id, "clock": report.clock},
        at=now,
    )


def transfer(
    *,
    session: Session,
    principal: Principal,
    report_id: int,
    transfer_in: TransferIn,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> Report:
    """Hand a report to another unit (转办); the receiving unit's clocks start afresh."""
    report = _get_for_update(session=session, principal=principal, report_id=report_id)
    _require_status(report, CLOCKED_STATUSES, "transfer")
    if principal.role == Role.handler:
        _require_owner(principal=principal, report=report)
    elif principal.role == Role.supervisor and report.owner_unit_id != principal.unit_id:
        # Outside its subtree a supervisor learns nothing, not even whether the unit exists:
        # a missing unit gets the same answer as another tree's. Its own unit's reports may
        # go anywhere, like a handler's.
        found = session.get(Unit, transfer_in.to_unit_id)
        if found is None or not directory.is_within(
            session=session, unit_id=found.id, root_unit_id=principal.unit_id
        ):
            raise Forbidden(
                "上级单位只能转办给本单位管辖范围内的单位",
                en="a supervisor transfers only to units within its own subtree",
                code="transfer_outside_subtree",
            )
    target = directory.get_unit(session=session, unit_id=transfer_in.to_unit_id)
    if target.id == report.owner_unit_id:
        raise Conflict(
            "留言已在该单位，请选择其他单位转办",
            en="the report is already with this unit",
            code="transfer_to_same_unit",
        )
    from_unit_id = report.owner_unit_id
    _mark_responded(report, now)
    # The receiving unit's clocks start afresh, so an open pause simply ends here.
    _start_clock(report=report, unit_id=target.id, now=now, calendar=calendar, settings=settings)
    record_event(
        session=session,
        settings=settings,
        report=report,
        kind=EventKind.transferred,
        principal=principal,
        at=now,
        data={"from_unit_id": from_unit_id, "to_unit_id": target.id, "text": transfer_in.text},
    )
    _record_admin_action(
        session=session,
        principal=principal,
        report=report,
        action=Action.transferred,
        from_unit_id=from_unit_id,
        now=now,
    )
    notify_new_report(session=session, report=report, now=now, calendar=calendar, settings=settings)
    _touch(session=session, report=report, now=now)
    return report


def route(
    *,
    session: Session,
    principal: Principal,
    report_id: int,
    route_in: RouteIn,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> Report:
    """An operator routes an unrouted report to a site's owner or straight to a unit."""
    # A bad payload is 422 whatever the report's state, before the row is locked.
    if (route_in.site_id is None) == (route_in.unit_id is None):
        raise Unprocessable(
            "请给出 site_id 或 unit_id 二者之一（不能都给，也不能都不给）",
            en="give either site_id or unit_id",
            code="route_target_invalid",
        )
    report = _get_for_update(session=session, principal=principal, report_id=report_id)
    _require_status(report, (ReportStatus.unrouted,), "route")
    if route_in.site_id is not None:
        site = directory.get_site(session=session, site_id=route_in.site_id)
        report.site_id = site.id
        report.site_code = site.site_code
        unit_id = site.owner_unit_id
    else:
        unit_id = directory.get_unit(session=session, unit_id=route_in.unit_id).id
    _start_clock(report=report, unit_id=unit_id, now=now, calendar=calendar, settings=settings)
    record_event(
        session=session,
        settings=settings,
        report=report,
        kind=EventKind.routed,
        principal=principal,
        at=now,
        data={"to_unit_id": unit_id, "site_id": report.site_id},
    )
    _record_admin_action(
        session=session,
        principal=principal,
        report=report,
        action=Action.routed,
        from_unit_id=None,
        now=now,
    )
    notify_new_report(session=session, report=report, now=now, calendar=calendar, settings=settings)
    _touch(session=session, report=report, now=now)
    return report


def inbox(
    *,
    session: Session,
    principal: Principal,
    filters: InboxFilters,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> tuple[list[Report], int]:
    """The reports a caller may see, filtered, newest first, with the total count."""
    query = select(Report)
    if principal.role == Role.handler:
        query = query.where(Report.owner_unit_id == principal.unit_id)
    elif principal.role == Role.supervisor:
        query = query.where(
            col(Report.owner_unit_id).in_(directory.subtree_ids_query(principal.unit_id))
        )
    if filters.unit_id is not None:
        query = query.where(Report.owner_unit_id == filters.unit_id)
    if filters.status is not None:
        query = query.where(Report.status == filters.status)
    if filters.category is not None:
        query = query.where(Report.category == int(filters.category))
    if filters.site_code is not None:
        query = query.where(Report.site_code == filters.site_code)
    tz = settings.tz
    if filters.received_from is not None:
        query = query.where(Report.received_at >= start_of_local_day(filters.received_from, tz))
    if filters.received_to is not None:
        next_day = filters.received_to + timedelta(days=1)
        query = query.where(Report.received_at < start_of_local_day(next_day, tz))
    # A paused clock is neither overdue nor coming due.
    running = col(Report.status).in_(RUNNING_STATUSES)
    next_due = case(
        (col(Report.first_responded_at).is_(None), Report.first_reply_due_at),
        else_=Report.resolution_due_at,
    )
    if filters.overdue is not None:
        overdue = running & (
            (col(Report.first_responded_at).is_(None) & (Report.first_reply_due_at < now))
            | (Report.resolution_due_at < now)
        )
        query = query.where(overdue if filters.overdue else ~overdue)
    if filters.due_within_workdays is not None:
        horizon = end_of_local_day(
            calendar.add_workdays(local_date(now, tz), filters.due_within_workdays), tz
        )
        query = query.where(running, next_due >= now, next_due <= horizon)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(Report.received_at).desc(), col(Report.id).desc())
        .limit(filters.limit)
        .offset(filters.offset)
    ).all()
    return list(rows), total
