"""What the escalation, outbox and scheduler tests share: the calendar, a report at an instant,
its rungs, and a real webhook receiver on loopback."""

import hashlib
import hmac
import json
import threading
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.directory.models import Unit
from app.sla.models import EscalationRung, Notification
from app.workdays.sources import build_calendar, packaged_calendar_days
from tests.conftest import fetch, report_id, submit_report

CALENDAR = build_calendar(package=packaged_calendar_days(), loaded_days=[], loaded_years=set())


def submit_at(client, at: datetime) -> int:
    """A citizen reports an error on site A1 at a given instant; the report's id."""
    return report_id(client.app.state.engine, submit_report(client, at=at)["tracking_code"])


def rungs_of(engine: Engine, report_id: int) -> list[tuple[int, str, datetime, list[int]]]:
    rows = fetch(
        engine,
        select(EscalationRung)
        .where(EscalationRung.report_id == report_id)
        .order_by(col(EscalationRung.id)),
    )
    return [(r.clock, r.rung.value, r.due_at, r.target_unit_ids) for r in rows]


SECRET = "0123456789abcdef-test-secret"


def verify_signature(secret: str, headers, body: bytes) -> bool:
    """What a receiver does (docs/webhooks.md): HMAC-SHA256 over "<timestamp>.<body>"."""
    message = headers["X-Zhaocuo-Timestamp"].encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("X-Zhaocuo-Signature", ""))


class Receiver:
    """A webhook endpoint on 127.0.0.1 that checks signatures and can be told to fail."""

    def __init__(self, secret: str = SECRET, port: int = 0) -> None:
        self.secret = secret
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.accepted: Counter[str] = Counter()
        self.failures_left = 0
        self.always_fail = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    valid = verify_signature(receiver.secret, self.headers, body)
                    status = 401
                    if valid:
                        failing = receiver.always_fail or receiver.failures_left > 0
                        receiver.failures_left = max(receiver.failures_left - 1, 0)
                        status = 500 if failing else 204
                    key = self.headers["Idempotency-Key"]
                    receiver.requests.append(
                        {
                            "key": key,
                            "headers": dict(self.headers),
                            "body": body,
                            "valid": valid,
                            "status": status,
                            "document": json.loads(body),
                        }
                    )
                    if status == 204:
                        receiver.accepted[key] += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/zhaocuo"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def set_webhook(engine: Engine, unit_id: int, url: str | None, secret: str | None = SECRET) -> None:
    with Session(engine) as session:
        unit = session.get(Unit, unit_id)
        unit.webhook_url, unit.webhook_secret = url, secret
        session.add(unit)
        session.commit()


def notifications(engine: Engine, **where) -> list[Notification]:
    query = select(Notification).order_by(col(Notification.id))
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return fetch(engine, query)
