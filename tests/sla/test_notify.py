"""The outbox: signed pushes to a real loopback receiver, retries, working hours, pull and ack."""

from datetime import datetime

import pytest
from sqlmodel import Session, select

from app.reports import service
from app.reports.models import Report
from app.reports.schemas import ReportCreate
from app.sla.models import Notification, NotificationKind
from app.sla.notify import deliver_due, enqueue, next_working_instant, sign
from tests.conftest import fetch, local
from tests.sla.helpers import CALENDAR, SECRET, Receiver, notifications, set_webhook, submit_at


def deliver(engine, settings, at: datetime, **kwargs):
    return deliver_due(engine=engine, now=at, settings=settings, calendar=CALENDAR, **kwargs)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (local(2026, 11, 23, 10, 0), local(2026, 11, 23, 10, 0)),  # Monday, inside
        (local(2026, 11, 23, 8, 59), local(2026, 11, 23, 9, 0)),  # before opening
        (local(2026, 11, 23, 18, 0), local(2026, 11, 24, 9, 0)),  # 18:00 is closed
        (local(2026, 11, 27, 18, 30), local(2026, 11, 30, 9, 0)),  # Friday evening
        (local(2026, 11, 28, 12, 0), local(2026, 11, 30, 9, 0)),  # Saturday
        (local(2026, 9, 30, 23, 59, 59, 999000), local(2026, 10, 8, 9, 0)),  # National Day
        (local(2026, 9, 19, 12, 0), local(2026, 9, 20, 9, 0)),  # make-up Sunday 20 September
    ],
)
def test_the_next_working_hours_instant(settings, instant, expected):
    assert next_working_instant(instant=instant, calendar=CALENDAR, settings=settings) == expected


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    body = '{"kind":"urge","text":"催办"}'.encode()
    assert sign(secret=SECRET, timestamp=1795575600, body=body) == (
        "sha256=531bec76be664e829cde8d4ddbdf681d490dbb86aa9785d6606cb4a319de9e47"
    )


def test_a_new_report_is_pushed_signed_to_the_owner_units_webhook(
    client, directory, clock, engine, settings, receiver
):
    set_webhook(engine, directory.dept_a1, receiver.url)
    clock.set(local(2026, 11, 23, 10, 0))
    response = client.post(
        "/api/v1/reports",
        json={
            "site_code": directory.site_a1,
            "page_url": f"https://{directory.host_a1}/xxgk/index.html",
            "category": 0,
            "description": "信息公开栏目打不开",
            "name": "张三",
            "phone": "13812345678",
            "email": "zhang@example.com",
        },
    )
    assert response.status_code == 201
    [row] = notifications(engine)
    assert (row.kind, row.unit_id, row.not_before) == (
        NotificationKind.new_report,
        directory.dept_a1,
        local(2026, 11, 23, 10, 0),
    )

    result = deliver(engine, settings, local(2026, 11, 23, 10, 0, 20))
    assert (result.claimed, result.delivered) == (1, 1)
    [request] = receiver.requests
    assert request["valid"] and request["status"] == 204
    assert request["key"] == row.key == f"new_report:{row.report_id}:1:{directory.dept_a1}"
    assert request["headers"]["X-Zhaocuo-Event"] == "new_report"
    # Signed at sending time: the job's start plus the seconds it has been running.
    signed_at = int(request["headers"]["X-Zhaocuo-Timestamp"])
    assert 0 <= signed_at - local(2026, 11, 23, 10, 0, 20).timestamp() < 60
    document = request["document"]
    assert (document["id"], document["kind"], document["unit_id"]) == (
        row.id,
        "new_report",
        directory.dept_a1,
    )
    assert document["data"]["report"]["description"] == "信息公开栏目打不开"
    assert document["data"]["report"]["site_name"] == "甲市教育局网站"
    assert document["data"]["text"].startswith("【新留言】甲市教育局")
    # Contact details never leave in a notification.
    for private in ("张三", "13812345678", "zhang@example.com"):
        assert private not in request["body"].decode()
    [row] = notifications(engine)
    assert (row.attempts, row.delivered_at, row.next_attempt_at) == (
        1,
        local(2026, 11, 23, 10, 0, 20),
        None,
    )
    # Delivered once: the next run has nothing to send.
    assert deliver(engine, settings, local(2026, 11, 23, 10, 1)).claimed == 0
    assert len(receiver.requests) == 1


def test_a_failing_receiver_gets_each_notification_once_after_it_recovers(
    client, directory, clock, engine, settings, receiver
):
    set_webhook(engine, directory.dept_a1, receiver.url)
    first = submit_at(client, local(2026, 11, 23, 10, 0))
    second = submit_at(client, local(2026, 11, 23, 10, 0))
    receiver.failures_left = 3

    # 10:00: both fail; the first retry waits 30 s (webhook_backoff_base_seconds).
    result = deliver(engine, settings, local(2026, 11, 23, 10, 0))
    assert (result.claimed, result.retrying) == (2, 2)
    rows = notifications(engine)
    assert [(r.attempts, r.next_attempt_at, r.last_error) for r in rows] == [
        (1, local(2026, 11, 23, 10, 0, 30), "HTTP 500: "),
        (1, local(2026, 11, 23, 10, 0, 30), "HTTP 500: "),
    ]
    assert deliver(engine, settings, local(2026, 11, 23, 10, 0, 29)).claimed == 0
    # 10:00:30: one fails again and waits 60 s more; the other goes through. Which one is the
    # receiver's third failure depends on the order the two are sent in, which is not promised.
    result = deliver(engine, settings, local(2026, 11, 23, 10, 0, 30))
    assert (result.delivered, result.retrying) == (1, 1)
    rows = notifications(engine)
    assert sorted((r.delivered_at, r.next_attempt_at) for r in rows if r.delivered_at) == [
        (local(2026, 11, 23, 10, 0, 30), None)
    ]
    assert [r.next_attempt_at for r in rows if r.delivered_at is None] == [
        local(2026, 11, 23, 10, 1, 30)
    ]
    assert deliver(engine, settings, local(2026, 11, 23, 10, 1, 30)).delivered == 1

    assert all(request["valid"] for request in receiver.requests)
    keys = {
        f"new_report:{first}:1:{directory.dept_a1}",
        f"new_report:{second}:1:{directory.dept_a1}",
    }
    assert receiver.accepted == {key: 1 for key in keys}
    assert len(receiver.requests) == 5
    assert deliver(engine, settings, local(2026, 11, 23, 12, 0)).claimed == 0


def test_nothing_is_lost_while_the_webhook_is_down(
    client, directory, clock, engine, settings, receiver
):
    set_webhook(engine, directory.dept_a1, receiver.url)
    port = receiver.port
    receiver.stop()
    for minute in range(3):
        submit_at(client, local(2026, 11, 23, 10, minute))
    result = deliver(engine, settings, local(2026, 11, 23, 10, 5))
    assert (result.claimed, result.retrying) == (3, 3)
    assert all(r.last_error.startswith("ConnectError") for r in notifications(engine))

    # Meanwhile the unit can pull everything.
    pulled = client.get("/api/v1/unit/notifications", headers=directory.auth("handler_a1"))
    assert [item["kind"] for item in pulled.json()["items"]] == ["new_report"] * 3

    back = Receiver(port=port)
    try:
        result = deliver(engine, settings, local(2026, 11, 23, 10, 5, 30))
        assert result.delivered == 3
        assert sorted(back.accepted.values()) == [1, 1, 1]
    finally:
        back.stop()


def test_nothing_is_pushed_outside_working_hours(
    client, directory, clock, engine, settings, receiver
):
    set_webhook(engine, directory.dept_a1, receiver.url)
    # Friday evening: queued until Monday 09:00.
    submit_at(client, local(2026, 11, 27, 20, 0))
    [row] = notifications(engine)
    assert row.not_before == row.next_attempt_at == local(2026, 11, 30, 9, 0)
    for instant in (
        local(2026, 11, 27, 20, 0),
        local(2026, 11, 28, 10, 0),  # Saturday, daytime
        local(2026, 11, 30, 8, 59, 59),
    ):
        assert deliver(engine, settings, instant).claimed == 0
    assert receiver.requests == []

    # A retry that would land after 18:00 waits for the next morning.
    receiver.failures_left = 1
    assert deliver(engine, settings, local(2026, 11, 30, 17, 59, 45)).retrying == 1
    [row] = notifications(engine)
    assert row.next_attempt_at == local(2026, 12, 1, 9, 0)
    assert deliver(engine, settings, local(2026, 11, 30, 18, 0, 15)).claimed == 0
    assert deliver(engine, settings, local(2026, 12, 1, 9, 0)).delivered == 1
    for request in receiver.requests:
        sent_at = int(request["headers"]["X-Zhaocuo-Timestamp"])
        local_time = datetime.fromtimestamp(sent_at, tz=local(2026, 1, 1).tzinfo)
        assert local_time.weekday() < 5 and 9 <= local_time.hour < 18


def test_retries_stop_after_24_hours_then_operators_see_and_retry(
    client, directory, clock, engine, settings, receiver
):
    set_webhook(engine, directory.dept_a1, receiver.url)
    submit_at(client, local(2026, 11, 23, 10, 0))
    receiver.always_fail = True
    # Follow the schedule the service sets: 30 s, 1, 2, 4, 8, 16, 32 min, then hourly (the
    # cap), overnight to Tuesday 09:00 and 10:00, when a further wait would pass 24 hours.
    attempts_at = []
    at = local(2026, 11, 23, 10, 0)
    while at is not None:
        attempts_at.append(at)
        deliver(engine, settings, at)
        [row] = notifications(engine)
        at = row.next_attempt_at
    assert len(attempts_at) == 16
    assert attempts_at[7:9] == [local(2026, 11, 23, 11, 3, 30), local(2026, 11, 23, 12, 3, 30)]
    assert attempts_at[-3:] == [
        local(2026, 11, 23, 17, 3, 30),
        local(2026, 11, 24, 9, 0),
        local(2026, 11, 24, 10, 0),
    ]
    assert (row.attempts, row.failed_at) == (16, local(2026, 11, 24, 10, 0))

    clock.set(local(2026, 11, 24, 11, 0))
    admin = directory.auth("admin")
    failed = client.get("/api/v1/admin/notifications?state=failed", headers=admin)
    assert failed.status_code == 200
    [item] = failed.json()["items"]
    assert (item["id"], item["state"], item["attempts"], item["last_error"]) == (
        row.id,
        "failed",
        16,
        "HTTP 500: ",
    )
    assert (
        client.get(
            "/api/v1/admin/notifications?state=failed", headers=directory.auth("handler_a1")
        ).status_code
        == 403
    )

    receiver.always_fail = False
    retried = client.post(f"/api/v1/admin/notifications/{row.id}/retry", headers=admin)
    assert retried.status_code == 200, retried.text
    assert retried.json()["state"] == "pending"
    assert deliver(engine, settings, local(2026, 11, 24, 11, 0)).delivered == 1
    assert receiver.accepted == {row.key: 1}
    again = client.post(f"/api/v1/admin/notifications/{row.id}/retry", headers=admin)
    assert again.status_code == 409
    assert "delivered" in again.json()["detail"]


def test_units_pull_and_acknowledge_their_own_notifications(
    client, directory, clock, engine, settings
):
    report_id = submit_at(client, local(2026, 11, 23, 10, 0))
    # No webhook: nothing to push, the unit pulls.
    [row] = notifications(engine)
    assert row.next_attempt_at is None
    assert deliver(engine, settings, local(2026, 11, 23, 10, 1)).claimed == 0

    handler_a1, handler_b1 = directory.auth("handler_a1"), directory.auth("handler_b1")
    assert client.get("/api/v1/unit/notifications").status_code == 401
    page = client.get("/api/v1/unit/notifications?unacknowledged=true", headers=handler_a1).json()
    [item] = page["items"]
    assert (item["id"], item["kind"], item["report_id"]) == (row.id, "new_report", report_id)
    assert client.get("/api/v1/unit/notifications", headers=handler_b1).json()["items"] == []

    # Another unit's notification does not exist for it.
    assert (
        client.post(f"/api/v1/unit/notifications/{row.id}/ack", headers=handler_b1).status_code
        == 404
    )
    clock.set(local(2026, 11, 23, 10, 30))
    acked = client.post(f"/api/v1/unit/notifications/{row.id}/ack", headers=handler_a1)
    assert acked.status_code == 200
    assert acked.json()["acknowledged_at"] == "2026-11-23T10:30:00.000+08:00"
    clock.set(local(2026, 11, 23, 11, 0))
    # Acknowledging twice keeps the first time.
    client.post(f"/api/v1/unit/notifications/{row.id}/ack", headers=handler_a1)
    assert notifications(engine)[0].acknowledged_at == local(2026, 11, 23, 10, 30)
    unread = client.get("/api/v1/unit/notifications?unacknowledged=true", headers=handler_a1)
    assert unread.json()["items"] == []


def test_acknowledging_stops_a_pending_push(client, directory, clock, engine, settings, receiver):
    set_webhook(engine, directory.dept_a1, receiver.url)
    submit_at(client, local(2026, 11, 28, 10, 0))  # Saturday: queued to Monday
    [row] = notifications(engine)
    ack = client.post(
        f"/api/v1/unit/notifications/{row.id}/ack", headers=directory.auth("handler_a1")
    )
    assert ack.status_code == 200
    assert deliver(engine, settings, local(2026, 11, 30, 9, 0)).claimed == 0
    assert receiver.requests == []


def test_the_outbox_row_lives_and_dies_with_the_change(directory, engine, settings):
    report_in = ReportCreate(
        site_code=directory.site_a1,
        page_url=f"https://{directory.host_a1}/",
        category=4,
        description="栏目标题有错别字",
    )
    with pytest.raises(RuntimeError), Session(engine) as session:
        service.submit(
            session=session,
            report_in=report_in,
            now=local(2026, 11, 23, 10, 0),
            calendar=CALENDAR,
            settings=settings,
        )
        assert len(session.exec(select(Notification)).all()) == 1
        raise RuntimeError("the request failed after the report was written")
    assert fetch(engine, select(Report)) == []
    assert notifications(engine) == []


def test_enqueue_is_idempotent_by_key(directory, engine, settings):
    with Session(engine) as session:
        values = {
            "unit_id": directory.city_a,
            "kind": NotificationKind.nightly_report,
            "payload": {"text": "每日报告"},
            "key": "nightly_report:2026-11-23:1",
            "now": local(2026, 11, 24, 1, 30),
            "calendar": CALENDAR,
            "settings": settings,
        }
        first = enqueue(session=session, **values)
        assert first is not None
        assert enqueue(session=session, **values) is None
        session.commit()
    [row] = notifications(engine)
    assert (row.id, row.not_before) == (first, local(2026, 11, 24, 9, 0))
