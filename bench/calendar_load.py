"""Loading next year's calendar over many open reports, while citizens keep submitting.

Builds N open reports received over December 2026 (bulk COPY on PostgreSQL, executemany on
SQLite), their due dates computed with the packaged calendar: those whose resolution falls in
January 2027 are provisional (weekend rule) and move by a day when 2027 is loaded (元旦 is
1–3 January), about two thirds of them. Then it loads 2027 through `app.workdays.service.
load_year` as `zhaocuo calendar load` does, with two threads submitting reports the whole
time through the service path of `POST /api/v1/reports` (calendar held, submit, commit).

It prints reports moved per second, the growth of the process's peak memory during the load,
and the p50/p99 of the submissions made during the load beside those of the same submitters
measured just before it (the baseline, same run), and beside the floor of one plain UPDATE of
the same rows (no events, no ladder, one transaction). It then checks every moved report and
every report submitted during the load for the new calendar's dates.

    .venv/bin/python bench/calendar_load.py [--reports 1000000] [--backend postgresql|sqlite]

PostgreSQL: ZHAOCUO_BENCH_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/zc_perf_bench_calendar), dropped and created again
(loopback only, "bench" in its name). SQLite: a scratch file under /tmp.
"""

import argparse
import os
import resource
import sqlite3
import statistics
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from scratch import RefusedDatabase, recreate_database, scratch_url, why_unreachable
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import Session
from sweep import build_directory, sqlite_instant

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.audit.models import SYSTEM_ACTOR
from app.config import Settings  # the repository, on sys.path above
from app.db import create_db_engine, session_scope
from app.migrate import upgrade_to_head
from app.reports.clocks import compute_deadlines
from app.reports.models import Report, ReportEvent
from app.reports.schemas import ReportCreate
from app.reports.service import submit
from app.wiring import install_hooks
from app.workdays.jobs import load_year_and_follow
from app.workdays.sources import get_calendar, held_calendar
from tests.workdays.notices import notice_2027

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/zc_perf_bench_calendar"
SQLITE_PATH = Path("/tmp/zc_perf_bench_calendar.db")
SUBMITTERS = 2
BASELINE_SECONDS = 5.0
# Submissions are made "now": Friday 18 December 2026, 10:00; 15 working days end in January.
NOW = datetime(2026, 12, 18, 10, 0, tzinfo=SHANGHAI)
REPORT_COLUMNS = (
    "id", "tracking_code", "site_id", "site_code", "owner_unit_id", "category", "page_url",
    "description", "status", "received_at", "assigned_at", "clock", "first_reply_due_at",
    "resolution_due_at", "deadlines_provisional", "paused_workdays", "first_reply_paused_workdays",
    "next_rung", "next_rung_at", "created_at", "updated_at",
)  # fmt: skip


def report_rows(count: int, sites, settings: Settings, calendar):
    """Open reports received on working hours of December 2026, some paused 1–3 days before
    (pauses begun in time, so they moved both due dates)."""
    deadlines = {}
    for number in range(1, count + 1):
        owner, site, code = sites[number % len(sites)]
        day = date(2026, 12, 1) + timedelta(days=number % 31)
        paused = (number // 31) % 4 if number % 5 == 0 else 0
        received = datetime(2026, 12, day.day, 9 + number % 9, number % 60, tzinfo=SHANGHAI)
        key = (day, paused)
        if key not in deadlines:
            deadlines[key] = compute_deadlines(
                calendar=calendar,
                received_at=received,
                tz=settings.tz,
                first_reply_workdays=settings.first_reply_workdays,
                resolution_workdays=settings.resolution_workdays,
                paused_workdays=paused,
                first_reply_paused_workdays=paused,
            )
        due = deadlines[key]
        yield (
            number, f"BENCH{number:011d}", site, code, owner, number % 7,
            f"https://{code}.example.gov.cn/page/{number}.html", "基准测试留言：页面有错别字",
            "assigned", received, received, 1, due.first_reply_due_at, due.resolution_due_at,
            due.provisional, paused, paused, "supervise", due.resolution_due_at, received,
            received,
        )  # fmt: skip


def load_reports(url: str, rows) -> None:
    if make_url(url).get_backend_name() == "postgresql":
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(conninfo) as conn:
            with conn.cursor() as cursor:
                with cursor.copy(f"COPY report ({', '.join(REPORT_COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('report', 'id'), "
                    "(SELECT max(id) FROM report))"
                )
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE report")
        return
    connection = sqlite3.connect(make_url(url).database)
    placeholders = ", ".join("?" for _ in REPORT_COLUMNS)
    with connection:
        connection.executemany(
            f"INSERT INTO report ({', '.join(REPORT_COLUMNS)}) VALUES ({placeholders})",
            (
                tuple(sqlite_instant(v) if isinstance(v, datetime) else v for v in row)
                for row in rows
            ),
        )
    connection.execute("ANALYZE")
    connection.close()


class Submitters:
    """Threads submitting reports as the public endpoint does, timing each transaction."""

    def __init__(self, engine, settings: Settings, site_code: str) -> None:
        self.engine, self.settings, self.site_code = engine, settings, site_code
        self.running = threading.Event()
        self.latencies: list[float] = []
        self.codes: list[str] = []
        self.threads: list[threading.Thread] = []

    def _run(self) -> None:
        report_in = ReportCreate(
            site_code=self.site_code,
            page_url=f"https://{self.site_code}.example.gov.cn/index.html",
            category=4,
            description="基准测试：加载日历期间提交的留言",
        )
        while self.running.is_set():
            started = time.perf_counter()
            with session_scope(self.engine) as session:
                calendar = held_calendar(session)
                report = submit(
                    session=session,
                    report_in=report_in,
                    now=NOW,
                    calendar=calendar,
                    settings=self.settings,
                )
                code = report.tracking_code
            self.latencies.append(time.perf_counter() - started)
            self.codes.append(code)

    def start(self) -> None:
        self.latencies, self.codes = [], []
        self.running.set()
        self.threads = [threading.Thread(target=self._run) for _ in range(SUBMITTERS)]
        for thread in self.threads:
            thread.start()

    def stop(self) -> tuple[list[float], list[str]]:
        self.running.clear()
        for thread in self.threads:
            thread.join()
        return self.latencies, self.codes


def percentiles(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(url: str, count: int) -> dict:
    backend = make_url(url).get_backend_name()
    settings = Settings(database_url=url, scheduler="off", public_rate_limit="")
    upgrade_to_head(url)
    engine = create_db_engine(url)
    sites = build_directory(engine)
    with Session(engine) as session:
        calendar = get_calendar(session)
    started = time.perf_counter()
    load_reports(url, report_rows(count, sites, settings, calendar))
    print(f"{backend}: {count:,} open reports built in {time.perf_counter() - started:.1f} s")
    to_move = (
        select(func.count())
        .select_from(Report)
        .where(Report.resolution_due_at >= datetime(2027, 1, 1, tzinfo=SHANGHAI))
    )
    with engine.connect() as connection:
        expected_moves = connection.execute(to_move).scalar_one()

    # The floor: one UPDATE touching the same rows, in one transaction, nothing else.
    started = time.perf_counter()
    with engine.begin() as connection:
        floor_rows = connection.execute(
            text("UPDATE report SET updated_at = updated_at WHERE resolution_due_at >= :cut"),
            {"cut": datetime(2027, 1, 1, tzinfo=SHANGHAI).astimezone(UTC)},
        ).rowcount
    floor_seconds = time.perf_counter() - started
    if backend == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE report"))

    submitters = Submitters(engine, settings, sites[0][2])
    submitters.start()
    time.sleep(BASELINE_SECONDS)
    baseline_latencies, _ = submitters.stop()

    rss_before = peak_rss_mb()
    submitters.start()
    started = time.perf_counter()
    with session_scope(engine) as session:
        result = load_year_and_follow(
            session=session,
            year=2027,
            notice=notice_2027(),
            now=NOW,
            actor="bench",
            audit_actor=SYSTEM_ACTOR,
            settings=settings,
        )
    load_seconds = time.perf_counter() - started
    during_latencies, during_codes = submitters.stop()
    rss_growth = peak_rss_mb() - rss_before

    with engine.connect() as connection:
        events = connection.execute(
            select(func.count())
            .select_from(ReportEvent)
            .where(ReportEvent.kind == "deadlines_recomputed")
        ).scalar_one()
        still_provisional = connection.execute(
            select(func.count()).select_from(Report).where(Report.deadlines_provisional)
        ).scalar_one()
    assert result.reports_moved >= expected_moves, (result.reports_moved, expected_moves)
    assert events == result.reports_moved, (events, result.reports_moved)
    assert still_provisional == 0, f"{still_provisional} reports kept the old calendar's dates"
    engine.dispose()
    figures = {
        "backend": backend,
        "reports": count,
        "moved": result.reports_moved,
        "load_s": load_seconds,
        "floor_rows": floor_rows,
        "floor_s": floor_seconds,
        "rss_growth_mb": rss_growth,
        "baseline": percentiles(baseline_latencies),
        "during": percentiles(during_latencies),
        "during_count": len(during_codes),
    }
    print(
        f"{backend}: 2027 loaded in {load_seconds:.1f} s, {result.reports_moved:,} of {count:,} "
        f"open reports moved ({result.reports_moved / load_seconds:,.0f}/s; floor: one UPDATE "
        f"of the same {floor_rows:,} rows {floor_seconds:.1f} s, ratio "
        f"{load_seconds / floor_seconds:.1f}x); peak memory grew {rss_growth:.0f} MB",
        flush=True,
    )
    print(
        f"{backend}: submissions before the load p50 {figures['baseline'][0]:.1f} ms p99 "
        f"{figures['baseline'][1]:.1f} ms; during it ({len(during_codes):,}, every one with "
        f"2027's dates) p50 {figures['during'][0]:.1f} ms p99 {figures['during'][1]:.1f} ms "
        f"(ratio {figures['during'][1] / figures['baseline'][1]:.1f}x)",
        flush=True,
    )
    return figures


def main() -> None:
    install_hooks()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    arguments = parser.parse_args()
    if arguments.backend == "postgresql":
        try:
            url = scratch_url(os.environ.get("ZHAOCUO_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
        except RefusedDatabase as error:
            raise SystemExit(str(error)) from None
        unreachable = why_unreachable(url)
        if unreachable:
            raise SystemExit(f"postgresql at {url.host} is not reachable ({unreachable})")
        recreate_database(url)
        database_url = url.render_as_string(hide_password=False)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        database_url = f"sqlite:///{SQLITE_PATH}"
    row = measure(database_url, arguments.reports)
    print()
    print(
        "| backend | open reports | moved | load | moved/s | floor (one UPDATE) "
        "| peak memory growth | submissions p99 before / during |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {row['backend']} | {row['reports']:,} | {row['moved']:,} | {row['load_s']:.1f} s "
        f"| {row['moved'] / row['load_s']:,.0f} | {row['floor_s']:.1f} s "
        f"| {row['rss_growth_mb']:.0f} MB | {row['baseline'][1]:.0f} ms / "
        f"{row['during'][1]:.0f} ms |"
    )


if __name__ == "__main__":
    main()
