"""The floor for bench/submit.py: the same route and validation as zhaocuo, nothing stored.

It parses the body with app.reports.schemas.ReportCreate, exactly as the real endpoint does,
and answers 201 with a receipt of the same shape, so that the ratio zhaocuo/minimal measures
what routing, deadlines, the database and the transaction cost on top of FastAPI itself.

    python bench/minimal_app.py --port 8001 [--workers 2]
"""

import argparse
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))

from app.reports.models import ReportStatus  # noqa: E402  (needs the repository on sys.path)
from app.reports.schemas import ReportCreate, ReportReceipt  # noqa: E402

app = FastAPI(title="minimal submission endpoint (benchmark floor)")


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.post("/api/v1/reports", status_code=201, response_model=ReportReceipt)
def submit_report(report_in: ReportCreate) -> ReportReceipt:
    """Validate like zhaocuo and answer with a receipt; nothing is routed or stored."""
    return ReportReceipt(
        tracking_code=secrets.token_hex(8).upper(),
        status=ReportStatus.unrouted,
        owner_unit_name=None,
        received_at=datetime.now(UTC),
        first_reply_due_at=None,
        resolution_due_at=None,
        deadlines_provisional=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # The same uvicorn options as `zhaocuo serve`, access log included, so only the app differs.
    uvicorn.run(
        "minimal_app:app",
        app_dir=str(BENCH_DIR),
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        log_level="info",
    )


if __name__ == "__main__":
    main()
