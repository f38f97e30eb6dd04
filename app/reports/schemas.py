import re
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import EmailStr, Field, field_validator
from sqlmodel import SQLModel

from app.directory.service import check_site_code
from app.reports.models import CATEGORY_LABELS, Category, DeclineReason, ReportStatus, Verdict

MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$")


def _check_page_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the page address must start with http:// or https:// and name a site")
    return value


def _normalise_phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    compact = re.sub(r"[\s()（）]", "", value)
    if MOBILE.fullmatch(compact.replace("-", "")):
        return compact.replace("-", "").removeprefix("+").removeprefix("86")[-11:]
    if LANDLINE.fullmatch(compact):
        return compact
    raise ValueError("give an 11-digit mobile number (13812345678) or a landline (010-12345678)")


class ReportCreate(SQLModel):
    site_code: str | None = Field(default=None, description="网站标识码, from the site's footer")
    page_url: str = Field(max_length=2000, description="the page with the error")
    category: Category = Field(
        description=" · ".join(f"{code.value} {label}" for code, label in CATEGORY_LABELS.items())
    )
    description: str = Field(description="what is wrong, 5 to 2000 characters")
    name: str | None = Field(default=None, max_length=50)
    phone: str | None = None
    email: EmailStr | None = None

    @field_validator("site_code")
    @classmethod
    def _site_code(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        check_site_code(value)
        return value

    @field_validator("page_url")
    @classmethod
    def _page_url(cls, value: str) -> str:
        return _check_page_url(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        value = value.strip()
        if not 5 <= len(value) <= 2000:
            raise ValueError(f"describe the error in 5 to 2000 characters (you wrote {len(value)})")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return _normalise_phone(value)


class ReportReceipt(SQLModel):
    """What a citizen gets back on submitting: keep the tracking code."""

    tracking_code: str
    status: ReportStatus
    owner_unit_name: str | None
    received_at: datetime
    first_reply_due_at: datetime | None
    resolution_due_at: datetime | None
    deadlines_provisional: bool = Field(
        description="the due dates lie past the official calendar and follow the weekend rule"
    )


class TimelineEntry(SQLModel):
    kind: str
    at: datetime
    text: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class ReportPublic(SQLModel):
    """A report as anyone holding its tracking code sees it: never contact details."""

    tracking_code: str
    status: ReportStatus
    category: Category
    category_label: str
    site_code: str | None
    site_name: str | None
    page_url: str
    description: str
    owner_unit_name: str | None
    received_at: datetime
    first_reply_due_at: datetime | None
    resolution_due_at: datetime | None
    deadlines_provisional: bool
    verdict: Verdict | None
    decline_reason: DeclineReason | None
    first_reply: str | None
    final_answer: str | None
    question: str | None = Field(description="what the unit asked, while it awaits you")
    timeline: list[TimelineEntry]


class SupplementIn(SQLModel):
    text: str = Field(min_length=2, max_length=2000)


class ReportSummary(SQLModel):
    """A line of a unit's inbox."""

    id: int
    tracking_code: str
    status: ReportStatus
    category: Category
    site_code: str | None
    page_url: str
    owner_unit_id: int | None
    received_at: datetime
    assigned_at: datetime | None
    first_reply_due_at: datetime | None
    resolution_due_at: datetime | None
    deadlines_provisional: bool
    first_responded_at: datetime | None
    closed_at: datetime | None


class ReportEventOut(SQLModel):
    id: int
    kind: str
    actor: str
    actor_unit_id: int | None
    at: datetime
    data: dict[str, Any]


class ReportDetail(ReportSummary):
    """A report as the units that may see it see it.

    The citizen's contact details are filled in only for the owner unit and its supervisors:
    an admin elsewhere in the tree, or anyone looking at an unrouted report, gets nulls.
    """

    description: str
    site_id: int | None
    citizen_name: str | None
    citizen_phone: str | None
    citizen_email: str | None
    verdict: Verdict | None
    decline_reason: DeclineReason | None
    first_reply: str | None
    final_answer: str | None
    first_replied_at: datetime | None
    handling_workdays: int | None
    paused_at: datetime | None
    paused_workdays: int
    clock: int
    events: list[ReportEventOut]


class InboxPage(SQLModel):
    items: list[ReportSummary]
    total: int
    limit: int
    offset: int


class ReplyIn(SQLModel):
    answer: str = Field(min_length=2, max_length=5000)


class ResolveIn(SQLModel):
    verdict: Verdict
    answer: str = Field(min_length=2, max_length=5000)


class DeclineIn(SQLModel):
    reason: DeclineReason
    answer: str = Field(min_length=2, max_length=5000)


class TransferIn(SQLModel):
    to_unit_id: int
    note: str = Field(default="", max_length=2000)


class InfoRequestIn(SQLModel):
    question: str = Field(min_length=2, max_length=2000)


class RouteIn(SQLModel):
    unit_id: int | None = None
    site_id: int | None = None


class InboxFilters(SQLModel):
    status: ReportStatus | None = None
    category: Category | None = None
    site_code: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    overdue: bool | None = None
    due_within_workdays: int | None = Field(default=None, ge=0, le=60)
    unit_id: int | None = None
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)
