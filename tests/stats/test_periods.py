"""Period parsing is pure: months, quarters, years and ranges of local dates."""

from datetime import date

import pytest

from app.stats.periods import parse_period


@pytest.mark.parametrize(
    ("text", "key", "label", "start", "end"),
    [
        ("2026-04", "2026-04", "2026年4月", date(2026, 4, 1), date(2026, 4, 30)),
        ("2024-02", "2024-02", "2024年2月", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-4", "2026-04", "2026年4月", date(2026, 4, 1), date(2026, 4, 30)),
        ("2026-Q3", "2026-Q3", "2026年第三季度", date(2026, 7, 1), date(2026, 9, 30)),
        ("2017-q2", "2017-Q2", "2017年第二季度", date(2017, 4, 1), date(2017, 6, 30)),
        ("2026", "2026", "2026年", date(2026, 1, 1), date(2026, 12, 31)),
        (
            "2026-04-01..2026-04-30",
            "2026-04-01..2026-04-30",
            "2026年4月1日至2026年4月30日",
            date(2026, 4, 1),
            date(2026, 4, 30),
        ),
        (
            " 2026-09-20..2026-09-20 ",
            "2026-09-20..2026-09-20",
            "2026年9月20日至2026年9月20日",
            date(2026, 9, 20),
            date(2026, 9, 20),
        ),
    ],
)
def test_periods_cover_whole_local_days(text, key, label, start, end) -> None:
    period = parse_period(text)
    assert (period.key, period.label, period.start, period.end) == (key, label, start, end)


def test_the_day_after_a_december_period_is_in_the_next_year() -> None:
    assert parse_period("2026-12").next_day == date(2027, 1, 1)
    assert parse_period("2026-Q4").next_day == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-13", "there is no month 13"),
        ("2026-Q5", "is not a period"),
        ("2026-02-30..2026-03-01", "day is out of range"),
        ("2026-05-01..2026-04-01", "the range ends before it starts"),
        ("April 2026", "is not a period"),
        ("9999", "end of the calendar"),
    ],
)
def test_other_text_is_refused_with_the_shapes_understood(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_period(text)
    assert reason in str(raised.value)
    if text != "9999":
        assert "2026-Q3" in str(raised.value)
