"""Escalation rungs fired, and the notification outbox."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.contract import describe_enum
from app.db import UtcDateTime, utcnow


class Rung(StrEnum):
    """The escalation ladder of one clock, in the order its rungs come due."""

    reminder = "reminder"  # 提醒: to the owner, one working day before first-reply due
    urge = "urge"  # 催办: to the owner and its parent, at first-reply overdue
    supervise = "supervise"  # 督办: to the parent and the grandparent, at resolution overdue


RUNG_LABELS: dict[Rung, str] = {Rung.reminder: "提醒", Rung.urge: "催办", Rung.supervise: "督办"}


class EscalationRung(SQLModel, table=True):
    """A rung fired for one report and clock; the unique row is the claim that it fired once."""

    __tablename__ = "escalation_rung"
    __table_args__ = (
        UniqueConstraint("report_id", "clock", "rung", name="uq_escalation_rung_report_clock_rung"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id")
    clock: int
    rung: Rung = Field(max_length=30)
    due_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    fired_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    target_unit_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class NotificationKind(StrEnum):
    new_report = "new_report"
    reminder = "reminder"
    urge = "urge"
    supervise = "supervise"
    nightly_report = "nightly_report"
    pause_expired = "pause_expired"
    reopened = "reopened"


describe_enum(
    NotificationKind,
    {
        NotificationKind.new_report: "新留言",
        NotificationKind.reminder: "到期提醒",
        NotificationKind.urge: "催办",
        NotificationKind.supervise: "督办",
        NotificationKind.nightly_report: "每日时限报告",
        NotificationKind.pause_expired: "补充期满，恢复计时",
        NotificationKind.reopened: "网民不满意重办",
    },
)


class Notification(SQLModel, table=True):
    """One message to one unit, written in the transaction of the change that caused it.

    Units read every notification through the pull API; those with a webhook also get it
    pushed. `next_attempt_at` is set while a push is pending and NULL otherwise, so the
    delivery job's indexed query only ever sees rows it has work to do on.
    """

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_unit_id_id", "unit_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True, description="idempotency key, sent with it")
    unit_id: int = Field(foreign_key="unit.id")
    kind: NotificationKind = Field(max_length=30)
    report_id: int | None = Field(default=None, foreign_key="report.id", index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )
    # The first instant inside working hours on a working day: nothing is pushed before it.
    not_before: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))

    attempts: int = 0
    first_attempt_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    next_attempt_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), index=True)
    )
    # Who took the row for a push attempt and when; the lease ends at next_attempt_at.
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    failed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    last_error: str | None = Field(default=None, max_length=500)
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))


class CitizenChannel(StrEnum):
    email = "email"
    sms = "sms"


describe_enum(CitizenChannel, {CitizenChannel.email: "电子邮件", CitizenChannel.sms: "短信"})


class CitizenMessage(SQLModel, table=True):
    """One message to the citizen of a report over one channel: the citizens' outbox.

    Written in the transaction of the event it tells of, delivered at least once by the
    scheduler, like `Notification`. It holds no address: the delivery reads the report's
    e-mail or phone when it sends, so the contact details stay in the one row units of the
    owner's tree may read. It is listed to operators only, without its text (which carries
    the tracking code).
    """

    __tablename__ = "citizen_message"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True, description="idempotency key, sent with it")
    report_id: int = Field(foreign_key="report.id", index=True)
    channel: CitizenChannel = Field(max_length=10)
    # The report event's kind (a string: kinds added later are told of by value).
    kind: str = Field(max_length=30)
    subject: str = Field(max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )
    # E-mail: at once; SMS: outside the quiet hours.
    not_before: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    attempts: int = 0
    first_attempt_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    next_attempt_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), index=True)
    )
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    failed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    # Never an address: errors are stripped of the recipient before they are stored.
    last_error: str | None = Field(default=None, max_length=500)
