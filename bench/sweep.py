"""One escalation sweep over 1,000,000 open reports, with 0.1 %, 1 % and 10 % of them due.

The sweep reads `WHERE next_rung_at <= now ORDER BY next_rung_at LIMIT batch` on an index, so
its cost should follow the rungs due, not the open reports. This builds the reports in a
scratch database (bulk COPY on PostgreSQL, executemany on SQLite), makes a disjoint block of
them due for each share, and times one `app.sla.escalation.sweep` over each: every due report
fires its reminder (a rung row, an event, an outbox row) and is replanned to its 催办. Next to
each sweep it times, in the same run, a plain indexed count of the due rows (the floor for
finding them) and a count of every open report (what a sweep that looked at all of them would
at least pay), and checks the rows the sweep wrote. It also prints where each sweep's time
went: this process's CPU (Python building the rows and payloads, the driver) and the rest,
waiting for the database (on PostgreSQL a batch's statements are pipelined, so the two overlap
and no statement can be timed alone).

    .venv/bin/python bench/sweep.py [--reports 1000000] [--backend sqlite|postgresql|both]

SQLite: a scratch file under /tmp. PostgreSQL: ZHAOCUO_BENCH_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/zc_bench_sweep); that database is dropped and
created again, so it must be on loopback and its name must contain "bench". Without a reachable
server the PostgreSQL half is skipped with a message.
"""

import argparse
import os
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from scratch import RefusedDatabase, recreate_database, scratch_url, why_unreachable
from sqlalchemy import Engine, bindparam, func, select, text
from sqlalchemy.engine import URL, make_url
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import Settings  # the repository, on sys.path above
from app.db import UtcDateTime, create_db_engine
from app.migrate import upgrade_to_head
from app.reports.models import OPEN_STATUSES, Report, ReportEvent
from app.sla.escalation import sweep
from app.sla.models import EscalationRung, Notification
from app.workdays.sources import get_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/zc_bench_sweep"
SQLITE_PATH = Path("/tmp/zc_bench_sweep.db")
SHARES = (0.001, 0.01, 0.1)
TABLE_HEADER = (
    "| backend | due | rungs fired | sweep | per rung | of which Python | set-based floor per rung "
    "| ratio "
    "| indexed count of due | count of all open |"
)
DEPARTMENTS = 100  # one site each, under 10 cities under one province
# Every report is received Monday 23 November 2026 at 10:00: its reminder comes due at the end
# of Tuesday and its first reply at the end of Wednesday. The sweeps run on Tuesday at noon,
# so no report is due unless a block is made due for a measurement.
RECEIVED = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
REMINDER_AT = datetime(2026, 11, 24, 23, 59, 59, 999000, tzinfo=SHANGHAI)
FIRST_REPLY_DUE = datetime(2026, 11, 25, 23, 59, 59, 999000, tzinfo=SHANGHAI)
RESOLUTION_DUE = datetime(2026, 12, 14, 23, 59, 59, 999000, tzinfo=SHANGHAI)
SWEEP_AT = datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI)
REPORT_COLUMNS = (
    "id", "tracking_code", "site_id", "site_code", "owner_unit_id", "category", "page_url",
    "description", "status", "received_at", "assigned_at", "clock", "first_reply_due_at",
    "resolution_due_at", "deadlines_provisional", "paused_workdays", "next_rung", "next_rung_at",
    "created_at", "updated_at",
)  # fmt: skip


def sqlite_instant(value: datetime) -> str:
    """How SQLAlchemy stores an instant on SQLite (UtcDateTime: naive UTC text)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def build_directory(engine: Engine) -> list[tuple[int, int, str]]:
    """One province, 10 cities, 100 departments with a site each: (unit id, site id, code)."""
    now = datetime.now(UTC)
    sites = []
    with engine.begin() as connection:

        def unit(name: str, parent: int | None) -> int:
            return connection.execute(
                text(
                    "INSERT INTO unit (name, parent_id, created_at, updated_at) "
                    "VALUES (:name, :parent, :now, :now) RETURNING id"
                ),
                {"name": name, "parent": parent, "now": now},
            ).scalar_one()

        province = unit("基准省人民政府办公厅", None)
        for city_number in range(10):
            city = unit(f"基准市{city_number}人民政府办公室", province)
            for dept_number in range(DEPARTMENTS // 10):
                dept = unit(f"基准市{city_number}局{dept_number}", city)
                code = f"99{city_number:02d}{dept_number:06d}"
                site = connection.execute(
                    text(
                        "INSERT INTO site (site_code, name, owner_unit_id, status, created_at, "
                        "updated_at) VALUES (:code, :name, :owner, 'active', :now, :now) "
                        "RETURNING id"
                    ),
                    {"code": code, "name": f"{code} 网站", "owner": dept, "now": now},
                ).scalar_one()
                sites.append((dept, site, code))
    return sites


def report_rows(count: int, sites: list[tuple[int, int, str]]):
    """Open reports, none due: each waits for its reminder at the end of Tuesday."""
    for number in range(1, count + 1):
        owner, site, code = sites[number % len(sites)]
        yield (
            number, f"BENCH{number:011d}", site, code, owner, number % 7,
            f"https://{code}.example.gov.cn/page/{number}.html", "基准测试留言：页面有错别字",
            "assigned", RECEIVED, RECEIVED, 1, FIRST_REPLY_DUE, RESOLUTION_DUE, False, 0,
            "reminder", REMINDER_AT, RECEIVED, RECEIVED,
        )  # fmt: skip


def load_reports_postgresql(url: str, count: int, sites) -> None:
    with psycopg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(False)
    ) as conn:
        with conn.cursor() as cursor:
            columns = ", ".join(REPORT_COLUMNS)
            with cursor.copy(f"COPY report ({columns}) FROM STDIN") as copy:
                for row in report_rows(count, sites):
                    copy.write_row(row)
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('report', 'id'), "
                "(SELECT max(id) FROM report))"
            )
        conn.commit()
        conn.autocommit = True
        # Fresh statistics and visibility map, as a live table would have.
        conn.execute("VACUUM ANALYZE report")


def load_reports_sqlite(path: Path, count: int, sites) -> None:
    connection = sqlite3.connect(path)
    placeholders = ", ".join("?" for _ in REPORT_COLUMNS)
    statement = f"INSERT INTO report ({', '.join(REPORT_COLUMNS)}) VALUES ({placeholders})"
    with connection:
        connection.executemany(
            statement,
            (
                tuple(sqlite_instant(v) if isinstance(v, datetime) else v for v in row)
                for row in report_rows(count, sites)
            ),
        )
    connection.execute("ANALYZE")
    connection.close()


def make_due(engine: Engine, first_id: int, last_id: int, seed: int) -> None:
    """Make a block of reports due, their reminders spread over the night before the sweep."""
    spread = random.Random(seed)
    start = datetime(2026, 11, 23, 23, 59, 59, 999000, tzinfo=SHANGHAI)
    table = Report.__table__
    with engine.begin() as connection:
        connection.execute(
            table.update()
            .where(table.c.id == bindparam("report_id"))
            .values(next_rung_at=bindparam("due_at")),
            [
                {
                    "report_id": report_id,
                    "due_at": start + timedelta(seconds=spread.randrange(43200)),
                }
                for report_id in range(first_id, last_id + 1)
            ],
        )


def set_based_floor(engine: Engine) -> int:
    """One INSERT … SELECT of the same rung rows, rolled back: the least a sweep can cost."""
    # PostgreSQL keeps rung names in an enum type; SQLite in text.
    rung = "CAST(next_rung AS rung)" if engine.dialect.name == "postgresql" else "next_rung"
    with engine.connect() as connection, connection.begin() as transaction:
        rows = connection.execute(
            text(
                "INSERT INTO escalation_rung "
                "(report_id, clock, rung, due_at, fired_at, target_unit_ids) "
                f"SELECT id, clock, {rung}, next_rung_at, :now, '[]' FROM report "
                "WHERE next_rung_at <= :now"
            ).bindparams(bindparam("now", type_=UtcDateTime())),
            {"now": SWEEP_AT},
        ).rowcount
        transaction.rollback()
    return rows


def timed_with_cpu(call):
    """The call's value, its wall-clock seconds and this process's CPU seconds in it: the
    sweep's own work in Python and the driver, the rest being the wait for the database."""
    started, cpu_started = time.perf_counter(), time.process_time()
    value = call()
    return value, time.perf_counter() - started, time.process_time() - cpu_started


def timed(call):
    started = time.perf_counter()
    value = call()
    return value, time.perf_counter() - started


def scalar(engine: Engine, query):
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def measure(name: str, url: str, count: int) -> list[dict]:
    settings = Settings(database_url=url, scheduler="off", public_rate_limit="")
    upgrade_to_head(url)
    engine = create_db_engine(url)
    sites = build_directory(engine)
    if name == "postgresql":
        _, load_seconds = timed(lambda: load_reports_postgresql(url, count, sites))
    else:
        _, load_seconds = timed(lambda: load_reports_sqlite(SQLITE_PATH, count, sites))
    print(f"{name}: {count:,} open reports loaded in {load_seconds:.1f} s", flush=True)
    with Session(engine) as session:
        calendar = get_calendar(session)

    due_count = select(func.count()).select_from(Report).where(Report.next_rung_at <= SWEEP_AT)
    open_count = select(func.count()).select_from(Report).where(Report.status.in_(OPEN_STATUSES))
    results = []
    # Nothing due: what every minute costs on a quiet day.
    idle, idle_seconds = timed(
        lambda: sweep(engine=engine, now=SWEEP_AT, settings=settings, calendar=calendar)
    )
    assert idle.reports == 0, idle
    results.append({"backend": name, "share": 0.0, "due": 0, "sweep_s": idle_seconds})
    first_id = 1
    for index, share in enumerate(SHARES):
        due = round(count * share)
        last_id = first_id + due - 1
        make_due(engine, first_id, last_id, seed=index)
        if name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE report"))
        counted, count_seconds = timed(lambda: scalar(engine, due_count))
        assert counted == due, (counted, due)
        _, open_seconds = timed(lambda: scalar(engine, open_count))
        floor_rows, floor_seconds = timed(lambda: set_based_floor(engine))
        assert floor_rows == due, (floor_rows, due)
        result, sweep_seconds, cpu_seconds = timed_with_cpu(
            lambda: sweep(engine=engine, now=SWEEP_AT, settings=settings, calendar=calendar)
        )
        assert (result.fired, result.failed_report_ids) == (due, []), result
        waited = sweep_seconds - cpu_seconds
        fired_rows = scalar(
            engine,
            select(func.count())
            .select_from(EscalationRung)
            .where(EscalationRung.report_id.between(first_id, last_id)),
        )
        events = scalar(
            engine,
            select(func.count())
            .select_from(ReportEvent)
            .where(ReportEvent.report_id.between(first_id, last_id)),
        )
        outbox = scalar(
            engine,
            select(func.count())
            .select_from(Notification)
            .where(Notification.report_id.between(first_id, last_id)),
        )
        assert fired_rows == events == outbox == due, (fired_rows, events, outbox, due)
        assert scalar(engine, due_count) == 0
        results.append(
            {
                "backend": name,
                "share": share,
                "due": due,
                "sweep_s": sweep_seconds,
                "cpu_s": cpu_seconds,
                "count_due_s": count_seconds,
                "count_open_s": open_seconds,
                "floor_s": floor_seconds,
            }
        )
        print(
            f"{name}: {share:>6.1%} due ({due:>7,}): sweep {sweep_seconds:8.3f} s "
            f"= {sweep_seconds / due * 1000:.3f} ms per rung; indexed count of due "
            f"{count_seconds * 1000:8.2f} ms (sweep/count {sweep_seconds / count_seconds:,.0f}x); "
            f"count of all open reports {open_seconds * 1000:8.1f} ms; set-based floor "
            f"{floor_seconds / due * 1000:.3f} ms per rung\n"
            f"{name}: {share:>6.1%} due, ms per rung: {cpu_seconds / due * 1000:.3f} in Python and "
            f"the driver (building rows and payloads), {waited / due * 1000:.3f} waiting for the "
            "database (on PostgreSQL its statements overlap the Python)",
            flush=True,
        )
        first_id = last_id + 1
    engine.dispose()
    return results


def prepare_postgresql(url: URL) -> bool:
    """An empty scratch database; False, saying why, when the server does not answer."""
    unreachable = why_unreachable(url)
    if unreachable:
        print(f"postgresql: skipped, the server at {url.host} is not reachable ({unreachable})")
        return False
    recreate_database(url)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    arguments = parser.parse_args()
    postgres_url = None
    if arguments.backend in ("postgresql", "both"):
        # Refused before the SQLite half runs, not after it.
        try:
            postgres_url = scratch_url(
                os.environ.get("ZHAOCUO_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
            )
        except RefusedDatabase as error:
            raise SystemExit(str(error)) from None
    results = []
    if arguments.backend in ("sqlite", "both"):
        SQLITE_PATH.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        results += measure("sqlite", f"sqlite:///{SQLITE_PATH}", arguments.reports)
    if postgres_url is not None and prepare_postgresql(postgres_url):
        url = postgres_url.render_as_string(hide_password=False)
        results += measure("postgresql", url, arguments.reports)

    print()
    print(f"one sweep over {arguments.reports:,} open reports (batches of 500, one rung each)")
    print(TABLE_HEADER)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in results:
        if row["due"] == 0:
            print(
                f"| {row['backend']} | 0 % | 0 | {row['sweep_s'] * 1000:.1f} ms "
                "| – | – | – | – | – | – |"
            )
            continue
        print(
            f"| {row['backend']} | {row['share']:.1%} | {row['due']:,} | {row['sweep_s']:.2f} s "
            f"| {row['sweep_s'] / row['due'] * 1000:.3f} ms "
            f"| {row['cpu_s'] / row['due'] * 1000:.3f} ms "
            f"| {row['floor_s'] / row['due'] * 1000:.3f} ms "
            f"| {row['sweep_s'] / row['floor_s']:.1f}x "
            f"| {row['count_due_s'] * 1000:.1f} ms "
            f"| {row['count_open_s'] * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()
