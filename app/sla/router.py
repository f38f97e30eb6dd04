from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session, SQLModel

from app.auth import Principal, get_principal, require_admin
from app.config import Settings
from app.db import RequestSession
from app.deps import get_app_settings, get_now, get_work_calendar
from app.fields import Id
from app.sla import notify
from app.sla.models import Notification, NotificationKind
from app.sla.notify import DeliveryState
from app.workdays.calendar import WorkCalendar

router = APIRouter(tags=["notifications"])


class NotificationOut(SQLModel):
    id: int
    key: str
    kind: NotificationKind
    unit_id: int
    report_id: int | None
    created_at: datetime
    payload: dict[str, Any]
    acknowledged_at: datetime | None


class NotificationPage(SQLModel):
    items: list[NotificationOut]
    next_after_id: int | None


class NotificationDelivery(NotificationOut):
    state: DeliveryState
    not_before: datetime
    attempts: int
    first_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    last_error: str | None


def _delivery(notification: Notification) -> NotificationDelivery:
    return NotificationDelivery.model_validate(
        notification, update={"state": notify.delivery_state(notification)}
    )


@router.get("/api/v1/unit/notifications", response_model=NotificationPage)
def list_notifications(
    unacknowledged: bool | None = Query(None, description="true: only those not acknowledged"),
    after_id: Id | None = Query(None, description="the next_after_id of the previous page"),
    limit: int = Query(100, ge=1, le=500),
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
) -> NotificationPage:
    """The caller's unit's notifications, oldest first: what its webhook gets, for pulling."""
    rows = notify.list_for_unit(
        session=session,
        unit_id=principal.unit_id,
        unacknowledged=unacknowledged,
        after_id=after_id,
        limit=limit,
    )
    return NotificationPage(
        items=[NotificationOut.model_validate(row) for row in rows],
        next_after_id=rows[-1].id if len(rows) == limit else None,
    )


@router.post("/api/v1/unit/notifications/{notification_id}/ack", response_model=NotificationOut)
def acknowledge_notification(
    notification_id: Id,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
) -> NotificationOut:
    """Acknowledge a notification: it leaves the unacknowledged list and is no longer pushed."""
    row = notify.acknowledge(
        session=session, unit_id=principal.unit_id, notification_id=notification_id, now=now
    )
    return NotificationOut.model_validate(row)


@router.get("/api/v1/admin/notifications", response_model=list[NotificationDelivery])
def list_deliveries(
    state: DeliveryState | None = Query(None, description="failed: pushes that ran out of retries"),
    unit_id: Id | None = None,
    after_id: Id | None = None,
    limit: int = Query(100, ge=1, le=500),
    _: Principal = Depends(require_admin),
    session: Session = RequestSession,
) -> list[NotificationDelivery]:
    """Notifications with their delivery state (admin), oldest first."""
    rows = notify.list_for_operators(
        session=session, state=state, unit_id=unit_id, after_id=after_id, limit=limit
    )
    return [_delivery(row) for row in rows]


@router.post(
    "/api/v1/admin/notifications/{notification_id}/retry", response_model=NotificationDelivery
)
def retry_delivery(
    notification_id: Id,
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
