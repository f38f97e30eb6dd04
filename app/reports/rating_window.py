"""The window in which a citizen may rate a closing (pure: no I/O); see app/reports/ratings.py."""

from datetime import datetime

from app.config import Settings
from app.reports.clocks import end_of_local_day, local_date
from app.reports.models import CLOSED_STATUSES, Report
from app.workdays.calendar import WorkCalendar


def rating_window_end(
    *, closed_at: datetime, calendar: WorkCalendar, settings: Settings
) -> datetime:
    """The last instant a closing can be rated: the end of the N-th working day after it."""
    day = calendar.add_workdays(local_date(closed_at, settings.tz), settings.rating_window_workdays)
    return end_of_local_day(day, settings.tz)


def open_rating_window(
    *, report: Report, now: datetime, calendar: WorkCalendar, settings: Settings
) -> None:
    """At a closing: the window to rate it, unless the citizen has rated the report already."""
    report.rating_due_at = (
        None
        if report.rated_at is not None
        else rating_window_end(closed_at=now, calendar=calendar, settings=settings)
    )


def rating_open(*, report: Report, now: datetime) -> bool:
    """Whether the citizen may rate the report now."""
    return (
        report.status in CLOSED_STATUSES
        and report.rated_at is None
        and report.rating_due_at is not None
        and now <= report.rating_due_at
    )
