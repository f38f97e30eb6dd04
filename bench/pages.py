"""The citizens' pages: time to first byte and weight of each, against a static file.

Serves the app with uvicorn on a loopback port over a fresh SQLite file with the demo directory
and one answered report, then fetches each page `--repeat` times over HTTP (a fresh connection
each time) and prints the median time to the first byte of the body, beside the same for
`/static/site.css` (the baseline: no template, no database), measured in the same run; and
each page's weight with its CSS and JavaScript (the 60 KB budget).

    .venv/bin/python bench/pages.py [--repeat 30]
"""

import argparse
import http.client
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlmodel import Session

from app.auth import Role
from app.clock import Clock
from app.config import Settings
from app.db import create_db_engine
from app.directory.demo import load_demo
from app.main import create_app
from app.migrate import upgrade_to_head
from tests.live_server import serving

BUDGET = 60 * 1024
REPORT = {
    "site_code": "9901000002",
    "page_url": "http://jyj.dongchuan.example.gov.cn/xxgk/tzgg/index.html",
    "category": 4,
    "description": "通知公告栏目第一条把“教育局”写成了“敎育局”，请更正。联系电话13812345678。",
}


def seed(engine, base: str) -> str:
    """The demo directory, and one report submitted and resolved over the API as in life."""
    with Session(engine) as session:
        handler_token = next(
            plain for role, _, plain in load_demo(session=session).tokens if role == Role.handler
        )
        session.commit()
    auth = {"Authorization": f"Bearer {handler_token}"}
    receipt = httpx.post(f"{base}/api/v1/reports", json=REPORT).json()
    [item] = httpx.get(f"{base}/api/v1/unit/reports", headers=auth).json()["items"]
    resolved = httpx.post(
        f"{base}/api/v1/unit/reports/{item['id']}/resolve",
        json={"verdict": "confirmed", "text": "已更正，感谢您的留言。"},
        headers=auth,
    )
    resolved.raise_for_status()
    return receipt["tracking_code"]


def first_byte(base: str, path: str) -> tuple[float, bytes]:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    first = response.read(1)
    elapsed = time.perf_counter() - started
    body = first + response.read()
    connection.close()
    return elapsed, body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    settings = Settings(
        database_url=f"sqlite:///{folder}/bench.db",
        public_rate_limit="",
        public_read_rate_limit="",
    )
    upgrade_to_head(settings.database_url)
    engine = create_db_engine(settings.database_url)
    app = create_app(settings=settings, engine=engine, clock=Clock())
    pages = {
        "static CSS (baseline)": "/static/site.css",
        "home /": "/",
        "search /?q=教育": "/?q=%E6%95%99%E8%82%B2",
        "form /jiucuo (badge link)": "/jiucuo?site_code=9901000002&url=" + REPORT["page_url"],
        "answered /answered": "/answered",
    }
    with serving(app) as base:
        pages["tracking /track/{code}"] = f"/track/{seed(engine, base)}"
        times = {}
        bodies = {}
        for name, path in pages.items():
            samples = []
            for _ in range(args.repeat):
                elapsed, body = first_byte(base, path)
                samples.append(elapsed)
            times[name] = statistics.median(samples)
            bodies[name] = body
        baseline = times["static CSS (baseline)"]
        print(
            f"| page | TTFB median ms | × static | page + CSS + JS | budget {BUDGET // 1024} KB |"
        )
        print("|---|---:|---:|---:|---|")
        for name in pages:
            assets = re.findall(rb'(?:href|src)="(/static/[^"]+)"', bodies[name])
            weight = len(bodies[name]) + sum(len(first_byte(base, a.decode())[1]) for a in assets)
            ok = "ok" if weight < BUDGET else "OVER"
            print(
                f"| {name} | {times[name] * 1000:.1f} | {times[name] / baseline:.1f}× "
                f"| {weight / 1024:.1f} KiB | {ok} |"
            )


if __name__ == "__main__":
    main()
