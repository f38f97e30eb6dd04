"""Deadline rules, pure: the day of receipt is not counted; a deadline is the end of a day."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from app.workdays.calendar import WorkCalendar

END_OF_DAY = time(23, 59, 59, 999000)


@dataclass(frozen=True)
class Deadlines:
    first_reply_due_at: datetime
    resolution_due_at: datetime
    provisional: bool  # some due date lies past the official calendar: weekend rule


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def end_of_local_day(day: date, tz: ZoneInfo) -> datetime:
    """23:59:59.999 local time on a day, as a UTC instant."""
    return datetime.combine(day, END_OF_DAY, tzinfo=tz).astimezone(UTC)


def start_of_local_day(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def compute_deadlines(
    *,
    calendar: WorkCalendar,
    received_at: datetime,
    tz: ZoneInfo,
    first_reply_workdays: int,
    resolution_workdays: int,
    paused_workdays: int = 0,
    first_reply_paused_workdays: int = 0,
    extension_workdays: int = 0,
) -> Deadlines:
    """Due instants for a clock started at received_at: the resolution moved by the working
    days paused and those of approved extensions, the first reply only by the working days of
    pauses begun while it was owed and not yet due."""
    received_on = local_date(received_at, tz)
    first_due = calendar.add_workdays(
        received_on, first_reply_workdays + first_reply_paused_workdays
    )
    resolution_due = calendar.add_workdays(
        received_on, resolution_workdays + paused_workdays + extension_workdays
    )
    return Deadlines(
        first_reply_due_at=end_of_local_day(first_due, tz),
        resolution_due_at=end_of_local_day(resolution_due, tz),
        provisional=not calendar.is_official(resolution_due),
    )


def handling_workdays(
    *,
    calendar: WorkCalendar,
    received_at: datetime,
    closed_at: datetime,
    tz: ZoneInfo,
    paused_workdays: int = 0,
) -> int:
    """Working days in (receipt date, closing date], less the working days paused."""
    days = calendar.workdays_between(local_date(received_at, tz), local_date(closed_at, tz))
    return max(days - paused_workdays, 0)


def paused_workdays_between(
    *, calendar: WorkCalendar, paused_at: datetime, resumed_at: datetime, tz: ZoneInfo
) -> int:
    """Working days a clock stood still: those in (pause date, resume date]."""
    return calendar.workdays_between(local_date(paused_at, tz), local_date(resumed_at, tz))
