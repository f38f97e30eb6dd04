"""Public submissions per second, and p50/p99 latency, under wrk: zhaocuo against a minimal app.

Runs `zhaocuo serve` on a scratch SQLite file and on a scratch PostgreSQL database (1 worker,
then 2 workers, the machine's core count) and, for each worker count, a minimal FastAPI app that
validates the same JSON and stores nothing (bench/minimal_app.py). Beside zhaocuo on each
backend (1 worker) runs the practical limit (bench/limit_app.py): the same route, model, reads
and rows in one transaction, written with plain SQL (sqlite3; async psycopg); the last lines give
zhaocuo's req/s and p99 against it. With `--rounds N` the two run in turn N times on each
backend, each on a fresh database, and the median of the N ratios is printed: on a shared
machine the speed drifts over minutes, and two runs side by side share the drift. Each target
is first loaded for a few seconds untimed, and a PostgreSQL database is then analyzed, as
autovacuum keeps a live one (see preload). Every run is checked: wrk's count of non-2xx
responses must be zero, and the reports stored must match the 201s wrk saw. Only loopback is
ever targeted.

    .venv/bin/python bench/submit.py [--duration 10] [--connections 32] [--threads 2] [--workers 1]
                                     [--rounds 1] [--limit-only]

PostgreSQL comes from ZHAOCUO_BENCH_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/zc_bench_submit); that database is dropped and
created again at every invocation, so its name must contain "bench". Without a reachable server
the PostgreSQL runs are skipped with a message.

SQLite runs twice, with `synchronous=FULL` (the default: every commit reaches the disk before
the 201) and with `NORMAL` (ZHAOCUO_SQLITE_SYNCHRONOUS=NORMAL), each on its own fresh file, and
a last line gives what FULL costs against NORMAL.

Besides req/s and latency, each row shows the CPU time the server's processes spent per request
(from /proc): on a machine shared with other work it varies less than the throughput does.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from scratch import RefusedDatabase, libpq_conninfo, recreate_database, scratch_url, why_unreachable
from sqlalchemy.engine import URL, make_url

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from app.directory.demo import SITES  # noqa: E402  (needs the repository on sys.path)

LUA_SCRIPT = BENCH_DIR / "submit.lua"
MINIMAL_APP = BENCH_DIR / "minimal_app.py"
LIMIT_APP = BENCH_DIR / "limit_app.py"
SUBMIT_PATH = "/api/v1/reports"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/zc_bench_submit"
SQLITE_MODES = ("FULL", "NORMAL")  # the default first
SERVER_START_SECONDS = 30
# A server that cannot take one more report this long after the load stopped has stalled.
STALL_SECONDS = 10
QUIET_POLL_SECONDS = 0.3
# wrk's load before timing: the reports a live database would already hold (see preload).
PRELOAD_SECONDS = 3


class BenchError(Exception):
    """The benchmark cannot give a trustworthy figure."""


@dataclass
class WrkResult:
    requests: int
    duration_s: float
    non_2xx_3xx: int
    socket_errors: int
    timeouts: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[int, int] = field(default_factory=dict)
    tracking_codes: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def created(self) -> int:
        return self.statuses.get(201, 0)


@dataclass
class Server:
    base_url: str
    pid: int


@dataclass
class Row:
    label: str
    workers: int
    result: WrkResult | None = None
    server_cpu_s: float | None = None
    check: str = ""
    failed: bool = False
    baseline: "Row | None" = None
    env: dict[str, str] = field(default_factory=dict)
    # The practical limit measured beside this row, on the same backend.
    limit: "Row | None" = None

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.result is None or self.server_cpu_s is None or not self.result.requests:
            return None
        return self.server_cpu_s * 1000 / self.result.requests


def parse_wrk_output(output: str) -> WrkResult:
    """Read the `zc_bench <key> <value>` lines that submit.lua's done() prints."""
    values: dict[str, int] = {}
    tracking_codes: list[str] = []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "zc_bench":
            values[parts[1]] = int(parts[2])
        elif len(parts) == 2 and parts[0] == "zc_bench_created":
            tracking_codes.append(parts[1])
    missing = {"requests", "duration_us", "non_2xx_3xx", "p50_us", "p99_us"} - values.keys()
    if missing:
        raise BenchError(f"wrk printed no {', '.join(sorted(missing))}; its output:\n{output}")
    statuses = {
        int(key.removeprefix("status_")): count
        for key, count in values.items()
        if key.startswith("status_")
    }
    result = WrkResult(
        requests=values["requests"],
        duration_s=values["duration_us"] / 1e6,
        non_2xx_3xx=values["non_2xx_3xx"],
        socket_errors=values.get("socket_errors", 0),
        timeouts=values.get("timeouts", 0),
        p50_ms=values["p50_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        max_ms=values.get("max_us", 0) / 1000,
        statuses=statuses,
        tracking_codes=tracking_codes,
    )
    if sum(statuses.values()) != result.requests:
        raise BenchError(
            f"wrk completed {result.requests} requests but the script saw "
            f"{sum(statuses.values())} responses ({statuses})"
        )
    if len(tracking_codes) != result.created:
        raise BenchError(f"{result.created} 201s but {len(tracking_codes)} tracking codes read")
    return result


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def zhaocuo_command() -> list[str]:
    beside_python = Path(sys.executable).parent / "zhaocuo"
    found = str(beside_python) if beside_python.exists() else shutil.which("zhaocuo")
    if found is None:
        raise BenchError("the zhaocuo command is not installed (pip install -e . in the venv)")
    return [found]


def server_env(database_url: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ZHAOCUO_PUBLIC_RATE_LIMIT="",
        ZHAOCUO_PUBLIC_READ_RATE_LIMIT="",
        ZHAOCUO_SCHEDULER="off",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    if database_url is not None:
        env["ZHAOCUO_DATABASE_URL"] = database_url
    return env


def run_cli(args: list[str], *, database_url: str, workdir: Path) -> None:
    completed = subprocess.run(
        [*zhaocuo_command(), *args],
        env=server_env(database_url),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if completed.returncode != 0:
        raise BenchError(f"zhaocuo {' '.join(args)} failed:\n{completed.stderr[-2000:]}")


def http(
    method: str, url: str, body: dict | None = None, *, timeout: float = 5
) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw or b"{}")
    except json.JSONDecodeError:
        return status, {"body": raw.decode(errors="replace")}


@contextmanager
def running_server(command: list[str], *, env: dict[str, str], workdir: Path) -> Iterator[Server]:
    """Start an HTTP server on a free loopback port and yield it once /healthz answers."""
    port = free_port()
    log_path = workdir / f"server-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                raise BenchError(f"the server exited at start:\n{log_path.read_text()[-2000:]}")
            try:
                if http("GET", f"{base_url}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(
                    f"no /healthz after {SERVER_START_SECONDS} s:\n{log_path.read_text()[-2000:]}"
                )
            time.sleep(0.2)
        yield Server(base_url=base_url, pid=process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def sites_argument() -> str:
    return ",".join(f"{code}={host}" for code, _name, host, _owner in SITES)


def process_tree_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process and its live descendants (uvicorn's workers)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat_path in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = stat_path.read_text()
        except OSError:
            continue  # the process ended while we looked
        # The command name may hold spaces; the fields after its closing parenthesis do not.
        fields = stat[stat.rindex(")") + 2 :].split()
        process_id = int(stat_path.parent.name)
        parents[process_id] = int(fields[1])
        times[process_id] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(process_id, 0.0) for process_id in tree)


def measure(row: Row, server: Server, *, options: argparse.Namespace) -> None:
    """Run wrk against a server, recording the figures and the CPU time the server spent."""
    cpu_before = process_tree_cpu_seconds(server.pid)
    row.result = run_wrk(
        server.base_url,
        duration=options.duration,
        connections=options.connections,
        threads=options.threads,
        script_arg=sites_argument(),
    )
    row.server_cpu_s = process_tree_cpu_seconds(server.pid) - cpu_before


def run_wrk(
    base_url: str, *, duration: int, connections: int, threads: int, script_arg: str
) -> WrkResult:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        f"{base_url}{SUBMIT_PATH}",
        "--",
        script_arg,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if completed.returncode != 0:
        raise BenchError(f"wrk failed:\n{completed.stdout}\n{completed.stderr}")
    return parse_wrk_output(completed.stdout)


def sample_report() -> dict:
    code, _name, host, _owner = SITES[6]
    return {
        "site_code": code,
        "page_url": f"https://{host}/col/col1234/index.html",
        "category": 0,
        "description": "预热请求：页面“办事指南”链接无法打开，提示404错误。",
    }


def warm_up(base_url: str, *, expect_owner: bool) -> str:
    """One submission before timing (the first builds the calendar); returns its tracking code."""
    status, body = http("POST", f"{base_url}{SUBMIT_PATH}", sample_report())
    if status != 201:
        raise BenchError(f"a valid report got {status}: {body}")
    if expect_owner and not body.get("owner_unit_name"):
        raise BenchError(f"the warm-up report was not routed to the site's owner: {body}")
    return body["tracking_code"]


def preload(server: Server, *, database_url: str, options: argparse.Namespace) -> None:
    """Some reports stored before timing, then, on PostgreSQL, the planner's statistics.

    A live database holds reports and autovacuum keeps its statistics. A scratch one has
    none: PostgreSQL then plans the possible-duplicates query at 0.5 ms where 0.1 ms suffices,
    and whichever target ran on a database that had been analyzed meanwhile looked faster.
    """
    result = run_wrk(
        server.base_url,
        duration=PRELOAD_SECONDS,
        connections=options.connections,
        threads=options.threads,
        script_arg=sites_argument(),
    )
    if result.non_2xx_3xx or not result.requests:
        raise BenchError(f"the preload got {result.non_2xx_3xx} non-2xx of {result.requests}")
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        with psycopg.connect(libpq_conninfo(url), autocommit=True) as connection:
            connection.execute("ANALYZE")


def probe_after_load(server: Server) -> tuple[str | None, str | None]:
    """One more submission once wrk has stopped: its tracking code, or why it failed."""
    try:
        status, body = http(
            "POST", f"{server.base_url}{SUBMIT_PATH}", sample_report(), timeout=STALL_SECONDS
        )
    except OSError as error:
        return None, f"no answer to one submission after the load ({error!r}): stalled or down"
    if status != 201:
        return None, f"a submission after the load got {status}: {body}"
    return body.get("tracking_code"), None


def stored_tracking_codes(database_url: str) -> set[str]:
    query = "SELECT tracking_code FROM report"
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as connection:
            return {code for (code,) in connection.execute(query)}
    with psycopg.connect(libpq_conninfo(url)) as connection:
        return {code for (code,) in connection.execute(query)}


def stored_when_quiet(database_url: str) -> set[str]:
    """The stored reports once the requests still in the server when wrk stopped have committed."""
    previous = stored_tracking_codes(database_url)
    for _ in range(30):
        time.sleep(QUIET_POLL_SECONDS)
        current = stored_tracking_codes(database_url)
        if current == previous:
            return current
        previous = current
    return previous


def check_failures_are_counted(server: Server) -> None:
    """Send only invalid reports for a second: wrk and the script must count every one as 422."""
    result = run_wrk(server.base_url, duration=1, connections=8, threads=1, script_arg="invalid")
    if result.requests == 0 or result.non_2xx_3xx != result.requests:
        raise BenchError(
            f"wrk counted {result.non_2xx_3xx} non-2xx of {result.requests} invalid reports: "
            "failures would go unnoticed"
        )
    if result.statuses != {422: result.requests}:
        raise BenchError(f"invalid reports got {result.statuses}, expected only 422")
    print(
        f"check: {result.requests} invalid reports, all counted as non-2xx (422)",
        file=sys.stderr,
    )


def judge(row: Row, *, stored: set[str] | None, connections: int, after_load: str | None) -> None:
    """Fail a row on error responses, socket errors, a stall, or a 201 with nothing stored."""
    result = row.result
    assert result is not None
    problems = [after_load] if after_load else []
    if result.non_2xx_3xx:
        problems.append(f"{result.non_2xx_3xx} non-2xx responses {result.statuses}")
    if result.socket_errors or result.timeouts:
        problems.append(f"{result.socket_errors} socket errors, {result.timeouts} timeouts")
    if result.requests == 0:
        problems.append("no request completed")
    if stored is not None:
        created = set(result.tracking_codes)
        lost = created - stored
        if len(created) != len(result.tracking_codes):
            problems.append("the same tracking code was given twice")
        if lost:
            problems.append(f"{len(lost)} of {len(created)} 201s name a report that is not stored")
        # wrk stops with up to one request per connection unanswered; the server still
        # completes those, so they are stored without a 201 that wrk read.
        unanswered = len(stored - created)
        if unanswered > connections:
            problems.append(f"{unanswered} reports stored without a 201, more than the connections")
        row.check = (
            f"all {len(created)} tracking codes of the 201s are stored; "
            f"{unanswered} more were in flight when wrk stopped"
        )
    if problems:
        row.failed = True
        row.check = "FAILED: " + "; ".join(problems)


def prepare_database(database_url: str, *, workdir: Path) -> None:
    """The schema and the demo directory, through the operator's commands."""
    run_cli(["migrate"], database_url=database_url, workdir=workdir)
    run_cli(["demo"], database_url=database_url, workdir=workdir)


def fresh_postgres_database(postgres_url: URL, *, workdir: Path) -> str:
    """The scratch PostgreSQL database dropped, created and prepared again; its URL."""
    recreate_database(postgres_url)
    url = postgres_url.render_as_string(hide_password=False)
    prepare_database(url, workdir=workdir)
    return url


def bench_zhaocuo(
    row: Row, *, database_url: str, workdir: Path, options: argparse.Namespace
) -> None:
    """Serve a prepared database, warm up, run wrk, then check the reports it stored."""
    command = [*zhaocuo_command(), "serve", "--workers", str(row.workers)]
    bench_storing(row, command=command, database_url=database_url, workdir=workdir, options=options)


def bench_limit(row: Row, *, database_url: str, workdir: Path, options: argparse.Namespace) -> None:
    """The practical limit on a prepared database, checked as zhaocuo is."""
    command = [
        sys.executable,
        str(LIMIT_APP),
        "--database-url",
        database_url,
        "--workers",
        str(row.workers),
    ]
    bench_storing(row, command=command, database_url=database_url, workdir=workdir, options=options)


def bench_storing(
    row: Row, *, command: list[str], database_url: str, workdir: Path, options: argparse.Namespace
) -> None:
    """Serve a prepared database, warm up, run wrk, then check the reports it stored."""
    env = server_env(database_url, row.env)
    with running_server(command, env=env, workdir=workdir) as server:
        warm_up_code = warm_up(server.base_url, expect_owner=True)
        preload(server, database_url=database_url, options=options)
        stored_before = stored_when_quiet(database_url)
        measure(row, server, options=options)
        probe_code, after_load = probe_after_load(server)
        stored = stored_when_quiet(database_url) - stored_before - {warm_up_code, probe_code}
    judge(row, stored=stored, connections=options.connections, after_load=after_load)


def bench_minimal(
    row: Row, *, workdir: Path, options: argparse.Namespace, check_failures: bool
) -> None:
    """The floor: the same validation and receipt, nothing stored."""
    command = [sys.executable, str(MINIMAL_APP), "--workers", str(row.workers)]
    with running_server(command, env=server_env(None), workdir=workdir) as server:
        if check_failures:
            check_failures_are_counted(server)
        warm_up(server.base_url, expect_owner=False)
        measure(row, server, options=options)
        _, after_load = probe_after_load(server)
    judge(row, stored=None, connections=options.connections, after_load=after_load)


def ratio(value: float | None, baseline: float | None) -> str:
    return f"{value / baseline:.2f}" if value is not None and baseline else ""


def print_table(rows: list[Row], options: argparse.Namespace, load_at_start: float) -> None:
    print()
    print(
        f"wrk -t{options.threads} -c{options.connections} -d{options.duration}s, "
        f"POST {SUBMIT_PATH}; {os.cpu_count()} cores, load average {load_at_start:.1f} at start"
    )
    header = (
        f"{'target':<22} {'workers':>7} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'non-2xx':>7} {'201s':>6} {'CPU ms/req':>10} {'req/s ÷ min':>11} {'CPU × min':>9} "
        f"{'req/s ÷ limit':>13}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        result = row.result
        if result is None:
            print(f"{row.label:<22} {row.workers:>7} {row.check}")
            continue
        cpu = row.cpu_ms_per_request
        baseline = row.baseline
        baseline_rate = baseline.result.per_second if baseline and baseline.result else None
        baseline_cpu = baseline.cpu_ms_per_request if baseline else None
        limit_rate = row.limit.result.per_second if row.limit and row.limit.result else None
        cpu_text = f"{cpu:.2f}" if cpu is not None else "?"
        print(
            f"{row.label:<22} {row.workers:>7} {result.per_second:>7.0f} {result.p50_ms:>7.1f} "
            f"{result.p99_ms:>7.1f} {result.non_2xx_3xx:>7} {result.created:>6} {cpu_text:>10} "
            f"{ratio(result.per_second, baseline_rate):>11} {ratio(cpu, baseline_cpu):>9} "
            f"{ratio(result.per_second, limit_rate):>13}"
        )
    durability_cost(rows)
    against_limit(rows)
    print()
    for row in rows:
        if row.check:
            plural = "s" if row.workers > 1 else ""
            print(f"{row.label} ({row.workers} worker{plural}): {row.check}")


def against_limit(rows: list[Row]) -> None:
    """zhaocuo against the practical limit measured beside it, backend by backend, and the
    median over the rounds where there were several."""
    ratios: dict[str, list[float]] = {}
    for row in rows:
        limit = row.limit
        if row.result is None or limit is None or limit.result is None:
            continue
        print(
            f"{row.label} ÷ {limit.label} ({row.workers} worker): "
            f"req/s × {ratio(row.result.per_second, limit.result.per_second)}, "
            f"p99 {row.result.p99_ms:.0f} against {limit.result.p99_ms:.0f} ms "
            f"(× {ratio(row.result.p99_ms, limit.result.p99_ms)})"
        )
        if limit.result.per_second:
            ratios.setdefault(row.label, []).append(row.result.per_second / limit.result.per_second)
    for label, measured in ratios.items():
        if len(measured) > 1:
            listed = ", ".join(f"{value:.2f}" for value in measured)
            print(
                f"{label} ÷ limit over {len(measured)} rounds: median × "
                f"{statistics.median(measured):.2f} ({listed})"
            )


def durability_cost(rows: list[Row]) -> None:
    """What syncing every commit (FULL) costs against NORMAL, from the two SQLite rows."""
    by_label = {row.label: row.result for row in rows if row.result is not None}
    full, normal = (by_label.get(f"zhaocuo SQLite {mode}") for mode in SQLITE_MODES)
    if full is None or normal is None:
        return
    print(
        "SQLite synchronous=FULL against NORMAL: "
        f"req/s × {ratio(full.per_second, normal.per_second)}, "
        f"p50 × {ratio(full.p50_ms, normal.p50_ms)}, p99 × {ratio(full.p99_ms, normal.p99_ms)}"
    )


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn workers for the PostgreSQL run (a 2-worker run is always added)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="times zhaocuo and the limit run in turn on each backend, each on a fresh database; "
        "the median of their ratios is printed",
    )
    parser.add_argument(
        "--limit-only",
        action="store_true",
        help="only the 1-worker runs of zhaocuo and of the limit (SQLite FULL, PostgreSQL)",
    )
    options = parser.parse_args()
    if options.threads > options.connections:
        parser.error("--threads cannot exceed --connections")
    if options.rounds < 1:
        parser.error("--rounds must be at least 1")
    return options


def progress(row: Row) -> None:
    plural = "s" if row.workers > 1 else ""
    print(f"running {row.label} with {row.workers} worker{plural}…", file=sys.stderr, flush=True)


def run_all(rows: list[Row], *, workdir: Path, options: argparse.Namespace) -> None:
    """Every target in turn; rows are appended as they start, so an abort shows what ran."""
    try:
        postgres_url = scratch_url(
            os.environ.get("ZHAOCUO_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
        )
    except RefusedDatabase as error:
        raise BenchError(str(error)) from None
    baselines: dict[int, Row] = {}
    worker_counts = {1} if options.limit_only else {1, options.workers, 2}
    for workers in sorted(worker_counts):
        baselines[workers] = Row("minimal FastAPI", workers)
        rows.append(baselines[workers])
        progress(baselines[workers])
        bench_minimal(
            baselines[workers], workdir=workdir, options=options, check_failures=workers == 1
        )
    for synchronous in SQLITE_MODES[:1] if options.limit_only else SQLITE_MODES:
        env = {"ZHAOCUO_SQLITE_SYNCHRONOUS": synchronous}
        # Only the default mode is measured against the limit, in rounds.
        rounds = options.rounds if synchronous == SQLITE_MODES[0] else 1
        for round_number in range(1, rounds + 1):
            sqlite_row = Row(f"zhaocuo SQLite {synchronous}", 1, baseline=baselines[1], env=env)
            rows.append(sqlite_row)
            progress(sqlite_row)
            sqlite_url = f"sqlite:///{workdir / f'bench-{synchronous.lower()}-{round_number}.db'}"
            prepare_database(sqlite_url, workdir=workdir)
            bench_zhaocuo(sqlite_row, database_url=sqlite_url, workdir=workdir, options=options)
            if synchronous != SQLITE_MODES[0]:
                continue
            sqlite_row.limit = Row(f"limit SQLite {synchronous}", 1, baseline=baselines[1], env=env)
            rows.append(sqlite_row.limit)
            progress(sqlite_row.limit)
            limit_url = f"sqlite:///{workdir / f'bench-limit-{round_number}.db'}"
            prepare_database(limit_url, workdir=workdir)
            bench_limit(sqlite_row.limit, database_url=limit_url, workdir=workdir, options=options)
    unreachable = why_unreachable(postgres_url)
    postgres_workers = {1} if options.limit_only else {options.workers, 2}
    for workers in sorted(postgres_workers):
        for _round in range(options.rounds if workers == 1 else 1):
            row = Row("zhaocuo PostgreSQL", workers, baseline=baselines[workers])
            rows.append(row)
            if unreachable:
                row.check = (
                    f"skipped: PostgreSQL at {postgres_url.host} unreachable ({unreachable})"
                )
                break
            url = fresh_postgres_database(postgres_url, workdir=workdir)
            progress(row)
            bench_zhaocuo(row, database_url=url, workdir=workdir, options=options)
            if workers == 1:
                row.limit = Row("limit PostgreSQL", 1, baseline=baselines[1])
                rows.append(row.limit)
                url = fresh_postgres_database(postgres_url, workdir=workdir)
                progress(row.limit)
                bench_limit(row.limit, database_url=url, workdir=workdir, options=options)


def main() -> int:
    options = parse_options()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    load_at_start = os.getloadavg()[0]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="zc-bench-submit-") as scratch:
        try:
            run_all(rows, workdir=Path(scratch), options=options)
        except BenchError as error:
            print_table(rows, options, load_at_start)
            print(f"benchmark aborted: {error}", file=sys.stderr)
            return 1
    print_table(rows, options, load_at_start)
    return 1 if any(row.failed for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
