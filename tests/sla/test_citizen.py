"""Word back to the citizen: e-mail to a real SMTP server and SMS to a loopback gateway."""

import json
import logging
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import Session, col, select

from app.reports.models import Report
from app.sla import citizen
from app.sla.citizen import deliver_citizen_messages, next_sms_instant
from app.sla.models import CitizenChannel, CitizenMessage
from tests.conftest import fetch, local, submit_report
from tests.sla.helpers import Receiver, verify_signature

SMS_SECRET = "sms-gateway-test-secret-0123456789"
SENDER = "政府网站找错 <noreply@zhaocuo.example.gov.cn>"
BASE = "https://zhaocuo.example.gov.cn"
FOOTER = "此邮件由系统自动发送，请勿直接回复。查询码可查看您的留言，请勿告诉他人。"
EMAIL, PHONE, NAME = "zhang@example.com", "13812345678", "张三"


@pytest.fixture
def sms_gateway():
    gateway = Receiver(secret=SMS_SECRET)
    yield gateway
    gateway.stop()


@pytest.fixture
def settings(settings, mailbox, sms_gateway):
    return settings.model_copy(
        update={
            "public_base_url": BASE,
            "smtp_url": mailbox.url(),
            "smtp_sender": SENDER,
            "smtp_starttls": False,
            "sms_gateway_url": sms_gateway.url,
            "sms_gateway_secret": SMS_SECRET,
        }
    )


def submit(client, at, **contact) -> Report:
    """A report with the citizen's name, e-mail and phone (a contact given as None is left out)."""
    citizen = {"name": NAME, "email": EMAIL, "phone": PHONE} | contact
    code = submit_report(client, at=at, **citizen)["tracking_code"]
    [report] = fetch(client.app.state.engine, select(Report).where(Report.tracking_code == code))
    return report


def messages(engine, **where) -> list[CitizenMessage]:
    query = select(CitizenMessage).order_by(col(CitizenMessage.id))
    for name, value in where.items():
        query = query.where(getattr(CitizenMessage, name) == value)
    return fetch(engine, query)


def deliver(engine, settings, at, **kwargs):
    return deliver_citizen_messages(engine=engine, now=at, settings=settings, **kwargs)


def body_of(received) -> str:
    return received.message.get_content().replace("\r\n", "\n")


def test_the_receipt_arrives_by_email_and_sms_with_the_code_and_the_page(
    client, directory, clock, engine, settings, mailbox, sms_gateway
):
    report = submit(client, local(2026, 11, 23, 10, 0))
    code = report.tracking_code
    rows = messages(engine)
    assert [(r.channel, r.kind, r.not_before) for r in rows] == [
        (CitizenChannel.email, "submitted", local(2026, 11, 23, 10, 0)),
        (CitizenChannel.sms, "submitted", local(2026, 11, 23, 10, 0)),
    ]
    # The outbox holds no address: it is read from the report when sending.
    for row in rows:
        assert EMAIL not in row.text and PHONE not in row.text and NAME not in row.text

    result = deliver(engine, settings, local(2026, 11, 23, 10, 0, 5))

    assert (result.claimed, result.delivered) == (2, 2)
    [mail] = mailbox.received
    assert (mail.mail_from, mail.rcpt_tos) == ("noreply@zhaocuo.example.gov.cn", [EMAIL])
    assert mail.message["To"] == EMAIL
    assert mail.message["From"] == SENDER
    assert mail.message["Subject"] == f"【政府网站找错】留言已收到（查询码 {code}）"
    assert mail.message["Message-ID"] == (
        f"<citizen.submitted.{report.id}.{rows[0].key.split(':')[3]}.email@zhaocuo.example.gov.cn>"
    )
    assert body_of(mail) == (
        f"您好：\n\n您的留言已收到。\n\n查询码：{code}\n"
        f"查看办理进展和答复：{BASE}/track/{code}\n\n{FOOTER}\n"
    )
    [request] = sms_gateway.requests
    assert request["valid"] and request["status"] == 204
    assert request["headers"]["Idempotency-Key"] == rows[1].key
    assert request["headers"]["X-Zhaocuo-Event"] == "citizen_sms"
    assert request["document"] == {
        "id": rows[1].id,
        "key": rows[1].key,
        "kind": "submitted",
        "to": PHONE,
        "text": f"【政府网站找错】您的留言已收到，查询码{code}：{BASE}/track/{code}",
        "created_at": "2026-11-23T02:00:00+00:00",
    }
    assert [r.delivered_at for r in messages(engine)] == [local(2026, 11, 23, 10, 0, 5)] * 2
    # Delivered once: the next run has nothing to send.
    assert deliver(engine, settings, local(2026, 11, 23, 10, 1)).claimed == 0
    assert len(mailbox.received) == 1 and len(sms_gateway.requests) == 1


def test_the_citizen_hears_of_the_question_the_reply_and_the_resolution(
    client, directory, clock, engine, settings, mailbox
):
    report = submit(client, local(2026, 11, 23, 10, 0), phone=None)
    unit = directory.auth("handler_a1")
    base = f"/api/v1/unit/reports/{report.id}"
    clock.set(local(2026, 11, 23, 11, 0))
    assert client.post(f"{base}/request-info", json={"text": "是哪一页？"}, headers=unit).is_success
    clock.set(local(2026, 11, 23, 12, 0))
    supplemented = client.post(
        f"/api/v1/reports/{report.tracking_code}/supplement", json={"text": "首页。"}
    )
    assert supplemented.is_success
    clock.set(local(2026, 11, 24, 9, 0))
    assert client.post(
        f"{base}/reply", json={"text": "已收到，正在核实。"}, headers=unit
    ).is_success
    clock.set(local(2026, 11, 25, 9, 0))
    resolved = client.post(
        f"{base}/resolve", json={"verdict": "confirmed", "text": "已更正。"}, headers=unit
    )
    assert resolved.is_success

    # The supplement is the citizen's own doing: nothing to tell them.
    assert [r.kind for r in messages(engine)] == [
        "submitted",
        "info_requested",
        "replied",
        "resolved",
    ]
    assert [r.channel for r in messages(engine)] == [CitizenChannel.email] * 4
    assert deliver(engine, settings, local(2026, 11, 25, 9, 0, 1)).delivered == 4
    assert [m.message["Subject"] for m in mailbox.received] == [
        f"【政府网站找错】{subject}（查询码 {report.tracking_code}）"
        for subject in ["留言已收到", "请补充信息", "留言已答复", "留言已办结"]
    ]
    assert "办理单位请您补充信息，请在5个工作日内查看并补充。" in body_of(mailbox.received[1])


def test_a_declined_report_tells_the_reason(client, directory, clock, engine, settings, mailbox):
    report = submit(client, local(2026, 11, 23, 10, 0), phone=None)
    clock.set(local(2026, 11, 23, 15, 0))
    declined = client.post(
        f"/api/v1/unit/reports/{report.id}/decline",
        json={"reason": "out_of_scope", "text": "该网站不由本单位主办。"},
        headers=directory.auth("handler_a1"),
    )
    assert declined.is_success

    deliver(engine, settings, local(2026, 11, 23, 15, 0, 1))

    assert "您的留言不予受理（不属于受理范围），请查看说明。" in body_of(mailbox.received[-1])


def test_nothing_for_a_report_without_contact_details(
    client, directory, clock, engine, settings, mailbox, sms_gateway
):
    submit(client, local(2026, 11, 23, 10, 0), email=None, phone=None)

    assert messages(engine) == []
    assert deliver(engine, settings, local(2026, 11, 23, 10, 1)).claimed == 0
    assert mailbox.received == [] and sms_gateway.requests == []


def test_a_channel_left_unset_queues_nothing_and_fails_nothing(
    client, directory, clock, engine, settings, mailbox, sms_gateway
):
    unset = settings.model_copy(update={"sms_gateway_url": None, "sms_gateway_secret": None})
    client.app.state.settings = unset

    submit(client, local(2026, 11, 23, 10, 0))

    assert [r.channel for r in messages(engine)] == [CitizenChannel.email]
    assert deliver(engine, unset, local(2026, 11, 23, 10, 1)).delivered == 1
    assert sms_gateway.requests == []
    nothing = settings.model_copy(update={"smtp_url": None, "sms_gateway_url": None})
    client.app.state.settings = nothing
    submit(client, local(2026, 11, 23, 11, 0))
    assert len(messages(engine)) == 1
    assert deliver(engine, nothing, local(2026, 11, 23, 11, 1)).claimed == 0


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (local(2026, 11, 23, 20, 59, 59), local(2026, 11, 23, 20, 59, 59)),
        (local(2026, 11, 23, 21, 0), local(2026, 11, 24, 8, 0)),  # quiet from 21:00
        (local(2026, 11, 23, 23, 30), local(2026, 11, 24, 8, 0)),
        (local(2026, 11, 24, 7, 59, 59), local(2026, 11, 24, 8, 0)),
        (local(2026, 11, 24, 8, 0), local(2026, 11, 24, 8, 0)),  # 08:00 may send
        # Not working hours: a Saturday or National Day morning is fine for an SMS.
        (local(2026, 11, 28, 6, 0), local(2026, 11, 28, 8, 0)),
        (local(2026, 9, 30, 22, 0), local(2026, 10, 1, 8, 0)),
        (local(2026, 12, 31, 21, 30), local(2027, 1, 1, 8, 0)),
    ],
)
def test_sms_wait_out_the_quiet_hours(settings, instant, expected):
    assert next_sms_instant(instant=instant, settings=settings) == expected


def test_an_sms_queued_at_night_waits_for_eight_and_the_email_goes_at_once(
    client, directory, clock, engine, settings, mailbox, sms_gateway
):
    # Friday 27 November 2026, 22:15: the e-mail goes now, the SMS at 08:00 on Saturday.
    submit(client, local(2026, 11, 27, 22, 15))
    assert [(r.channel, r.not_before) for r in messages(engine)] == [
        (CitizenChannel.email, local(2026, 11, 27, 22, 15)),
        (CitizenChannel.sms, local(2026, 11, 28, 8, 0)),
    ]

    result = deliver(engine, settings, local(2026, 11, 27, 22, 15, 10))
    assert (result.claimed, result.delivered) == (1, 1)
    assert len(mailbox.received) == 1 and sms_gateway.requests == []
    assert deliver(engine, settings, local(2026, 11, 28, 7, 59, 59)).claimed == 0

    assert deliver(engine, settings, local(2026, 11, 28, 8, 0)).delivered == 1
    assert [r["document"]["kind"] for r in sms_gateway.requests] == ["submitted"]


def test_two_workers_at_once_send_each_message_once(
    client, directory, clock, engine, settings, mailbox, sms_gateway
):
    for minute in range(3):
        submit(client, local(2026, 11, 23, 10, minute))
    results = []

    def work(name: str) -> None:
        results.append(deliver(engine, settings, local(2026, 11, 23, 10, 5), worker=name))

    workers = [threading.Thread(target=work, args=(f"node-{n}:1",)) for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sum(result.delivered for result in results) == 6
    assert sorted(len(m.rcpt_tos) for m in mailbox.received) == [1, 1, 1]
    assert len({m.message["Message-ID"] for m in mailbox.received}) == 3
    assert sorted(sms_gateway.accepted.values()) == [1, 1, 1]
    # And a later run, once more, sends nothing.
    assert deliver(engine, settings, local(2026, 11, 23, 11, 0)).claimed == 0


def test_a_message_claimed_by_a_worker_that_died_is_sent_by_another_after_the_lease(
    client, directory, clock, engine, settings, mailbox
):
    submit(client, local(2026, 11, 23, 10, 0), phone=None)
    now = local(2026, 11, 23, 10, 0, 1)
    # A worker claims the row and dies before sending.
    citizen._claim_due(engine=engine, now=now, settings=settings, worker="dead:1")
    assert deliver(engine, settings, now + timedelta(seconds=60)).claimed == 0

    after_lease = now + timedelta(seconds=settings.outbox_lease_seconds)
    assert deliver(engine, settings, after_lease, worker="alive:2").delivered == 1
    assert len(mailbox.received) == 1


def test_failures_are_retried_with_the_backoff_and_keep_no_address(
    client, directory, clock, engine, settings, mailbox, sms_gateway, caplog
):
    submit(client, local(2026, 11, 23, 10, 0))
    mailbox.failures_left = 1
    sms_gateway.failures_left = 2

    result = deliver(engine, settings, local(2026, 11, 23, 10, 0))
    assert (result.claimed, result.retrying) == (2, 2)
    email, sms = messages(engine)
    assert (email.attempts, email.next_attempt_at) == (1, local(2026, 11, 23, 10, 0, 30))
    assert email.last_error == "SMTPDataError: (451, b'4.3.0 try again later')"
    assert (sms.attempts, sms.next_attempt_at, sms.last_error) == (
        1,
        local(2026, 11, 23, 10, 0, 30),
        "HTTP 500: ",
    )
    result = deliver(engine, settings, local(2026, 11, 23, 10, 0, 30))
    assert (result.delivered, result.retrying) == (1, 1)
    [sms] = messages(engine, channel=CitizenChannel.sms)
    # The second failure waits 60 s.
    assert sms.next_attempt_at == local(2026, 11, 23, 10, 1, 30)
    assert deliver(engine, settings, local(2026, 11, 23, 10, 1, 30)).delivered == 1
    assert len(mailbox.received) == 1
    assert sms_gateway.accepted == {sms.key: 1}
    assert len(sms_gateway.requests) == 3


def test_a_refused_address_fails_for_operators_to_see_without_the_address(
    client, directory, clock, engine, settings, mailbox, caplog
):
    mailbox.refused.add(EMAIL)
    report = submit(client, local(2026, 11, 23, 10, 0), phone=None)
    admin = directory.auth("admin")
    instant = local(2026, 11, 23, 10, 0)
    with caplog.at_level(logging.INFO):
        # Retried with the backoff for webhook_retry_hours (24), then failed.
        for _ in range(40):
            result = deliver(engine, settings, instant)
            [row] = messages(engine)
            if row.failed_at is not None or row.next_attempt_at is None:
                break
            instant = row.next_attempt_at
    assert result.failed == 1
    assert row.attempts > 5 and row.failed_at == instant
    assert EMAIL not in row.last_error and "[redacted]" in row.last_error
    assert row.last_error.startswith("SMTPRecipientsRefused")
    # The service's own log lines (the test server's, mail.log, name what it received).
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("app"))
    assert "citizen email message" in ours
    assert EMAIL not in ours and PHONE not in ours

    listed = client.get("/api/v1/admin/citizen-messages?state=failed", headers=admin)
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert (item["id"], item["report_id"], item["channel"], item["state"]) == (
        row.id,
        report.id,
        "email",
        "failed",
    )
    assert (
        "text" not in item and EMAIL not in listed.text and report.tracking_code not in listed.text
    )
    unit = client.get("/api/v1/admin/citizen-messages", headers=directory.auth("supervisor_a"))
    assert unit.status_code == 403

    mailbox.refused.clear()
    clock.set(instant + timedelta(hours=1))
    retried = client.post(f"/api/v1/admin/citizen-messages/{row.id}/retry", headers=admin)
    assert retried.status_code == 200 and retried.json()["state"] == "pending"
    again = client.post(f"/api/v1/admin/citizen-messages/{row.id}/retry", headers=admin)
    assert (again.status_code, again.json()["code"]) == (409, "citizen_message_not_failed")
    missing = client.post("/api/v1/admin/citizen-messages/999999/retry", headers=admin)
    assert (missing.status_code, missing.json()["code"]) == (404, "citizen_message_not_found")
    assert deliver(engine, settings, instant + timedelta(hours=1)).delivered == 1
    assert mailbox.received[0].rcpt_tos == [EMAIL]


def test_the_smtp_login_is_checked_and_its_password_never_stored(
    client, directory, clock, engine, settings, mailbox
):
    wrong = settings.model_copy(update={"smtp_url": mailbox.url(password="wrong-password")})
    submit(client, local(2026, 11, 23, 10, 0), phone=None)

    assert deliver(engine, wrong, local(2026, 11, 23, 10, 0)).retrying == 1
    [row] = messages(engine)
    assert row.last_error.startswith("SMTPAuthenticationError: (535")
    assert "wrong-password" not in row.last_error
    assert mailbox.received == []


def test_events_of_kinds_added_later_reach_the_citizen_by_their_name(
    client, directory, clock, engine, settings
):
    report = submit(client, local(2026, 11, 23, 10, 0))
    with Session(engine) as session:
        stored = session.get(Report, report.id)
        for number, kind in enumerate(["extension_approved", "reopened", "transferred"]):
            # Not yet EventKind members on this branch: the hook reads the kind's string value.
            event = SimpleNamespace(
                id=10_000 + number, kind=kind, at=local(2026, 11, 24, 10, 0), data={}
            )
            citizen.on_report_event(session=session, report=stored, event=event, settings=settings)
        session.commit()

    rows = messages(engine, channel=CitizenChannel.sms)
    assert [(r.kind, r.key) for r in rows[1:]] == [
        ("extension_approved", f"citizen:extension_approved:{report.id}:10000:sms"),
        ("reopened", f"citizen:reopened:{report.id}:10001:sms"),
    ]
    code = report.tracking_code
    assert rows[2].text == (
        f"【政府网站找错】您的留言已重新交办理单位办理，查询码{code}：{BASE}/track/{code}"
    )


def test_contact_details_stay_out_of_what_units_read(
    client, directory, clock, engine, settings, mailbox, sms_gateway
):
    report = submit(client, local(2026, 11, 23, 10, 0))
    deliver(engine, settings, local(2026, 11, 23, 10, 0, 1))

    pulled = client.get("/api/v1/unit/notifications", headers=directory.auth("handler_a1"))
    other = client.get(f"/api/v1/unit/reports/{report.id}", headers=directory.auth("supervisor_b"))
    for private in (EMAIL, PHONE, NAME):
        assert private not in pulled.text
        assert private not in json.dumps([r.text for r in messages(engine)], ensure_ascii=False)
    assert other.status_code == 404
    assert all(verify_signature(SMS_SECRET, r["headers"], r["body"]) for r in sms_gateway.requests)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    from tests.mailbox import self_signed_certificate

    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.mark.parametrize(("tls", "scheme"), [("starttls", "smtp"), ("implicit", "smtps")])
def test_email_goes_over_starttls_or_implicit_tls_to_a_verified_server(
    client, directory, clock, engine, settings, certificate, tls, scheme
):
    from tests.mailbox import Mailbox

    secure = Mailbox(tls=tls, certificate=certificate)
    try:
        update = {"smtp_url": secure.url(scheme=scheme), "smtp_starttls": True}
        untrusted = settings.model_copy(update=update)
        trusted = settings.model_copy(update={**update, "smtp_ca_file": str(certificate[0])})
        submit(client, local(2026, 11, 23, 10, 0), phone=None)

        # A certificate the service does not trust: nothing is sent, the login never happens.
        assert deliver(engine, untrusted, local(2026, 11, 23, 10, 0)).retrying == 1
        [row] = messages(engine)
        assert row.last_error.startswith("SSLCertVerificationError")
        assert secure.received == []

        assert deliver(engine, trusted, local(2026, 11, 23, 10, 0, 30)).delivered == 1
        [mail] = secure.received
        assert mail.rcpt_tos == [EMAIL]
    finally:
        secure.stop()
