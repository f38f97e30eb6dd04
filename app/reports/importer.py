"""`zhaocuo import reports`: the national platform's past reports, in bulk, as a replay makes them.

Each row of the platform's export (the columns of its report CSV: id, site_code, problem_type,
status, error_url, description, handling_unit, created_date, replied_date, reply) becomes the
report a replay through the API would leave: received at 10:00 on `created_date` by the owner
of its site; moved at 10:30 that day to the unit that answered it when that is another unit
(transferred, or routed when no site matches); resolved (status 1 属实, 22 不属实) or declined
(12, 13, 19, 20) at 16:00 on `replied_date` with the published answer; each step an event. The
sites and units come from the same file (as `zhaocuo import sites` reads it) in the same
transaction, so the file is imported whole or not at all.

A report's tracking code is the platform's id (`GOV<id>`), so a second run of the same file,
or of an overlapping one, adds nothing. Rows are written per chunk of 5,000, in a fixed number
of statements whatever the chunk holds: on PostgreSQL one query for the codes already there,
one for the new reports' ids (from their sequence), and a COPY each for the reports and their
events; on SQLite executemany INSERTs and a query reading the ids back. No notification is
sent: these reports are history.
"""

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert
from sqlmodel import Session, col, select

from app.config import Settings
from app.directory.importer import import_sites
from app.directory.models import Site, SiteStatus, Unit
from app.directory.service import find_site_for
from app.errors import Unprocessable
from app.pgarrays import array_literal
from app.reports.clocks import Deadlines, compute_deadlines, handling_workdays
from app.reports.models import (
    DeclineReason,
    EventKind,
    Report,
    ReportEvent,
    ReportStatus,
    Verdict,
)
from app.reports.service import CITIZEN_ACTOR
from app.workdays.calendar import WorkCalendar

IMPORT_ACTOR = "import"
TRACKING_PREFIX = "GOV"
RECEIVED_AT, MOVED_AT, ANSWERED_AT = time(10, 0), time(10, 30), time(16, 0)
RESOLVED = {"1": Verdict.confirmed, "22": Verdict.not_confirmed}
DECLINED = {
    "13": DeclineReason.duplicate,
    "20": DeclineReason.out_of_scope,
    "19": DeclineReason.insufficient_info,
    "12": DeclineReason.other,
}
COLUMNS = (
    "id",
    "site_code",
    "problem_type",
    "status",
    "error_url",
    "description",
    "handling_unit",
    "created_date",
    "replied_date",
    "reply",
)
CHUNK = 5000
# The columns the import writes, in the order of the rows it builds (COPY takes them so).
REPORT_COLUMNS = (
    "tracking_code",
    "site_id",
    "site_code",
    "owner_unit_id",
    "category",
    "page_url",
    "description",
    "status",
    "verdict",
    "decline_reason",
    "final_answer",
    "received_at",
    "assigned_at",
    "clock",
    "first_responded_at",
    "closed_at",
    "handling_workdays",
    "settled",
    "first_reply_due_at",
    "resolution_due_at",
    "deadlines_provisional",
    "paused_workdays",
    "first_reply_paused_workdays",
    "created_at",
    "updated_at",
)
EVENT_COLUMNS = ("report_id", "kind", "actor", "actor_unit_id", "at", "data")

Progress = Callable[[int], None]


@dataclass
class ReportImportResult:
    rows_read: int = 0
    reports_created: int = 0
    already_imported: int = 0
    transferred: int = 0
    routed: int = 0
    units_created: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def _fail(line: int, message: str) -> Unprocessable:
    return Unprocessable(
        f"第 {line} 行：{message}；整个文件未导入",
        en=f"line {line}: {message}; nothing from the file was imported",
        code="report_import_invalid_row",
    )


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise _fail(1, f"missing columns {', '.join(missing)}")
        for row in reader:
            yield reader.line_num, row


def _parse_date(line: int, row: dict[str, str], column: str) -> date:
    try:
        return date.fromisoformat(row[column])
    except ValueError:
        raise _fail(line, f"{column} {row[column]!r} is not a date (YYYY-MM-DD)") from None


def import_reports(
    *,
    session: Session,
    path: Path,
    calendar: WorkCalendar,
    settings: Settings,
    progress: Progress | None = None,
) -> ReportImportResult:
    """Import a platform export of finished reports, with their sites and units; idempotent."""
    import_sites(session=session, path=path)
    result = ReportImportResult()
    units = {unit.name: unit.id for unit in session.exec(select(Unit)).all()}
    sites = {
        site.site_code: site
        for site in session.exec(select(Site).where(Site.status == SiteStatus.active)).all()
    }
    connection = session.connection()
    writer = _PostgresWriter(connection) if connection.dialect.name == "postgresql" else None
    stamp = writer.stamp if writer else _same
    tz = settings.tz
    # Reports share a few hundred days and day pairs: each instant, due date and count of
    # working days is computed once, not once per report.
    instants: dict[tuple[date, time], Any] = {}
    deadlines_of: dict[date, Deadlines] = {}
    workdays_of: dict[tuple[date, date], int] = {}

    def instant(day: date, at: time) -> Any:
        value = instants.get((day, at))
        if value is None:
            value = instants[(day, at)] = stamp(datetime.combine(day, at, tzinfo=tz))
        return value

    def deadlines_from(day: date) -> Deadlines:
        deadlines = deadlines_of.get(day)
        if deadlines is None:
            assigned_at = datetime.combine(day, MOVED_AT, tzinfo=tz)
            computed = compute_deadlines(
                calendar=calendar,
                received_at=assigned_at,
                tz=tz,
                first_reply_workdays=settings.first_reply_workdays,
                resolution_workdays=settings.resolution_workdays,
            )
            deadlines = deadlines_of[day] = Deadlines(
                stamp(computed.first_reply_due_at),
                stamp(computed.resolution_due_at),
                computed.provisional,
            )
        return deadlines

    def workdays(created: date, replied: date) -> int:
        days = workdays_of.get((created, replied))
        if days is None:
            days = workdays_of[(created, replied)] = handling_workdays(
                calendar=calendar,
                received_at=datetime.combine(created, RECEIVED_AT, tzinfo=tz),
                closed_at=datetime.combine(replied, ANSWERED_AT, tzinfo=tz),
                tz=tz,
            )
        return days

    def unit_id_of(name: str) -> int:
        if name not in units:
            unit = Unit(name=name)
            session.add(unit)
            session.flush()
            units[name] = unit.id
            result.units_created += 1
        return units[name]

    def report_of(line: int, row: dict[str, str], code: str) -> tuple[tuple, list[tuple]]:
        """The report's row (REPORT_COLUMNS) and its events' rows (EVENT_COLUMNS but the id)."""
        created = _parse_date(line, row, "created_date")
        replied = _parse_date(line, row, "replied_date")
        if replied < created:
            raise _fail(line, f"replied_date {replied} is before created_date {created}")
        status = row["status"]
        if status not in RESOLVED and status not in DECLINED:
            raise _fail(line, f"status {status!r} is none of {', '.join([*RESOLVED, *DECLINED])}")
        try:
            category = int(row["problem_type"])
        except ValueError:
            raise _fail(line, f"problem_type {row['problem_type']!r} is not a number") from None
        if not row["handling_unit"].strip():
            raise _fail(line, "handling_unit is empty")
        answerer = unit_id_of(row["handling_unit"].strip())
        site_code = row["site_code"].strip() or None
        site = sites.get(site_code) if site_code else None
        if site is None:
            site = find_site_for(session=session, site_code=site_code, page_url=row["error_url"])
        received_at = instant(created, RECEIVED_AT)
        closed_at = instant(replied, ANSWERED_AT)
        events: list[tuple] = [
            (
                EventKind.submitted.value,
                CITIZEN_ACTOR,
                None,
                received_at,
                {
                    "owner_unit_id": site.owner_unit_id if site else None,
                    "site_id": site.id if site else None,
                },
            )
        ]
        assigned_at, clock = received_at, 1
        if site is None:
            assigned_at = instant(created, MOVED_AT)
            result.routed += 1
            data = {"to_unit_id": answerer, "site_id": None}
            events.append(_event(EventKind.routed, assigned_at, data))
        elif site.owner_unit_id != answerer:
            assigned_at, clock = instant(created, MOVED_AT), 2
            result.transferred += 1
            data = {"from_unit_id": site.owner_unit_id, "to_unit_id": answerer, "text": None}
            events.append(_event(EventKind.transferred, assigned_at, data, unit=site.owner_unit_id))
        # The replay's clocks start at 10:00 or 10:30 of the day of receipt: the same dates.
        deadlines = deadlines_from(created)
        answer = row["reply"] or row.get("reject_reason") or ""
        resolved = status in RESOLVED
        if resolved:
            data = {"verdict": RESOLVED[status].value, "text": answer}
            events.append(_event(EventKind.resolved, closed_at, data, unit=answerer))
        else:
            data = {"reason": DECLINED[status].value, "text": answer}
            events.append(_event(EventKind.declined, closed_at, data, unit=answerer))
        result.by_status[status] = result.by_status.get(status, 0) + 1
        report = (
            code,
            site.id if site else None,
            site_code or (site.site_code if site else None),
            answerer,
            category,
            row["error_url"],
            row["description"],
            (ReportStatus.resolved if resolved else ReportStatus.declined).value,
            RESOLVED[status].value if resolved else None,
            None if resolved else DECLINED[status].value,
            answer,
            received_at,
            assigned_at,
            clock,
            closed_at,
            closed_at,
            workdays(created, replied),
            False,
            deadlines.first_reply_due_at,
            deadlines.resolution_due_at,
            deadlines.provisional,
            0,
            0,
            received_at,
            closed_at,
        )
        return report, events

    def flush_chunk(chunk: list[tuple[int, dict[str, str]]]) -> None:
        codes = [TRACKING_PREFIX + row["id"] for _, row in chunk]
        existing = writer.existing(codes) if writer else _existing_codes(session, codes)
        reports: list[tuple] = []
        steps: list[list[tuple]] = []
        for (line, row), code in zip(chunk, codes, strict=True):
            if code in existing:
                result.already_imported += 1
                continue
            existing.add(code)
            report, events = report_of(line, row, code)
            reports.append(report)
            steps.append(events)
        if not reports:
            return
        if writer:
            writer.write(reports, steps)
        else:
            _insert_rows(session, reports, steps)
        result.reports_created += len(reports)

    chunk: list[tuple[int, dict[str, str]]] = []
    for line, row in _rows(path):
        result.rows_read += 1
        chunk.append((line, row))
        if len(chunk) == CHUNK:
            flush_chunk(chunk)
            chunk = []
            if progress:
                progress(result.rows_read)
    if chunk:
        flush_chunk(chunk)
    if progress:
        progress(result.rows_read)
    session.flush()
    return result


def _same(value: Any) -> Any:
    return value


def _existing_codes(session: Session, codes: list[str]) -> set[str]:
    query = select(Report.tracking_code).where(col(Report.tracking_code).in_(codes))
    return set(session.exec(query))


def _insert_rows(session: Session, reports: list[tuple], steps: list[list[tuple]]) -> None:
    """Elsewhere than PostgreSQL: executemany INSERTs, then the new ids by tracking code."""
    connection = session.connection()
    connection.execute(
        insert(Report.__table__), [dict(zip(REPORT_COLUMNS, row, strict=True)) for row in reports]
    )
    ids = dict(
        session.exec(
            select(Report.tracking_code, Report.id).where(
                col(Report.tracking_code).in_([report[0] for report in reports])
            )
        ).all()
    )
    events = [
        dict(zip(EVENT_COLUMNS, (ids[report[0]], *event), strict=True))
        for report, report_events in zip(reports, steps, strict=True)
        for event in report_events
    ]
    connection.execute(insert(ReportEvent.__table__), events)


class _PostgresWriter:
    """COPY on the session's own connection, so the rows are in its transaction.

    The new reports' ids are drawn from their sequence first, so their events can be written
    in the same pass without reading the reports back.
    """

    _EXISTING = "SELECT tracking_code FROM report WHERE tracking_code = ANY(%s::text[])"
    _IDS = "SELECT nextval(pg_get_serial_sequence('report', 'id')) FROM generate_series(1, %s)"
    _COPY_REPORTS = "COPY report ({}) FROM STDIN".format(", ".join(("id", *REPORT_COLUMNS)))
    _COPY_EVENTS = "COPY report_event ({}) FROM STDIN".format(", ".join(EVENT_COLUMNS))

    def __init__(self, connection: Connection) -> None:
        self._cursor = connection.connection.driver_connection.cursor()
        self._texts: dict[datetime, str] = {}

    def stamp(self, instant: datetime) -> str:
        """An instant as COPY's text: formatted once per distinct instant."""
        value = self._texts.get(instant)
        if value is None:
            value = self._texts[instant] = instant.isoformat()
        return value

    def existing(self, codes: list[str]) -> set[str]:
        self._cursor.execute(self._EXISTING, (array_literal(codes),))
        return {code for (code,) in self._cursor.fetchall()}

    def write(self, reports: list[tuple], steps: list[list[tuple]]) -> None:
        self._cursor.execute(self._IDS, (len(reports),))
        ids = [report_id for (report_id,) in self._cursor.fetchall()]
        with self._cursor.copy(self._COPY_REPORTS) as copy:
            for report_id, report in zip(ids, reports, strict=True):
                copy.write_row((report_id, *report))
        dumps = json.dumps
        with self._cursor.copy(self._COPY_EVENTS) as copy:
            for report_id, events in zip(ids, steps, strict=True):
                for kind, actor, unit, at, data in events:
                    copy.write_row((report_id, kind, actor, unit, at, dumps(data)))


def _event(kind: EventKind, at: Any, data: dict[str, Any], unit: int | None = None) -> tuple:
    actor = f"{IMPORT_ACTOR}:unit:{unit}" if unit else IMPORT_ACTOR
    return (kind.value, actor, unit, at, data)
