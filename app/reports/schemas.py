import re
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from annotated_types import MaxLen
from pydantic import ConfigDict, EmailStr, Field, StringConstraints, computed_field, field_validator
from pydantic_core import PydanticCustomError
from sqlmodel import SQLModel

from app.contract import DEFAULT_LIMIT, MAX_LIMIT, LocalDateTime, business_zone
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
    EventKind,
    Rating,
    ReportStatus,
    Verdict,
)
from app.reports.screenshots import AttachmentInfo

TRACKING_CODE_DESCRIPTION = "查询码: 16 letters and digits, the citizen's key to the report"
RECEIVED_DATE_DESCRIPTION = (
    "the local date of receipt: the day received_from/received_to filter on, not counted"
)
FIRST_REPLY_DUE_DESCRIPTION = "end of the last working day for the first reply (首次答复)"
RESOLUTION_DUE_DESCRIPTION = "end of the last working day for the resolution (办结)"
PROVISIONAL_DESCRIPTION = "the due dates lie past the official calendar and follow the weekend rule"

MOBILE = re.compile(r"^(?:\+?86)?1[3-9][0-9]{9}$")
LANDLINE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}(?:-[0-9]{1,6})?$")

# The forms a client should send (the service also takes spaces, brackets and dashes inside).
PHONE_PATTERN = "^ *((\\+?86)?1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?)? *$"
DESCRIPTION_MIN, DESCRIPTION_MAX = 5, 2000
SUPPLEMENT_MAX = QUESTION_MAX = NOTE_MAX = 2000
ANSWER_MAX = 5000
RATING_COMMENT_MAX = 1000
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
    """A citizen's report of an error on a government website."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "site_code": "6108000003",
                    "page_url": "https://www.shaanxi.gov.cn/zfxxgk/tzgg/202609/t20260915_1.html",
                    "category": 4,
                    "description": "通知标题把“教育厅”写成了“叫育厅”，请核实更正。",
                    "name": "张先生",
                    "phone": "13812345678",
                    "email": "zhang@example.com",
                }
            ]
        }
    )

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
    name: SingleLineText(CITIZEN_NAME_MAX) | None = Field(
        default=None, description="your name, seen only by the unit that answers (optional)"
    )
    phone: (
        Annotated[
            SingleLineText(CITIZEN_PHONE_MAX),
            JsonSchemaExtra((("pattern", PHONE_PATTERN),)),
        ]
        | None
    ) = Field(
        default=None,
        description="a mobile (13812345678) or landline (010-12345678), to be told of the answer",
    )
    email: Annotated[EmailStr, MaxLen(CITIZEN_EMAIL_MAX)] | None = Field(
        default=None, description="an e-mail address, to be told of the answer (optional)"
    )

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


class LocalDates(SQLModel):
    """The local dates of receipt and due dates, the days a client filters and counts on."""

    received_at: datetime
    first_reply_due_at: datetime | None
    resolution_due_at: datetime | None

    @computed_field(description=RECEIVED_DATE_DESCRIPTION)
    @property
    def received_date(self) -> date:
        return self.received_at.astimezone(business_zone()).date()

    @computed_field(description="the local date of first_reply_due_at")
    @property
    def first_reply_due_date(self) -> date | None:
        due = self.first_reply_due_at
        return due.astimezone(business_zone()).date() if due else None

    @computed_field(description="the local date of resolution_due_at")
    @property
    def resolution_due_date(self) -> date | None:
        due = self.resolution_due_at
        return due.astimezone(business_zone()).date() if due else None


class ReportReceipt(LocalDates):
    """What a citizen gets back on submitting: keep the tracking code."""

    tracking_code: str = Field(description=TRACKING_CODE_DESCRIPTION)
    status: ReportStatus = Field(description="the report's state")
    owner_unit_name: str | None = Field(
        description="the unit that answers it (主办单位); null while no site matched"
    )
    received_at: LocalDateTime = Field(description="when the report was received")
    first_reply_due_at: LocalDateTime | None = Field(description=FIRST_REPLY_DUE_DESCRIPTION)
    resolution_due_at: LocalDateTime | None = Field(description=RESOLUTION_DUE_DESCRIPTION)
    deadlines_provisional: bool = Field(description=PROVISIONAL_DESCRIPTION)
    site_closed: bool = Field(
        default=False,
        description="the site is closed (已关停); the report still goes to its owner unit",
    )
    site_notice: str | None = Field(
        default=None, description="a sentence for the citizen about the site, when it is closed"
    )


class PublicEvent(SQLModel):
    """A step of a report's history as the citizen sees it (internal notes stay internal)."""

    kind: EventKind = Field(description="what happened")
    at: LocalDateTime = Field(description="when it happened")
    text: str | None = Field(
        default=None, description="the unit's answer or question, or the citizen's supplement"
    )
    data: dict[str, Any] = Field(
        default_factory=dict,
        description="verdict of a resolution, reason of a decline, unit holding it after a "
        "transfer or routing",
    )


class DuplicateOriginal(SQLModel):
    """The original of a report declined as its duplicate: its status and answers only."""

    status: ReportStatus = Field(description="the original's state")
    verdict: Verdict | None = Field(description="its verdict once resolved (办结)")
    first_reply: str | None = Field(description="its first reply (首次答复)")
    final_answer: str | None = Field(description="its final answer on closing it")


class ReportPublic(LocalDates):
    """A report as anyone holding its tracking code sees it: never contact details."""

    tracking_code: str = Field(description=TRACKING_CODE_DESCRIPTION)
    status: ReportStatus = Field(description="the report's state")
    category: Category = Field(description="the kind of error")
    category_label: str = Field(description="the category in Chinese, e.g. 错别字")
    site_code: str | None = Field(description="网站标识码 of the site, when known")
    site_name: str | None = Field(description="the site's name, when it is in the directory")
    page_url: str = Field(description="the page with the error")
    description: str = Field(description="what the citizen wrote")
    owner_unit_name: str | None = Field(description="the unit that answers it (主办单位)")
    received_at: LocalDateTime = Field(description="when the report was received")
    first_reply_due_at: LocalDateTime | None = Field(description=FIRST_REPLY_DUE_DESCRIPTION)
    resolution_due_at: LocalDateTime | None = Field(description=RESOLUTION_DUE_DESCRIPTION)
    deadlines_provisional: bool = Field(description=PROVISIONAL_DESCRIPTION)
    verdict: Verdict | None = Field(description="the verdict once resolved (办结)")
    decline_reason: DeclineReason | None = Field(description="why it was declined (不予受理)")
    first_reply: str | None = Field(description="the unit's first reply (首次答复)")
    final_answer: str | None = Field(description="the unit's final answer on closing it")
    question: str | None = Field(description="what the unit asked, while it awaits you")
    attachment_count: int = Field(description="how many screenshots were attached (not shown)")
    events: list[PublicEvent] = Field(description="the report's history, oldest first")
    rating: Rating | None = Field(default=None, description="your rating (评价), once given")
    rating_comment: str | None = Field(default=None, description="what you wrote with it")
    rated_at: LocalDateTime | None = Field(default=None, description="when you rated it")
    rating_open: bool = Field(
        default=False, description="whether you may rate it now (once, after it is closed)"
    )
    rating_open_until: LocalDateTime | None = Field(
        default=None, description="the end of the time to rate it, while rating is open"
    )
    reopened_at: LocalDateTime | None = Field(
        default=None, description="when your dissatisfied rating sent it back to the unit (重办)"
    )
    original: DuplicateOriginal | None = Field(
        default=None,
        description="declined as a duplicate: the original report's status and answers",
    )


class RatingIn(SQLModel):
    """The citizen's rating of the answer (评价), once, after a resolution or decline."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"rating": "dissatisfied", "comment": "页面上的错别字仍未改正。"}]
        }
    )

    rating: Rating = Field(description="satisfied, basically satisfied or dissatisfied")
    comment: MultiLineText(RATING_COMMENT_MAX) | None = Field(
        default=None,
        description="why; with dissatisfied, a reason sends the report back to the unit once",
    )


class SupplementIn(SQLModel):
    """The citizen's answer to the unit's question."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "出错的是“通知公告”栏目第一条，截图已另行发送。"}]}
    )

    text: MultiLineText(SUPPLEMENT_MAX, min_length=2) = Field(
        description="the information the unit asked for"
    )


class ReportSummary(LocalDates):
    """A line of a unit's inbox."""

    id: int = Field(description="the report's id in unit endpoints")
    tracking_code: str = Field(description=TRACKING_CODE_DESCRIPTION)
    status: ReportStatus = Field(description="the report's state")
    category: Category = Field(description="the kind of error")
    site_code: str | None = Field(description="网站标识码 as given or as routed")
    page_url: str = Field(description="the page with the error")
    owner_unit_id: int | None = Field(description="the unit holding it; null while unrouted")
    received_at: LocalDateTime = Field(description="when the citizen submitted it")
    assigned_at: LocalDateTime | None = Field(
        description="when the current owner unit received it: its clocks start here"
    )
    first_reply_due_at: LocalDateTime | None = Field(description=FIRST_REPLY_DUE_DESCRIPTION)
    resolution_due_at: LocalDateTime | None = Field(description=RESOLUTION_DUE_DESCRIPTION)
    deadlines_provisional: bool = Field(description=PROVISIONAL_DESCRIPTION)
    first_responded_at: LocalDateTime | None = Field(
        description="the current owner's first response: reply, resolution, decline or transfer"
    )
    closed_at: LocalDateTime | None = Field(description="when it was resolved or declined")


class ReportEventOut(SQLModel):
    """A step of a report's history: every change, reminder and escalation."""

    id: int = Field(description="the event's id, increasing")
    kind: EventKind = Field(description="what happened")
    actor: str = Field(description="citizen, system, scheduler or unit:<unit id>:<role>")
    actor_unit_id: int | None = Field(description="the acting unit, for unit actions")
    at: LocalDateTime = Field(description="when it happened")
    data: dict[str, Any] = Field(
        description="the event's particulars: text, verdict, reason, from_unit_id, to_unit_id…"
    )


class PossibleDuplicate(SQLModel):
    """An open report of the same site, category and page, found when this one came in."""

    id: int = Field(description="the other report's id")
    status: ReportStatus = Field(description="its state now")
    received_at: LocalDateTime = Field(description="when it was received")


class ReportDetail(ReportSummary):
    """A report as the units that may see it see it.

    The citizen's contact details are filled in only for the owner unit and its supervisors:
    an admin elsewhere in the tree, or anyone looking at an unrouted report, gets nulls.
    """

    description: str = Field(description="what the citizen wrote")
    site_id: int | None = Field(description="the site in the directory, when matched")
    citizen_name: str | None = Field(description="the citizen's name (owner unit and above only)")
    citizen_phone: str | None = Field(description="the citizen's phone (owner unit and above only)")
    citizen_email: str | None = Field(
        description="the citizen's e-mail (owner unit and above only)"
    )
    verdict: Verdict | None = Field(description="the verdict once resolved (办结)")
    decline_reason: DeclineReason | None = Field(description="why it was declined (不予受理)")
    first_reply: str | None = Field(description="the first reply (首次答复) the citizen sees")
    final_answer: str | None = Field(description="the final answer on closing it")
    first_replied_at: LocalDateTime | None = Field(description="when the first reply was given")
    handling_workdays: int | None = Field(
        description="working days from receipt by the owner to closing, less the days paused"
    )
    paused_at: LocalDateTime | None = Field(description="since when it awaits the citizen")
    paused_workdays: int = Field(description="working days paused on the current clock")
    first_reply_paused_workdays: int = Field(
        description="those of them that moved the first-reply due: pauses begun while the "
        "first reply was owed and not yet due"
    )
    clock: int = Field(description="clocks started so far (each transfer starts one)")
    published: bool = Field(
        description="shown on the public list of answers once resolved (false: kept off it)"
    )
    attachments: list[AttachmentInfo] = Field(
        description="the citizen's screenshots (owner unit and above only)"
    )
    site_closed: bool = Field(
        description="the site was closed when the report reached its owner unit"
    )
    page_host_site_code: str | None = Field(
        description="the code of another site whose host the page URL has: the report may be "
        "about that site rather than the one its site code names"
    )
    extension_workdays: int = Field(
        description="working days approved extensions (延期) added to this clock's resolution due"
    )
    events: list[ReportEventOut] = Field(description="the whole history, oldest first")
    rating: Rating | None = Field(default=None, description="the citizen's rating (评价)")
    rating_comment: str | None = Field(default=None, description="what the citizen wrote with it")
    rated_at: LocalDateTime | None = Field(default=None, description="when the citizen rated it")
    rating_due_at: LocalDateTime | None = Field(
        default=None, description="the end of the citizen's time to rate the closing"
    )
    reopened_at: LocalDateTime | None = Field(
        default=None, description="when a dissatisfied rating reopened it (重办)"
    )
    duplicate_of_id: int | None = Field(
        default=None, description="declined as a duplicate of this report"
    )
    possible_duplicates: list[PossibleDuplicate] = Field(
        default_factory=list,
        description="open reports of the same site, category and page found at intake",
    )


class ReplyIn(SQLModel):
    """The first reply (首次答复), which the citizen sees."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "已收到您的留言，我们正在核实，将尽快处理。"}]}
    )

    text: Answer = Field(description="the reply the citizen reads")


class ResolveIn(SQLModel):
    """Closing a report (办结) with a verdict and the final answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"verdict": "confirmed", "text": "经核实，错别字已更正，感谢您的监督。"}]
        }
    )

    verdict: Verdict = Field(description="属实 (confirmed, fixed) or 不属实 (not confirmed)")
    text: Answer = Field(description="the final answer the citizen reads")


class DeclineIn(SQLModel):
    """Not taking a report up (不予受理), with the reason."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reason": "duplicate",
                    "text": "与您此前的留言重复，已在原留言中答复。",
                    "duplicate_of": 41,
                }
            ]
        }
    )

    reason: DeclineReason = Field(description="why it is not taken up")
    text: Answer = Field(description="the answer the citizen reads")
    duplicate_of: Id | None = Field(
        default=None,
        description="with the reason duplicate (and only then): the original report's id, a "
        "report of the same owner unit",
    )


class TransferIn(SQLModel):
    """Handing a report to another unit (转办)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"to_unit_id": 12, "text": "该栏目由市教育局维护。"}]}
    )

    to_unit_id: Id = Field(description="the unit that receives it")
    text: MultiLineText(NOTE_MAX) = Field(
        default="", description="an internal note for the receiving unit; the citizen never sees it"
    )


class InfoRequestIn(SQLModel):
    """A question to the citizen; the clocks pause until the answer."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "请提供出错页面的完整网址或截图。"}]}
    )

    text: MultiLineText(QUESTION_MAX, min_length=2) = Field(
        description="the question the citizen reads"
    )


class RouteIn(SQLModel):
    """Routing an unrouted report: give exactly one of site_id and unit_id."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"site_id": 3}, {"unit_id": 12}]})

    unit_id: Id | None = Field(default=None, description="the unit to hold it")
    site_id: Id | None = Field(
        default=None, description="the site it is about: its owner unit holds it"
    )


class InboxFilters(SQLModel):
    status: ReportStatus | None = Field(default=None, description="only reports in this state")
    category: Category | None = Field(default=None, description="only this kind of error")
    site_code: GivenSiteCode | None = Field(
        default=None, description="only this site's reports, e.g. 6108000003"
    )
    received_from: IsoDate | None = Field(
        default=None, description="received on or after this local date (received_date)"
    )
    received_to: IsoDate | None = Field(
        default=None, description="received on or before this local date (received_date)"
    )
    overdue: bool | None = Field(
        default=None, description="true: past a due date and still running; false: the others"
    )
    due_within_workdays: int | None = Field(
        default=None,
        ge=0,
        le=60,
        description="running reports whose next due date falls within N working days (0: today)",
    )
    unit_id: Id | None = Field(default=None, description="only the reports this unit holds")
    limit: int = Field(
        default=DEFAULT_LIMIT,
        ge=1,
        le=MAX_LIMIT,
        description="page size, 50 by default, at most 500",
    )
    offset: Offset = Field(default=0, description="items to skip: 0 for the first page")
