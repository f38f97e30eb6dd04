import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from annotated_types import MaxLen
from pydantic import EmailStr, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError
from sqlmodel import SQLModel

from app.directory.models import SITE_CODE_HINT, SITE_CODE_MAX, SITE_CODE_REGEX
from app.directory.service import is_valid_site_code
from app.fields import (
    Id,
    IsoDate,
    JsonSchemaExtra,
    MultiLineText,
    Offset,
    SingleLineText,
)
from app.reports.models import (
    CATEGORY_LABELS,
    CITIZEN_EMAIL_MAX,
    CITIZEN_NAME_MAX,
    CITIZEN_PHONE_MAX,
    PAGE_URL_MAX,
    TRACKING_CODE_REGEX,
    Category,
    DeclineReason,
    ReportStatus,
    Verdict,
)

MOBILE = re.compile(r"^(?:\+?86)?1[3-9][0-9]{9}$")
LANDLINE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}(?:-[0-9]{1,6})?$")

# The forms a client should send (the service also takes spaces, brackets and dashes inside).
PHONE_PATTERN = "^ *((\\+?86)?1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?)? *$"
DESCRIPTION_MIN, DESCRIPTION_MAX = 5, 2000
SUPPLEMENT_MAX = QUESTION_MAX = NOTE_MAX = 2000
ANSWER_MAX = 5000
# A site code as a citizen types it: blank means "I don't know it".
GivenSiteCode = Annotated[
    SingleLineText(SITE_CODE_MAX),
    JsonSchemaExtra((("pattern", "^ *(" + SITE_CODE_REGEX.strip("^$") + ")? *$"),)),
]
# The schema's pattern tells clients (and generated tests) the shape _check_page_url wants.
PageUrl = Annotated[
    SingleLineText(PAGE_URL_MAX, min_length=1),
    JsonSchemaExtra(
        (
            (
                "pattern",
                "^[Hh][Tt][Tt][Pp][Ss]?://[^\\u0000-\\u0020/?#@:\\[\\]\\u007f-\\u009f]+"
                "(:[0-9]{1,5})?([/?#][^\\u0000-\\u001f\\u007f-\\u009f]*)?$",
            ),
        )
    ),
]
Answer = MultiLineText(ANSWER_MAX, min_length=2)
TrackingCode = Annotated[
    str, StringConstraints(pattern=TRACKING_CODE_REGEX, min_length=16, max_length=16)
]


def _check_page_url(value: str) -> str:
    value = value.strip()
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:  # an unclosed [ in the host, say
        hostname = None
    if parts.scheme not in ("http", "https") or not hostname:
        raise PydanticCustomError("page_url", "must start with http:// or https:// and name a site")
    return value


def _normalise_phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    compact = re.sub(r"[\s()（）]", "", value)
    if MOBILE.fullmatch(compact.replace("-", "")):
        return compact.replace("-", "").removeprefix("+").removeprefix("86")[-11:]
    if LANDLINE.fullmatch(compact):
        return compact
    raise PydanticCustomError(
        "phone", "must be an 11-digit mobile number (13812345678) or a landline (010-12345678)"
    )


def _email_fits_column(value: str | None) -> str | None:
    # EmailStr takes addresses of up to 254 characters; the column holds 200.
    if value is not None and len(value) > CITIZEN_EMAIL_MAX:
        raise PydanticCustomError(
            "string_too_long",
            "String should have at most {max_length} characters",
            {"max_length": CITIZEN_EMAIL_MAX},
        )
    return value


class ReportCreate(SQLModel):
    site_code: GivenSiteCode | None = Field(
        default=None, description="网站标识码, from the site's footer"
    )
    page_url: PageUrl = Field(description="the page with the error")
    category: Category = Field(
        description=" · ".join(f"{code.value} {label}" for code, label in CATEGORY_LABELS.items())
    )
    description: MultiLineText(DESCRIPTION_MAX, min_length=DESCRIPTION_MIN) = Field(
        description="what is wrong, 5 to 2000 characters"
    )
    name: SingleLineText(CITIZEN_NAME_MAX) | None = None
    phone: (
        Annotated[
            SingleLineText(CITIZEN_PHONE_MAX),
            JsonSchemaExtra((("pattern", PHONE_PATTERN),)),
        ]
        | None
    ) = None
    email: Annotated[EmailStr, MaxLen(CITIZEN_EMAIL_MAX)] | None = None

    @field_validator("site_code")
    @classmethod
    def _site_code(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not is_valid_site_code(value):
            raise PydanticCustomError("site_code", "is not a site code: " + SITE_CODE_HINT)
        return value

    @field_validator("page_url")
    @classmethod
    def _page_url(cls, value: str) -> str:
        return _check_page_url(value)

    # Before the length limits, which count what is left once the spaces around are gone.
    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip()
        if len(value) < DESCRIPTION_MIN:
            raise PydanticCustomError(
                "description_length",
                "describe the error in {min} to {max} characters (you wrote {length})",
                {"min": DESCRIPTION_MIN, "max": DESCRIPTION_MAX, "length": len(value)},
            )
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _email_fits_column(value)

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
    text: MultiLineText(SUPPLEMENT_MAX, min_length=2)


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
    answer: Answer


class ResolveIn(SQLModel):
    verdict: Verdict
    answer: Answer


class DeclineIn(SQLModel):
    reason: DeclineReason
    answer: Answer


class TransferIn(SQLModel):
    to_unit_id: Id
    note: MultiLineText(NOTE_MAX) = ""


class InfoRequestIn(SQLModel):
    question: MultiLineText(QUESTION_MAX, min_length=2)


class RouteIn(SQLModel):
    unit_id: Id | None = None
    site_id: Id | None = None


class InboxFilters(SQLModel):
    status: ReportStatus | None = None
    category: Category | None = None
    site_code: GivenSiteCode | None = None
    received_from: IsoDate | None = None
    received_to: IsoDate | None = None
    overdue: bool | None = None
    due_within_workdays: int | None = Field(default=None, ge=0, le=60)
    unit_id: Id | None = None
    limit: int = Field(default=50, ge=1, le=500)
    offset: Offset = 0
