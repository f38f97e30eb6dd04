"""Notifications: the outbox, signed webhook delivery in working hours, and the pull API's service.

Every notification is a row written in the transaction of the change that caused it, so it
exists exactly when the change does. Units read them with the pull API; a unit with a webhook
also gets each one pushed: POSTed as JSON, signed with HMAC-SHA256 over the timestamp and the
body, with an idempotency key, retried with exponential backoff for `webhook_retry_hours`,
then marked failed for operators to see and retry. Pushes happen only in working hours on
working days; outside them rows wait.
"""

import hashlib
import hmac
import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

import httpx
from sqlalchemy import Engine, Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from app.config import Settings
from app.contract import describe_enum
from app.db import dialect_insert, isoformat_or_none, session_scope
from app.directory.models import Site, Unit, pushes_notifications
from app.directory.routing import RoutedSite
from app.directory.service import get_unit
from app.errors import Conflict, NotFound
from app.metrics import WEBHOOK_SECONDS
from app.reports.clocks import local_date
from app.reports.models import CATEGORY_LABELS, Category, Report
from app.sla.models import Notification, NotificationKind
from app.statements import DirectStatement
from app.workdays.calendar import WorkCalendar
from app.workdays.sources import get_calendar

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Zhaocuo-Signature"
TIMESTAMP_HEADER = "X-Zhaocuo-Timestamp"
EVENT_HEADER = "X-Zhaocuo-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "zhaocuo-webhook/1"
ERROR_TEXT_LIMIT = 200


# --- Working hours ---------------------------------------------------------------------


def in_working_hours(*, instant: datetime, calendar: WorkCalendar, settings: Settings) -> bool:
    """Whether an instant lies inside working hours on a working day, local time."""
    local = instant.astimezone(settings.tz)
    return (
        calendar.is_workday(local.date())
        and settings.working_hours_start <= local.time() < settings.working_hours_end
    )


def next_working_instant(
    *, instant: datetime, calendar: WorkCalendar, settings: Settings
) -> datetime:
    """The instant itself inside working hours, otherwise the moment working hours next open."""
    if in_working_hours(instant=instant, calendar=calendar, settings=settings):
        return instant
    local = instant.astimezone(settings.tz)
    day = local.date()
    if not (calendar.is_workday(day) and local.time() < settings.working_hours_start):
        day = calendar.add_workdays(day, 1)
    return datetime.combine(day, settings.working_hours_start, tzinfo=settings.tz).astimezone(UTC)


# --- Writing to the outbox -------------------------------------------------------------


def insert_ignoring_conflict(
    *, session: Session, model: type[SQLModel], values: dict
) -> int | None:
    """INSERT a row unless it would break a unique constraint; the new id, or None if it exists.

    The database decides atomically, so two transactions racing for the same row cannot both
    win: on PostgreSQL the loser waits for the winner and then finds the row.
    """
    connection = session.connection()
    statement = _insert_returning_id(connection.dialect.name, model.__table__)
    return statement.scalar(connection, values)


@lru_cache
def _insert_returning_id(dialect_name: str, table: Table) -> DirectStatement:
    """The INSERT … ON CONFLICT DO NOTHING RETURNING id of a table, built once per dialect."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return DirectStatement(dialect.insert(table).on_conflict_do_nothing().returning(table.c.id))


def has_webhook(unit: Unit) -> bool:
    """Whether a unit's notifications are pushed to it, not only pulled."""
    return pushes_notifications(unit.webhook_url, unit.webhook_secret)


def enqueue(
    *,
    session: Session,
    unit_id: int,
    kind: NotificationKind,
    payload: dict[str, Any],
    key: str,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
    report_id: int | None = None,
    pushed: bool | None = None,
) -> int | None:
    """Write a notification to the outbox in the caller's transaction; None if the key exists.

    `pushed`: whether the unit's notifications go to its webhook, when the caller has read the
    unit already; otherwise the unit is read here.
    """
    if pushed is None:
        pushed = has_webhook(get_unit(session=session, unit_id=unit_id))
    not_before = next_working_instant(instant=now, calendar=calendar, settings=settings)
    return insert_ignoring_conflict(
        session=session,
        model=Notification,
        values={
            "key": key,
            "unit_id": unit_id,
            "kind": kind.value,
            "report_id": report_id,
            "payload": payload,
            "created_at": now,
            "not_before": not_before,
            "attempts": 0,
            "next_attempt_at": not_before if pushed else None,
        },
    )


def enqueue_many(
    *,
    session: Session,
    notifications: list[dict[str, Any]],
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> None:
    """Write many notifications (unit_id, kind, payload, key, report_id) in a few statements.

    The same rows as `enqueue` one by one; the units must be in the session already.
    """
    if not notifications:
        return
    not_before = next_working_instant(instant=now, calendar=calendar, settings=settings)
    rows = []
    for notification in notifications:
        unit = get_unit(session=session, unit_id=notification["unit_id"])
        rows.append(
            {
                "key": notification["key"],
                "unit_id": notification["unit_id"],
                "kind": notification["kind"].value,
                "report_id": notification["report_id"],
                "payload": notification["payload"],
                "created_at": now,
                "not_before": not_before,
                "attempts": 0,
                "next_attempt_at": not_before if has_webhook(unit) else None,
            }
        )
    connection = session.connection()
    table = Notification.__table__
    connection.execute(dialect_insert(connection, table).on_conflict_do_nothing(), rows)


def report_summary(
    *, session: Session, report: Report, routed: RoutedSite | None = None
) -> dict[str, Any]:
    """What a notification says about a report: no contact details, no tracking code.

    `routed`: the report's site and owner as its routing read them, which spares reading them.
    """
    if routed is not None:
        site_name, owner_name = routed.name, routed.owner_name
    else:
        owner = session.get(Unit, report.owner_unit_id) if report.owner_unit_id else None
        site = session.get(Site, report.site_id) if report.site_id else None
        site_name, owner_name = (site.name if site else None), (owner.name if owner else None)
    return {
        "id": report.id,
        "api_path": f"/api/v1/unit/reports/{report.id}",
        "site_code": report.site_code,
        "site_name": site_name,
        "page_url": report.page_url,
        "category": report.category,
        "category_label": CATEGORY_LABELS[Category(report.category)],
        "status": report.status.value,
        "owner_unit_id": report.owner_unit_id,
        "owner_unit_name": owner_name,
        "received_at": isoformat_or_none(report.received_at),
        "assigned_at": isoformat_or_none(report.assigned_at),
        "clock": report.clock,
        "first_reply_due_at": isoformat_or_none(report.first_reply_due_at),
        "resolution_due_at": isoformat_or_none(report.resolution_due_at),
        "deadlines_provisional": report.deadlines_provisional,
    }


def notify_new_report(
    *,
    session: Session,
    report: Report,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
    routed: RoutedSite | None = None,
) -> int | None:
    """Tell the owner unit that a report has reached it (on submission, routing or transfer).

    `routed`: the site and owner unit the submission read, when it comes from one.
    """
    summary = report_summary(session=session, report=report, routed=routed)
    first_due = local_date(report.first_reply_due_at, settings.tz)
    resolution_due = local_date(report.resolution_due_at, settings.tz)
    where = summary["site_name"] or report.page_url
    text = (
        f"【新留言】{summary['owner_unit_name']}：收到留言 #{report.id}（{where}，"
        f"{summary['category_label']}），请于 {first_due} 前首次答复，{resolution_due} 前办结。"
    )
    return enqueue(
        session=session,
        unit_id=report.owner_unit_id,
        kind=NotificationKind.new_report,
        payload={
            "text": text,
            "report": {**summary, "description": report.description},
        },
        key=f"new_report:{report.id}:{report.clock}:{report.owner_unit_id}",
        now=now,
        report_id=report.id,
        calendar=calendar,
        settings=settings,
        pushed=routed.owner_pushed if routed is not None else None,
    )


# --- Pushing to webhooks ---------------------------------------------------------------


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 over "<timestamp>." followed by the body."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_body(notification: Notification) -> bytes:
    """The JSON document POSTed for a notification, as UTF-8 bytes."""
    envelope = {
        "id": notification.id,
        "key": notification.key,
        "kind": NotificationKind(notification.kind).value,
        "unit_id": notification.unit_id,
        "report_id": notification.report_id,
        "created_at": isoformat_or_none(notification.created_at),
        "data": notification.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class DeliveryResult:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Claimed:
    notification: Notification
    url: str | None
    secret: str | None


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim_due(*, engine: Engine, now: datetime, settings: Settings, worker: str) -> list[_Claimed]:
    """Take due rows for one push attempt, moving them a lease ahead so no one else takes them.

    PostgreSQL: FOR UPDATE SKIP LOCKED lets concurrent schedulers take disjoint rows. SQLite:
    the immediate transaction serialises claims, and the moved next_attempt_at hides the rows.
    A worker that dies after claiming leaves rows that fall due again when the lease ends.
    """
    lease_end = now + timedelta(seconds=settings.outbox_lease_seconds)
    with session_scope(engine) as session:
        rows = session.exec(
            select(Notification, Unit.webhook_url, Unit.webhook_secret)
            .join(Unit, col(Unit.id) == col(Notification.unit_id))
            .where(col(Notification.next_attempt_at) <= now)
            .order_by(col(Notification.next_attempt_at), col(Notification.id))
            .limit(settings.outbox_batch_size)
            .with_for_update(skip_locked=True, of=Notification)
        ).all()
        claimed = []
        for notification, url, secret in rows:
            notification.claimed_by = worker
            notification.claimed_at = now
            notification.next_attempt_at = lease_end
            if notification.first_attempt_at is None:
                notification.first_attempt_at = now
            session.add(notification)
            claimed.append(_Claimed(notification=notification, url=url, secret=secret))
        session.flush()
    return claimed


def _post(
    *, client: httpx.Client, claimed: _Claimed, sent_at: datetime, settings: Settings
) -> str | None:
    """POST one notification; None on a 2xx answer, otherwise what went wrong."""
    notification = claimed.notification
    body = webhook_body(notification)
    timestamp = int(sent_at.timestamp())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: NotificationKind(notification.kind).value,
        IDEMPOTENCY_HEADER: notification.key,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret=claimed.secret, timestamp=timestamp, body=body),
    }
    response = client.post(
        claimed.url, content=body, headers=headers, timeout=settings.webhook_timeout_seconds
    )
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}: {response.text[:ERROR_TEXT_LIMIT]}"


def retry_delay(*, attempts: int, settings: Settings) -> timedelta:
    """Exponential backoff: the wait after the n-th failed attempt."""
    seconds = settings.webhook_backoff_base_seconds * 2 ** min(attempts - 1, 32)
    return timedelta(seconds=min(seconds, settings.webhook_backoff_max_seconds))


def count_attempt(row: Any, *, error: str | None, worker: str, now: datetime) -> str | None:
    """What every outbox row (webhook or citizen message) records alike after one attempt.

    "delivered" or "retrying" when that settles the attempt; None after a failure of this
    worker's own attempt, for the caller to retry or give up by its own rules.
    """
    if row.delivered_at is not None:
        return "delivered"
    if error is None:
        row.attempts += 1
        row.delivered_at = now
        row.next_attempt_at = None
        row.last_error = None
        row.claimed_by = None
        return "delivered"
    if row.claimed_by != worker:
        # The lease ran out and another scheduler took the row: its attempt decides.
        return "retrying"
    row.attempts += 1
    row.last_error = error[:500]
    row.claimed_by = None
    return None


def next_retry(row: Any, *, now: datetime, settings: Settings) -> datetime | None:
    """When a failed row is tried again by the backoff; None once past the retry window."""
    retry_at = now + retry_delay(attempts=row.attempts, settings=settings)
    window_end = (row.first_attempt_at or now) + timedelta(hours=settings.webhook_retry_hours)
    return None if retry_at > window_end else retry_at


def _record_outcome(
    *,
    session: Session,
    notification_id: int,
    error: str | None,
    worker: str,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> str:
    notification = session.get(Notification, notification_id, with_for_update=True)
    if notification is None:
        return "gone"
    settled = count_attempt(notification, error=error, worker=worker, now=now)
    if settled is not None:
        session.add(notification)
        return settled
    retry_at = next_retry(notification, now=now, settings=settings)
    if notification.acknowledged_at is not None:
        notification.next_attempt_at = None
        outcome = "retrying"
    elif retry_at is None:
        notification.next_attempt_at = None
        notification.failed_at = now
        outcome = "failed"
        log.error(
            "webhook delivery of notification %s to unit %s failed for %s hours; last error: "
            "%s; an operator can retry it (POST /api/v1/admin/notifications/%s/retry)",
            notification.id,
            notification.unit_id,
            settings.webhook_retry_hours,
            notification.last_error,
            notification.id,
        )
    else:
        notification.next_attempt_at = next_working_instant(
            instant=retry_at, calendar=calendar, settings=settings
        )
        outcome = "retrying"
    session.add(notification)
    return outcome


def deliver_due(
    *,
    engine: Engine,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar | None = None,
    client: httpx.Client | None = None,
    worker: str | None = None,
) -> DeliveryResult:
    """Push the notifications that are due to their units' webhooks, once, in working hours."""
    worker = worker or default_worker_name()
    if calendar is None:
        with session_scope(engine) as session:
            calendar = get_calendar(session)
    # Rows carry their own working-hours instant, but the calendar may have changed since.
    if not in_working_hours(instant=now, calendar=calendar, settings=settings):
        return DeliveryResult()
    claimed = _claim_due(engine=engine, now=now, settings=settings, worker=worker)
    if not claimed:
        return DeliveryResult()
    outcomes: list[tuple[int, str | None]] = []
    pull_only: list[int] = []
    unsent: list[int] = []
    unreachable: dict[str, str] = {}
    # Stop in time to record the outcomes before the claims' lease ends.
    sending_budget = settings.outbox_lease_seconds - settings.webhook_timeout_seconds
    started = time.monotonic()
    own_client = client is None
    client = client or httpx.Client(follow_redirects=False)
    try:
        for item in claimed:
            notification = item.notification
            elapsed = time.monotonic() - started
            if elapsed > sending_budget:
                unsent.append(notification.id)
                continue
            if not pushes_notifications(item.url, item.secret):
                # The webhook was removed after the row was queued: the unit pulls it instead.
                pull_only.append(notification.id)
                continue
            if item.url in unreachable:
                # Do not wait out the timeout again for every row of an endpoint that is down.
                outcomes.append((notification.id, unreachable[item.url]))
                continue
            posted = time.monotonic()
            try:
                # Signed with the time of sending: receivers reject stale timestamps.
                sent_at = now + timedelta(seconds=elapsed)
                error = _post(client=client, claimed=item, sent_at=sent_at, settings=settings)
                outcome = "ok" if error is None else "http_error"
            except httpx.TransportError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
                unreachable[item.url] = error
                outcome = "unreachable"
            WEBHOOK_SECONDS.labels(outcome=outcome).observe(time.monotonic() - posted)
            outcomes.append((notification.id, error))
    finally:
        if own_client:
            client.close()
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    with session_scope(engine) as session:
        for notification_id in pull_only:
            _stop_pushing(session=session, notification_id=notification_id)
        for notification_id in unsent:
            _release(session=session, notification_id=notification_id, worker=worker, now=now)
        for notification_id, error in outcomes:
            outcome = _record_outcome(
                session=session,
                notification_id=notification_id,
                error=error,
                worker=worker,
                now=now,
                calendar=calendar,
                settings=settings,
            )
            counts[outcome] = counts.get(outcome, 0) + 1
    return DeliveryResult(
        claimed=len(claimed),
        delivered=counts["delivered"],
        retrying=counts["retrying"],
        failed=counts["failed"],
    )


def _release(*, session: Session, notification_id: int, worker: str, now: datetime) -> None:
    """Hand back a claimed row that was not attempted, for the next run to take."""
    notification = session.get(Notification, notification_id, with_for_update=True)
    if notification is not None and notification.claimed_by == worker:
        notification.claimed_by = None
        notification.next_attempt_at = now
        if notification.attempts == 0:
            notification.first_attempt_at = None
        session.add(notification)


def _stop_pushing(*, session: Session, notification_id: int) -> None:
    notification = session.get(Notification, notification_id, with_for_update=True)
    if notification is not None and notification.delivered_at is None:
        notification.next_attempt_at = None
        notification.claimed_by = None
        session.add(notification)


# --- Reading and acknowledging ---------------------------------------------------------


class DeliveryState(StrEnum):
    pending = "pending"  # a push is queued or being retried
    delivered = "delivered"
    failed = "failed"  # retries ran out: operators look, fix the webhook, and retry
    pull_only = "pull_only"  # the unit has no webhook


describe_enum(
    DeliveryState,
    {
        DeliveryState.pending: "待推送或重试中",
        DeliveryState.delivered: "已推送",
        DeliveryState.failed: "推送失败（重试已用尽）",
        DeliveryState.pull_only: "仅供拉取（单位无 webhook）",
    },
)


def _page(*, session: Session, query, limit: int, offset: int) -> tuple[list[Notification], int]:
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Notification.id)).limit(limit).offset(offset)).all()
    return list(rows), total


def list_for_unit(
    *,
    session: Session,
    unit_id: int,
    unacknowledged: bool | None,
    after_id: int | None,
    limit: int,
    offset: int = 0,
) -> tuple[list[Notification], int]:
    """A page of a unit's notifications, oldest first, and their number; optionally only
    those after an id, or only unacknowledged."""
    query = select(Notification).where(Notification.unit_id == unit_id)
    if unacknowledged is True:
        query = query.where(col(Notification.acknowledged_at).is_(None))
    elif unacknowledged is False:
        query = query.where(col(Notification.acknowledged_at).is_not(None))
    if after_id is not None:
        query = query.where(col(Notification.id) > after_id)
    return _page(session=session, query=query, limit=limit, offset=offset)


def acknowledge(
    *, session: Session, unit_id: int, notification_id: int, now: datetime
) -> Notification:
    """Mark a unit's notification as read; a pending push stops. Another unit's is 404."""
    notification = session.get(Notification, notification_id, with_for_update=True)
    if notification is None or notification.unit_id != unit_id:
        raise NotFound(
            f"通知 {notification_id} 不存在或不属于您的单位",
            en=f"notification {notification_id} not found",
            code="notification_not_found",
        )
    if notification.acknowledged_at is None:
        notification.acknowledged_at = now
        if notification.delivered_at is None:
            notification.next_attempt_at = None
        session.add(notification)
        session.flush()
    return notification


def delivery_state(notification: Notification) -> DeliveryState:
    if notification.delivered_at is not None:
        return DeliveryState.delivered
    if notification.failed_at is not None:
        return DeliveryState.failed
    if notification.next_attempt_at is not None:
        return DeliveryState.pending
    return DeliveryState.pull_only


def list_for_operators(
    *,
    session: Session,
    state: DeliveryState | None,
    unit_id: int | None,
    after_id: int | None,
    limit: int,
    offset: int = 0,
) -> tuple[list[Notification], int]:
    """A page of notifications by delivery state, oldest first, and their number: failed ones
    are what operators act on."""
    query = select(Notification)
    delivered = col(Notification.delivered_at)
    failed = col(Notification.failed_at)
    next_attempt = col(Notification.next_attempt_at)
    match state:
        case DeliveryState.delivered:
            query = query.where(delivered.is_not(None))
        case DeliveryState.failed:
            query = query.where(delivered.is_(None), failed.is_not(None))
        case DeliveryState.pending:
            query = query.where(delivered.is_(None), failed.is_(None), next_attempt.is_not(None))
        case DeliveryState.pull_only:
            query = query.where(delivered.is_(None), failed.is_(None), next_attempt.is_(None))
    if unit_id is not None:
        query = query.where(Notification.unit_id == unit_id)
    if after_id is not None:
        query = query.where(col(Notification.id) > after_id)
    return _page(session=session, query=query, limit=limit, offset=offset)


def retry_failed(
    *,
    session: Session,
    notification_id: int,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> Notification:
    """Queue a failed push again, with a fresh retry window, at the next working-hours instant."""
    notification = session.get(Notification, notification_id, with_for_update=True)
    if notification is None:
        raise NotFound(
            f"通知 {notification_id} 不存在或不属于您的单位",
            en=f"notification {notification_id} not found",
            code="notification_not_found",
        )
    state = delivery_state(notification)
    if state != DeliveryState.failed:
        raise Conflict(
            f"只有推送失败的通知才能重试，这条通知的状态是 {state.value}",
            en=f"only a failed delivery can be retried; this one is {state.value}",
            code="notification_not_failed",
        )
    unit = session.get(Unit, notification.unit_id)
    if unit is None or not has_webhook(unit):
        raise Conflict(
            "该单位已没有 webhook（地址和密钥）：它通过 GET /api/v1/unit/notifications 读取通知",
            en="the unit has no webhook (address and secret) any more: it reads its "
            "notifications with GET /api/v1/unit/notifications",
            code="webhook_missing",
        )
    notification.failed_at = None
    notification.first_attempt_at = None
    notification.next_attempt_at = next_working_instant(
        instant=now, calendar=calendar, settings=settings
    )
    session.add(notification)
    session.flush()
    return notification
