"""Telling the supervisor when a citizen's dissatisfied rating reopens a report (重办)."""

from datetime import datetime

from sqlmodel import Session

from app.config import Settings
from app.directory.models import Unit
from app.reports.clocks import local_date
from app.reports.models import Report
from app.sla.models import NotificationKind
from app.sla.notify import enqueue, report_summary
from app.workdays.calendar import WorkCalendar


def notify_reopened(
    *,
    session: Session,
    report: Report,
    reason: str,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> int | None:
    """Tell the owner's parent (its supervisor) that the report is being handled again."""
    owner = session.get(Unit, report.owner_unit_id)
    if owner is None or owner.parent_id is None:
        return None
    summary = report_summary(session=session, report=report)
    resolution_due = local_date(report.resolution_due_at, settings.tz)
    text = (
        f"【重办】{summary['owner_unit_name']}办结的留言 #{report.id}，网民评价不满意，"
        f"已退回该单位重新办理，应于 {resolution_due} 前办结。"
    )
    return enqueue(
        session=session,
        unit_id=owner.parent_id,
        kind=NotificationKind.reopened,
        payload={"text": text, "reason": reason, "report": summary},
        key=f"reopened:{report.id}:{report.clock}:{owner.parent_id}",
        now=now,
        report_id=report.id,
        calendar=calendar,
        settings=settings,
    )
