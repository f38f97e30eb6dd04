"""Keeping open reports' due dates true to the calendar in force."""

from datetime import datetime

from sqlmodel import Session, col, select

from app.config import Settings
from app.db import isoformat_or_none
from app.reports.models import CLOCKED_STATUSES, EventKind, Report
from app.reports.service import SYSTEM_ACTOR, apply_deadlines, record_event
from app.workdays.calendar import WorkCalendar


def recompute_open_deadlines(
    *, session: Session, calendar: WorkCalendar, now: datetime, settings: Settings
) -> int:
    """Recompute the due dates of every open report; return how many moved."""
    moved = 0
    query = select(Report).where(col(Report.status).in_(CLOCKED_STATUSES)).order_by(Report.id)
    for report in session.exec(query).all():
        before = (report.first_reply_due_at, report.resolution_due_at, report.deadlines_provisional)
        apply_deadlines(report=report, calendar=calendar, settings=settings)
        after = (report.first_reply_due_at, report.resolution_due_at, report.deadlines_provisional)
        if after == before:
            continue
        moved += 1
        record_event(
            session=session,
            report=report,
            kind=EventKind.deadlines_recomputed,
            actor=SYSTEM_ACTOR,
            at=now,
            data={
                "first_reply_due_at": [isoformat_or_none(before[0]), isoformat_or_none(after[0])],
                "resolution_due_at": [isoformat_or_none(before[1]), isoformat_or_none(after[1])],
                "provisional": [before[2], after[2]],
            },
        )
        report.updated_at = now
        session.add(report)
    session.flush()
    return moved
