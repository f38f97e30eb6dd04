"""Bounded pauses: a question to the citizen stops the clocks for at most
`pause_max_workdays` working days; then they resume by themselves, as if supplemented.

The limit on questions per clock is checked in `service.request_info`; this module finds the
pauses that ran out and ends them (the sla job `expire_pauses` calls it and tells the unit).
"""

from datetime import datetime

from sqlmodel import Session, col, select

from app.config import Settings
from app.reports.clocks import local_date, start_of_local_day
from app.reports.models import EventKind, Report, ReportEvent, ReportStatus
from app.reports.service import SYSTEM_ACTOR, _end_pause, _touch, record_event
from app.workdays.calendar import WorkCalendar


def expiry_cutoff(*, now: datetime, calendar: WorkCalendar, settings: Settings) -> datetime:
    """Pauses begun before this instant have run out at `now`.

    A pause begun on local date P runs out at the end of the N-th working day after P, so at
    `now` (local date T) it has run out when P is before W, the N-th working day before T:
    [P+1, T) then holds N working days.
    """
    today = local_date(now, settings.tz)
    return start_of_local_day(
        calendar.add_workdays(today, -settings.pause_max_workdays), settings.tz
    )


def expired_pauses_query(*, now: datetime, calendar: WorkCalendar, settings: Settings, limit: int):
    """Reports whose pause ran out, oldest pause first, locked (SKIP LOCKED on PostgreSQL)."""
    cutoff = expiry_cutoff(now=now, calendar=calendar, settings=settings)
    return (
        select(Report)
        .where(
            Report.status == ReportStatus.awaiting_citizen,
            col(Report.paused_at).is_not(None),
            col(Report.paused_at) < cutoff,
        )
        .order_by(col(Report.paused_at), col(Report.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def expire_pause(
    *, session: Session, report: Report, now: datetime, calendar: WorkCalendar, settings: Settings
) -> ReportEvent | None:
    """End a pause that ran out: the clocks resume as on a supplement; None if it had ended."""
    # Checked again on the locked row: a supplement, closing or transfer may have won.
    if report.status != ReportStatus.awaiting_citizen or report.paused_at is None:
        return None
    if report.paused_at >= expiry_cutoff(now=now, calendar=calendar, settings=settings):
        return None
    paused_at = report.paused_at
    report.status = report.status_before_pause or ReportStatus.assigned
    paused = _end_pause(report=report, now=now, calendar=calendar, settings=settings)
    event = record_event(
        session=session,
        settings=settings,
        report=report,
        kind=EventKind.pause_expired,
        actor=SYSTEM_ACTOR,
        at=now,
        data={
            "paused_at": paused_at.isoformat(),
            "paused_workdays": paused,
            "clock": report.clock,
        },
    )
    _touch(session=session, report=report, now=now)
    return event
