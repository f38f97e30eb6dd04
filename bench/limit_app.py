"""The practical limit for bench/submit.py: zhaocuo's submission written with plain SQL.

The same route, the same ReportCreate model and the same receipt as `POST /api/v1/reports`,
and the same work in the database, in one transaction committed before the 201: the site by
code (or by the page's host) with its owner unit's name, the open reports the new one may
duplicate, then the report row, its `submitted` event and its owner's outbox row. Due dates,
the escalation rung and the outbox's working-hours instant come from zhaocuo's own pure
functions on the packaged calendar. What it leaves out is the framework around the SQL: the
ORM, the session, the dependencies and their thread-pool hops.

SQLite uses the sqlite3 module, one connection behind a lock (each transaction takes the write
lock anyway), from a plain `def` endpoint; PostgreSQL uses psycopg's async connections, a few
of them kept in a queue, from an `async def` endpoint.

    python bench/limit_app.py --database-url sqlite:///bench.db --port 8002
    python bench/limit_app.py --database-url postgresql+psycopg://postgres@127.0.0.1/zc_bench_x
"""

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import threading
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import psycopg
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import make_url

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from scratch import libpq_conninfo  # noqa: E402

from app.config import Settings  # noqa: E402  (needs the repository on sys.path)
from app.directory.routing import host_candidates  # noqa: E402
from app.directory.service import host_of_url  # noqa: E402
from app.reports.clocks import compute_deadlines  # noqa: E402
from app.reports.duplicates import OPEN_STATUSES, normalize_url, url_key  # noqa: E402
from app.reports.models import CATEGORY_LABELS, Category, ReportStatus  # noqa: E402
from app.reports.schemas import ReportCreate, ReportReceipt  # noqa: E402
from app.reports.service import new_tracking_code  # noqa: E402
from app.sla.escalation import ladder  # noqa: E402
from app.sla.notify import next_working_instant  # noqa: E402
from app.workdays.calendar import WorkCalendar  # noqa: E402
from app.workdays.sources import build_calendar, packaged_calendar_days  # noqa: E402

DATABASE_URL_VARIABLE = "ZHAOCUO_LIMIT_DATABASE_URL"
POSTGRES_CONNECTIONS = 10  # zhaocuo's default pool size
SETTINGS = Settings(database_url="sqlite://")
CALENDAR: WorkCalendar = build_calendar(
    package=packaged_calendar_days(), loaded_days=[], loaded_years=set()
)
OPEN = [status.value for status in OPEN_STATUSES]

SITE_BY_CODE = (
    "SELECT site.id, site.site_code, site.name, site.status, site.owner_unit_id, unit.name "
    "FROM site JOIN unit ON unit.id = site.owner_unit_id WHERE site.site_code = {p}"
)
SITE_BY_HOST = (
    "SELECT site.id, site.site_code, site.name, site.status, site.owner_unit_id, unit.name "
    "FROM site JOIN site_host ON site_host.site_id = site.id "
    "JOIN unit ON unit.id = site.owner_unit_id WHERE site_host.host IN ({p}, {p}) "
    "ORDER BY site.status != 'active', site_host.host != {p} LIMIT 1"
)
DUPLICATES = (
    "SELECT id FROM report WHERE page_url_key = {p} AND site_id = {p} AND category = {p} "
    "AND received_at >= {p} AND received_at <= {p} AND status IN ({p}, {p}, {p}, {p}) "
    "ORDER BY received_at, id"
)
REPORT_COLUMNS = (
    "tracking_code",
    "site_id",
    "site_code",
    "owner_unit_id",
    "category",
    "page_url",
    "description",
    "citizen_name",
    "citizen_phone",
    "citizen_email",
    "status",
    "received_at",
    "assigned_at",
    "clock",
    "settled",
    "published",
    "first_reply_due_at",
    "resolution_due_at",
    "deadlines_provisional",
    "paused_workdays",
    "first_reply_paused_workdays",
    "extension_workdays",
    "site_closed",
    "page_host_site_code",
    "next_rung",
    "next_rung_at",
    "normalized_page_url",
    "page_url_key",
    "possible_duplicate_ids",
    "created_at",
    "updated_at",
)
INSERT_REPORT = (
    f"INSERT INTO report ({', '.join(REPORT_COLUMNS)}) "
    f"VALUES ({', '.join(['{p}'] * len(REPORT_COLUMNS))}) RETURNING id"
)
INSERT_EVENT = (
    "INSERT INTO report_event (report_id, kind, actor, at, data) "
    "VALUES ({p}, 'submitted', 'citizen', {p}, {p})"
)
INSERT_NOTIFICATION = (
    'INSERT INTO notification ("key", unit_id, kind, report_id, payload, created_at, '
    "not_before, attempts) VALUES ({p}, {p}, 'new_report', {p}, {p}, {p}, {p}, 0) "
    "ON CONFLICT DO NOTHING"
)


def sql(template: str, placeholder: str) -> str:
    return template.replace("{p}", placeholder)


def host_lookup(report_in: ReportCreate) -> list:
    """The parameters of SITE_BY_HOST for the report's page."""
    host = host_of_url(report_in.page_url) or ""
    return [*host_candidates(host), host]


def match(by_code: tuple | None, by_host: tuple | None) -> tuple[tuple | None, str | None]:
    """The site (by code, else by host) and the other site's code serving the page's host."""
    site = by_code or by_host
    other = by_host if by_code and by_host and by_host[0] != by_code[0] else None
    return site, other[1] if other else None


class Plan(SimpleNamespace):
    """The report's row, computed in Python before the writes."""


def plan_report(
    report_in: ReportCreate, site: tuple | None, host_site_code: str | None, now: datetime
) -> Plan:
    site_id, site_code, site_name, site_status, owner_id, owner_name = site or (None,) * 6
    plan = Plan(
        tracking_code=new_tracking_code(),
        site_id=site_id,
        site_code=report_in.site_code or site_code,
        owner_unit_id=owner_id,
        owner_unit_name=owner_name,
        site_name=site_name,
        category=int(report_in.category),
        status=ReportStatus.assigned if site else ReportStatus.unrouted,
        received_at=now,
        assigned_at=now if site else None,
        closed_at=None,
        first_responded_at=None,
        clock=1 if site else 0,
        first_reply_due_at=None,
        resolution_due_at=None,
        deadlines_provisional=False,
        next_rung=None,
        next_rung_at=None,
        site_closed=site_status == "closed",
        page_host_site_code=host_site_code,
        normalized_page_url=normalize_url(report_in.page_url),
    )
    plan.page_url_key = url_key(plan.normalized_page_url)
    if site:
        deadlines = compute_deadlines(
            calendar=CALENDAR,
            received_at=now,
            tz=SETTINGS.tz,
            first_reply_workdays=SETTINGS.first_reply_workdays,
            resolution_workdays=SETTINGS.resolution_workdays,
        )
        plan.first_reply_due_at = deadlines.first_reply_due_at
        plan.resolution_due_at = deadlines.resolution_due_at
        plan.deadlines_provisional = deadlines.provisional
        rungs = ladder(report=plan, calendar=CALENDAR, settings=SETTINGS)
        if rungs:
            plan.next_rung, plan.next_rung_at = rungs[0][0].value, rungs[0][1]
    return plan


def report_values(report_in: ReportCreate, plan: Plan, duplicates: list[int], stamp) -> list:
    return [
        plan.tracking_code,
        plan.site_id,
        plan.site_code,
        plan.owner_unit_id,
        plan.category,
        report_in.page_url,
        report_in.description,
        report_in.name,
        report_in.phone,
        str(report_in.email) if report_in.email else None,
        plan.status.value,
        stamp(plan.received_at),
        stamp(plan.assigned_at),
        plan.clock,
        False,
        True,
        stamp(plan.first_reply_due_at),
        stamp(plan.resolution_due_at),
        plan.deadlines_provisional,
        0,
        0,
        0,
        plan.site_closed,
        plan.page_host_site_code,
        plan.next_rung,
        stamp(plan.next_rung_at),
        plan.normalized_page_url,
        plan.page_url_key,
        json.dumps(duplicates),
        stamp(plan.received_at),
        stamp(plan.received_at),
    ]


def duplicate_values(plan: Plan, now: datetime, stamp) -> list:
    since = now - timedelta(days=SETTINGS.duplicate_window_days)
    return [plan.page_url_key, plan.site_id, plan.category, stamp(since), stamp(now), *OPEN]


def outbox_values(report_in: ReportCreate, plan: Plan, report_id: int, stamp) -> list:
    """The owner's new_report row, with a payload of zhaocuo's shape."""
    summary = {
        "id": report_id,
        "api_path": f"/api/v1/unit/reports/{report_id}",
        "site_code": plan.site_code,
        "site_name": plan.site_name,
        "page_url": report_in.page_url,
        "category": plan.category,
        "category_label": CATEGORY_LABELS[Category(plan.category)],
        "status": plan.status.value,
        "owner_unit_id": plan.owner_unit_id,
        "owner_unit_name": plan.owner_unit_name,
        "received_at": plan.received_at.isoformat(),
        "assigned_at": plan.assigned_at.isoformat(),
        "clock": plan.clock,
        "first_reply_due_at": plan.first_reply_due_at.isoformat(),
        "resolution_due_at": plan.resolution_due_at.isoformat(),
        "deadlines_provisional": plan.deadlines_provisional,
    }
    text = f"【新留言】{plan.owner_unit_name}：收到留言 #{report_id}（{plan.site_name}）"
    payload = {"text": text, "report": {**summary, "description": report_in.description}}
    not_before = next_working_instant(
        instant=plan.received_at, calendar=CALENDAR, settings=SETTINGS
    )
    return [
        f"new_report:{report_id}:{plan.clock}:{plan.owner_unit_id}",
        plan.owner_unit_id,
        report_id,
        json.dumps(payload),
        stamp(plan.received_at),
        stamp(not_before),
    ]


def receipt(plan: Plan) -> ReportReceipt:
    return ReportReceipt(
        tracking_code=plan.tracking_code,
        status=plan.status,
        owner_unit_name=plan.owner_unit_name,
        received_at=plan.received_at,
        first_reply_due_at=plan.first_reply_due_at,
        resolution_due_at=plan.resolution_due_at,
        deadlines_provisional=plan.deadlines_provisional,
        site_closed=plan.site_closed,
    )


def sqlite_stamp(instant: datetime | None) -> str | None:
    """SQLAlchemy's SQLite format for zhaocuo's UtcDateTime: naive UTC."""
    if instant is None:
        return None
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def postgres_stamp(instant: datetime | None) -> datetime | None:
    return instant


def sqlite_app(path: str) -> FastAPI:
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute(f"PRAGMA synchronous={os.environ.get('ZHAOCUO_SQLITE_SYNCHRONOUS', 'FULL')}")
    lock = threading.Lock()
    app = FastAPI(title="practical limit (SQLite)")

    @app.post("/api/v1/reports", status_code=201, response_model=ReportReceipt)
    def submit_report(report_in: ReportCreate) -> ReportReceipt:
        now = datetime.now(UTC)
        with lock:
            connection.execute("BEGIN IMMEDIATE")
            try:
                by_code = None
                if report_in.site_code:
                    by_code = connection.execute(
                        sql(SITE_BY_CODE, "?"), [report_in.site_code]
                    ).fetchone()
                by_host = connection.execute(
                    sql(SITE_BY_HOST, "?"), host_lookup(report_in)
                ).fetchone()
                site, host_site_code = match(by_code, by_host)
                plan = plan_report(report_in, site, host_site_code, now)
                duplicates = []
                if site:
                    rows = connection.execute(
                        sql(DUPLICATES, "?"), duplicate_values(plan, now, sqlite_stamp)
                    )
                    duplicates = [row[0] for row in rows]
                values = report_values(report_in, plan, duplicates, sqlite_stamp)
                (report_id,) = connection.execute(sql(INSERT_REPORT, "?"), values).fetchone()
                event = json.dumps({"owner_unit_id": plan.owner_unit_id, "site_id": plan.site_id})
                connection.execute(sql(INSERT_EVENT, "?"), (report_id, sqlite_stamp(now), event))
                if site:
                    connection.execute(
                        sql(INSERT_NOTIFICATION, "?"),
                        outbox_values(report_in, plan, report_id, sqlite_stamp),
                    )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return receipt(plan)

    return app


def postgres_app(conninfo: str) -> FastAPI:
    connections: asyncio.Queue[psycopg.AsyncConnection] = asyncio.Queue()

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        opened = [
            await psycopg.AsyncConnection.connect(conninfo) for _ in range(POSTGRES_CONNECTIONS)
        ]
        for connection in opened:
            connections.put_nowait(connection)
        yield
        for connection in opened:
            await connection.close()

    app = FastAPI(title="practical limit (PostgreSQL)", lifespan=lifespan)

    @app.post("/api/v1/reports", status_code=201, response_model=ReportReceipt)
    async def submit_report(report_in: ReportCreate) -> ReportReceipt:
        now = datetime.now(UTC)
        connection = await connections.get()
        try:
            async with connection.transaction():
                by_code = None
                if report_in.site_code:
                    cursor = await connection.execute(
                        sql(SITE_BY_CODE, "%s"), [report_in.site_code]
                    )
                    by_code = await cursor.fetchone()
                cursor = await connection.execute(sql(SITE_BY_HOST, "%s"), host_lookup(report_in))
                site, host_site_code = match(by_code, await cursor.fetchone())
                plan = plan_report(report_in, site, host_site_code, now)
                duplicates = []
                if site:
                    cursor = await connection.execute(
                        sql(DUPLICATES, "%s"), duplicate_values(plan, now, postgres_stamp)
                    )
                    duplicates = [row[0] for row in await cursor.fetchall()]
                values = report_values(report_in, plan, duplicates, postgres_stamp)
                cursor = await connection.execute(sql(INSERT_REPORT, "%s"), values)
                (report_id,) = await cursor.fetchone()
                event = json.dumps({"owner_unit_id": plan.owner_unit_id, "site_id": plan.site_id})
                await connection.execute(sql(INSERT_EVENT, "%s"), (report_id, now, event))
                if site:
                    await connection.execute(
                        sql(INSERT_NOTIFICATION, "%s"),
                        outbox_values(report_in, plan, report_id, postgres_stamp),
                    )
        finally:
            connections.put_nowait(connection)
        return receipt(plan)

    return app


def create_app() -> FastAPI:
    url = make_url(os.environ[DATABASE_URL_VARIABLE])
    app = (
        sqlite_app(url.database)
        if url.get_backend_name() == "sqlite"
        else postgres_app(libpq_conninfo(url))
    )

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a migrated zhaocuo database")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    os.environ[DATABASE_URL_VARIABLE] = args.database_url
    # The same uvicorn options as `zhaocuo serve`, access log included, so only the app differs.
    uvicorn.run(
        "limit_app:create_app",
        factory=True,
        app_dir=str(BENCH_DIR),
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        log_level="info",
    )


if __name__ == "__main__":
    main()
