"""Loading a year's official calendar, describing a year, and watching how long coverage lasts."""

import logging
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from app.audit import service as audit
from app.audit.models import SYSTEM_ACTOR, Action, Actor, EntityKind
from app.config import Settings
from app.errors import Conflict, Unprocessable
from app.workdays.models import CalendarDay, CalendarYear
from app.workdays.schemas import (
    CalendarLoadResult,
    CalendarNotice,
    CalendarYearPublic,
    CoveragePublic,
    HolidayPeriod,
    MakeupWorkday,
)
from app.workdays.sources import get_calendar, lock_calendar, packaged_calendar_days

log = logging.getLogger(__name__)

# The longest period in the package is 10 days (Spring Festival 2020, extended); a much longer
# one is almost always a mistyped month.
MAX_HOLIDAY_PERIOD_DAYS = 21
# Enough problems to fix in one go, without burying the first ones.
MAX_PROBLEMS_SHOWN = 10
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def notice_problems(
    *, year: int, notice: CalendarNotice, first_year: int, covered_until: date
) -> list[str]:
    """Everything that stops a notice from being loaded as the given year, in words to act on."""
    problems: list[str] = []
    next_year = covered_until.year + 1
    if year < first_year:
        problems.append(f"{year} is before {first_year}, the first year with official data")
    elif year > next_year:
        problems.append(
            f"the official calendar ends on {covered_until}: load {next_year} before {year}, "
            "so that no year is left without official data"
        )
    if not notice.holidays:
        problems.append(
            "the notice lists no holidays, and every State Council notice has some: check the "
            "'holidays' key (JSON) or the kind column (CSV)"
        )

    def other_year_hint(day: date) -> str:
        return f"a notice's days in {day.year} go into the calendar of {day.year}: load them there"

    holiday_names: dict[date, str] = {}
    for period in notice.holidays:
        label = f"holiday {period.name} {period.start}–{period.end}"
        if period.start > period.end:
            problems.append(f"{label} ends before it starts")
            continue
        outside = next((d for d in (period.start, period.end) if d.year != year), None)
        if outside is not None:
            problems.append(f"{label} is not inside {year}; {other_year_hint(outside)}")
            continue
        length = (period.end - period.start).days + 1
        if length > MAX_HOLIDAY_PERIOD_DAYS:
            problems.append(
                f"{label} lasts {length} days, longer than any holiday "
                f"(at most {MAX_HOLIDAY_PERIOD_DAYS}): check the month"
            )
            continue
        for offset in range(length):
            day = period.start + timedelta(days=offset)
            if day in holiday_names:
                problems.append(
                    f"{day} is in two holiday periods ({holiday_names[day]}, {period.name})"
                )
            holiday_names[day] = period.name

    makeup_names: dict[date, str] = {}
    for makeup in notice.makeup_workdays:
        label = f"make-up working day {makeup.name} {makeup.date}"
        if makeup.date.year != year:
            problems.append(f"{label} is not inside {year}; {other_year_hint(makeup.date)}")
            continue
        if makeup.date.weekday() < 5:
            problems.append(
                f"{label} is a {WEEKDAY_NAMES[makeup.date.weekday()]}, already a working day: "
                "make-up working days fall on a Saturday or Sunday"
            )
        if makeup.date in makeup_names:
            problems.append(f"{label} is listed twice")
        if makeup.date in holiday_names:
            problems.append(
                f"{makeup.date} is both a holiday ({holiday_names[makeup.date]}) "
                f"and a make-up working day ({makeup.name})"
            )
        makeup_names[makeup.date] = makeup.name

    if len(problems) > MAX_PROBLEMS_SHOWN:
        hidden = len(problems) - MAX_PROBLEMS_SHOWN
        problems = [*problems[:MAX_PROBLEMS_SHOWN], f"and {hidden} more"]
    return problems


def notice_days(notice: CalendarNotice) -> dict[date, tuple[bool, str]]:
    """Every day a (valid) notice lists: day -> (is_workday, name)."""
    days: dict[date, tuple[bool, str]] = {}
    for period in notice.holidays:
        for offset in range((period.end - period.start).days + 1):
            days[period.start + timedelta(days=offset)] = (False, period.name)
    for makeup in notice.makeup_workdays:
        days[makeup.date] = (True, makeup.name)
    return days


def load_year(
    *,
    session: Session,
    year: int,
    notice: CalendarNotice,
    now: datetime,
    actor: str,
    settings: Settings,
    audit_actor: Actor = SYSTEM_ACTOR,
) -> CalendarLoadResult:
    """Replace a year's official days with a notice's (flushed); open reports follow later.

    The caller commits, then moves open reports (app.workdays.jobs): the recompute runs after the
    calendar is committed, one short transaction per batch, so that requests keep flowing while
    a year loads (app.reports.deadlines). Until it has run the year's version is pending
    (`recomputed_version` behind `version`), and the scheduler finishes it after a crash.
    `actor` is the name shown as `loaded_by`; `audit_actor` is who the admin history records.
    """
    # Before anything reads the calendar: requests computing due dates hold it shared.
    lock_calendar(session)
    package = packaged_calendar_days()
    problems = notice_problems(
        year=year,
        notice=notice,
        first_year=package.first_year,
        covered_until=get_calendar(session).covered_until,
    )
    if problems:
        raise Unprocessable(
            f"{year}年日历未载入，请按国务院通知改正后重新提交：" + "；".join(problems),
            en=f"calendar {year} not loaded: " + "; ".join(problems),
            code="calendar_notice_invalid",
        )

    # Lock the year's row so that two loads of one year run one after the other.
    record = session.exec(
        select(CalendarYear).where(CalendarYear.year == year).with_for_update()
    ).first()
    before = _calendar_snapshot(session=session, record=record) if record is not None else None
    record = record or CalendarYear(year=year)
    record.source = notice.source
    record.version = uuid.uuid4().hex
    record.loaded_by = actor
    record.loaded_at = now
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"另一个请求正在同时载入{year}年日历：请查看 GET /api/v1/calendar/{year}，"
            "如有需要再载入一次",
            en=f"calendar {year} was being loaded by another request at the same time; "
            f"check GET /api/v1/calendar/{year} and load again if needed",
            code="calendar_load_conflict",
        ) from None

    session.exec(delete(CalendarDay).where(CalendarDay.year == year))
    days = notice_days(notice)
    session.add_all(
        CalendarDay(
            day=day,
            year=year,
            is_workday=is_workday,
            name=name,
            source=notice.source,
            loaded_at=now,
        )
        for day, (is_workday, name) in sorted(days.items())
    )
    session.flush()
    audit.record(
        session=session,
        actor=audit_actor,
        kind=EntityKind.calendar,
        entity_id=year,
        action=Action.loaded,
        before=before,
        after=_calendar_snapshot(session=session, record=record),
        at=now,
    )

    makeup_count = sum(1 for is_workday, _ in days.values() if is_workday)
    result = CalendarLoadResult(
        year=year,
        holidays=len(days) - makeup_count,
        makeup_workdays=makeup_count,
        reports_moved=0,
    )
    log.info(
        "calendar %d loaded by %s from %r: %d holiday days, %d make-up working days",
        year, actor, notice.source, result.holidays, result.makeup_workdays,
    )  # fmt: skip
    return result


def pending_versions(*, session: Session) -> list[tuple[int, str]]:
    """The loaded years whose version open reports have not been recomputed to yet."""
    return [
        (record.year, record.version)
        for record in session.exec(select(CalendarYear)).all()
        if record.recomputed_version != record.version
    ]


def mark_recomputed(*, session: Session, versions: list[tuple[int, str]]) -> None:
    """Record that open reports follow these years' versions (a later load stays pending)."""
    for year, version in versions:
        session.exec(
            update(CalendarYear)
            .where(col(CalendarYear.year) == year, col(CalendarYear.version) == version)
            .values(recomputed_version=version)
        )
    session.flush()


def _calendar_snapshot(*, session: Session, record: CalendarYear) -> dict:
    """A loaded year as the admin history keeps it: where it came from and every listed day."""
    rows = session.exec(
        select(CalendarDay).where(CalendarDay.year == record.year).order_by(CalendarDay.day)
    ).all()
    return {
        "source": record.source,
        "version": record.version,
        "loaded_by": record.loaded_by,
        "loaded_at": record.loaded_at.isoformat() if record.loaded_at else None,
        "holidays": {row.day.isoformat(): row.name for row in rows if not row.is_workday},
        "makeup_workdays": {row.day.isoformat(): row.name for row in rows if row.is_workday},
    }


def _holiday_periods(holidays: dict[date, str]) -> list[HolidayPeriod]:
    """Consecutive days of one holiday, as the notice would list them."""
    periods: list[HolidayPeriod] = []
    for day in sorted(holidays):
        name = holidays[day]
        last = periods[-1] if periods else None
        if last is not None and last.name == name and last.end + timedelta(days=1) == day:
            last.end = day
        else:
            periods.append(HolidayPeriod(name=name, start=day, end=day))
    return periods


def describe_year(*, session: Session, year: int) -> CalendarYearPublic:
    """A year's holidays and make-up working days, and where they come from."""
    calendar = get_calendar(session)
    package = packaged_calendar_days()
    record = session.get(CalendarYear, year)
    source = loaded_at = loaded_by = None
    holidays: dict[date, str] = {}
    makeup: dict[date, str] = {}
    if record is not None and year <= calendar.covered_until.year:
        basis = "loaded"
        source, loaded_at, loaded_by = record.source, record.loaded_at, record.loaded_by
        rows = session.exec(select(CalendarDay).where(CalendarDay.year == year)).all()
        for row in rows:
            (makeup if row.is_workday else holidays)[row.day] = row.name
    elif package.first_year <= year <= package.last_year:
        basis = "package"
        source = package.source
        holidays = {d: name for d, name in package.holidays.items() if d.year == year}
        makeup = {d: name for d, name in package.makeup_workdays.items() if d.year == year}
    else:
        basis = "weekend_rule"

    first_day, last_day = date(year, 1, 1), date(year, 12, 31)
    working_days = calendar.workdays_between(first_day, last_day) + calendar.is_workday(first_day)
    return CalendarYearPublic(
        year=year,
        basis=basis,
        official=basis != "weekend_rule",
        source=source,
        loaded_at=loaded_at,
        loaded_by=loaded_by,
        working_days=working_days,
        holidays=_holiday_periods(holidays),
        makeup_workdays=[MakeupWorkday(name=makeup[d], date=d) for d in sorted(makeup)],
    )


def _coverage_message(*, covered_until: date, days_left: int, warning: bool) -> str:
    """What operators read about coverage, and how to extend it when it runs short."""
    next_year = covered_until.year + 1
    how_to_load = (
        f"load {next_year} from the State Council notice "
        f"(PUT /api/v1/calendar/{next_year} or `zhaocuo calendar load FILE`)"
    )
    if days_left < 0:
        return (
            f"the official calendar ended on {covered_until}, {-days_left} days "
            f"ago: deadlines follow the weekend rule (Monday to Friday) and are marked "
            f"provisional; {how_to_load}"
        )
    if warning:
        return f"the official calendar ends on {covered_until}, in {days_left} days: {how_to_load}"
    return f"the official calendar covers up to {covered_until}, {days_left} days away"


def coverage_status(*, session: Session, now: datetime, settings: Settings) -> CoveragePublic:
    """How long the official calendar lasts from today, and whether that is too short."""
    covered_until = get_calendar(session).covered_until
    days_left = (covered_until - now.astimezone(settings.tz).date()).days
    warning = days_left <= settings.calendar_warning_days
    return CoveragePublic(
        covered_until=covered_until,
        days_left=days_left,
        warning=warning,
        message=_coverage_message(
            covered_until=covered_until, days_left=days_left, warning=warning
        ),
    )
