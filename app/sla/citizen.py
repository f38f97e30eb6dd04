"""Word back to the citizen: e-mail over SMTP and SMS through an HTTP gateway, via an outbox.

A report's event (app.reports.service.record_event calls `on_report_event` through the reports
hook) writes one `CitizenMessage` row per channel that is configured and for which the report
has an address, in the transaction of the change. The scheduler delivers them at least once:
rows are claimed atomically with a lease, as the webhook outbox does; each carries an
idempotency key, sent as the SMS request's Idempotency-Key and in the e-mail's Message-ID.
Failures are retried with the webhooks' backoff for `webhook_retry_hours`, then marked failed
for operators (GET /api/v1/admin/citizen-messages?state=failed) to see and retry.

The rows hold no address: the delivery reads the report's e-mail or phone when it sends, keeps
it in memory only, and strips it from any error it stores or logs. SMS never go out in the
quiet hours (`sms_quiet_start`–`sms_quiet_end`, local): they wait for the end; e-mail goes at
any time.
"""

import json
import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from enum import StrEnum
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app.config import Settings, get_settings
from app.contract import describe_enum
from app.db import isoformat_or_none, session_scope
from app.errors import Conflict, NotFound
from app.reports.models import Report, ReportEvent
from app.sla.citizen_text import build_message
from app.sla.models import CitizenChannel, CitizenMessage
from app.sla.notify import (
    EVENT_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    count_attempt,
    default_worker_name,
    insert_ignoring_conflict,
    next_retry,
    sign,
)

log = logging.getLogger(__name__)

SMS_USER_AGENT = "zhaocuo-sms/1"
ERROR_TEXT_LIMIT = 200
REDACTED = "[redacted]"


# --- Channels and quiet hours ----------------------------------------------------------


def configured_channels(settings: Settings) -> list[CitizenChannel]:
    """The channels this deployment can send on: those whose settings are given."""
    channels = []
    if settings.smtp_url:
        channels.append(CitizenChannel.email)
    if settings.sms_gateway_url:
        channels.append(CitizenChannel.sms)
    return channels


def in_sms_quiet_hours(*, instant: datetime, settings: Settings) -> bool:
    """Whether an instant lies in the SMS quiet hours, local time (they may span midnight)."""
    start, end = settings.sms_quiet_start, settings.sms_quiet_end
    local = instant.astimezone(settings.tz).time()
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_sms_instant(*, instant: datetime, settings: Settings) -> datetime:
    """The instant itself outside the quiet hours, otherwise the moment they end."""
    if not in_sms_quiet_hours(instant=instant, settings=settings):
        return instant
    local = instant.astimezone(settings.tz)
    day = local.date()
    if local.time() >= settings.sms_quiet_end:
        # Quiet hours that began this evening end tomorrow morning.
        day += timedelta(days=1)
    return datetime.combine(day, settings.sms_quiet_end, tzinfo=settings.tz).astimezone(UTC)


def _address(report_email: str | None, report_phone: str | None, channel: CitizenChannel):
    return report_email if channel == CitizenChannel.email else report_phone


# --- Writing to the outbox -------------------------------------------------------------


def on_report_event(
    *, session: Session, report: Report, event: ReportEvent, settings: Settings | None = None
) -> int:
    """Queue what the citizen is told of a report's event; the number of rows written."""
    settings = settings or get_settings()
    kind = str(getattr(event.kind, "value", event.kind))
    channels = [
        channel
        for channel in configured_channels(settings)
        if _address(report.citizen_email, report.citizen_phone, channel)
    ]
    if not channels:
        return 0
    message = build_message(
        kind=kind,
        tracking_code=report.tracking_code,
        base_url=settings.public_base_url,
        pause_max_workdays=settings.pause_max_workdays,
        data=event.data,
    )
    if message is None:
        return 0
    if event.id is None:
        session.flush()
    written = 0
    for channel in channels:
        if channel == CitizenChannel.sms:
            not_before = next_sms_instant(instant=event.at, settings=settings)
            text = message.sms
        else:
            not_before = event.at
            text = message.email
        new_id = insert_ignoring_conflict(
            session=session,
            model=CitizenMessage,
            values={
                "key": f"citizen:{kind}:{report.id}:{event.id}:{channel.value}",
                "report_id": report.id,
                "channel": channel.value,
                "kind": kind,
                "subject": message.subject,
                "text": text,
                "created_at": event.at,
                "not_before": not_before,
                "attempts": 0,
                "next_attempt_at": not_before,
            },
        )
        written += new_id is not None
    return written


# --- Sending -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to send e-mail, from ZHAOCUO_SMTP_URL."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None


def smtp_target(settings: Settings) -> SmtpTarget:
    """Parse smtp://user:pass@host:587 (STARTTLS unless turned off) or smtps://…:465."""
    parts = urlsplit(settings.smtp_url)
    implicit_tls = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname or "localhost",
        port=parts.port or (465 if implicit_tls else 587),
        implicit_tls=implicit_tls,
        starttls=not implicit_tls and settings.smtp_starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def open_smtp(settings: Settings) -> smtplib.SMTP:
    """A logged-in SMTP connection, over TLS (implicit or STARTTLS) unless turned off."""
    target = smtp_target(settings)
    timeout = settings.webhook_timeout_seconds
    context = ssl.create_default_context(cafile=settings.smtp_ca_file)
    if target.implicit_tls:
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            target.host, target.port, timeout=timeout, context=context
        )
    else:
        connection = smtplib.SMTP(target.host, target.port, timeout=timeout)
    try:
        if target.starttls:
            connection.starttls(context=context)
        if target.username:
            connection.login(target.username, target.password or "")
    except BaseException:
        connection.close()
        raise
    return connection


def message_id(*, key: str, settings: Settings) -> str:
    """A Message-ID made from the idempotency key, so a receiver can drop a redelivery."""
    domain = (settings.smtp_sender or "").rsplit("@", 1)[-1].strip(" >") or "zhaocuo"
    return f"<{key.replace(':', '.')}@{domain}>"


def email_message(
    *, message: CitizenMessage, recipient: str, settings: Settings, now: datetime
) -> EmailMessage:
    """The e-mail for a citizen message: plain UTF-8 text."""
    email = EmailMessage()
    email["From"] = settings.smtp_sender
    email["To"] = recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(now.timestamp(), localtime=False)
    email["Message-ID"] = message_id(key=message.key, settings=settings)
    email.set_content(message.text, charset="utf-8")
    return email


def sms_body(*, message: CitizenMessage, recipient: str) -> bytes:
    """The JSON document POSTed to the SMS gateway, as UTF-8 bytes (README: "SMS gateway")."""
    document = {
        "id": message.id,
        "key": message.key,
        "kind": message.kind,
        "to": recipient,
        "text": message.text,
        "created_at": isoformat_or_none(message.created_at),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _post_sms(
    *,
    client: httpx.Client,
    message: CitizenMessage,
    recipient: str,
    sent_at: datetime,
    settings: Settings,
) -> str | None:
    """POST one SMS to the gateway; None on a 2xx answer, otherwise what went wrong."""
    body = sms_body(message=message, recipient=recipient)
    timestamp = int(sent_at.timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": SMS_USER_AGENT,
        EVENT_HEADER: "citizen_sms",
        IDEMPOTENCY_HEADER: message.key,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret=settings.sms_gateway_secret, timestamp=timestamp, body=body),
    }
    response = client.post(
        settings.sms_gateway_url,
        content=body,
        headers=headers,
        timeout=settings.webhook_timeout_seconds,
    )
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}: {response.text[:ERROR_TEXT_LIMIT]}"


def redact(text: str, *secrets: str | None) -> str:
    """An error's text with the recipient (and any credential) taken out."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


# --- Delivery ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CitizenDeliveryResult:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Claimed:
    message: CitizenMessage
    recipient: str | None


def _claim_due(*, engine: Engine, now: datetime, settings: Settings, worker: str) -> list[_Claimed]:
    """Take due rows of the configured channels, a lease ahead (see notify._claim_due).

    The recipient is read from the report here, in the claiming transaction, and kept only in
    memory for the sending.
    """
    channels = [channel.value for channel in configured_channels(settings)]
    if not channels:
        return []
    lease_end = now + timedelta(seconds=settings.outbox_lease_seconds)
    with session_scope(engine) as session:
        rows = session.exec(
            select(CitizenMessage, Report.citizen_email, Report.citizen_phone)
            .join(Report, col(Report.id) == col(CitizenMessage.report_id))
            .where(
                col(CitizenMessage.next_attempt_at) <= now,
                col(CitizenMessage.channel).in_(channels),
            )
            .order_by(col(CitizenMessage.next_attempt_at), col(CitizenMessage.id))
            .limit(settings.outbox_batch_size)
            .with_for_update(skip_locked=True, of=CitizenMessage)
        ).all()
        claimed = []
        for message, email, phone in rows:
            message.claimed_by = worker
            message.claimed_at = now
            message.next_attempt_at = lease_end
            if message.first_attempt_at is None:
                message.first_attempt_at = now
            session.add(message)
            recipient = _address(email, phone, CitizenChannel(message.channel))
            claimed.append(_Claimed(message=message, recipient=recipient))
        session.flush()
    return claimed


def _record_outcome(
    *,
    session: Session,
    message_id_: int,
    error: str | None,
    worker: str,
    now: datetime,
    settings: Settings,
    final: bool = False,
) -> str:
    """Store one attempt's outcome: delivered, retried after the backoff, or failed."""
    message = session.get(CitizenMessage, message_id_, with_for_update=True)
    if message is None:
        return "gone"
    settled = count_attempt(message, error=error, worker=worker, now=now)
    if settled is not None:
        session.add(message)
        return settled
    retry_at = None if final else next_retry(message, now=now, settings=settings)
    if retry_at is None:
        message.next_attempt_at = None
        message.failed_at = now
        outcome = "failed"
        # Ids only: the recipient is in neither the row nor the log.
        log.error(
            "citizen %s message %s of report %s failed; last error: %s; an operator can "
            "retry it (POST /api/v1/admin/citizen-messages/%s/retry)",
            message.channel,
            message.id,
            message.report_id,
            message.last_error,
            message.id,
        )
    else:
        if message.channel == CitizenChannel.sms:
            retry_at = next_sms_instant(instant=retry_at, settings=settings)
        message.next_attempt_at = retry_at
        outcome = "retrying"
    session.add(message)
    return outcome


def _release(*, session: Session, message_id_: int, worker: str, now: datetime) -> None:
    """Hand back a claimed row that was not attempted, for the next run to take."""
    message = session.get(CitizenMessage, message_id_, with_for_update=True)
    if message is not None and message.claimed_by == worker:
        message.claimed_by = None
        message.next_attempt_at = now
        if message.attempts == 0:
            message.first_attempt_at = None
        session.add(message)


def _error_text(exc: BaseException, *secrets: str | None) -> str:
    return redact(f"{type(exc).__name__}: {exc}", *secrets)[:500]


def deliver_citizen_messages(
    *,
    engine: Engine,
    now: datetime,
    settings: Settings,
    client: httpx.Client | None = None,
    smtp_factory: Callable[[Settings], smtplib.SMTP] = open_smtp,
    worker: str | None = None,
) -> CitizenDeliveryResult:
    """Send the citizen messages that are due, at least once each, and record what happened."""
    worker = worker or default_worker_name()
    claimed = _claim_due(engine=engine, now=now, settings=settings, worker=worker)
    if not claimed:
        return CitizenDeliveryResult()
    credentials = smtp_target(settings) if settings.smtp_url else None
    hidden = (credentials.username, credentials.password) if credentials else ()
    outcomes: list[tuple[int, str | None, bool]] = []
    unsent: list[int] = []
    sending_budget = settings.outbox_lease_seconds - settings.webhook_timeout_seconds
    started = time.monotonic()
    own_client = client is None
    client = client or httpx.Client(follow_redirects=False)
    smtp: smtplib.SMTP | None = None
    smtp_down: str | None = None
    sms_down: str | None = None
    try:
        for item in claimed:
            message = item.message
            elapsed = time.monotonic() - started
            if elapsed > sending_budget:
                unsent.append(message.id)
                continue
            if item.recipient is None:
                # The address was removed from the report after the row was queued.
                outcomes.append((message.id, "no recipient: the report has no address", True))
                continue
            if message.channel == CitizenChannel.email:
                if smtp_down is not None:
                    outcomes.append((message.id, smtp_down, False))
                    continue
                try:
                    if smtp is None:
                        smtp = smtp_factory(settings)
                    email = email_message(
                        message=message, recipient=item.recipient, settings=settings, now=now
                    )
                    smtp.send_message(email)
                    outcomes.append((message.id, None, False))
                except (smtplib.SMTPServerDisconnected, OSError) as exc:
                    # The server is unreachable or went away: the batch's other e-mails wait.
                    smtp_down = _error_text(exc, item.recipient, *hidden)
                    if smtp is not None:
                        smtp.close()
                        smtp = None
                    outcomes.append((message.id, smtp_down, False))
                except smtplib.SMTPException as exc:
                    outcomes.append((message.id, _error_text(exc, item.recipient, *hidden), False))
            else:
                if sms_down is not None:
                    outcomes.append((message.id, sms_down, False))
                    continue
                try:
                    error = _post_sms(
                        client=client,
                        message=message,
                        recipient=item.recipient,
                        sent_at=now + timedelta(seconds=elapsed),
                        settings=settings,
                    )
                    error = redact(error, item.recipient) if error else None
                except httpx.TransportError as exc:
                    error = sms_down = _error_text(exc, item.recipient)
                outcomes.append((message.id, error, False))
    finally:
        if own_client:
            client.close()
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    with session_scope(engine) as session:
        for message_id_ in unsent:
            _release(session=session, message_id_=message_id_, worker=worker, now=now)
        for message_id_, error, final in outcomes:
            outcome = _record_outcome(
                session=session,
                message_id_=message_id_,
                error=error,
                worker=worker,
                now=now,
                settings=settings,
                final=final,
            )
            counts[outcome] = counts.get(outcome, 0) + 1
    return CitizenDeliveryResult(
        claimed=len(claimed),
        delivered=counts["delivered"],
        retrying=counts["retrying"],
        failed=counts["failed"],
    )


# --- Operators -----------------------------------------------------------------------------


class CitizenDeliveryState(StrEnum):
    pending = "pending"  # queued, held for the quiet hours, or being retried
    delivered = "delivered"
    failed = "failed"  # retries ran out: operators look, fix the channel, and retry


describe_enum(
    CitizenDeliveryState,
    {
        CitizenDeliveryState.pending: "待发送或重试中",
        CitizenDeliveryState.delivered: "已发送",
        CitizenDeliveryState.failed: "发送失败（重试已用尽）",
    },
)


def delivery_state(message: CitizenMessage) -> CitizenDeliveryState:
    if message.delivered_at is not None:
        return CitizenDeliveryState.delivered
    if message.failed_at is not None:
        return CitizenDeliveryState.failed
    return CitizenDeliveryState.pending


def list_for_operators(
    *,
    session: Session,
    state: CitizenDeliveryState | None,
    report_id: int | None,
    limit: int,
    offset: int = 0,
) -> tuple[list[CitizenMessage], int]:
    """A page of citizen messages by delivery state, oldest first, and their number."""
    query = select(CitizenMessage)
    delivered = col(CitizenMessage.delivered_at)
    failed = col(CitizenMessage.failed_at)
    match state:
        case CitizenDeliveryState.delivered:
            query = query.where(delivered.is_not(None))
        case CitizenDeliveryState.failed:
            query = query.where(delivered.is_(None), failed.is_not(None))
        case CitizenDeliveryState.pending:
            query = query.where(delivered.is_(None), failed.is_(None))
    if report_id is not None:
        query = query.where(CitizenMessage.report_id == report_id)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(CitizenMessage.id)).limit(limit).offset(offset)).all()
    return list(rows), total


def retry_failed(
    *, session: Session, message_id_: int, now: datetime, settings: Settings
) -> CitizenMessage:
    """Queue a failed citizen message again, with a fresh retry window."""
    message = session.get(CitizenMessage, message_id_, with_for_update=True)
    if message is None:
        raise NotFound(
            f"网民消息 {message_id_} 不存在",
            en=f"citizen message {message_id_} not found",
            code="citizen_message_not_found",
        )
    state = delivery_state(message)
    if state != CitizenDeliveryState.failed:
        raise Conflict(
            f"只有发送失败的网民消息才能重试，这条消息的状态是 {state.value}",
            en=f"only a failed citizen message can be retried; this one is {state.value}",
            code="citizen_message_not_failed",
        )
    message.failed_at = None
    message.first_attempt_at = None
    retry_at = now
    if message.channel == CitizenChannel.sms:
        retry_at = next_sms_instant(instant=now, settings=settings)
    message.next_attempt_at = retry_at
    session.add(message)
    session.flush()
    return message


def summary(message: CitizenMessage) -> dict[str, Any]:
    """What operators see of a citizen message: its delivery, not its text or address."""
    return {
        "id": message.id,
        "key": message.key,
        "report_id": message.report_id,
        "channel": message.channel,
        "kind": message.kind,
        "state": delivery_state(message),
        "created_at": message.created_at,
        "not_before": message.not_before,
        "attempts": message.attempts,
        "first_attempt_at": message.first_attempt_at,
        "next_attempt_at": message.next_attempt_at,
        "delivered_at": message.delivered_at,
        "failed_at": message.failed_at,
        "last_error": message.last_error,
    }
