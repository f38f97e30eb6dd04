"""Satisfaction and reopening (评价 / 重办): the citizen rates a closing once; dissatisfied, with
a reason, sends the report back once to the same owner unit on a new clock.

The window opens at the first closing (a resolution or a decline) and ends at the end of the
`rating_window_workdays`-th working day after the local date of closing, like every other
deadline. A report reopened and closed again is not rated again: the citizen rates it once.
Until it is rated or its window has passed a closed report can still change, so the settle
job leaves it out of the settled figures until then (app/stats/settle.py).
"""

from datetime import datetime

from sqlmodel import Session

from app.config import Settings
from app.errors import Conflict
from app.reports.hooks import notify_new_report, notify_reopened
from app.reports.models import CLOSED_STATUSES, EventKind, Rating, Report, ReportStatus
from app.reports.schemas import RatingIn
from app.reports.service import (
    CITIZEN_ACTOR,
    _start_clock,
    _touch,
    get_by_tracking_code,
    record_event,
)
from app.workdays.calendar import WorkCalendar


def _require_rateable(report: Report, now: datetime) -> None:
    if report.rated_at is not None:
        raise Conflict(
            "您已评价过这条留言，每条留言只能评价一次",
            en="this report has been rated already; a report is rated once",
            code="report_already_rated",
        )
    if report.status not in CLOSED_STATUSES or report.rating_due_at is None:
        raise Conflict(
            "这条留言尚未办结，办结或不予受理后才能评价",
            en="this report is not closed yet; rate it once it is resolved or declined",
            code="report_not_closed",
        )
    if now > report.rating_due_at:
        raise Conflict(
            "这条留言的评价期限已过，不能再评价",
            en="the time to rate this report has passed",
            code="rating_window_closed",
        )


def rate(
    *,
    session: Session,
    tracking_code: str,
    rating_in: RatingIn,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> Report:
    """The citizen rates a closing; dissatisfied with a reason reopens the report, once."""
    # Locked and checked under the lock: of two ratings sent together one is refused.
    report = get_by_tracking_code(session=session, tracking_code=tracking_code, for_update=True)
    _require_rateable(report, now)
    comment = rating_in.comment.strip() if rating_in.comment else None
    report.rating = rating_in.rating.value
    report.rating_comment = comment or None
    report.rated_at = now
    reopens = (
        rating_in.rating == Rating.dissatisfied and bool(comment) and report.reopened_at is None
    )
    record_event(
        session=session,
        report=report,
        kind=EventKind.rated,
        actor=CITIZEN_ACTOR,
        at=now,
        data={"rating": rating_in.rating.value, "text": comment, "reopens": reopens},
    )
    if reopens:
        _reopen(
            session=session,
            report=report,
            reason=comment,
            now=now,
            calendar=calendar,
            settings=settings,
        )
    _touch(session=session, report=report, now=now)
    return report


def _reopen(
    *,
    session: Session,
    report: Report,
    reason: str,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> None:
    """Back to the unit that closed it, on a new clock from now; its supervisor is told."""
    closed_as = {
        "status": report.status.value,
        "verdict": report.verdict.value if report.verdict else None,
        "decline_reason": report.decline_reason.value if report.decline_reason else None,
        "closed_at": report.closed_at.isoformat() if report.closed_at else None,
        "duplicate_of_id": report.duplicate_of_id,
    }
    report.closed_at = None
    report.handling_workdays = None
    report.verdict = None
    report.decline_reason = None
    report.duplicate_of_id = None
    report.final_answer = None
    report.rating_due_at = None
    report.reopened_at = now
    _start_clock(
        report=report, unit_id=report.owner_unit_id, now=now, calendar=calendar, settings=settings
    )
    assert report.status == ReportStatus.assigned
    session.add(report)
    session.flush()
    record_event(
        session=session,
        report=report,
        kind=EventKind.reopened,
        actor=CITIZEN_ACTOR,
        at=now,
        data={"to_unit_id": report.owner_unit_id, "text": reason, "closed_as": closed_as},
    )
    notify_new_report(session=session, report=report, now=now, calendar=calendar, settings=settings)
    notify_reopened(
        session=session, report=report, reason=reason, now=now, calendar=calendar, settings=settings
    )
