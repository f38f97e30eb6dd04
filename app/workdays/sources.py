"""Where the calendar comes from: the chinesecalendar package, overridden by years loaded in the DB.

A year loaded by an operator replaces the packaged data for that year wholesale, so that a
correction can also remove a day. The official span runs from the package's first year to the
last year of an unbroken run of covered years; the service refuses to load a year that would
leave a gap.
"""

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from types import MappingProxyType

import chinese_calendar
from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlmodel import Session, select

from app.statements import DirectStatement
from app.workdays.calendar import WorkCalendar
from app.workdays.models import CalendarDay, CalendarYear

# The package names holidays in English; notices and operators use the Chinese names.
_CHINESE_NAMES = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}


@dataclass(frozen=True)
class PackagedCalendar:
    """The official days shipped in the chinesecalendar package, with Chinese names."""

    holidays: Mapping[date, str]
    makeup_workdays: Mapping[date, str]
    first_year: int
    last_year: int
    source: str


@lru_cache(maxsize=1)
def packaged_calendar_days() -> PackagedCalendar:
    """The holidays and make-up working days of the chinesecalendar package (2004–2026)."""
    holidays = {
        day: _CHINESE_NAMES.get(name, name) for day, name in chinese_calendar.holidays.items()
    }
    makeup = {
        day: _CHINESE_NAMES.get(name, name) for day, name in chinese_calendar.workdays.items()
    }
    years = [day.year for day in holidays]
    return PackagedCalendar(
        holidays=MappingProxyType(holidays),
        makeup_workdays=MappingProxyType(makeup),
        first_year=min(years),
        last_year=max(years),
        source=f"chinesecalendar {chinese_calendar.__version__}",
    )


def last_covered_year(*, package_last_year: int, loaded_years: set[int]) -> int:
    """The last year of the unbroken run of official years that starts with the package."""
    year = package_last_year
    while year + 1 in loaded_years:
        year += 1
    return year


def build_calendar(
    *, package: PackagedCalendar, loaded_days: Sequence[tuple[date, bool]], loaded_years: set[int]
) -> WorkCalendar:
    """Merge the package with the loaded years' days (day, is_workday) into one calendar."""
    covered_until = date(
        last_covered_year(package_last_year=package.last_year, loaded_years=loaded_years), 12, 31
    )
    holidays = {day for day in package.holidays if day.year not in loaded_years}
    makeup_workdays = {day for day in package.makeup_workdays if day.year not in loaded_years}
    for day, is_workday in loaded_days:
        if day <= covered_until:
            (makeup_workdays if is_workday else holidays).add(day)
    return WorkCalendar(
        holidays=holidays,
        makeup_workdays=makeup_workdays,
        covered_until=covered_until,
        covered_from=date(package.first_year, 1, 1),
    )


class _CalendarCache:
    """The last calendar built in this process, keyed by the loaded years' versions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fingerprint: tuple[tuple[int, str], ...] | None = None
        self._calendar: WorkCalendar | None = None

    def get(self, fingerprint: tuple[tuple[int, str], ...]) -> WorkCalendar | None:
        with self._lock:
            return self._calendar if fingerprint == self._fingerprint else None

    def put(self, fingerprint: tuple[tuple[int, str], ...], calendar: WorkCalendar) -> None:
        with self._lock:
            self._fingerprint, self._calendar = fingerprint, calendar


_cache = _CalendarCache()
# Built once: every request that computes due dates runs it.
_LOADED_VERSIONS = DirectStatement(
    sa_select(CalendarYear.__table__.c.year, CalendarYear.__table__.c.version)
)


def get_calendar(session: Session) -> WorkCalendar:
    """The calendar in force: packaged data plus loaded years, rebuilt only when a load changed it.

    Several processes share the database, so each call asks it for the loaded years' versions
    (one small query) and rebuilds when they differ from those of the cached calendar. Versions
    are random per load, so a calendar built from a transaction that later rolled back can never
    be mistaken for a committed one.
    """
    return _calendar_of(session, _LOADED_VERSIONS.rows(session.connection()))


def held_calendar(session: Session) -> WorkCalendar:
    """The calendar in force, kept from changing until this transaction ends.

    Taken by every request that computes due dates: a calendar load waits for those in flight
    to commit, and the ones after it read the new calendar, so the load's recompute sees every
    report computed with the old one. On PostgreSQL the shared lock and the versions come in
    one call of a function (migration 20261203b001); SQLite needs no lock, as each transaction
    holds the database's write lock from its start.
    """
    if session.get_bind().dialect.name != "postgresql":
        return get_calendar(session)
    return _calendar_of(session, _HOLD_CALENDAR_VERSIONS.rows(session.connection()))


def _calendar_of(session: Session, versions: Sequence[tuple[int, str]]) -> WorkCalendar:
    fingerprint = tuple(sorted((year, version) for year, version in versions))
    cached = _cache.get(fingerprint)
    if cached is not None:
        return cached
    loaded_days = session.exec(select(CalendarDay.day, CalendarDay.is_workday)).all()
    calendar = build_calendar(
        package=packaged_calendar_days(),
        loaded_days=[(day, is_workday) for day, is_workday in loaded_days],
        loaded_years={year for year, _ in fingerprint},
    )
    _cache.put(fingerprint, calendar)
    return calendar


# PostgreSQL advisory lock on "the calendar in force" (any number: only this service uses it).
CALENDAR_LOCK_KEY = 0x7A63_0001
_HOLD_CALENDAR_VERSIONS = DirectStatement(
    text("SELECT year, version FROM zhaocuo_hold_calendar_versions(:key)").bindparams(
        key=CALENDAR_LOCK_KEY
    )
)


def lock_calendar(session: Session) -> None:
    """Take the calendar for a change, until this transaction ends (exclusive; PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=CALENDAR_LOCK_KEY))
