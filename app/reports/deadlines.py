"""Keeping open reports' due dates true to the calendar in force.

A report's due dates are a function of its local receipt date, the working days it was
paused (on each clock: a pause begun once the first reply was late or given does not move the
first-reply due) and those its approved extensions added, so the recompute never loads reports: per
batch of ids it reads the distinct (DEADLINE_INPUTS, due dates, provisional) groups with
the receipt instants they span, computes the new dates of each (group, receipt day) in
Python with the pure calendar, and moves the batch's reports with one UPDATE joined to the
moves: on PostgreSQL passed as arrays that the statement unnests, their events written by the
same statement; on SQLite through a temporary table that lives as long as the batch's
transaction, the events written by the statement before. Memory follows the distinct groups,
not the open reports.

The UPDATE is never a HOT update on PostgreSQL: the due dates are in ix_report_unsettled (the
statistics read unsettled reports from it alone) and next_rung_at has its own index, so each
moved report adds an entry to every index of `report`, as a plain UPDATE of the rows does.

The UPDATE names the old due dates and the status it expects: a report closed, transferred or
resumed by a concurrent transaction no longer matches and is left alone (on PostgreSQL the
UPDATE waits for that transaction's row lock and re-checks the row as committed).

Each batch is its own short transaction, so submissions and unit actions keep flowing while a
year loads. That the batches miss no report is the calendar lock's job (app.workdays.sources):
a request that computes due dates holds it shared until it commits, the load takes it
exclusively while it writes the calendar, so every report committed after the calendar was
computed with it, and every report computed with the old one is committed before the batches
start.

The load itself only flushes; its caller commits it, then runs the recompute as a job step.
Between the two the year's version is pending (calendar_year.recomputed_version behind its
version): if the process dies there, the scheduler's next sweep finds it and finishes the move.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    func,
    select,
    text,
)
from sqlmodel import Session, col

from app.config import Settings
from app.db import UtcDateTime, isoformat_or_none, session_scope
from app.pgarrays import array_literal
from app.reports.clocks import compute_deadlines, end_of_local_day, local_date, start_of_local_day
from app.reports.models import CLOCKED_STATUSES, EventKind, Report
from app.reports.service import SYSTEM_ACTOR
from app.workdays.calendar import WorkCalendar
from app.workdays.service import mark_recomputed, pending_versions
from app.workdays.sources import get_calendar

# Ids per batch: a batch moves at most this many reports, a few tenths of a second of locks.
RECOMPUTE_BATCH_IDS = 10_000
# pg_advisory_lock key of the recompute ("zcdates" in ASCII): one at a time per database.
RECOMPUTE_LOCK_KEY = int.from_bytes(b"zcdates", "big")

# The report columns a due date is computed from, besides the receipt day, each named as
# compute_deadlines' argument: the recompute groups, plans and matches reports by them, so a
# new input (a column of working days that moves one due date) is one more entry here.
DEADLINE_INPUTS = ("paused_workdays", "first_reply_paused_workdays", "extension_workdays")

_scratch = MetaData()
# A batch's moves, one row per (inputs, old due dates, local receipt day) that moves: on
# SQLite a temporary table created and dropped in the batch's transaction (so the batch may run
# on any pooled connection), on PostgreSQL the columns of the arrays the UPDATE unnests.
_moves = Table(
    "zc_deadline_move",
    _scratch,
    *(Column(name, Integer, nullable=False) for name in DEADLINE_INPUTS),
    Column("old_first", UtcDateTime(), nullable=False),
    Column("old_resolution", UtcDateTime(), nullable=False),
    Column("old_provisional", Boolean, nullable=False),
    Column("day_start", UtcDateTime(), nullable=False),
    Column("day_end", UtcDateTime(), nullable=False),
    Column("new_first", UtcDateTime(), nullable=False),
    Column("new_resolution", UtcDateTime(), nullable=False),
    Column("new_provisional", Boolean, nullable=False),
    Column("new_reminder", UtcDateTime(), nullable=True),
    Column("data", Text, nullable=False),
    prefixes=["TEMPORARY"],
)

_CLOCKED = ", ".join(f"'{status.value}'" for status in CLOCKED_STATUSES)
_MATCH = f"""
    r.id >= :low AND r.id < :high AND r.status IN ({_CLOCKED})
    {"".join(f"AND r.{name} = m.{name} " for name in DEADLINE_INPUTS)}
    AND r.first_reply_due_at = m.old_first
    AND r.resolution_due_at = m.old_resolution
    AND r.deadlines_provisional = m.old_provisional
    AND r.assigned_at >= m.day_start AND r.assigned_at < m.day_end
"""
# The ladder goes on from the rung it had reached, on the new dates: rungs behind it have
# fired (or did not apply) on this clock, and a clock whose ladder is done or paused stays so.
_REMINDER_AHEAD = (
    "r.next_rung = 'reminder' AND r.first_responded_at IS NULL "
    "AND m.new_reminder IS NOT NULL AND m.new_reminder > r.assigned_at"
)
_URGE_AHEAD = "r.next_rung IN ('reminder', 'urge') AND r.first_responded_at IS NULL"
_SET = f"""
    first_reply_due_at = m.new_first,
    resolution_due_at = m.new_resolution,
    deadlines_provisional = m.new_provisional,
    next_rung = CASE WHEN {_REMINDER_AHEAD} THEN 'reminder' WHEN {_URGE_AHEAD} THEN 'urge'
        WHEN r.next_rung IS NOT NULL THEN 'supervise' END,
    next_rung_at = CASE WHEN {_REMINDER_AHEAD} THEN m.new_reminder
        WHEN {_URGE_AHEAD} THEN m.new_first WHEN r.next_rung IS NOT NULL THEN m.new_resolution END,
    updated_at = :now
"""
_EVENT_COLUMNS = "report_id, kind, actor, actor_unit_id, at, data"
_EVENT_CONSTANTS = f"'{EventKind.deadlines_recomputed.value}', '{SYSTEM_ACTOR}', NULL, :now"

# PostgreSQL: the batch's moves come as one array parameter per column (no temporary table,
# so no catalog rows written and vacuumed per batch), the UPDATE returns what it moved, and
# the events follow in the same statement.
_MOVE_TYPES = {Integer: "integer", UtcDateTime: "timestamptz", Boolean: "boolean", Text: "text"}


def _move_array(column: Column) -> str:
    return f"CAST(:{column.name} AS {_MOVE_TYPES[type(column.type)]}[])"


_POSTGRES_BATCH = text(f"""
    WITH m AS (
        SELECT * FROM unnest({", ".join(_move_array(column) for column in _moves.columns)})
            AS m({", ".join(column.name for column in _moves.columns)})
    ), moved AS (
        UPDATE report AS r SET {_SET} FROM m WHERE {_MATCH}
        RETURNING r.id, m.data
    )
    INSERT INTO report_event ({_EVENT_COLUMNS})
    SELECT id, {_EVENT_CONSTANTS}, CAST(data AS json) FROM moved ORDER BY id
""").bindparams(bindparam("now", type_=UtcDateTime()))
# SQLite cannot return the joined table's columns: events first, then the UPDATE, both under
# the transaction's write lock, so they see the same rows.
_SQLITE_EVENTS = text(f"""
    INSERT INTO report_event ({_EVENT_COLUMNS})
    SELECT r.id, {_EVENT_CONSTANTS}, m.data
    FROM report AS r JOIN zc_deadline_move AS m ON {_MATCH} ORDER BY r.id
""").bindparams(bindparam("now", type_=UtcDateTime()))
_SQLITE_UPDATE = text(
    f"UPDATE report AS r SET {_SET} FROM zc_deadline_move AS m WHERE {_MATCH}"
).bindparams(bindparam("now", type_=UtcDateTime()))


def _groups_query(low: int, high: int):
    """A batch's open reports grouped by what their due dates were computed from."""
    inputs = [getattr(Report, name) for name in DEADLINE_INPUTS]
    old_dates = [
        col(Report.first_reply_due_at),
        col(Report.resolution_due_at),
        col(Report.deadlines_provisional),
    ]
    return (
        select(*inputs, *old_dates, func.min(Report.assigned_at), func.max(Report.assigned_at))
        .where(
            col(Report.id) >= low,
            col(Report.id) < high,
            col(Report.status).in_(CLOCKED_STATUSES),
            col(Report.assigned_at).is_not(None),
            col(Report.first_reply_due_at).is_not(None),
            col(Report.resolution_due_at).is_not(None),
        )
        .group_by(*inputs, *old_dates)
    )


class _Planner:
    """The move of each (group, receipt day), computed once per recompute and kept.

    Kept because neighbouring batches share most of their groups; the cache follows the
    distinct groups and days, not the open reports.
    """

    def __init__(self, *, calendar: WorkCalendar, settings: Settings) -> None:
        self.calendar = calendar
        self.settings = settings
        self.planned: dict[tuple, dict | None] = {}

    def moves(self, groups) -> list[dict]:
        """The rows of zc_deadline_move for a batch's groups: only the days that move."""
        tz = self.settings.tz
        inputs_count = len(DEADLINE_INPUTS)
        rows = []
        for group in groups:
            earliest, latest = group[-2], group[-1]
            day, last_day = local_date(earliest, tz), local_date(latest, tz)
            while day <= last_day:
                key = (*group[:-2], day)
                if key not in self.planned:
                    self.planned[key] = self._move(
                        inputs=dict(zip(DEADLINE_INPUTS, group[:inputs_count], strict=True)),
                        old=group[inputs_count:-2],
                        day=day,
                    )
                if self.planned[key] is not None:
                    rows.append(self.planned[key])
                day += timedelta(days=1)
        return rows

    def _move(self, *, inputs: dict[str, int], old: tuple, day) -> dict | None:
        settings, calendar, tz = self.settings, self.calendar, self.settings.tz
        start = start_of_local_day(day, tz)
        new = compute_deadlines(
            calendar=calendar,
            received_at=start,
            tz=tz,
            first_reply_workdays=settings.first_reply_workdays,
            resolution_workdays=settings.resolution_workdays,
            **inputs,
        )
        before = (old[0], old[1], bool(old[2]))
        after = (new.first_reply_due_at, new.resolution_due_at, new.provisional)
        if after == before:
            return None
        reminder = None
        if settings.reminder_workdays_before > 0:
            first_due_day = local_date(new.first_reply_due_at, tz)
            reminder_day = calendar.add_workdays(first_due_day, -settings.reminder_workdays_before)
            reminder = end_of_local_day(reminder_day, tz)
        data = {
            "first_reply_due_at": [isoformat_or_none(before[0]), isoformat_or_none(after[0])],
            "resolution_due_at": [isoformat_or_none(before[1]), isoformat_or_none(after[1])],
            "provisional": [before[2], after[2]],
        }
        return {
            **inputs,
            "old_first": before[0],
            "old_resolution": before[1],
            "old_provisional": before[2],
            "day_start": start,
            "day_end": start_of_local_day(day + timedelta(days=1), tz),
            "new_first": after[0],
            "new_resolution": after[1],
            "new_provisional": after[2],
            "new_reminder": reminder,
            "data": json.dumps(data),
        }


def _move_batch(
    connection: Connection, *, rows: list[dict], low: int, high: int, now: datetime
) -> int:
    """Move a batch's reports by its planned moves; how many moved."""
    bounds = {"low": low, "high": high, "now": now}
    if connection.dialect.name == "postgresql":
        arrays = {
            column.name: array_literal([row[column.name] for row in rows])
            for column in _moves.columns
        }
        return connection.execute(_POSTGRES_BATCH, bounds | arrays).rowcount
    # SQLite has no arrays: the moves go into a temporary table for the batch's transaction.
    _moves.create(connection)
    connection.execute(_moves.insert(), rows)
    connection.execute(_SQLITE_EVENTS, bounds)
    moved = connection.execute(_SQLITE_UPDATE, bounds).rowcount
    _moves.drop(connection)
    return moved


def _recompute(
    *, engine: Engine, calendar: WorkCalendar, now: datetime, settings: Settings, batch_size: int
) -> int:
    """Move open reports' due dates to a calendar, one short transaction per batch of ids.

    Each batch checks a connection out and gives it back: on SQLite, whose engine has one,
    submissions take it between batches.
    """
    planner = _Planner(calendar=calendar, settings=settings)
    moved = 0
    with engine.connect() as connection:
        low, high = connection.execute(select(func.min(Report.id), func.max(Report.id))).one()
    for batch_low in range(low or 0, (high or -1) + 1, batch_size):
        batch_high = batch_low + batch_size
        with engine.begin() as connection:
            rows = planner.moves(connection.execute(_groups_query(batch_low, batch_high)))
            if rows:
                moved += _move_batch(connection, rows=rows, low=batch_low, high=batch_high, now=now)
    return moved


@contextmanager
def _recompute_lock(engine: Engine, *, wait: bool) -> Iterator[bool]:
    """One recompute at a time per database (PostgreSQL advisory lock); whether it was taken.

    SQLite runs one writer at a time anyway: there it is always taken.
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        key = {"key": RECOMPUTE_LOCK_KEY}
        if wait:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
        elif not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar_one():
            yield False
            return
        try:
            yield True
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)


def recompute_open_deadlines(
    *,
    engine: Engine,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar | None = None,
    batch_size: int | None = None,
    wait: bool = False,
) -> int | None:
    """Move open reports to the calendar in force if a load left it pending; how many moved.

    A job step with its own short transactions, run after the load is committed (the calendar
    router and CLI) and by the scheduler, which finishes a recompute a crash interrupted.
    None when there was nothing pending, or (`wait` false) another recompute is running.
    A `calendar` given is applied as it is, pending or not, and nothing is recorded.
    """
    batch_size = batch_size or RECOMPUTE_BATCH_IDS
    if calendar is not None:
        return _recompute(
            engine=engine, calendar=calendar, now=now, settings=settings, batch_size=batch_size
        )
    with _recompute_lock(engine, wait=wait) as taken:
        if not taken:
            return None
        with Session(engine) as session:
            versions = pending_versions(session=session)
            if not versions:
                return None
            calendar = get_calendar(session)
        moved = _recompute(
            engine=engine, calendar=calendar, now=now, settings=settings, batch_size=batch_size
        )
        with session_scope(engine) as session:
            mark_recomputed(session=session, versions=versions)
    return moved
