"""The escalation ladder: planning each report's next rung, and the sweep that fires due rungs.

Each running clock has a ladder: a reminder to the owner unit when `reminder_workdays_before`
working days are left before first-reply due (fired at the end of the last working day before
them, so the notice goes out as working hours open), 催办 to the owner and its parent at
first-reply overdue, and 督办 to the parent and grandparent at resolution overdue. A report
carries only its next rung (`next_rung`, `next_rung_at`, indexed); the sweep reads the due ones
with `WHERE next_rung_at <= now ORDER BY next_rung_at LIMIT batch`, so its cost follows the
rungs due, not the open reports.

A rung fires by inserting its unique (report, clock, rung) row: the insert that wins is the
claim, and the event, the outbox rows and the next rung are written in the same transaction.
A batch's rungs are claimed by one multi-row INSERT … ON CONFLICT DO NOTHING RETURNING, their
events and outbox rows written in bulk and the reports replanned in one statement, so a batch
costs a handful of statements whatever the number of its rungs. On PostgreSQL they go down the
driver's pipeline, so that building the rows in Python overlaps the server writing them.
A second scheduler, a retry or a restart finds the row and fires nothing; a crash before the
commit leaves nothing behind, and the next sweep fires the rung again.
"""

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select
from sqlmodel import Session

from app.config import Settings
from app.db import dialect_insert, isoformat_or_none
from app.directory.models import Site, Unit
from app.reports.clocks import end_of_local_day, local_date
from app.reports.models import (
    CATEGORY_LABELS,
    RUNNING_STATUSES,
    EventKind,
    Report,
    ReportEvent,
    ReportStatus,
)
from app.sla.models import RUNG_LABELS, EscalationRung, Notification, NotificationKind, Rung
from app.sla.notify import has_webhook, next_working_instant
from app.workdays.calendar import WorkCalendar
from app.workdays.sources import get_calendar

log = logging.getLogger(__name__)

LADDER: tuple[Rung, ...] = (Rung.reminder, Rung.urge, Rung.supervise)
SCHEDULER_ACTOR = "scheduler"
# Past this many failing reports in one sweep the cause is not one report: stop and let the
# next sweep start over, rather than scan the same failures again and again.
MAX_FAILURES_PER_SWEEP = 1000


def _is_running(report: Report) -> bool:
    return (
        report.status in RUNNING_STATUSES
        and report.closed_at is None
        and report.assigned_at is not None
        and report.first_reply_due_at is not None
        and report.resolution_due_at is not None
    )


def _rung_applies(report: Report, rung: Rung) -> bool:
    """Whether a rung still has a reason to fire: reminders and 催办 stop at the first response."""
    if not _is_running(report):
        return False
    if rung in (Rung.reminder, Rung.urge):
        return report.first_responded_at is None
    return True


def ladder(
    *, report: Report, calendar: WorkCalendar, settings: Settings
) -> list[tuple[Rung, datetime]]:
    """The rungs of the current clock that still apply, in ladder order, with due instants."""
    if not _is_running(report):
        return []
    rungs: list[tuple[Rung, datetime]] = []
    if report.first_responded_at is None:
        if settings.reminder_workdays_before > 0:
            first_due_day = local_date(report.first_reply_due_at, settings.tz)
            reminder_day = calendar.add_workdays(first_due_day, -settings.reminder_workdays_before)
            reminder_at = end_of_local_day(reminder_day, settings.tz)
            # A deadline too short for a reminder gets none, rather than one before receipt.
            if reminder_at > report.assigned_at:
                rungs.append((Rung.reminder, reminder_at))
        rungs.append((Rung.urge, report.first_reply_due_at))
    rungs.append((Rung.supervise, report.resolution_due_at))
    return rungs


def plan_next_rung(
    *,
    report: Report,
    calendar: WorkCalendar,
    settings: Settings,
    after: Rung | None = None,
) -> None:
    """Set a report's next rung from its deadlines: the first that applies (after `after`).

    Planning from the bottom of the ladder again is safe: a rung that already fired on this
    clock has its row, and the sweep skips it.
    """
    rungs = ladder(report=report, calendar=calendar, settings=settings)
    if after is not None:
        rungs = [(rung, at) for rung, at in rungs if LADDER.index(rung) > LADDER.index(after)]
    if rungs:
        report.next_rung, report.next_rung_at = rungs[0][0].value, rungs[0][1]
    else:
        report.next_rung, report.next_rung_at = None, None


def rung_targets(*, session: Session, rung: Rung, owner_unit_id: int) -> list[tuple[int, str]]:
    """Who a rung goes to, as (unit id, relation to the owner unit), nearest first."""
    owner = session.get(Unit, owner_unit_id)
    parent = session.get(Unit, owner.parent_id) if owner and owner.parent_id else None
    grandparent = session.get(Unit, parent.parent_id) if parent and parent.parent_id else None
    match rung:
        case Rung.reminder:
            chain = [(owner, "owner")]
        case Rung.urge:
            chain = [(owner, "owner"), (parent, "parent")]
        case Rung.supervise:
            chain = [(parent, "parent"), (grandparent, "grandparent")]
    return [(unit.id, relation) for unit, relation in chain if unit is not None]


def _rung_text(*, rung: Rung, summary: dict[str, Any], due_day: str) -> str:
    owner = summary["owner_unit_name"]
    where = summary["site_name"] or summary["page_url"]
    match rung:
        case Rung.reminder:
            return (
                f"【提醒】{owner}：留言 #{summary['id']}（{where}）尚未答复，"
                f"首次答复期限为 {due_day}，请按时答复。"
            )
        case Rung.urge:
            return (
                f"【催办】{owner}：留言 #{summary['id']}（{where}）已超过首次答复期限 "
                f"{due_day}，仍未答复，请尽快办理。"
            )
        case Rung.supervise:
            return (
                f"【督办】{owner}：留言 #{summary['id']}（{where}）已超过办结期限 "
                f"{due_day}，仍未办结，请督促办理。"
            )


@dataclass
class SweepResult:
    reports: int = 0  # reports with a rung due that this sweep took
    fired: int = 0  # rungs claimed and fired
    skipped: int = 0  # rungs already fired on this clock, or no longer applying
    notifications: int = 0
    failed_report_ids: list[int] = field(default_factory=list)  # retried on the next sweep

    def add(self, other: "SweepResult") -> None:
        self.reports += other.reports
        self.fired += other.fired
        self.skipped += other.skipped
        self.notifications += other.notifications
        self.failed_report_ids.extend(other.failed_report_ids)


_REPORT = Report.__table__
# What the sweep reads of a due report: its ladder and what a notification says about it.
_DUE_COLUMNS = tuple(
    _REPORT.c[name]
    for name in (
        "id", "clock", "status", "closed_at", "assigned_at", "first_responded_at",
        "first_reply_due_at", "resolution_due_at", "deadlines_provisional", "next_rung",
        "next_rung_at", "owner_unit_id", "site_id", "site_code", "page_url", "category",
        "received_at",
    )
)  # fmt: skip
_UNIT = Unit.__table__
_SITE = Site.__table__
# PostgreSQL: the batch's reports replanned in one statement from three arrays (driver style).
_POSTGRES_REPLAN = """
    UPDATE report AS r SET next_rung = v.rung, next_rung_at = v.at
    FROM unnest(CAST(%(ids)s AS integer[]), CAST(%(rungs)s AS varchar[]),
        CAST(%(ats)s AS timestamptz[])) AS v(id, rung, at)
    WHERE r.id = v.id
"""
_SQLITE_REPLAN = (
    _REPORT.update()
    .where(_REPORT.c.id == bindparam("report_id"))
    .values(next_rung=bindparam("rung"), next_rung_at=bindparam("at"))
)


class _Directory:
    """The units and sites a sweep's rungs name, read a few queries per batch and kept."""

    def __init__(self) -> None:
        self.units: dict[int, Any] = {}
        self.sites: dict[int, str] = {}
        self.targets: dict[tuple[Rung, int], list[tuple[int, str]]] = {}

    def load(self, connection: Connection, rows) -> None:
        """Read the owners, parents, grandparents and sites of these reports not read yet."""
        wanted = {row.owner_unit_id for row in rows if row.owner_unit_id is not None}
        for _generation in ("owner", "parent", "grandparent"):
            wanted -= self.units.keys()
            if not wanted:
                break
            units = connection.execute(
                select(
                    _UNIT.c.id, _UNIT.c.name, _UNIT.c.parent_id,
                    _UNIT.c.webhook_url, _UNIT.c.webhook_secret,
                ).where(_UNIT.c.id.in_(wanted))
            ).all()  # fmt: skip
            self.units.update((unit.id, unit) for unit in units)
            wanted = {unit.parent_id for unit in units if unit.parent_id is not None}
        site_ids = {row.site_id for row in rows if row.site_id is not None} - self.sites.keys()
        if site_ids:
            self.sites.update(
                connection.execute(
                    select(_SITE.c.id, _SITE.c.name).where(_SITE.c.id.in_(site_ids))
                ).all()
            )

    def rung_targets(self, *, rung: Rung, owner_unit_id: int) -> list[tuple[int, str]]:
        """Who a rung goes to, as (unit id, relation to the owner unit), nearest first."""
        key = (rung, owner_unit_id)
        if key not in self.targets:
            owner = self.units.get(owner_unit_id)
            parent = self.units.get(owner.parent_id) if owner and owner.parent_id else None
            grandparent = self.units.get(parent.parent_id) if parent and parent.parent_id else None
            match rung:
                case Rung.reminder:
                    chain = [(owner, "owner")]
                case Rung.urge:
                    chain = [(owner, "owner"), (parent, "parent")]
                case Rung.supervise:
                    chain = [(parent, "parent"), (grandparent, "grandparent")]
            self.targets[key] = [(unit.id, relation) for unit, relation in chain if unit]
        return self.targets[key]


class _InstantTexts:
    """The ISO texts and local due days of the instants one batch writes, each computed once.

    Most reports of a batch share their deadlines and rungs' due instants (the end of a
    working day), so the same few instants recur row after row. Only instants read from rows
    are kept: they are all UTC, so equal instants have equal texts.
    """

    def __init__(self, tz) -> None:
        self.tz = tz
        self.texts: dict[datetime, str] = {}
        self.days: dict[datetime, str] = {}

    def iso(self, instant: datetime | None) -> str | None:
        if instant is None:
            return None
        text_ = self.texts.get(instant)
        if text_ is None:
            text_ = self.texts[instant] = instant.isoformat()
        return text_

    def local_day(self, instant: datetime) -> str:
        day = self.days.get(instant)
        if day is None:
            day = self.days[instant] = local_date(instant, self.tz).isoformat()
        return day


# Enum values by stored value: a dict lookup per row, where an enum call costs ten times more.
_STATUS_VALUES = {status.value: status.value for status in ReportStatus}
_RUNGS = {rung.value: rung for rung in Rung}
_EVENT_KINDS = {rung: EventKind(rung.value).value for rung in Rung}
_NOTIFICATION_KINDS = {rung: NotificationKind(rung.value) for rung in Rung}


def row_summary(
    *, directory: _Directory, report, instants: _InstantTexts | None = None
) -> dict[str, Any]:
    """What a notification says about a report read as a row (app.sla.notify.report_summary)."""
    iso = instants.iso if instants is not None else isoformat_or_none
    owner = directory.units.get(report.owner_unit_id) if report.owner_unit_id else None
    return {
        "id": report.id,
        "api_path": f"/api/v1/unit/reports/{report.id}",
        "site_code": report.site_code,
        "site_name": directory.sites.get(report.site_id) if report.site_id else None,
        "page_url": report.page_url,
        "category": report.category,
        "category_label": CATEGORY_LABELS[report.category],
        "status": _STATUS_VALUES[report.status],
        "owner_unit_id": report.owner_unit_id,
        "owner_unit_name": owner.name if owner else None,
        # Receipt and assignment differ from report to report: not worth keeping.
        "received_at": isoformat_or_none(report.received_at),
        "assigned_at": isoformat_or_none(report.assigned_at),
        "clock": report.clock,
        "first_reply_due_at": iso(report.first_reply_due_at),
        "resolution_due_at": iso(report.resolution_due_at),
        "deadlines_provisional": report.deadlines_provisional,
    }


def _next_after(report, rung: Rung) -> tuple[str | None, datetime | None]:
    """The rung `plan_next_rung(after=rung)` would set, for a report read as a row.

    A rung after one that fired is never the reminder (the ladder's first), so no working day
    is counted here.
    """
    if not _is_running(report):
        return None, None
    position = LADDER.index(rung)
    if report.first_responded_at is None and position < LADDER.index(Rung.urge):
        return Rung.urge.value, report.first_reply_due_at
    if position < LADDER.index(Rung.supervise):
        return Rung.supervise.value, report.resolution_due_at
    return None, None


def _rung_rows(
    *,
    report,
    rung: Rung,
    due_at: datetime,
    targets,
    now: datetime,
    now_text: str,
    summary,
    instants: _InstantTexts,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The event and the outbox rows of a rung that fired (written only once it is claimed)."""
    target_ids = [unit_id for unit_id, _ in targets]
    deadline = report.first_reply_due_at if rung != Rung.supervise else report.resolution_due_at
    due_text, deadline_text = instants.iso(due_at), instants.iso(deadline)
    event = {
        "report_id": report.id,
        "kind": _EVENT_KINDS[rung],
        "actor": SCHEDULER_ACTOR,
        "actor_unit_id": None,
        "at": now,
        "data": {
            "clock": report.clock,
            "due_at": due_text,
            "deadline": deadline_text,
            "target_unit_ids": target_ids,
        },
    }
    text_ = _rung_text(rung=rung, summary=summary, due_day=instants.local_day(deadline))
    kind, label, name = _NOTIFICATION_KINDS[rung], RUNG_LABELS[rung], rung.value
    clock, report_id = report.clock, report.id
    notifications = [
        {
            "unit_id": unit_id,
            "kind": kind,
            "payload": {
                "text": text_,
                "rung": {
                    "name": name,
                    "label": label,
                    "clock": clock,
                    "due_at": due_text,
                    "fired_at": now_text,
                    "deadline": deadline_text,
                    "recipient": relation,
                },
                "report": summary,
            },
            "key": f"{name}:{report_id}:{clock}:{unit_id}",
            "report_id": report_id,
        }
        for unit_id, relation in targets
    ]
    return event, notifications


def enqueue(
    *,
    connection: Connection,
    notifications: list[dict[str, Any]],
    directory: _Directory,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
    pipeline: Any = None,
) -> None:
    """Write the outbox rows of fired rungs in bulk: the rows of app.sla.notify.enqueue_many."""
    if not notifications:
        return
    not_before = next_working_instant(instant=now, calendar=calendar, settings=settings)
    units = directory.units
    pushed = [has_webhook(units[n["unit_id"]]) for n in notifications]
    if pipeline is not None:
        not_before_text = f'"{not_before.isoformat()}"'
        _send(
            pipeline,
            _POSTGRES_OUTBOX,
            {
                "now": now,
                "not_before": not_before,
                "keys": _text_array([n["key"] for n in notifications]),
                "unit_ids": _int_array([n["unit_id"] for n in notifications]),
                "kinds": _text_array([n["kind"] for n in notifications]),
                "report_ids": _int_array([n["report_id"] for n in notifications]),
                "payloads": _json_array([n["payload"] for n in notifications]),
                "next_attempt_ats": "{"
                + ",".join(not_before_text if push else "NULL" for push in pushed)
                + "}",
            },
        )
        return
    rows = [
        {
            "key": notification["key"],
            "unit_id": notification["unit_id"],
            "kind": notification["kind"].value,
            "report_id": notification["report_id"],
            "payload": notification["payload"],
            "created_at": now,
            "not_before": not_before,
            "attempts": 0,
            "next_attempt_at": not_before if push else None,
        }
        for notification, push in zip(notifications, pushed, strict=True)
    ]
    table = Notification.__table__
    connection.execute(dialect_insert(connection, table).on_conflict_do_nothing(), rows)


def _fire_due_rungs(
    *,
    connection: Connection,
    reports: list,
    directory: _Directory,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> SweepResult:
    """Fire the due rungs of some reports (rows) in a few statements, whatever their number.

    After downtime several rungs of one report may be due: each is tried once, in order, and
    the report is replanned past it. Every rung tried is claimed by one multi-row INSERT … ON
    CONFLICT DO NOTHING RETURNING: the rows it returns are the claims this sweep won, and only
    those get their event and outbox rows, in bulk; the others had fired already. The reports
    are replanned by one UPDATE (PostgreSQL) or one executemany (SQLite).

    On PostgreSQL the statements go through the driver's pipeline: the replan and the claim are
    sent at once, and the events and outbox rows of every rung tried are built while the server
    writes them (a claim lost is rare: its rows are dropped). Python's work and the database's
    overlap instead of taking turns.
    """
    done = SweepResult(reports=len(reports))
    instants = _InstantTexts(settings.tz)
    attempts: list[tuple[Any, Rung, datetime, list[tuple[int, str]]]] = []
    replans: list[tuple[int, str | None, datetime | None]] = []
    for report in reports:
        next_rung, next_rung_at = report.next_rung, report.next_rung_at
        while next_rung is not None and next_rung_at <= now:
            rung, due_at = _RUNGS[next_rung], next_rung_at
            if _rung_applies(report, rung):
                targets = directory.rung_targets(rung=rung, owner_unit_id=report.owner_unit_id)
                attempts.append((report, rung, due_at, targets))
            else:
                done.skipped += 1
            next_rung, next_rung_at = _next_after(report, rung)
        replans.append((report.id, next_rung, next_rung_at))
    with _pipeline(connection) as pipeline:
        if replans:
            _replan(connection, pipeline, replans, instants)
        if not attempts:
            return done
        claim = _claim(connection, pipeline, attempts, now, instants)
        summaries: dict[int, dict[str, Any]] = {}
        now_text = now.isoformat()
        built = []
        for report, rung, due_at, targets in attempts:
            summary = summaries.get(report.id)
            if summary is None:
                summary = summaries[report.id] = row_summary(
                    directory=directory, report=report, instants=instants
                )
            built.append(
                _rung_rows(
                    report=report,
                    rung=rung,
                    due_at=due_at,
                    targets=targets,
                    now=now,
                    now_text=now_text,
                    summary=summary,
                    instants=instants,
                )
            )
        claimed = claim()
        events: list[dict[str, Any]] = []
        notifications: list[dict[str, Any]] = []
        for (report, rung, _, _), (event, outbox) in zip(attempts, built, strict=True):
            if (report.id, report.clock, rung) not in claimed:
                done.skipped += 1
                continue
            events.append(event)
            notifications.extend(outbox)
            done.fired += 1
            done.notifications += len(outbox)
        if events:
            _insert_events(connection, pipeline, events, now)
        enqueue(
            connection=connection,
            notifications=notifications,
            directory=directory,
            now=now,
            calendar=calendar,
            settings=settings,
            pipeline=pipeline,
        )
    return done


@contextmanager
def _pipeline(connection: Connection) -> Iterator[Any]:
    """PostgreSQL: the driver connection in pipeline mode, inside the connection's transaction,
    where each statement is sent without waiting for the one before; None elsewhere. Leaving it
    waits for every statement sent and raises the first error."""
    if connection.dialect.name != "postgresql":
        yield None
        return
    driver = connection.connection.driver_connection
    with driver.pipeline():
        yield driver


def _send(pipeline, statement: str, parameters: dict[str, Any]):
    """Send a statement down the pipeline; its cursor, whose rows are read when needed."""
    cursor = pipeline.cursor()
    cursor.execute(statement, parameters)
    return cursor


# PostgreSQL: each bulk write is one statement of a few arrays, whatever its rows (an
# executemany is one statement per row on psycopg, and compiling many VALUES costs more).
# Written in the driver's parameter style: they are sent down its pipeline (_send).
_POSTGRES_CLAIM = """
    INSERT INTO escalation_rung (report_id, clock, rung, due_at, fired_at, target_unit_ids)
    SELECT v.report_id, v.clock, v.rung, v.due_at, %(now)s, j.value
    FROM unnest(CAST(%(report_ids)s AS integer[]), CAST(%(clocks)s AS integer[]),
        CAST(%(rungs)s AS rung[]), CAST(%(due_ats)s AS timestamptz[]))
        WITH ORDINALITY AS v(report_id, clock, rung, due_at, position)
    JOIN json_array_elements(CAST(%(targets)s AS json)) WITH ORDINALITY AS j(value, position)
        USING (position)
    ORDER BY position
    ON CONFLICT DO NOTHING
    RETURNING report_id, clock, CAST(rung AS text) AS rung
"""
_POSTGRES_EVENTS = """
    INSERT INTO report_event (report_id, kind, actor, actor_unit_id, at, data)
    SELECT v.report_id, v.kind, %(actor)s, NULL, %(now)s, j.value
    FROM unnest(CAST(%(report_ids)s AS integer[]), CAST(%(kinds)s AS eventkind[]))
        WITH ORDINALITY AS v(report_id, kind, position)
    JOIN json_array_elements(CAST(%(data)s AS json)) WITH ORDINALITY AS j(value, position)
        USING (position)
    ORDER BY position
"""
_POSTGRES_OUTBOX = """
    INSERT INTO notification
        (key, unit_id, kind, report_id, payload, created_at, not_before, attempts, next_attempt_at)
    SELECT v.key, v.unit_id, v.kind, v.report_id, j.value, %(now)s, %(not_before)s, 0,
        v.next_attempt_at
    FROM unnest(CAST(%(keys)s AS varchar[]), CAST(%(unit_ids)s AS integer[]),
        CAST(%(kinds)s AS notificationkind[]), CAST(%(report_ids)s AS integer[]),
        CAST(%(next_attempt_ats)s AS timestamptz[]))
        WITH ORDINALITY AS v(key, unit_id, kind, report_id, next_attempt_at, position)
    JOIN json_array_elements(CAST(%(payloads)s AS json)) WITH ORDINALITY AS j(value, position)
        USING (position)
    ORDER BY position
    ON CONFLICT DO NOTHING
"""

# PostgreSQL array literals, each sent as one text parameter: psycopg adapts a list element
# by element in Python, which cost more than the statements' own work (0.53 s against 0.12 s
# for three arrays of 10,000 replans). One join per array, not a call per element.


def _int_array(values: list[int]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def _text_array(values: list[str]) -> str:
    """Quoted elements: keys and enum values carry no quote or backslash, but would be kept."""
    if not values:
        return "{}"
    return (
        '{"'
        + '","'.join(value.replace("\\", "\\\\").replace('"', '\\"') for value in values)
        + '"}'
    )


def _instant_array(values: list[datetime | None], instants: _InstantTexts) -> str:
    return "{" + ",".join(f'"{instants.iso(v)}"' if v is not None else "NULL" for v in values) + "}"


def _json_array(values: list[Any]) -> str:
    """One JSON array whose elements are, character for character, what SQLAlchemy's JSON type
    writes for each value (json.dumps with its defaults): json_array_elements returns them as
    written, and one text parameter needs none of the escaping of a text[] of documents.

    json.dumps of the list writes each element as json.dumps of it alone, joined by ", ", in
    one call of the C encoder instead of one per document."""
    return json.dumps(values)


def _claim(
    connection: Connection,
    pipeline,
    attempts: list[tuple],
    now: datetime,
    instants: _InstantTexts,
) -> Callable[[], set[tuple]]:
    """Insert the rung rows of (report, rung, due_at, targets); a call that gives the
    (report id, clock, rung) of those this sweep won, waiting for them on PostgreSQL."""
    if pipeline is not None:
        cursor = _send(
            pipeline,
            _POSTGRES_CLAIM,
            {
                "now": now,
                "report_ids": _int_array([report.id for report, *_ in attempts]),
                "clocks": _int_array([report.clock for report, *_ in attempts]),
                "rungs": _text_array([rung for _, rung, _, _ in attempts]),
                "due_ats": _instant_array([due_at for _, _, due_at, _ in attempts], instants),
                "targets": _json_array(
                    [[unit_id for unit_id, _ in targets] for *_, targets in attempts]
                ),
            },
        )
        # A Rung is a StrEnum: its text and the member are the same key.
        return lambda: set(cursor.fetchall())
    table = EscalationRung.__table__
    rows = connection.execute(
        dialect_insert(connection, table)
        .on_conflict_do_nothing()
        .returning(table.c.report_id, table.c.clock, table.c.rung),
        [
            {
                "report_id": report.id,
                "clock": report.clock,
                "rung": rung.value,
                "due_at": due_at,
                "fired_at": now,
                "target_unit_ids": [unit_id for unit_id, _ in targets],
            }
            for report, rung, due_at, targets in attempts
        ],
    )
    won = {(row.report_id, row.clock, row.rung) for row in rows}
    return lambda: won


def _insert_events(connection: Connection, pipeline, events: list[dict], now: datetime) -> None:
    if pipeline is not None:
        _send(
            pipeline,
            _POSTGRES_EVENTS,
            {
                "actor": SCHEDULER_ACTOR,
                "now": now,
                "report_ids": _int_array([event["report_id"] for event in events]),
                "kinds": _text_array([event["kind"] for event in events]),
                "data": _json_array([event["data"] for event in events]),
            },
        )
    else:
        connection.execute(ReportEvent.__table__.insert(), events)


def _replan(
    connection: Connection,
    pipeline,
    replans: list[tuple[int, str | None, datetime | None]],
    instants: _InstantTexts,
) -> None:
    if pipeline is not None:
        ids, rungs, ats = zip(*replans, strict=True)
        _send(
            pipeline,
            _POSTGRES_REPLAN,
            {
                "ids": _int_array(ids),
                "rungs": "{" + ",".join(f'"{rung}"' if rung else "NULL" for rung in rungs) + "}",
                "ats": _instant_array(ats, instants),
            },
        )
    else:
        connection.execute(
            _SQLITE_REPLAN,
            [{"report_id": i, "rung": rung, "at": at} for i, rung, at in replans],
        )


def due_reports_query(
    *, now: datetime, limit: int, excluded_ids: list[int], since: datetime | None = None
):
    """The reports whose next rung is due, earliest first, on the next_rung_at index.

    Only the columns the sweep needs, as rows. `since` is where the previous batch ended:
    starting the index range there skips the entries that batch left behind, which PostgreSQL
    keeps as dead tuples until VACUUM.
    """
    next_rung_at = _REPORT.c.next_rung_at
    query = select(*_DUE_COLUMNS).where(next_rung_at <= now)
    if since is not None:
        query = query.where(next_rung_at >= since)
    if excluded_ids:
        query = query.where(_REPORT.c.id.not_in(excluded_ids))
    return query.order_by(next_rung_at).limit(limit).with_for_update(skip_locked=True)


def _fire_isolated(
    *,
    connection: Connection,
    reports: list,
    directory: _Directory,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> SweepResult:
    """Fire a failed batch's rungs again, each report in its own savepoint."""
    result = SweepResult()
    for report in reports:
        try:
            with connection.begin_nested():
                done = _fire_due_rungs(
                    connection=connection,
                    reports=[report],
                    directory=directory,
                    now=now,
                    calendar=calendar,
                    settings=settings,
                )
            result.add(done)
        except Exception:
            log.exception(
                "escalation sweep: report %s failed; it is retried on the next sweep", report.id
            )
            result.reports += 1
            result.failed_report_ids.append(report.id)
    return result


def sweep(
    *,
    engine: Engine,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar | None = None,
    batch_size: int | None = None,
) -> SweepResult:
    """Fire every rung due at `now`, in batches; a failing report is logged and left for later.

    Each batch is one transaction on Core rows (no ORM objects). It first runs whole; if
    anything in it fails, it is rolled back and run again with each report in a savepoint, so
    that one report's failure undoes only its own rungs and the others fire. On PostgreSQL the
    batch's rows are locked with SKIP LOCKED, so concurrent sweeps take different reports; the
    unique rung rows keep it correct anyway.
    """
    batch_size = batch_size or settings.sweep_batch_size
    if calendar is None:
        with Session(engine) as session:
            calendar = get_calendar(session)
    result = SweepResult()
    directory = _Directory()
    since: datetime | None = None
    arguments = {"directory": directory, "now": now, "calendar": calendar, "settings": settings}
    while len(result.failed_report_ids) < MAX_FAILURES_PER_SWEEP:
        query = due_reports_query(
            now=now, limit=batch_size, excluded_ids=result.failed_report_ids, since=since
        )
        with engine.connect() as connection:
            try:
                with connection.begin():
                    reports = connection.execute(query).all()
                    if reports:
                        since = reports[-1].next_rung_at
                    directory.load(connection, reports)
                    done = _fire_due_rungs(connection=connection, reports=reports, **arguments)
            except Exception:
                with connection.begin():
                    reports = connection.execute(query).all()
                    directory.load(connection, reports)
                    done = _fire_isolated(connection=connection, reports=reports, **arguments)
        result.add(done)
        if len(reports) < batch_size:
            break
    else:
        log.error(
            "escalation sweep stopped after %d failing reports; the next sweep starts over",
            len(result.failed_report_ids),
        )
    return result
