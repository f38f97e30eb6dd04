"""Working-day arithmetic over an official calendar, in constant time per question.

A working day is Monday to Friday, minus the official holidays, plus the make-up working days
(调休). Where no official data exists (past `covered_until`, or before `covered_from`) the
weekend rule alone applies.

Every question reduces to `cumulative(day)`: the number of working days from 0001-01-01 up to
and including `day`. Under the weekend rule that count has a closed form; official data only
shifts it by a step function that is constant outside the covered span. So one table of counts
for the covered span, plus week arithmetic outside it, answers everything with a few index
operations and no day-by-day loop.
"""

from collections.abc import Iterable
from datetime import date

_FIRST_ORDINAL = date.min.toordinal()  # 0001-01-01, a Monday: ordinal 1 has weekday 0
_LAST_ORDINAL = date.max.toordinal()


def _weekday_count(ordinal: int) -> int:
    """Monday-to-Friday days among ordinals 1..ordinal (0 for ordinal 0)."""
    weeks, rest = divmod(ordinal, 7)
    return 5 * weeks + min(rest, 5)


def _nth_weekday(count: int) -> int:
    """The ordinal of the count-th Monday-to-Friday day counted from 0001-01-01 (count >= 1)."""
    weeks, rest = divmod(count - 1, 5)
    return 7 * weeks + rest + 1


class WorkCalendar:
    """Official holidays and make-up working days, with the span of dates they cover."""

    def __init__(
        self,
        *,
        holidays: Iterable[date],
        makeup_workdays: Iterable[date],
        covered_until: date,
        covered_from: date | None = None,
    ) -> None:
        holidays = frozenset(holidays)
        makeup_workdays = frozenset(makeup_workdays)
        both = holidays & makeup_workdays
        if both:
            raise ValueError(f"days both holiday and make-up working day: {sorted(both)}")
        listed = holidays | makeup_workdays
        if listed and max(listed) > covered_until:
            raise ValueError(f"{max(listed)} lies past covered_until {covered_until}")
        if covered_from is not None and listed and min(listed) < covered_from:
            raise ValueError(f"{min(listed)} lies before covered_from {covered_from}")

        self.covered_until = covered_until
        self.covered_from = covered_from

        first = min([covered_until, *listed] + ([covered_from] if covered_from else []))
        self._first = first.toordinal()
        self._last = covered_until.toordinal()
        # cumulative(first - 1): before the table nothing is official, so the weekend rule.
        self._count_before = _weekday_count(self._first - 1)

        flags = bytearray(self._last - self._first + 1)
        cumulative: list[int] = []
        workday_ordinals: list[int] = []
        count = self._count_before
        for index in range(len(flags)):
            ordinal = self._first + index
            day = date.fromordinal(ordinal)
            working = day in makeup_workdays or (day.weekday() < 5 and day not in holidays)
            if working:
                flags[index] = 1
                count += 1
                workday_ordinals.append(ordinal)
            cumulative.append(count)
        self._flags = bytes(flags)
        self._cumulative = cumulative
        self._workday_ordinals = workday_ordinals
        self._count_through_last = count
        # Past the table the weekend rule applies again, offset by what the official days changed.
        self._shift_after = count - _weekday_count(self._last)

    def is_workday(self, d: date) -> bool:
        ordinal = d.toordinal()
        if self._first <= ordinal <= self._last:
            return self._flags[ordinal - self._first] == 1
        return d.weekday() < 5

    def is_official(self, d: date) -> bool:
        """Whether official data covers d (otherwise the weekend rule was used)."""
        if self.covered_from is not None and d < self.covered_from:
            return False
        return d <= self.covered_until

    def add_workdays(self, d: date, n: int) -> date:
        """The n-th working day after d (d itself not counted); before d when n < 0."""
        if n == 0:
            return d
        ordinal = d.toordinal()
        if n > 0:
            target = self._cumulative_at(ordinal) + n
        else:
            # The |n|-th working day before d is the one that brings the count of working days
            # in [it, d) to |n|.
            target = self._cumulative_at(ordinal - 1) + n + 1
        return date.fromordinal(self._ordinal_of_workday(target))

    def workdays_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; 0 when end <= start."""
        if end <= start:
            return 0
        return self._cumulative_at(end.toordinal()) - self._cumulative_at(start.toordinal())

    def _cumulative_at(self, ordinal: int) -> int:
        if ordinal < self._first:
            return _weekday_count(ordinal)
        if ordinal > self._last:
            return _weekday_count(ordinal) + self._shift_after
        return self._cumulative[ordinal - self._first]

    def _ordinal_of_workday(self, target: int) -> int:
        """The ordinal of the working day at which cumulative() first reaches target."""
        if target <= self._count_before:
            ordinal = _nth_weekday(target)
        elif target > self._count_through_last:
            ordinal = _nth_weekday(target - self._shift_after)
        else:
            return self._workday_ordinals[target - self._count_before - 1]
        if not _FIRST_ORDINAL <= ordinal <= _LAST_ORDINAL:
            raise OverflowError("date value out of range")
        return ordinal
