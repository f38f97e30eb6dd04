from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AliasChoices
from sqlmodel import Field, Session, SQLModel

from app.auth import Principal, get_principal, require_admin
from app.config import Settings
from app.contract import (
    DEFAULT_LIMIT,
    MAX_ID,
    LimitQuery,
    LocalDateTime,
    OffsetQuery,
    Page,
    error_responses,
)
from app.db import RequestSession
from app.deps import get_app_settings, get_now, get_work_calendar
from app.sla import citizen, notify
from app.sla.citizen import CitizenDeliveryState
from app.sla.models import CitizenChannel, Notification, NotificationKind
from app.sla.notify import DeliveryState
from app.workdays.calendar import WorkCalendar

router = APIRouter(tags=["notifications"])

NotificationId = Annotated[int, Path(ge=1, le=MAX_ID, description="the notification's id")]
AfterIdQuery = Annotated[
    int | None,
    Query(ge=0, le=MAX_ID, description="only notifications with a larger id (the last one seen)"),
]


class NotificationOut(SQLModel):
    """A message to a unit: what its webhook receives, also for pulling."""

    id: int = Field(description="the notification's id, increasing")
    key: str = Field(description="unique key: the same event never makes two notifications")
    kind: NotificationKind = Field(description="what it is about")
    unit_id: int = Field(description="the unit it is for")
    report_id: int | None = Field(description="the report it is about, if any")
    created_at: LocalDateTime = Field(description="when it was written")
    data: dict[str, Any] = Field(
        validation_alias=AliasChoices("data", "payload"),
        description="the particulars, as in the webhook body's data",
    )
    acknowledged_at: LocalDateTime | None = Field(description="when the unit acknowledged it")


class NotificationDelivery(NotificationOut):
    """A notification with the state of its webhook push, for operators."""

    state: DeliveryState = Field(description="where its push stands")
    not_before: LocalDateTime = Field(description="not pushed before (working hours only)")
    attempts: int = Field(description="push attempts so far")
    first_attempt_at: LocalDateTime | None = Field(description="the first push attempt")
    next_attempt_at: LocalDateTime | None = Field(description="the next push attempt, if any")
    delivered_at: LocalDateTime | None = Field(description="when the webhook accepted it")
    failed_at: LocalDateTime | None = Field(description="when retries ran out")
    last_error: str | None = Field(description="the last push's error, for operators")


def _delivery(notification: Notification) -> NotificationDelivery:
    return NotificationDelivery.model_validate(
        notification, update={"state": notify.delivery_state(notification)}
    )


@router.get(
    "/api/v1/unit/notifications",
    response_model=Page[NotificationOut],
    summary="本单位的通知 (the unit's notifications to pull)",
    responses=error_responses(401, 422),
)
def list_notifications(
    unacknowledged: bool | None = Query(
        None, description="true: only those not acknowledged; false: only acknowledged ones"
    ),
    after_id: AfterIdQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
) -> Page[NotificationOut]:
    """The caller's unit's notifications, oldest first: what its webhook gets, for pulling."""
    rows, total = notify.list_for_unit(
        session=session,
        unit_id=principal.unit_id,
        unacknowledged=unacknowledged,
        after_id=after_id,
        limit=limit,
        offset=offset,
    )
    return Page[NotificationOut](
        items=[NotificationOut.model_validate(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/api/v1/unit/notifications/{notification_id}/ack",
    response_model=NotificationOut,
    summary="确认已读 (acknowledge a notification)",
    responses=error_responses(401, 404, 422),
)
def acknowledge_notification(
    notification_id: NotificationId,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
) -> NotificationOut:
    """Acknowledge a notification: it leaves the unacknowledged list and is no longer pushed."""
    row = notify.acknowledge(
        session=session, unit_id=principal.unit_id, notification_id=notification_id, now=now
    )
    return NotificationOut.model_validate(row)


@router.get(
    "/api/v1/admin/notifications",
    response_model=Page[NotificationDelivery],
    summary="通知推送情况 (webhook deliveries, admin)",
    responses=error_responses(401, 403, 422),
)
def list_deliveries(
    state: DeliveryState | None = Query(None, description="failed: pushes that ran out of retries"),
    unit_id: int | None = Query(None, ge=1, le=MAX_ID, description="only this unit's"),
    after_id: AfterIdQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
    _: Principal = Depends(require_admin),
    session: Session = RequestSession,
) -> Page[NotificationDelivery]:
    """Notifications with their delivery state (admin), oldest first."""
    rows, total = notify.list_for_operators(
        session=session,
        state=state,
        unit_id=unit_id,
        after_id=after_id,
        limit=limit,
        offset=offset,
    )
    return Page[NotificationDelivery](
        items=[_delivery(row) for row in rows], total=total, limit=limit, offset=offset
    )


@router.post(
    "/api/v1/admin/notifications/{notification_id}/retry",
    response_model=NotificationDelivery,
    summary="重新推送失败的通知 (retry a failed push, admin)",
    responses=error_responses(401, 403, 404, 409, 422),
)
def retry_delivery(
    notification_id: NotificationId,
    _: Principal = Depends(require_admin),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    calendar: WorkCalendar = Depends(get_work_calendar),
    settings: Settings = Depends(get_app_settings),
) -> NotificationDelivery:
    """Queue a failed push again with a fresh retry window (admin), once the webhook is fixed."""
    row = notify.retry_failed(
        session=session,
        notification_id=notification_id,
        now=now,
        calendar=calendar,
        settings=settings,
    )
    return _delivery(row)


# --- Messages to citizens (operators) ---------------------------------------------------

CitizenMessageId = Annotated[int, Path(ge=1, le=MAX_ID, description="the citizen message's id")]


class CitizenMessageDelivery(SQLModel):
    """A message to a report's citizen and its delivery: no text, no address (operators)."""

    id: int = Field(description="the message's id, increasing")
    key: str = Field(description="idempotency key: sent with it, unique")
    report_id: int = Field(description="the report whose citizen it is for")
    channel: CitizenChannel = Field(description="e-mail or SMS")
    kind: str = Field(description="the report event it tells of (submitted, replied, ...)")
    state: CitizenDeliveryState = Field(description="where its delivery stands")
    created_at: LocalDateTime = Field(description="when it was written")
    not_before: LocalDateTime = Field(description="not sent before (SMS: outside quiet hours)")
    attempts: int = Field(description="delivery attempts so far")
    first_attempt_at: LocalDateTime | None = Field(description="the first attempt")
    next_attempt_at: LocalDateTime | None = Field(description="the next attempt, if any")
    delivered_at: LocalDateTime | None = Field(description="when the server or gateway took it")
    failed_at: LocalDateTime | None = Field(description="when retries ran out")
    last_error: str | None = Field(description="the last attempt's error, without the address")


@router.get(
    "/api/v1/admin/citizen-messages",
    response_model=Page[CitizenMessageDelivery],
    summary="网民消息发送情况 (e-mail and SMS to citizens, admin)",
    responses=error_responses(401, 403, 422),
)
def list_citizen_messages(
    state: CitizenDeliveryState | None = Query(
        None, description="failed: messages that ran out of retries"
    ),
    report_id: int | None = Query(None, ge=1, le=MAX_ID, description="only this report's"),
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
    _: Principal = Depends(require_admin),
    session: Session = RequestSession,
) -> Page[CitizenMessageDelivery]:
    """Messages to citizens with their delivery state (admin), oldest first; never their text
    or address."""
    rows, total = citizen.list_for_operators(
        session=session, state=state, report_id=report_id, limit=limit, offset=offset
    )
    return Page[CitizenMessageDelivery](
        items=[CitizenMessageDelivery.model_validate(citizen.summary(row)) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/api/v1/admin/citizen-messages/{message_id}/retry",
    response_model=CitizenMessageDelivery,
    summary="重新发送失败的网民消息 (retry a failed citizen message, admin)",
    responses=error_responses(401, 403, 404, 409, 422),
)
def retry_citizen_message(
    message_id: CitizenMessageId,
    _: Principal = Depends(require_admin),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    settings: Settings = Depends(get_app_settings),
) -> CitizenMessageDelivery:
    """Queue a failed citizen message again with a fresh retry window (admin), once the mail
    server or SMS gateway is fixed."""
    row = citizen.retry_failed(session=session, message_id_=message_id, now=now, settings=settings)
    return CitizenMessageDelivery.model_validate(citizen.summary(row))
