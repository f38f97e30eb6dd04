"""Settling: closed reports added once into per-unit figures by month and year of receipt.

A report closed at or before a cut-off counts the same for that cut-off and for every later
one (received, declined or resolved, 属实, answered in time or late, its working days), and a
closed report never changes again. So the settle job adds each closed report's figures to its
owner's rows for the local month and year of receipt, once, and marks it settled. Statistics
over whole months then read those rows plus the reports not settled yet, rather than every
report. A cut-off before the latest settled closing, or a zone other than the rows', reads
every report.

A closed report that its citizen can still rate is the one exception: a rating changes its
figures and a dissatisfied one reopens it. So a report is settled only once it is rated or
its rating window has passed (or it never had one: imported reports), and the latest of its
closing and its rating is what a cut-off must be past to read its row.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    Date,
    Integer,
    and_,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlmodel import Session

from app.config import Settings
from app.db import dialect_insert
from app.reports.clocks import local_date, start_of_local_day
from app.reports.models import CLOSED_STATUSES, Report
from app.stats.models import SettledFigures, SettledState
from app.stats.queries import figure_columns

report = Report.__table__
settled_figures = SettledFigures.__table__

# The counts a settled row keeps: every figure but overdue_open, which a closed report never is.
SETTLED_FIELDS = tuple(
    column.name
    for column in settled_figures.columns
    if column.name not in ("unit_id", "starts_on", "months")
)


@dataclass(frozen=True)
class SettledMonths:
    """The whole local months of a period that statistics read from the settled figures:
    the whole years among them from the years' rows, the other months from the months' rows."""

    first: date
    end: date  # the first day of the month after the last
    years_first: date  # the whole years [years_first, years_end); both `end` when none
    years_end: date
    start_at: datetime
    end_at: datetime


@dataclass(frozen=True)
class SettleResult:
    reports: int
    months: int
    rebuilt: bool


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def whole_months(start: date, next_day: date) -> tuple[date, date] | None:
    """The months lying wholly within the local dates [start, next_day), as [first, end)."""
    first = start if start.day == 1 else next_month(start)
    end = month_start(next_day)
    return (first, end) if first < end else None


def whole_years(first: date, end: date) -> tuple[date, date]:
    """The years lying wholly within the months [first, end), as [first, end); (end, end) if
    there are none."""
    years_first = first if first.month == 1 else date(first.year + 1, 1, 1)
    years_end = date(end.year, 1, 1)
    return (years_first, years_end) if years_first < years_end else (end, end)


def settled_months(
    *, session: Session, start: date, next_day: date, as_of: datetime, settings: Settings
) -> SettledMonths | None:
    """The months of a period the settled figures answer for at a cut-off, or None."""
    months = whole_months(start, next_day)
    if months is None:
        return None
    state = session.get(SettledState, 1)
    if (
        state is None
        or state.settled_through is None
        or state.timezone != settings.timezone
        # A report settled after the cut-off was still open then: its row would be wrong.
        or as_of < state.settled_through
    ):
        return None
    first, end = months
    years_first, years_end = whole_years(first, end)
    return SettledMonths(
        first=first,
        end=end,
        years_first=years_first,
        years_end=years_end,
        start_at=start_of_local_day(first, settings.tz),
        end_at=start_of_local_day(end, settings.tz),
    )


def _upsert(session: Session, starts_on: date, months: int, within, now: datetime):
    """INSERT … SELECT the figures per owner of one row's span, adding to rows that exist."""
    insert = dialect_insert(session, settled_figures)
    # Closed by now, so these are the figures for any cut-off from now on.
    figures = {column.name: column for column in figure_columns(now)}
    query = (
        select(
            report.c.owner_unit_id,
            literal(starts_on, Date),
            literal(months, Integer),
            *[figures[name] for name in SETTLED_FIELDS],
        )
        .where(within)
        .group_by(report.c.owner_unit_id)
    )
    statement = insert.from_select(["unit_id", "starts_on", "months", *SETTLED_FIELDS], query)
    return statement.on_conflict_do_update(
        index_elements=["unit_id", "starts_on", "months"],
        set_={name: settled_figures.c[name] + statement.excluded[name] for name in SETTLED_FIELDS},
    )


def settle(*, session: Session, now: datetime, settings: Settings) -> SettleResult:
    """Add every report closed by now and not settled yet to its owner's month and year rows.

    On PostgreSQL the caller runs this in a REPEATABLE READ transaction, so that the reports
    added and the reports marked are the same ones even while others close reports.
    """
    state = session.get(SettledState, 1, with_for_update=True)
    rebuilt = False
    if state is None:
        state = SettledState(timezone=settings.timezone)
        session.add(state)
        session.flush()
    elif state.timezone != settings.timezone:
        # Months follow the zone: rows of another zone are dropped and everything is re-added.
        session.execute(delete(settled_figures))
        session.execute(update(report).where(report.c.settled == true()).values(settled=False))
        state.timezone, state.settled_through, state.settled_reports = settings.timezone, None, 0
        rebuilt = True
    settleable = and_(
        report.c.settled == false(),
        report.c.owner_unit_id.is_not(None),
        report.c.status.in_([status.value for status in CLOSED_STATUSES]),
        report.c.closed_at <= now,
        # Final: rated, or no longer rateable (app/reports/ratings.py).
        or_(
            and_(report.c.rated_at.is_not(None), report.c.rated_at <= now),
            report.c.rating_due_at.is_(None),
            report.c.rating_due_at < now,
        ),
    )
    first, last, latest_closing, latest_rating = session.execute(
        select(
            func.min(report.c.received_at),
            func.max(report.c.received_at),
            func.max(report.c.closed_at),
            func.max(report.c.rated_at),
        ).where(settleable)
    ).one()
    if latest_rating is not None:
        latest_closing = max(latest_closing, latest_rating)
    settled = months = 0
    if first is not None:
        tz = settings.tz
        month, last_month = month_start(local_date(first, tz)), month_start(local_date(last, tz))
        while month <= last_month:
            following = next_month(month)
            within = and_(
                settleable,
                report.c.received_at >= start_of_local_day(month, tz),
                report.c.received_at < start_of_local_day(following, tz),
            )
            session.execute(_upsert(session, month, 1, within, now))
            session.execute(_upsert(session, date(month.year, 1, 1), 12, within, now))
            marked = session.execute(update(report).where(within).values(settled=True)).rowcount
            settled += marked
            months += 1 if marked else 0
            month = following
        state.settled_through = max(state.settled_through or latest_closing, latest_closing)
        state.settled_reports += settled
    state.last_run_at = now
    session.add(state)
    session.flush()
    return SettleResult(reports=settled, months=months, rebuilt=rebuilt)
