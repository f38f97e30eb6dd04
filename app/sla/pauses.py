"""The job that ends pauses which ran out (app.reports.pauses) and tells each owner unit.

Safe with two schedulers: the reports are locked with SKIP LOCKED on PostgreSQL (SQLite runs
one writer at a time), the state is checked again under the lock, and the notification's key
is unique per pause.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from app.config import Settings
from app.db import session_scope
from app.reports import pauses
from app.reports.clocks import local_date
from app.reports.models import Report, ReportEvent
from app.sla.models import NotificationKind
from app.sla.notify import enqueue, report_summary
from app.workdays.calendar import WorkCalendar
from app.workdays.sources import get_calendar

log = logging.getLogger(__name__)


@dataclass
class PauseExpiryResult:
    expired: int = 0
    notifications: int = 0
    failed_report_ids: list[int] = field(default_factory=list)


def pause_expired_text(*, summary: dict, report: Report, paused: int, settings: Settings) -> str:
    """The unit's notice that a pause ran out and the clocks run again."""
    where = summary["site_name"] or report.page_url
    resolution_due = local_date(report.resolution_due_at, settings.tz)
    if report.first_responded_at is None:
        dues = (
            f"首次答复期限 {local_date(report.first_reply_due_at, settings.tz)}，"
            f"办结期限 {resolution_due}"
        )
    else:
        dues = f"办结期限 {resolution_due}"
    return (
        f"【补充期满】{summary['owner_unit_name']}：留言 #{report.id}（{where}）"
        f"请网民补充信息已满 {paused} 个工作日未获补充，已恢复计时，{dues}。"
        "信息确实不足的，可以“信息不足”为由不予受理。"
    )


def _notify(
    *,
    session: Session,
    report: Report,
    event: ReportEvent,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> int:
    summary = report_summary(session=session, report=report)
    paused = event.data["paused_workdays"]
    new_id = enqueue(
        session=session,
        unit_id=report.owner_unit_id,
        kind=NotificationKind.pause_expired,
        payload={
            "text": pause_expired_text(
                summary=summary, report=report, paused=paused, settings=settings
            ),
            "pause": {"paused_at": event.data["paused_at"], "paused_workdays": paused},
            "report": summary,
        },
        key=f"pause_expired:{report.id}:{report.clock}:{event.data['paused_at']}",
        now=now,
        calendar=calendar,
        settings=settings,
        report_id=report.id,
    )
    return int(new_id is not None)


def expire_pauses(
    *,
    engine: Engine,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar | None = None,
) -> PauseExpiryResult:
    """End every pause that ran out at `now`, each report in its own savepoint, in batches."""
    result = PauseExpiryResult()
    while True:
        with session_scope(engine) as session:
            if calendar is None:
                calendar = get_calendar(session)
            query = pauses.expired_pauses_query(
                now=now, calendar=calendar, settings=settings, limit=settings.sweep_batch_size
            )
            if result.failed_report_ids:
                query = query.where(Report.id.not_in(result.failed_report_ids))
            reports = session.exec(query).all()
            for report in reports:
                report_id = report.id
                try:
                    with session.begin_nested():
                        event = pauses.expire_pause(
                            session=session,
                            report=report,
                            now=now,
                            calendar=calendar,
                            settings=settings,
                        )
                        if event is None:
                            continue
                        result.notifications += _notify(
                            session=session,
                            report=report,
                            event=event,
                            now=now,
                            calendar=calendar,
                            settings=settings,
                        )
                        session.flush()
                    result.expired += 1
                except Exception:
                    log.exception(
                        "pause expiry: report %s failed; retried on the next run", report_id
                    )
                    result.failed_report_ids.append(report_id)
        if len(reports) < settings.sweep_batch_size:
            return result
