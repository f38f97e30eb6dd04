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
or of an overlapping one, adds nothing. Rows are written with multi-row INSERTs, a few
statements per thousand rows, and no notification is sent: these reports are history.
"""

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlmodel import Session, col, select

from app.config import Settings
from app.directory.importer import import_sites
from app.directory.models import Site, SiteStatus, Unit
from app.directory.service import find_site_for
from app.errors import Unprocessable
from app.reports.clocks import compute_deadlines, handling_workdays
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
    tz = settings.tz
    # Reports share a few hundred receipt days: their due dates are computed once each.
    deadlines_of: dict[datetime, Any] = {}
    chunk: list[tuple[int, dict[str, str]]] = []

    def flush_chunk() -> None:
        codes = [TRACKING_PREFIX + row["id"] for _, row in chunk]
        existing = set(
            session.exec(select(Report.tracking_code).where(col(Report.tracking_code).in_(codes)))
        )
        reports: list[dict[str, Any]] = []
        steps: list[list[dict[str, Any]]] = []
        for (line, row), code in zip(chunk, codes, strict=True):
            if code in existing:
                result.already_imported += 1
                continue
            existing.add(code)
            report, events = _report_of(line=line, row=row, code=code)
            reports.append(report)
            steps.append(events)
        if not reports:
            return
        connection = session.connection()
        # Without RETURNING: COPY (or executemany), then the ids by tracking code.
        bulk_insert(connection, Report.__table__, reports)
        new_codes = [report["tracking_code"] for report in reports]
        ids = dict(
            session.exec(
                select(Report.tracking_code, Report.id).where(
                    col(Report.tracking_code).in_(new_codes)
                )
            ).all()
        )
        events = [
            {**event, "report_id": ids[code]}
            for code, report_events in zip(new_codes, steps, strict=True)
            for event in report_events
        ]
        bulk_insert(session.connection(), ReportEvent.__table__, events)
        result.reports_created += len(reports)

    def unit_id_of(name: str) -> int:
        if name not in units:
            unit = Unit(name=name)
            session.add(unit)
            session.flush()
            units[name] = unit.id
            result.units_created += 1
        return units[name]

    def _report_of(*, line: int, row: dict[str, str], code: str):
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
        received_at = datetime.combine(created, RECEIVED_AT, tzinfo=tz)
        moved_at = datetime.combine(created, MOVED_AT, tzinfo=tz)
        closed_at = datetime.combine(replied, ANSWERED_AT, tzinfo=tz)
        events: list[dict[str, Any]] = [
            {
                "kind": EventKind.submitted.value,
                "actor": CITIZEN_ACTOR,
                "actor_unit_id": None,
                "at": received_at,
                "data": {
                    "owner_unit_id": site.owner_unit_id if site else None,
                    "site_id": site.id if site else None,
                },
            }
        ]
        assigned_at, clock = received_at, 1
        if site is None:
            assigned_at = moved_at
            result.routed += 1
            events.append(
                _event(EventKind.routed, moved_at, {"to_unit_id": answerer, "site_id": None})
            )
        elif site.owner_unit_id != answerer:
            assigned_at, clock = moved_at, 2
            result.transferred += 1
            data = {"from_unit_id": site.owner_unit_id, "to_unit_id": answerer, "text": None}
            events.append(_event(EventKind.transferred, moved_at, data, unit=site.owner_unit_id))
        deadlines = deadlines_of.get(assigned_at)
        if deadlines is None:
            deadlines = deadlines_of[assigned_at] = compute_deadlines(
                calendar=calendar,
                received_at=assigned_at,
                tz=tz,
                first_reply_workdays=settings.first_reply_workdays,
                resolution_workdays=settings.resolution_workdays,
            )
        answer = row["reply"] or row.get("reject_reason") or ""
        resolved = status in RESOLVED
        if resolved:
            data = {"verdict": RESOLVED[status].value, "text": answer}
            events.append(_event(EventKind.resolved, closed_at, data, unit=answerer))
        else:
            data = {"reason": DECLINED[status].value, "text": answer}
            events.append(_event(EventKind.declined, closed_at, data, unit=answerer))
        result.by_status[status] = result.by_status.get(status, 0) + 1
        report = {
            "tracking_code": code,
            "site_id": site.id if site else None,
            "site_code": site_code or (site.site_code if site else None),
            "owner_unit_id": answerer,
            "category": category,
            "page_url": row["error_url"],
            "description": row["description"],
            "status": (ReportStatus.resolved if resolved else ReportStatus.declined).value,
            "verdict": RESOLVED[status].value if resolved else None,
            "decline_reason": None if resolved else DECLINED[status].value,
            "final_answer": answer,
            "received_at": received_at,
            "assigned_at": assigned_at,
            "clock": clock,
            "first_responded_at": closed_at,
            "first_replied_at": None,
            "closed_at": closed_at,
            "handling_workdays": handling_workdays(
                calendar=calendar, received_at=assigned_at, closed_at=closed_at, tz=tz
            ),
            "settled": False,
            "first_reply_due_at": deadlines.first_reply_due_at,
            "resolution_due_at": deadlines.resolution_due_at,
            "deadlines_provisional": deadlines.provisional,
            "paused_workdays": 0,
            "first_reply_paused_workdays": 0,
            "created_at": received_at,
            "updated_at": closed_at,
        }
        return report, events

    for line, row in _rows(path):
        result.rows_read += 1
        chunk.append((line, row))
        if len(chunk) == CHUNK:
            flush_chunk()
            chunk = []
            if progress:
                progress(result.rows_read)
    if chunk:
        flush_chunk()
    if progress:
        progress(result.rows_read)
    session.flush()
    return result


def _copy_value(value: Any) -> Any:
    """A value as COPY takes it: enums by value, JSON documents as SQLAlchemy writes them."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def bulk_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows of one shape: COPY on PostgreSQL (psycopg), executemany elsewhere.

    Columns a row leaves out get their Python default, as an INSERT would give them; those with
    only a server default are left to the server.
    """
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    given = list(rows[0])
    defaults = {}
    for column in table.columns:
        if column.name in given or column.default is None:
            continue
        default = column.default
        if default.is_sequence:
            continue
        defaults[column.name] = default.arg(None) if default.is_callable else default.arg
    names = given + list(defaults)
    quoted = ", ".join(f'"{name}"' for name in names)
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            if len(row) != len(given):
                raise ValueError(f"rows of one shape only: {sorted(row)} against {given}")
            copy.write_row(
                [_copy_value(row[name]) for name in given]
                + [_copy_value(value) for value in defaults.values()]
            )


def _event(
    kind: EventKind, at: datetime, data: dict[str, Any], unit: int | None = None
) -> dict[str, Any]:
    return {
        "kind": kind.value,
        "actor": f"{IMPORT_ACTOR}:unit:{unit}" if unit else IMPORT_ACTOR,
        "actor_unit_id": unit,
        "at": at,
        "data": data,
    }
