"""Statistics periods, pure: a month, a quarter, a year or a date range, by local receipt date."""

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from app.fields import DATE_MAX, DATE_MIN

QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
PERIOD_HINT = (
    "give a month (2026-04), a quarter (2026-Q3), a year (2026) "
    "or a date range (2026-04-01..2026-04-30)"
)

_YEAR = re.compile(r"^([0-9]{4})$")
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{1,2})$")
_QUARTER = re.compile(r"^([0-9]{4})-[Qq]([1-4])$")
_RANGE = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})\.\.([0-9]{4}-[0-9]{2}-[0-9]{2})$")
# The shapes above, for the API's schema.
PERIOD_PATTERN = (
    r"^[0-9]{4}(-[0-9]{1,2}|-[Qq][1-4]|-[0-9]{2}-[0-9]{2}\.\.[0-9]{4}-[0-9]{2}-[0-9]{2})?$"
)
PERIOD_MAX = len("2026-04-01..2026-04-30")


@dataclass(frozen=True)
class Period:
    """Local dates start..end, both included, with the canonical key and the Chinese label."""

    key: str
    label: str
    start: date
    end: date

    @property
    def next_day(self) -> date:
        """The first local date after the period: reports received from then on are outside."""
        return self.end + timedelta(days=1)


def _day_label(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def month_period(year: int, month: int) -> Period:
    """The period of one calendar month."""
    start = date(year, month, 1)
    end = date(year, month, calendar.monthrange(year, month)[1])
    return Period(key=f"{year:04d}-{month:02d}", label=f"{year}年{month}月", start=start, end=end)


def parse_period(text: str) -> Period:
    """Read `2026-04`, `2026-Q3`, `2026` or `2026-04-01..2026-04-30`; ValueError otherwise."""
    period = _parse(text)
    if period.end >= date.max:
        raise ValueError(f"{text!r} is not a period (it runs to the end of the calendar)")
    if period.start < DATE_MIN or period.end > DATE_MAX:
        raise ValueError(
            f"{text!r} is not a period the service keeps figures for: give dates between "
            f"{DATE_MIN} and {DATE_MAX}"
        )
    return period


def _parse(text: str) -> Period:
    value = text.strip()
    try:
        if match := _YEAR.fullmatch(value):
            year = int(match[1])
            return Period(
                key=f"{year:04d}", label=f"{year}年", start=date(year, 1, 1), end=date(year, 12, 31)
            )
        if match := _MONTH.fullmatch(value):
            year, month = int(match[1]), int(match[2])
            if not 1 <= month <= 12:
                raise ValueError(f"there is no month {month}")
            return month_period(year, month)
        if match := _QUARTER.fullmatch(value):
            year, quarter = int(match[1]), int(match[2])
            start = date(year, 3 * quarter - 2, 1)
            end = month_period(year, 3 * quarter).end
            return Period(
                key=f"{year:04d}-Q{quarter}",
                label=f"{year}年{QUARTER_NAMES[quarter]}",
                start=start,
                end=end,
            )
        if match := _RANGE.fullmatch(value):
            start, end = date.fromisoformat(match[1]), date.fromisoformat(match[2])
            if end < start:
                raise ValueError("the range ends before it starts")
            return Period(
                key=f"{start.isoformat()}..{end.isoformat()}",
                label=f"{_day_label(start)}至{_day_label(end)}",
                start=start,
                end=end,
            )
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a period ({exc}): {PERIOD_HINT}") from exc
    raise ValueError(f"{text!r} is not a period: {PERIOD_HINT}")


def previous_period(period: Period) -> Period:
    """The period of the same length just before: the month, quarter or year before, or as many
    days before a date range."""
    key = period.key
    if _MONTH.fullmatch(key):
        before = period.start - timedelta(days=1)
        return month_period(before.year, before.month)
    if match := _QUARTER.fullmatch(key):
        year, quarter = int(match[1]), int(match[2])
        return parse_period(f"{year - 1}-Q4" if quarter == 1 else f"{year}-Q{quarter - 1}")
    if _YEAR.fullmatch(key):
        return parse_period(f"{period.start.year - 1:04d}")
    length = period.next_day - period.start
    start = period.start - length
    return parse_period(f"{start.isoformat()}..{(period.start - timedelta(days=1)).isoformat()}")
