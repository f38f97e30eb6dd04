"""/metrics after real requests, sweeps and deliveries: the exact series operators alert on."""

from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from app.directory.models import Unit
from app.sla.escalation import sweep
from app.sla.notify import deliver_due
from tests.conftest import Directory, local, scheduler_ran

REPORT = {
    "site_code": "9901000002",
    "page_url": "http://jyj.jia.example.gov.cn/xxgk/2026/11/t20261120_1.html",
    "category": 4,
    "description": "第二段“教育局”误写为“教肓局”。",
    "phone": "13912345678",
}


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics by (name, sorted labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def changes(before: dict, after: dict, prefix: str) -> dict:
    """Samples under a name prefix that moved between two scrapes, by how much."""
    return {
        key: value - before.get(key, 0.0)
        for key, value in after.items()
        if key[0].startswith(prefix) and value != before.get(key, 0.0)
    }


def give_webhook(engine, unit_id: int) -> None:
    with Session(engine) as session:
        unit = session.get(Unit, unit_id)
        unit.webhook_url, unit.webhook_secret = "https://hooks.example.gov.cn/zc", "s" * 32
        session.add(unit)
        session.commit()


def test_requests_are_counted_by_route_template_method_and_status(client, directory: Directory):
    before = scrape(client)

    code = client.post("/api/v1/reports", json=REPORT).json()["tracking_code"]
    assert client.get(f"/api/v1/reports/{code}").status_code == 200
    assert client.get("/api/v1/reports/ABCDEFGHJKMNPQRS").status_code == 404
    assert client.get("/no/such/page").status_code == 404

    after = scrape(client)
    assert changes(before, after, "zhaocuo_http_requests_total") == {
        (
            "zhaocuo_http_requests_total",
            (("method", "POST"), ("route", "/api/v1/reports"), ("status", "201")),
        ): 1.0,
        (
            "zhaocuo_http_requests_total",
            (("method", "GET"), ("route", "/api/v1/reports/{tracking_code}"), ("status", "200")),
        ): 1.0,
        (
            "zhaocuo_http_requests_total",
            (("method", "GET"), ("route", "/api/v1/reports/{tracking_code}"), ("status", "404")),
        ): 1.0,
        (
            "zhaocuo_http_requests_total",
            (("method", "GET"), ("route", "unmatched"), ("status", "404")),
        ): 1.0,
        # The first scrape itself, answered before the second one read the counters.
        (
            "zhaocuo_http_requests_total",
            (("method", "GET"), ("route", "/metrics"), ("status", "200")),
        ): 1.0,
    }
    latency = ("route", "/api/v1/reports/{tracking_code}"), ("method", "GET")
    count_key = ("zhaocuo_http_request_duration_seconds_count", tuple(sorted(latency)))
    assert after[count_key] - before.get(count_key, 0.0) == 2.0
    assert changes(before, after, "zhaocuo_reports_submitted_total") == {
        ("zhaocuo_reports_submitted_total", (("routed", "true"),)): 1.0
    }
    # No tracking code ever becomes a label.
    assert code not in client.get("/metrics").text


def test_unrouted_submissions_are_counted_apart(client, directory: Directory):
    before = scrape(client)

    response = client.post(
        "/api/v1/reports",
        json={
            **REPORT,
            "site_code": "9901999999",
            "page_url": "http://www.unknown.example.gov.cn/",
        },
    )
    assert response.status_code == 201

    assert changes(before, scrape(client), "zhaocuo_reports_submitted_total") == {
        ("zhaocuo_reports_submitted_total", (("routed", "false"),)): 1.0
    }


def test_database_gauges_outbox_rungs_heartbeat_and_calendar(
    client, directory: Directory, engine, settings, clock
):
    give_webhook(engine, directory.dept_a1)
    client.post("/api/v1/reports", json=REPORT)  # Monday 23 November 10:00
    first = scrape(client)
    assert first[("zhaocuo_database_scrape_ok", ())] == 1.0
    assert first[("zhaocuo_outbox_pending", (("channel", "webhook"),))] == 1.0
    assert first[("zhaocuo_outbox_oldest_pending_age_seconds", (("channel", "webhook"),))] == 0.0
    assert first[("zhaocuo_outbox_failed", (("channel", "webhook"),))] == 0.0
    assert first[("zhaocuo_calendar_coverage_days_left", ())] == 38.0
    for rung in ("reminder", "urge", "supervise"):
        assert first[("zhaocuo_rungs_fired_total", (("rung", rung),))] == 0.0
    # Never run: no heartbeat and no nightly success to show, no failure either.
    assert not [key for key in first if key[0].startswith("zhaocuo_scheduler_last_heartbeat")]
    assert not [key for key in first if key[0].startswith("zhaocuo_nightly_report_last")]
    assert first[("zhaocuo_nightly_report_failures_total", ())] == 0.0

    # Wednesday 25 November 10:00: the reminder (due at the end of Tuesday) fires; the
    # new-report push is 2 days and 90 seconds old when the scheduler looks.
    wednesday = local(2026, 11, 25, 10, 0)
    clock.set(wednesday + timedelta(seconds=90))
    assert sweep(engine=engine, now=wednesday, settings=settings).fired == 1
    scheduler_ran(engine, wednesday)
    second = scrape(client)
    assert second[("zhaocuo_rungs_fired_total", (("rung", "reminder"),))] == 1.0
    assert second[("zhaocuo_outbox_pending", (("channel", "webhook"),))] == 2.0
    assert second[("zhaocuo_outbox_oldest_pending_age_seconds", (("channel", "webhook"),))] == (
        2 * 86400 + 90.0
    )
    assert second[("zhaocuo_scheduler_last_heartbeat_timestamp_seconds", ())] == (
        wednesday.timestamp()
    )
    assert second[("zhaocuo_calendar_coverage_days_left", ())] == 36.0

    webhook = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(204)))
    result = deliver_due(engine=engine, now=wednesday, settings=settings, client=webhook)
    assert result.delivered == 2
    third = scrape(client)
    assert third[("zhaocuo_outbox_pending", (("channel", "webhook"),))] == 0.0
    assert third[("zhaocuo_outbox_oldest_pending_age_seconds", (("channel", "webhook"),))] == 0.0
    assert changes(second, third, "zhaocuo_webhook_duration_seconds_count") == {
        ("zhaocuo_webhook_duration_seconds_count", (("outcome", "ok"),)): 2.0
    }


def test_metrics_answer_when_the_database_does_not(tmp_path, clock):
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.db import create_db_engine
    from app.main import create_app

    url = f"sqlite:///{tmp_path}"  # a folder: SQLite cannot open it
    engine = create_db_engine(url)
    app = create_app(settings=Settings(database_url=url, public_rate_limit=""), engine=engine)
    response = TestClient(app).get("/metrics")

    assert response.status_code == 200
    assert "zhaocuo_database_scrape_ok 0.0" in response.text
    assert "zhaocuo_http_requests_total" in response.text
    engine.dispose()
