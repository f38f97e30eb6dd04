"""An independent working-day oracle: the official calendar walked day by day.

The service counts working days with `WorkCalendar` (bisection over sorted exceptions); the
tests check it against this plain walk over `chinese_calendar`, which shares none of its code.
"""

from collections.abc import Callable
from datetime import date, timedelta
from functools import cache

import chinese_calendar

PACKAGE_FIRST = date(2004, 1, 1)
PACKAGE_LAST = date(2026, 12, 31)

IsWorkday = Callable[[date], bool]


@cache
def official_workday(day: date) -> bool:
    """chinese_calendar inside its years, Monday to Friday outside them."""
    if PACKAGE_FIRST <= day <= PACKAGE_LAST:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def workdays_after(start: date, count: int, is_workday: IsWorkday = official_workday) -> date:
    """The `count`-th working day after `start` (before it when `count` is negative)."""
    step = timedelta(days=1 if count > 0 else -1)
    day, remaining = start, abs(count)
    while remaining:
        day += step
        remaining -= is_workday(day)
    return day


def workdays_between(start: date, end: date, is_workday: IsWorkday = official_workday) -> int:
    """Working days in (start, end]."""
    return sum(is_workday(start + timedelta(days=k)) for k in range(1, (end - start).days + 1))


class OfficialDays:
    """The same walk, cumulated once over a range: fast enough for 10,000 real reports."""

    def __init__(self, first: date, last: date) -> None:
        self._cumulative: dict[date, int] = {}
        count, day = 0, first
        while day <= last:
            count += official_workday(day)
            self._cumulative[day] = count
            day += timedelta(days=1)

    def between(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        return self._cumulative[end] - self._cumulative[start]

    def nth_after(self, start: date, n: int) -> date:
        return workdays_after(start, n)
