"""Merging the package with loaded years, and checking notices before they are loaded (no DB)."""

from datetime import date

import pytest
from pydantic import ValidationError

from app.workdays.schemas import NOTICE_EXAMPLE, CalendarNotice
from app.workdays.service import notice_days, notice_problems
from app.workdays.sources import build_calendar, last_covered_year, packaged_calendar_days
from tests.workdays.notices import notice_2027

PACKAGE = packaged_calendar_days()
COVERED_UNTIL = date(2026, 12, 31)


def problems_2027(notice: CalendarNotice, year: int = 2027) -> list[str]:
    return notice_problems(
        year=year, notice=notice, first_year=PACKAGE.first_year, covered_until=COVERED_UNTIL
    )


def test_packaged_days_carry_chinese_names_and_the_package_years():
    assert PACKAGE.first_year == 2004
    assert PACKAGE.last_year == 2026
    assert PACKAGE.holidays[date(2026, 10, 1)] == "国庆节"
    assert PACKAGE.holidays[date(2026, 2, 15)] == "春节"
    assert PACKAGE.makeup_workdays[date(2026, 9, 20)] == "国庆节"
    assert PACKAGE.source == "chinesecalendar 1.11.0"


def test_without_loaded_years_the_package_stands_alone():
    calendar = build_calendar(package=PACKAGE, loaded_days=[], loaded_years=set())
    assert calendar.covered_until == COVERED_UNTIL
    assert calendar.covered_from == date(2004, 1, 1)
    assert calendar.is_workday(date(2026, 10, 10))
    assert not calendar.is_workday(date(2026, 10, 1))


def test_a_loaded_next_year_extends_coverage():
    days = [(day, is_workday) for day, (is_workday, _) in notice_days(notice_2027()).items()]
    calendar = build_calendar(package=PACKAGE, loaded_days=days, loaded_years={2027})
    assert calendar.covered_until == date(2027, 12, 31)
    assert not calendar.is_workday(date(2027, 1, 1))
    assert calendar.is_workday(date(2027, 2, 14))
    assert calendar.add_workdays(date(2026, 12, 30), 2) == date(2027, 1, 4)
    assert calendar.is_official(date(2027, 1, 4))


def test_a_loaded_year_replaces_the_packaged_year_wholesale():
    # A "correction" of 2026 that keeps only New Year's Day: National Day is gone with it.
    loaded = [(date(2026, 1, 1), False), (date(2026, 1, 2), False)]
    calendar = build_calendar(package=PACKAGE, loaded_days=loaded, loaded_years={2026})
    assert calendar.is_workday(date(2026, 10, 1))
    assert not calendar.is_workday(date(2026, 10, 10))
    assert not calendar.is_workday(date(2026, 1, 2))
    assert not calendar.is_workday(date(2025, 10, 1))  # other years keep the package's days


def test_a_year_after_a_gap_is_not_official():
    loaded = [(date(2028, 1, 3), False)]
    calendar = build_calendar(package=PACKAGE, loaded_days=loaded, loaded_years={2028})
    assert calendar.covered_until == COVERED_UNTIL
    assert calendar.is_workday(date(2028, 1, 3))
    assert last_covered_year(package_last_year=2026, loaded_years={2027, 2028, 2030}) == 2028


def test_the_2026_notice_reproduces_the_package_exactly():
    days = notice_days(CalendarNotice.model_validate(NOTICE_EXAMPLE))
    assert {d for d, (working, _) in days.items() if not working} == {
        d for d in PACKAGE.holidays if d.year == 2026
    }
    assert {d for d, (working, _) in days.items() if working} == {
        d for d in PACKAGE.makeup_workdays if d.year == 2026
    }
    assert problems_2027(CalendarNotice.model_validate(NOTICE_EXAMPLE), year=2026) == []


def test_a_sound_notice_has_no_problems_and_expands_to_its_days():
    notice = notice_2027()
    assert problems_2027(notice) == []
    days = notice_days(notice)
    assert len(days) == 20
    assert days[date(2027, 2, 9)] == (False, "春节")
    assert days[date(2027, 10, 9)] == (True, "国庆节")


def test_problem_year_before_the_data():
    assert problems_2027(notice_2027(), year=2003)[0] == (
        "2003 is before 2004, the first year with official data"
    )


def test_problem_year_after_a_gap():
    assert problems_2027(notice_2027(), year=2028)[0] == (
        "the official calendar ends on 2026-12-31: load 2027 before 2028, "
        "so that no year is left without official data"
    )


def test_problem_period_ending_before_it_starts():
    notice = notice_2027(holidays=[{"name": "春节", "start": "2027-02-12", "end": "2027-02-06"}])
    assert problems_2027(notice) == ["holiday 春节 2027-02-12–2027-02-06 ends before it starts"]


def test_problem_day_outside_the_year():
    notice = notice_2027(holidays=[{"name": "元旦", "start": "2026-12-31", "end": "2027-01-02"}])
    assert problems_2027(notice) == [
        "holiday 元旦 2026-12-31–2027-01-02 is not inside 2027; a notice's days in 2026 go "
        "into the calendar of 2026: load them there"
    ]


def test_problem_both_holiday_and_makeup_day():
    notice = notice_2027(makeup_workdays=[{"name": "春节", "date": "2027-02-07"}])
    assert problems_2027(notice) == [
        "2027-02-07 is both a holiday (春节) and a make-up working day (春节)"
    ]


def test_problem_makeup_day_on_a_weekday():
    notice = notice_2027(makeup_workdays=[{"name": "春节", "date": "2027-02-15"}])
    assert problems_2027(notice) == [
        "make-up working day 春节 2027-02-15 is a Monday, already a working day: "
        "make-up working days fall on a Saturday or Sunday"
    ]


def test_problem_overlapping_periods_and_repeated_makeup_days():
    notice = notice_2027(
        holidays=[
            {"name": "春节", "start": "2027-02-06", "end": "2027-02-12"},
            {"name": "元宵", "start": "2027-02-12", "end": "2027-02-12"},
        ],
        makeup_workdays=[{"name": "春节", "date": "2027-02-14"}] * 2,
    )
    assert problems_2027(notice) == [
        "2027-02-12 is in two holiday periods (春节, 元宵)",
        "make-up working day 春节 2027-02-14 is listed twice",
    ]


def test_problem_implausibly_long_period():
    notice = notice_2027(holidays=[{"name": "春节", "start": "2027-02-06", "end": "2027-12-12"}])
    assert problems_2027(notice) == [
        "holiday 春节 2027-02-06–2027-12-12 lasts 310 days, longer than any holiday "
        "(at most 21): check the month"
    ]


def test_problem_no_holidays():
    assert problems_2027(notice_2027(holidays=[]))[0].startswith("the notice lists no holidays")


def test_many_problems_are_capped():
    makeup = [{"name": "x", "date": f"2027-03-{day:02d}"} for day in range(1, 29)]  # 20 weekdays
    problems = problems_2027(notice_2027(makeup_workdays=makeup))
    assert len(problems) == 11
    assert problems[-1] == "and 10 more"


def test_notice_refuses_unknown_keys():
    with pytest.raises(ValidationError, match="makeup_workday"):
        CalendarNotice.model_validate(
            {"source": "x", "holidays": [], "makeup_workdays": [], "makeup_workday": []}
        )
    with pytest.raises(ValidationError, match="makeup_workdays"):
        CalendarNotice.model_validate({"source": "x", "holidays": []})


def test_csv_rows_become_a_notice():
    text = (
        "date,kind,name\n"
        "2027-01-01,holiday,元旦\n"
        "2027-01-02,holiday,元旦\n"
        "\n"
        " 2027-02-14 , workday , 春节 \n"
    )
    notice = CalendarNotice.from_csv(text, source="2027.csv")
    assert notice.source == "2027.csv"
    assert [(p.name, p.start, p.end) for p in notice.holidays] == [
        ("元旦", date(2027, 1, 1), date(2027, 1, 1)),
        ("元旦", date(2027, 1, 2), date(2027, 1, 2)),
    ]
    assert [(m.name, m.date) for m in notice.makeup_workdays] == [("春节", date(2027, 2, 14))]
    assert notice.years() == {2027}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("day,kind,name\n", "the first row must be the header date,kind,name, not 'day,kind,name'"),
        ("date,kind,name\n2027-01-01,rest,元旦\n", "line 2: kind must be holiday or workday"),
        ("date,kind,name\n2027/01/01,holiday,元旦\n", "line 2: '2027/01/01' is not a date"),
        ("date,kind,name\n2027-01-01,holiday\n", "line 2: expected 3 columns"),
    ],
)
def test_csv_mistakes_are_named_with_their_line(text, message):
    with pytest.raises(ValueError, match=message):
        CalendarNotice.from_csv(text, source="x")
