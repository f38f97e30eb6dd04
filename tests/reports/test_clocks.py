"""The pure deadline rules: local dates, ends of days, working-day counting, pauses."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.reports.clocks import (
    compute_deadlines,
    end_of_local_day,
    handling_workdays,
    local_date,
    paused_workdays_between,
    start_of_local_day,
)
from app.workdays.calendar import WorkCalendar
from app.workdays.sources import build_calendar, packaged_calendar_days
from tests.oracle import workdays_after, workdays_between

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICIAL = build_calendar(package=packaged_calendar_days(), loaded_days=[], loaded_years=set())


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def due(year: int, month: int, day: int) -> datetime:
    return local(year, month, day, 23, 59, 59, 999000)


def deadlines(received_at: datetime, paused_workdays: int = 0, calendar: WorkCalendar = OFFICIAL):
    return compute_deadlines(
        calendar=calendar,
        received_at=received_at,
        tz=SHANGHAI,
        first_reply_workdays=2,
        resolution_workdays=15,
        paused_workdays=paused_workdays,
        first_reply_paused_workdays=paused_workdays,
    )


# --- local days -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (datetime(2026, 11, 22, 15, 59, 59, tzinfo=UTC), date(2026, 11, 22)),
        (datetime(2026, 11, 22, 16, 0, tzinfo=UTC), date(2026, 11, 23)),
        (local(2026, 11, 23, 0, 0), date(2026, 11, 23)),
        (local(2026, 11, 23, 23, 59, 59, 999999), date(2026, 11, 23)),
    ],
)
def test_local_date_is_the_date_in_shanghai(instant, expected):
    assert local_date(instant, SHANGHAI) == expected


def test_end_of_local_day_is_one_millisecond_before_midnight_as_utc():
    end = end_of_local_day(date(2026, 11, 25), SHANGHAI)

    assert end == datetime(2026, 11, 25, 15, 59, 59, 999000, tzinfo=UTC)
    assert end.tzinfo == UTC
    assert end.astimezone(SHANGHAI).time() == time(23, 59, 59, 999000)


def test_start_of_local_day_is_local_midnight_as_utc():
    start = start_of_local_day(date(2026, 11, 25), SHANGHAI)

    assert start == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert start.tzinfo == UTC


def test_days_follow_the_configured_zone():
    urumqi = ZoneInfo("Asia/Urumqi")  # UTC+6: a day ends two hours after Beijing's

    assert end_of_local_day(date(2026, 11, 25), urumqi) == datetime(
        2026, 11, 25, 17, 59, 59, 999000, tzinfo=UTC
    )
    assert local_date(datetime(2026, 11, 22, 17, 0, tzinfo=UTC), urumqi) == date(2026, 11, 22)


# --- deadlines --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "first_reply", "resolution"),
    [
        (local(2026, 11, 23, 10, 0), due(2026, 11, 25), due(2026, 12, 14)),
        # 00:30 on Monday in Beijing is still Sunday in UTC: the local date counts.
        (local(2026, 11, 23, 0, 30), due(2026, 11, 25), due(2026, 12, 14)),
        (local(2026, 11, 27, 23, 59, 59), due(2026, 12, 1), due(2026, 12, 18)),
        (local(2026, 11, 28, 0, 0), due(2026, 12, 1), due(2026, 12, 18)),
        (local(2026, 9, 29, 16, 0), due(2026, 10, 8), due(2026, 10, 26)),
        (local(2026, 9, 19, 9, 0), due(2026, 9, 21), due(2026, 10, 15)),
        # Spring Festival 2026: 15–23 February off, Saturday 28 February a make-up day.
        (local(2026, 2, 12, 9, 0), due(2026, 2, 14), due(2026, 3, 11)),
        # A year the package covers in the past: Spring Festival 2024, 10–17 February,
        # make-up days Sunday 4 and Sunday 18 February.
        (local(2024, 2, 8, 9, 0), due(2024, 2, 18), due(2024, 3, 6)),
    ],
)
def test_due_dates_on_real_calendar_dates(received, first_reply, resolution):
    result = deadlines(received)

    assert result.first_reply_due_at == first_reply
    assert result.resolution_due_at == resolution
    assert result.provisional is False


def test_deadlines_past_the_official_calendar_are_provisional():
    # The 15th working day after 17 December 2026 lies in January 2027, not yet official:
    # Friday 1 January is counted as a working day on the weekend rule.
    result = deadlines(local(2026, 12, 17, 10, 0))

    assert result.first_reply_due_at == due(2026, 12, 21)
    assert result.resolution_due_at == due(2027, 1, 7)
    assert result.provisional is True


def test_a_deadline_on_the_last_official_day_is_not_provisional():
    # 15 working days after 10 December 2026 end on Thursday 31 December.
    result = deadlines(local(2026, 12, 10, 10, 0))

    assert result.resolution_due_at == due(2026, 12, 31)
    assert result.provisional is False


def test_a_loaded_year_makes_deadlines_official():
    calendar = build_calendar(
        package=packaged_calendar_days(),
        loaded_days=[
            (date(2027, 1, 1), False),
            (date(2027, 1, 2), False),
            (date(2027, 1, 3), False),
        ],
        loaded_years={2027},
    )

    result = deadlines(local(2026, 12, 17, 10, 0), calendar=calendar)

    assert result.resolution_due_at == due(2027, 1, 8)
    assert result.provisional is False


def test_paused_working_days_move_both_deadlines():
    result = deadlines(local(2026, 9, 28, 10, 0), paused_workdays=3)

    assert result.first_reply_due_at == due(2026, 10, 10)
    assert result.resolution_due_at == due(2026, 10, 28)


def test_a_pause_that_did_not_count_for_the_first_reply_moves_the_resolution_only():
    # Received Monday 28 September; 2 working days paused on the resolution clock, none on
    # the first reply's: Wednesday 30 September stays, Friday 23 October becomes Tuesday 27.
    result = compute_deadlines(
        calendar=OFFICIAL,
        received_at=local(2026, 9, 28, 10, 0),
        tz=SHANGHAI,
        first_reply_workdays=2,
        resolution_workdays=15,
        paused_workdays=2,
        first_reply_paused_workdays=0,
    )

    assert result.first_reply_due_at == due(2026, 9, 30)
    assert result.resolution_due_at == due(2026, 10, 27)


def test_other_numbers_of_working_days_come_from_the_settings():
    result = compute_deadlines(
        calendar=OFFICIAL,
        received_at=local(2026, 11, 23, 10, 0),
        tz=SHANGHAI,
        first_reply_workdays=1,
        resolution_workdays=5,
    )

    assert result.first_reply_due_at == due(2026, 11, 24)
    assert result.resolution_due_at == due(2026, 11, 30)


# --- handling time and pauses -----------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "closed", "paused", "expected"),
    [
        (local(2026, 11, 23, 9, 0), local(2026, 11, 23, 23, 0), 0, 0),
        (local(2026, 11, 23, 23, 0), local(2026, 11, 24, 1, 0), 0, 1),
        (local(2026, 9, 29, 10, 0), local(2026, 10, 9, 10, 0), 0, 3),
        (local(2026, 9, 30, 10, 0), local(2026, 10, 10, 10, 0), 0, 3),
        (local(2026, 9, 29, 10, 0), local(2026, 10, 9, 10, 0), 2, 1),
        # More paused than elapsed can only come from inconsistent data: never negative.
        (local(2026, 11, 23, 9, 0), local(2026, 11, 24, 9, 0), 3, 0),
        # Closed before it was received (a clock set back): nothing, not a negative count.
        (local(2026, 11, 24, 9, 0), local(2026, 11, 23, 9, 0), 0, 0),
    ],
)
def test_handling_workdays(received, closed, paused, expected):
    assert (
        handling_workdays(
            calendar=OFFICIAL,
            received_at=received,
            closed_at=closed,
            tz=SHANGHAI,
            paused_workdays=paused,
        )
        == expected
    )


@pytest.mark.parametrize(
    ("paused_at", "resumed_at", "expected"),
    [
        (local(2026, 11, 23, 10, 0), local(2026, 11, 23, 18, 0), 0),
        (local(2026, 11, 27, 18, 0), local(2026, 11, 30, 9, 0), 1),
        (local(2026, 9, 29, 15, 0), local(2026, 10, 9, 20, 0), 3),
        (local(2026, 9, 30, 15, 0), local(2026, 10, 7, 20, 0), 0),
    ],
)
def test_paused_workdays(paused_at, resumed_at, expected):
    assert (
        paused_workdays_between(
            calendar=OFFICIAL, paused_at=paused_at, resumed_at=resumed_at, tz=SHANGHAI
        )
        == expected
    )


# --- properties, against chinese_calendar day by day ------------------------------------

instants_2005_2026 = st.datetimes(
    min_value=datetime(2005, 1, 1), max_value=datetime(2026, 11, 15), timezones=st.just(SHANGHAI)
)


@settings(max_examples=300, deadline=None)
@given(received=instants_2005_2026, paused=st.integers(min_value=0, max_value=10))
def test_deadlines_agree_with_chinese_calendar(received, paused):
    result = deadlines(received, paused_workdays=paused)

    received_on = received.astimezone(SHANGHAI).date()
    first = result.first_reply_due_at.astimezone(SHANGHAI)
    resolution = result.resolution_due_at.astimezone(SHANGHAI)
    assert first.date() == workdays_after(received_on, 2 + paused)
    assert resolution.date() == workdays_after(received_on, 15 + paused)
    assert first.time() == resolution.time() == time(23, 59, 59, 999000)
    assert chinese_calendar.is_workday(first.date())
    assert chinese_calendar.is_workday(resolution.date())
    assert received < result.first_reply_due_at < result.resolution_due_at


@settings(max_examples=300, deadline=None)
@given(received=instants_2005_2026, days=st.integers(min_value=0, max_value=40))
def test_handling_workdays_agree_with_chinese_calendar(received, days):
    closed = received + timedelta(days=days, hours=3)
    received_on = received.astimezone(SHANGHAI).date()
    closed_on = closed.astimezone(SHANGHAI).date()
    expected = workdays_between(received_on, closed_on)

    assert (
        handling_workdays(calendar=OFFICIAL, received_at=received, closed_at=closed, tz=SHANGHAI)
        == expected
    )


@settings(max_examples=200, deadline=None)
@given(received=instants_2005_2026)
def test_a_report_resolved_on_its_resolution_day_took_exactly_the_allowed_days(received):
    result = deadlines(received)

    assert (
        handling_workdays(
            calendar=OFFICIAL, received_at=received, closed_at=result.resolution_due_at, tz=SHANGHAI
        )
        == 15
    )
