"""The notice format operators load (JSON, or CSV from the command line) and the API's answers.

See docs/calendar-format.md for the formats with examples.
"""

import csv
import datetime as dt
import io
from typing import Literal

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from app.contract import LocalDateTime
from app.fields import IsoDate, SingleLineText

CSV_COLUMNS = ("date", "kind", "name")

# The 2026 notice (国务院办公厅关于2026年部分节假日安排的通知), as the OpenAPI example.
NOTICE_EXAMPLE = {
    "source": "国务院办公厅关于2026年部分节假日安排的通知",
    "holidays": [
        {"name": "元旦", "start": "2026-01-01", "end": "2026-01-03"},
        {"name": "春节", "start": "2026-02-15", "end": "2026-02-23"},
        {"name": "清明节", "start": "2026-04-04", "end": "2026-04-06"},
        {"name": "劳动节", "start": "2026-05-01", "end": "2026-05-05"},
        {"name": "端午节", "start": "2026-06-19", "end": "2026-06-21"},
        {"name": "中秋节", "start": "2026-09-25", "end": "2026-09-27"},
        {"name": "国庆节", "start": "2026-10-01", "end": "2026-10-07"},
    ],
    "makeup_workdays": [
        {"name": "元旦", "date": "2026-01-04"},
        {"name": "春节", "date": "2026-02-14"},
        {"name": "春节", "date": "2026-02-28"},
        {"name": "劳动节", "date": "2026-05-09"},
        {"name": "国庆节", "date": "2026-09-20"},
        {"name": "国庆节", "date": "2026-10-10"},
    ],
}


# CalendarDay.name's and CalendarYear.source's column lengths.
DAY_NAME_MAX, SOURCE_MAX = 100, 300
# More than any year's notice lists (about 30 days off and 6 make-up days).
DAYS_PER_NOTICE_MAX = 366
DayName = SingleLineText(DAY_NAME_MAX, min_length=1)


class HolidayPeriod(SQLModel):
    name: DayName = Field(description="the holiday, e.g. 春节")
    start: IsoDate = Field(description="first day off")
    end: IsoDate = Field(description="last day off, inclusive (equal to start for one day)")


class MakeupWorkday(SQLModel):
    name: DayName = Field(description="the holiday it makes up for")
    date: IsoDate = Field(description="a Saturday or Sunday that is a working day (调休上班)")


class CalendarNotice(SQLModel):
    """One year's holidays and make-up working days, as the State Council notice lists them."""

    # A misspelt key must not silently load a year without its make-up days.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [NOTICE_EXAMPLE]})

    source: SingleLineText(SOURCE_MAX, min_length=1) = Field(
        description="the notice, e.g. 国务院办公厅关于…的通知 国办发明电〔…〕",
    )
    holidays: list[HolidayPeriod] = Field(
        max_length=DAYS_PER_NOTICE_MAX, description="the holidays (放假) of the year"
    )
    makeup_workdays: list[MakeupWorkday] = Field(
        max_length=DAYS_PER_NOTICE_MAX, description="weekend days worked to make up (调休上班)"
    )

    def years(self) -> set[int]:
        """The years of every date the notice lists."""
        days = [d for p in self.holidays for d in (p.start, p.end)]
        days += [m.date for m in self.makeup_workdays]
        return {d.year for d in days}

    @classmethod
    def from_csv(cls, text: str, *, source: str) -> "CalendarNotice":
        """Read rows `date,kind,name` (kind holiday or workday) after a header row naming them."""
        reader = csv.reader(io.StringIO(text))
        header = [cell.strip().lower() for cell in next(reader, [])]
        if tuple(header) != CSV_COLUMNS:
            expected, found = ",".join(CSV_COLUMNS), ",".join(header)
            raise ValueError(f"the first row must be the header {expected}, not {found!r}")
        holidays: list[HolidayPeriod] = []
        makeup_workdays: list[MakeupWorkday] = []
        for line, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(CSV_COLUMNS):
                raise ValueError(f"line {line}: expected 3 columns date,kind,name, got {len(row)}")
            raw_date, kind, name = (cell.strip() for cell in row)
            try:
                day = dt.date.fromisoformat(raw_date)
            except ValueError:
                raise ValueError(
                    f"line {line}: {raw_date!r} is not a date written YYYY-MM-DD"
                ) from None
            if kind == "holiday":
                holidays.append(HolidayPeriod(name=name, start=day, end=day))
            elif kind == "workday":
                makeup_workdays.append(MakeupWorkday(name=name, date=day))
            else:
                raise ValueError(f"line {line}: kind must be holiday or workday, not {kind!r}")
        return cls(source=source, holidays=holidays, makeup_workdays=makeup_workdays)


class CalendarYearPublic(SQLModel):
    """A year of the working-day calendar as the service applies it."""

    year: int = Field(description="the calendar year")
    basis: Literal["loaded", "package", "weekend_rule"] = Field(
        description="loaded from a notice by an operator, shipped in the chinesecalendar "
        "package, or no official data (Monday to Friday are working days)"
    )
    official: bool = Field(description="false when the weekend rule stands in for the notice")
    source: str | None = Field(description="the notice it was loaded from, if loaded")
    loaded_at: LocalDateTime | None = Field(description="when an operator loaded it")
    loaded_by: str | None = Field(description="who loaded it (unit:<id>:admin or cli)")
    working_days: int = Field(description="working days in the year")
    holidays: list[HolidayPeriod] = Field(description="the holidays (放假) of the year")
    makeup_workdays: list[MakeupWorkday] = Field(
        description="weekend days worked to make up (调休上班)"
    )


class CoveragePublic(SQLModel):
    covered_until: dt.date = Field(description="the last day the official calendar covers")
    days_left: int = Field(description="days from today to covered_until (negative once past)")
    warning: bool = Field(description="coverage ends within the warning period, or has ended")
    message: str = Field(description="what the coverage means and what to do, for operators")


class CalendarLoadResult(SQLModel):
    """What a calendar load stored and changed."""

    year: int = Field(description="the year loaded")
    holidays: int = Field(description="holiday days stored")
    makeup_workdays: int = Field(description="make-up working days stored")
    reports_moved: int = Field(description="open reports whose due dates changed")
