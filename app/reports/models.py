from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, false, text, true
from sqlmodel import Field, SQLModel

from app.contract import describe_enum
from app.db import UtcDateTime, utcnow


class Category(IntEnum):
    """The national platform's own category codes."""

    inaccessible = 0  # 内容无法访问
    not_updated = 1  # 信息不更新
    inaccurate = 2  # 内容不准确
    unanswered_enquiry = 3  # 咨询留言不回复
    typo = 4  # 错别字
    fabricated = 5  # 虚假伪造内容
    other = 6  # 其他
    service_failure = 10  # 办事服务问题


CATEGORY_LABELS: dict[Category, str] = {
    Category.inaccessible: "内容无法访问",
    Category.not_updated: "信息不更新",
    Category.inaccurate: "内容不准确",
    Category.unanswered_enquiry: "咨询留言不回复",
    Category.typo: "错别字",
    Category.fabricated: "虚假伪造内容",
    Category.other: "其他",
    Category.service_failure: "办事服务问题",
}
describe_enum(Category, CATEGORY_LABELS)


class ReportStatus(StrEnum):
    unrouted = "unrouted"
    assigned = "assigned"
    replied = "replied"
    awaiting_citizen = "awaiting_citizen"
    resolved = "resolved"
    declined = "declined"


OPEN_STATUSES = (
    ReportStatus.unrouted,
    ReportStatus.assigned,
    ReportStatus.replied,
    ReportStatus.awaiting_citizen,
)
CLOSED_STATUSES = (ReportStatus.resolved, ReportStatus.declined)
# Held by an owner unit with a clock, running or paused: the unit can still answer it.
CLOCKED_STATUSES = (ReportStatus.assigned, ReportStatus.replied, ReportStatus.awaiting_citizen)
# A paused clock (awaiting_citizen) is neither overdue nor coming due, and has no rung ahead.
RUNNING_STATUSES = (ReportStatus.assigned, ReportStatus.replied)


STATUS_LABELS: dict[ReportStatus, str] = {
    ReportStatus.unrouted: "待分办",
    ReportStatus.assigned: "办理中",
    ReportStatus.replied: "已答复",
    ReportStatus.awaiting_citizen: "待网民补充",
    ReportStatus.resolved: "已办结",
    ReportStatus.declined: "不予受理",
}
describe_enum(ReportStatus, STATUS_LABELS)


class Verdict(StrEnum):
    confirmed = "confirmed"  # 属实
    not_confirmed = "not_confirmed"  # 不属实


VERDICT_LABELS: dict[Verdict, str] = {Verdict.confirmed: "属实", Verdict.not_confirmed: "不属实"}
describe_enum(Verdict, VERDICT_LABELS)


class DeclineReason(StrEnum):
    duplicate = "duplicate"
    out_of_scope = "out_of_scope"
    insufficient_info = "insufficient_info"
    other = "other"


DECLINE_REASON_LABELS: dict[DeclineReason, str] = {
    DeclineReason.duplicate: "重复留言",
    DeclineReason.out_of_scope: "不属于受理范围",
    DeclineReason.insufficient_info: "信息不足",
    DeclineReason.other: "其他",
}
describe_enum(DeclineReason, DECLINE_REASON_LABELS)


class Rating(StrEnum):
    """The citizen's rating of a closing (评价), stored as text."""

    satisfied = "satisfied"  # 满意
    basically_satisfied = "basically_satisfied"  # 基本满意
    dissatisfied = "dissatisfied"  # 不满意


RATING_LABELS: dict[Rating, str] = {
    Rating.satisfied: "满意",
    Rating.basically_satisfied: "基本满意",
    Rating.dissatisfied: "不满意",
}
describe_enum(Rating, RATING_LABELS)
# The ratings 满意率 counts as satisfied.
SATISFIED_RATINGS = (Rating.satisfied, Rating.basically_satisfied)


# Every column statistics read of a report (app.stats.queries.figure_columns), the receipt
# first for the period's range.
UNSETTLED_COLUMNS = (
    "received_at",
    "owner_unit_id",
    "status",
    "verdict",
    "closed_at",
    "first_responded_at",
    "first_reply_due_at",
    "resolution_due_at",
    "paused_at",
    "handling_workdays",
    "extended_at",
    # The citizen loop (app/reports/ratings.py, app/reports/duplicates.py).
    "decline_reason",
    "rating",
    "rated_at",
    "reopened_at",
)


# Column lengths the request schemas declare as their maximum (app/reports/schemas.py).
PAGE_URL_MAX = 2000
CITIZEN_NAME_MAX, CITIZEN_PHONE_MAX, CITIZEN_EMAIL_MAX = 50, 30, 200
# A tracking code as app.reports.service makes it (read case-insensitively): 16 characters of
# an alphabet without 0/O and 1/I/L.
TRACKING_CODE_REGEX = "^[2-9A-HJKMNP-Za-hjkmnp-z]{16}$"


class Report(SQLModel, table=True):
    __table_args__ = (
        Index("ix_report_owner_status_received", "owner_unit_id", "status", "received_at"),
        Index("ix_report_received_at", "received_at"),
        # The public list of answers: resolved, published, newest resolution first.
        Index("ix_report_answered", "status", "published", "closed_at", "id"),
        # Statistics read the reports not settled yet from this index alone: a small part of
        # the table once most reports are closed and settled.
        Index(
            "ix_report_unsettled",
            *UNSETTLED_COLUMNS,
            postgresql_where=text("settled = false"),
            sqlite_where=text("settled = 0"),
        ),
        # Possible duplicates at intake: one indexed lookup (app/reports/duplicates.py).
        Index("ix_report_duplicate_lookup", "page_url_key", "site_id", "category", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tracking_code: str = Field(max_length=32, unique=True)
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    site_code: str | None = Field(default=None, max_length=20, description="as the citizen gave it")
    owner_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    category: int
    page_url: str = Field(max_length=PAGE_URL_MAX)
    description: str = Field(sa_column=Column(Text, nullable=False))

    # Contact details: seen only by the owner unit and its supervisors.
    citizen_name: str | None = Field(default=None, max_length=CITIZEN_NAME_MAX)
    citizen_phone: str | None = Field(default=None, max_length=CITIZEN_PHONE_MAX)
    citizen_email: str | None = Field(default=None, max_length=CITIZEN_EMAIL_MAX)

    status: ReportStatus = Field(max_length=20)
    verdict: Verdict | None = Field(default=None, max_length=20)
    decline_reason: DeclineReason | None = Field(default=None, max_length=20)
    first_reply: str | None = Field(default=None, sa_column=Column(Text))
    final_answer: str | None = Field(default=None, sa_column=Column(Text))

    received_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # Receipt by the current owner unit: transfers and routing restart the clocks here.
    assigned_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    # The number of clocks started so far; escalation rungs are unique per clock.
    clock: int = 0
    # The current owner's first response: a reply, resolution, decline or transfer.
    first_responded_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    first_replied_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    handling_workdays: int | None = Field(
        default=None, description="working days in (assigned date, closed date]"
    )
    # Closed and added into its owner's figures by month and year (app.stats.settle); never
    # undone, as a closed report no longer changes.
    settled: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # False: the owner unit keeps it off the public list of answers (留言选登).
    published: bool = Field(default=True, sa_column_kwargs={"server_default": true()})

    first_reply_due_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    resolution_due_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    deadlines_provisional: bool = Field(
        default=False, description="computed past the official calendar, on the weekend rule"
    )
    paused_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    paused_workdays: int = Field(default=0, description="working days paused on this clock")
    # Those of them that moved the first-reply due: only a pause begun while the first reply was
    # owed and not yet due counts, as pausing never clears a reply already late (or given).
    first_reply_paused_workdays: int = Field(
        default=0, sa_column_kwargs={"server_default": text("0")}
    )
    # Working days approved extensions (延期) added to this clock's resolution due, and when
    # the latest was approved (app.reports.extensions); a new clock starts without any.
    extension_workdays: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    extended_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    status_before_pause: ReportStatus | None = Field(default=None, max_length=20)

    # Routing the citizen can trust: the site was closed when the report reached its owner;
    # the page's host belongs to another site than the site code's (that site's code).
    site_closed: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    page_host_site_code: str | None = Field(default=None, max_length=20)

    # The next escalation rung and when it comes due; NULL when none is pending.
    next_rung: str | None = Field(default=None, max_length=30)
    next_rung_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), index=True))

    # Rating and reopening (app/reports/ratings.py): the window is set on the first closing; the
    # citizen rates once; a dissatisfied rating with a reason reopens it once.
    rating: str | None = Field(default=None, max_length=30, description="a Rating value")
    rating_comment: str | None = Field(default=None, sa_column=Column(Text))
    rated_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    rating_due_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    reopened_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))

    # Duplicates (app/reports/duplicates.py): the page address normalised, and its SHA-256 that
    # the lookup index holds (a long address would not fit a PostgreSQL index entry).
    normalized_page_url: str | None = Field(default=None, sa_column=Column(Text))
    page_url_key: str | None = Field(default=None, max_length=64)
    possible_duplicate_ids: list[int] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, server_default=text("'[]'")),
    )
    duplicate_of_id: int | None = Field(default=None, foreign_key="report.id")

    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )


class EventKind(StrEnum):
    submitted = "submitted"
    routed = "routed"
    replied = "replied"
    resolved = "resolved"
    declined = "declined"
    transferred = "transferred"
    info_requested = "info_requested"
    supplemented = "supplemented"
    deadlines_recomputed = "deadlines_recomputed"
    reminder = "reminder"
    urge = "urge"  # 催办
    supervise = "supervise"  # 督办
    # A pause awaiting the citizen ran out (ZHAOCUO_PAUSE_MAX_WORKDAYS): the clocks resumed.
    pause_expired = "pause_expired"
    publication_changed = "publication_changed"
    extension_requested = "extension_requested"  # 延期申请
    extension_approved = "extension_approved"  # 延期批准
    extension_refused = "extension_refused"  # 延期不予批准
    rated = "rated"  # 网民评价
    reopened = "reopened"  # 重办


EVENT_KIND_LABELS: dict[EventKind, str] = {
    EventKind.submitted: "提交留言",
    EventKind.routed: "分办",
    EventKind.replied: "首次答复",
    EventKind.resolved: "办结",
    EventKind.declined: "不予受理",
    EventKind.transferred: "转办",
    EventKind.info_requested: "请网民补充信息",
    EventKind.supplemented: "网民补充信息",
    EventKind.deadlines_recomputed: "因日历调整重算期限",
    EventKind.reminder: "到期提醒",
    EventKind.urge: "催办",
    EventKind.supervise: "督办",
    EventKind.pause_expired: "补充期满，恢复计时",
    EventKind.publication_changed: "调整是否公开选登",
    EventKind.extension_requested: "申请延期办理",
    EventKind.extension_approved: "批准延期办理",
    EventKind.extension_refused: "不予批准延期",
    EventKind.rated: "网民评价",
    EventKind.reopened: "重新办理",
}
describe_enum(EventKind, EVENT_KIND_LABELS)

# Events the citizen sees on the public timeline (with their public text only).
PUBLIC_EVENT_KINDS = frozenset(
    {
        EventKind.submitted,
        EventKind.routed,
        EventKind.replied,
        EventKind.resolved,
        EventKind.declined,
        EventKind.transferred,
        EventKind.info_requested,
        EventKind.supplemented,
        EventKind.pause_expired,
        EventKind.extension_approved,
        EventKind.rated,
        EventKind.reopened,
    }
)


class ReportEvent(SQLModel, table=True):
    """Append-only history of a report: every change, reminder and escalation."""

    __tablename__ = "report_event"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    kind: EventKind = Field(max_length=30)
    actor: str = Field(max_length=100, description="citizen, system, scheduler or unit:<id>:<role>")
    actor_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
