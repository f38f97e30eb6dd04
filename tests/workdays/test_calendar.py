"""WorkCalendar, pure: against chinese_calendar, against a day-by-day oracle, and on real dates."""

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.workdays.calendar import WorkCalendar
from tests.oracle import (
    PACKAGE_FIRST,
    PACKAGE_LAST,
    workdays_after,
    workdays_between,
)

PACKAGED = WorkCalendar(
    holidays=chinese_calendar.holidays,
    makeup_workdays=chinese_calendar.workdays,
    covered_until=PACKAGE_LAST,
    covered_from=PACKAGE_FIRST,
)


def test_agrees_with_chinese_calendar_on_every_packaged_day():
    day, disagreements = PACKAGE_FIRST, []
    while day <= PACKAGE_LAST:
        if PACKAGED.is_workday(day) != chinese_calendar.is_workday(day):
            disagreements.append(day)
        day += timedelta(days=1)
    assert disagreements == []


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # National Day 2026: 中秋 09-25..27, 国庆 10-01..07; Sunday 09-20 and Saturday 10-10 work.
        (date(2026, 9, 29), 1, date(2026, 9, 30)),
        (date(2026, 9, 29), 2, date(2026, 10, 8)),
        (date(2026, 9, 29), 3, date(2026, 10, 9)),
        (date(2026, 9, 29), 4, date(2026, 10, 10)),
        (date(2026, 9, 29), 5, date(2026, 10, 12)),
        (date(2026, 9, 30), 15, date(2026, 10, 27)),
        (date(2026, 9, 18), 1, date(2026, 9, 20)),
        (date(2026, 9, 18), 2, date(2026, 9, 21)),
        (date(2026, 9, 24), 1, date(2026, 9, 28)),
        (date(2026, 10, 3), 1, date(2026, 10, 8)),
        # Spring Festival 2026: 02-15..23 off, Saturday 02-14 works.
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 13), 2, date(2026, 2, 24)),
        # Backwards.
        (date(2026, 10, 8), -1, date(2026, 9, 30)),
        (date(2026, 10, 8), -2, date(2026, 9, 29)),
        (date(2026, 10, 12), -1, date(2026, 10, 10)),
        (date(2026, 10, 12), -2, date(2026, 10, 9)),
        (date(2026, 10, 3), -1, date(2026, 9, 30)),
        (date(2026, 9, 21), -1, date(2026, 9, 20)),
        (date(2026, 10, 27), -15, date(2026, 9, 30)),
        # n == 0 is the day itself, even a holiday.
        (date(2026, 10, 1), 0, date(2026, 10, 1)),
    ],
)
def test_add_workdays_on_real_dates(start, n, expected):
    assert PACKAGED.add_workdays(start, n) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 9, 30), date(2026, 10, 8), 1),
        (date(2026, 9, 29), date(2026, 10, 12), 5),
        (date(2026, 9, 19), date(2026, 9, 20), 1),
        (date(2026, 10, 1), date(2026, 10, 7), 0),
        (date(2026, 10, 8), date(2026, 10, 8), 0),
        (date(2026, 10, 12), date(2026, 9, 29), 0),
        (date(2025, 12, 31), date(2026, 12, 31), 248),
    ],
)
def test_workdays_between_on_real_dates(start, end, expected):
    assert PACKAGED.workdays_between(start, end) == expected


def test_past_the_package_the_weekend_rule_applies_and_is_not_official():
    # 2027-01-01 is a Friday: a working day under the weekend rule, whatever the notice says.
    assert PACKAGED.is_official(date(2026, 12, 31))
    assert not PACKAGED.is_official(date(2027, 1, 1))
    assert PACKAGED.is_workday(date(2027, 1, 1))
    assert not PACKAGED.is_workday(date(2027, 1, 2))
    assert PACKAGED.add_workdays(date(2026, 12, 30), 2) == date(2027, 1, 1)
    assert PACKAGED.add_workdays(date(2026, 12, 31), 15) == date(2027, 1, 21)
    assert PACKAGED.add_workdays(date(2027, 1, 21), -15) == date(2026, 12, 31)
    assert PACKAGED.workdays_between(date(2026, 12, 30), date(2027, 1, 4)) == 3
    assert PACKAGED.add_workdays(date(2030, 1, 1), 5) == date(2030, 1, 8)
    assert PACKAGED.workdays_between(date(2026, 12, 31), date(2027, 12, 31)) == 261


def test_before_the_package_the_weekend_rule_applies_and_is_not_official():
    # 2004-01-01 (Thursday) is New Year's Day; 2003-12-31 (Wednesday) has no official data.
    assert not PACKAGED.is_official(date(2003, 12, 31))
    assert PACKAGED.is_official(date(2004, 1, 1))
    assert PACKAGED.add_workdays(date(2003, 12, 31), 1) == date(2004, 1, 2)
    assert PACKAGED.add_workdays(date(2004, 1, 2), -1) == date(2003, 12, 31)
    assert PACKAGED.workdays_between(date(2003, 12, 26), date(2004, 1, 5)) == 5


def test_dates_beyond_the_representable_range_raise_overflow():
    with pytest.raises(OverflowError):
        PACKAGED.add_workdays(date.max, 1)
    with pytest.raises(OverflowError):
        PACKAGED.add_workdays(date.min, -1)
    assert PACKAGED.add_workdays(date(9999, 12, 30), 1) == date(9999, 12, 31)  # a Friday


def test_refuses_a_day_both_holiday_and_makeup_workday():
    with pytest.raises(ValueError, match="both holiday and make-up"):
        WorkCalendar(
            holidays=[date(2027, 2, 14)],
            makeup_workdays=[date(2027, 2, 14)],
            covered_until=date(2027, 12, 31),
        )


def test_refuses_official_days_outside_the_covered_span():
    with pytest.raises(ValueError, match="past covered_until"):
        WorkCalendar(
            holidays=[date(2028, 1, 3)], makeup_workdays=[], covered_until=date(2027, 12, 31)
        )
    with pytest.raises(ValueError, match="before covered_from"):
        WorkCalendar(
            holidays=[date(2003, 12, 31)],
            makeup_workdays=[],
            covered_until=date(2027, 12, 31),
            covered_from=date(2004, 1, 1),
        )


def test_a_holiday_on_the_last_covered_day_is_skipped_counting_back_into_coverage():
    # 2027-12-31 is a Friday: one working day before Monday 2028-01-03 is Thursday 12-30.
    calendar = WorkCalendar(
        holidays=[date(2027, 12, 31)], makeup_workdays=[], covered_until=date(2027, 12, 31)
    )
    assert calendar.add_workdays(date(2028, 1, 3), -1) == date(2027, 12, 30)
    assert calendar.add_workdays(date(2027, 12, 30), 1) == date(2028, 1, 3)
    assert calendar.workdays_between(date(2027, 12, 30), date(2028, 1, 3)) == 1


def test_a_holiday_on_the_first_covered_day_is_skipped_counting_into_coverage():
    # 2027-01-04 is a Monday; the Friday before it has no official data.
    calendar = WorkCalendar(
        holidays=[date(2027, 1, 4)],
        makeup_workdays=[],
        covered_until=date(2027, 12, 31),
        covered_from=date(2027, 1, 4),
    )
    assert calendar.add_workdays(date(2027, 1, 1), 1) == date(2027, 1, 5)
    assert calendar.add_workdays(date(2027, 1, 5), -1) == date(2027, 1, 1)


def test_without_covered_from_everything_up_to_covered_until_is_official():
    calendar = WorkCalendar(holidays=[], makeup_workdays=[], covered_until=date(2027, 12, 31))
    assert calendar.is_official(date(1900, 1, 1))
    assert not calendar.is_official(date(2028, 1, 1))


# --- properties against the day-by-day oracle -------------------------------------------------

packaged_dates = st.dates(min_value=date(2003, 6, 1), max_value=date(2027, 6, 30))


@settings(max_examples=300, deadline=None)
@given(d=packaged_dates, n=st.integers(min_value=-400, max_value=400))
def test_add_workdays_matches_oracle_on_packaged_data(d, n):
    assert PACKAGED.add_workdays(d, n) == workdays_after(d, n)


@settings(max_examples=300, deadline=None)
@given(start=packaged_dates, length=st.integers(min_value=-30, max_value=600))
def test_workdays_between_matches_oracle_on_packaged_data(start, length):
    end = start + timedelta(days=length)
    assert PACKAGED.workdays_between(start, end) == workdays_between(start, end)


@st.composite
def calendars(draw):
    """A small covered span with every day a random mix of ordinary, holiday and make-up days."""
    first = draw(st.dates(min_value=date(2030, 1, 1), max_value=date(2030, 12, 31)))
    kinds = draw(st.lists(st.sampled_from(["plain", "holiday", "makeup"]), max_size=60))
    covered_until = first + timedelta(days=max(len(kinds) - 1, 0))
    days = [first + timedelta(days=i) for i in range(len(kinds))]
    holidays = {d for d, kind in zip(days, kinds, strict=True) if kind == "holiday"}
    makeup = {d for d, kind in zip(days, kinds, strict=True) if kind == "makeup"}
    covered_from = draw(st.sampled_from([None, first]))
    calendar = WorkCalendar(
        holidays=holidays,
        makeup_workdays=makeup,
        covered_until=covered_until,
        covered_from=covered_from,
    )

    def is_workday(d: date) -> bool:
        if first <= d <= covered_until:
            return d in makeup or (d.weekday() < 5 and d not in holidays)
        return d.weekday() < 5

    return calendar, is_workday, first, covered_until


# Query dates near either end of the covered span, where the table meets the weekend rule.
near_an_end = st.tuples(st.booleans(), st.integers(min_value=-90, max_value=90))


@settings(max_examples=500, deadline=None)
@given(case=calendars(), where=near_an_end, n=st.integers(min_value=-120, max_value=120))
def test_add_workdays_matches_oracle_on_random_calendars(case, where, n):
    calendar, is_workday, first, last = case
    from_end, offset = where
    d = (last if from_end else first) + timedelta(days=offset)
    assert calendar.add_workdays(d, n) == workdays_after(d, n, is_workday)


@settings(max_examples=500, deadline=None)
@given(case=calendars(), where=near_an_end, length=st.integers(min_value=-10, max_value=200))
def test_workdays_between_and_is_workday_match_oracle_on_random_calendars(case, where, length):
    calendar, is_workday, first, last = case
    from_end, offset = where
    start = (last if from_end else first) + timedelta(days=offset)
    end = start + timedelta(days=length)
    assert calendar.workdays_between(start, end) == workdays_between(start, end, is_workday)
    assert calendar.is_workday(start) == is_workday(start)


outside_the_package = st.one_of(
    st.dates(min_value=date(1, 1, 10), max_value=date(2003, 12, 1)),
    st.dates(min_value=date(2027, 1, 20), max_value=date(9999, 12, 20)),
)


@settings(max_examples=300, deadline=None)
@given(d=outside_the_package, n=st.integers(min_value=-5, max_value=5))
def test_far_from_any_data_the_weekend_rule_applies(d, n):
    assert PACKAGED.is_workday(d) == (d.weekday() < 5)
    assert PACKAGED.add_workdays(d, n) == workdays_after(d, n)
    assert PACKAGED.workdays_between(d, d + timedelta(days=7)) == 5
