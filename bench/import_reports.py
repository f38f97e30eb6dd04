"""`zhaocuo import reports` on the real export and on a synthetic one, against the replay.

Imports the 10,169 real reports (../shared/data/gov-website-error-reports.csv) into a scratch
database, then the same file again (it must add nothing), then a synthetic export of N rows
made from the real ones with fresh ids. The baseline, in the same run and on its own scratch
database, is what a province had to do before: replay reports one by one through the
services (submit, transfer, resolve), as tests/stats/test_replay.py does, timed on the first
1,000 real rows and given per report.

    .venv/bin/python bench/import_reports.py [--synthetic 1000000] [--backend postgresql|sqlite]

PostgreSQL: ZHAOCUO_BENCH_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/zc_perf_bench_import), and the same name with
"_replay" appended for the baseline; both dropped and created again (loopback, "bench").
"""

import argparse
import csv
import os
import sys
import time
from pathlib import Path

from scratch import RefusedDatabase, recreate_database, scratch_url, why_unreachable
from sqlalchemy import func, select
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import Settings  # the repository, on sys.path above
from app.db import create_db_engine
from app.migrate import upgrade_to_head
from app.reports.importer import import_reports
from app.reports.models import Report
from app.workdays.sources import get_calendar
from tests.conftest import DATA_CSV
from tests.stats.test_replay import read_rows, replay

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/zc_perf_bench_import"
SYNTHETIC_CSV = Path("/tmp/zc_perf_bench_import.csv")
REPLAYED_ROWS = 1000


def write_synthetic(count: int) -> None:
    """The real rows over and over, each copy with ids of its own."""
    rows = read_rows()
    with SYNTHETIC_CSV.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        for number in range(count):
            row = rows[number % len(rows)]
            writer.writerow(row | {"id": str(100_000_000 + number)})


def timed_import(url: str, path: Path, settings: Settings):
    engine = create_db_engine(url)
    started = time.perf_counter()
    with Session(engine) as session:
        result = import_reports(
            session=session, path=path, calendar=get_calendar(session), settings=settings
        )
        session.commit()
    seconds = time.perf_counter() - started
    with Session(engine) as session:
        stored = session.exec(select(func.count()).select_from(Report)).one()[0]
    engine.dispose()
    return result, seconds, stored


def fresh(url: str) -> str:
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        recreate_database(scratch_url(url))
    upgrade_to_head(url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synthetic", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    arguments = parser.parse_args()
    if not DATA_CSV.exists():
        raise SystemExit(f"the real export is not at {DATA_CSV}")
    if arguments.backend == "postgresql":
        try:
            url = scratch_url(os.environ.get("ZHAOCUO_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
        except RefusedDatabase as error:
            raise SystemExit(str(error)) from None
        if why_unreachable(url):
            raise SystemExit(f"postgresql at {url.host} is not reachable")
        main_url = url.render_as_string(hide_password=False)
        replay_url = url.set(database=f"{url.database}_replay").render_as_string(False)
    else:
        main_url = "sqlite:////tmp/zc_perf_bench_import.db"
        replay_url = "sqlite:////tmp/zc_perf_bench_import_replay.db"
    settings = Settings(database_url=main_url, scheduler="off", public_rate_limit="")

    fresh(main_url)
    real, real_s, stored = timed_import(main_url, DATA_CSV, settings)
    assert real.reports_created == stored == 10_169, (real, stored)
    again, again_s, stored = timed_import(main_url, DATA_CSV, settings)
    assert again.reports_created == 0 and stored == 10_169, (again, stored)
    print(f"real export: {real.reports_created:,} reports in {real_s:.1f} s; again: 0 in "
          f"{again_s:.1f} s", flush=True)  # fmt: skip

    write_synthetic(arguments.synthetic)
    synthetic, synthetic_s, stored = timed_import(main_url, SYNTHETIC_CSV, settings)
    assert synthetic.reports_created == arguments.synthetic, synthetic
    print(f"synthetic export: {synthetic.reports_created:,} reports in {synthetic_s:.1f} s "
          f"({synthetic.reports_created / synthetic_s:,.0f}/s)", flush=True)  # fmt: skip

    fresh(replay_url)
    replay_engine = create_db_engine(replay_url)
    replay_settings = Settings(database_url=replay_url, scheduler="off", public_rate_limit="")
    rows = read_rows()[:REPLAYED_ROWS]
    started = time.perf_counter()
    replay(replay_engine, replay_settings, rows)
    replay_s = time.perf_counter() - started
    replay_engine.dispose()
    per_replayed = replay_s / REPLAYED_ROWS
    per_imported = synthetic_s / synthetic.reports_created
    print()
    print("| | reports | time | per report | ratio to the replay |")
    print("|---|---:|---:|---:|---:|")
    print(f"| replay through the services (baseline, incl. the sites import) | {REPLAYED_ROWS:,} "
          f"| {replay_s:.1f} s | {per_replayed * 1000:.2f} ms | 1 |")  # fmt: skip
    print(f"| import, real export | {real.reports_created:,} | {real_s:.1f} s "
          f"| {real_s / real.reports_created * 1000:.2f} ms "
          f"| {per_replayed / (real_s / real.reports_created):.0f}x faster |")  # fmt: skip
    print(f"| import, same file again | 0 | {again_s:.1f} s | – | – |")
    print(f"| import, synthetic | {synthetic.reports_created:,} | {synthetic_s:.1f} s "
          f"| {per_imported * 1000:.3f} ms "
          f"| {per_replayed / per_imported:.0f}x faster |")  # fmt: skip


if __name__ == "__main__":
    main()
