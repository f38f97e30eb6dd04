import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from annotated_types import MaxLen
from pydantic import AfterValidator, ConfigDict
from pydantic_core import PydanticCustomError
from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app.contract import LocalDateTime, describe_enum
from app.db import UtcDateTime, utcnow
from app.fields import Id, JsonSchemaExtra, SingleLineText

# Shared by the API models and the CSV importer, which checks names before any model sees them.
UNIT_NAME_MIN, UNIT_NAME_MAX = 2, 200
SITE_NAME_MIN, SITE_NAME_MAX = 1, 200
CONTACT_EMAIL_MAX, CONTACT_PHONE_MAX, WEBHOOK_URL_MAX = 200, 40, 500
WEBHOOK_SECRET_MIN, WEBHOOK_SECRET_MAX = 16, 200
SITE_CODE_MAX, HOST_MAX = 20, 253
# A site with more host names than this is a mistake in the request, not a site.
HOSTS_PER_SITE_MAX = 100

# The real shapes of 网站标识码 (see DESIGN.md): region+sequence, State Council departments,
# the Xinjiang Production and Construction Corps, and the provincial department series.
# ASCII digits only: Python's \d would also take other scripts' digits.
SITE_CODE_REGEX = r"^([0-9]{10}|bm[0-9]{8}|BT[0-9]{8}|[0-9]{2}BM[0-9]{6})$"
SITE_CODE_PATTERN = re.compile(SITE_CODE_REGEX)
SITE_CODE_HINT = (
    "a site code (网站标识码) looks like 6108000003 (10 digits), bm07000001, BT00000001 or "
    "12BM010001; it is printed at the bottom of the site's pages"
)


def _site_code(value: str) -> str:
    if SITE_CODE_PATTERN.fullmatch(value) is None:
        raise PydanticCustomError("site_code", "is not a site code: " + SITE_CODE_HINT)
    return value


SiteCode = Annotated[
    str,
    MaxLen(SITE_CODE_MAX),
    AfterValidator(_site_code),
    JsonSchemaExtra((("pattern", SITE_CODE_REGEX),)),
]
UnitName = SingleLineText(UNIT_NAME_MAX, min_length=UNIT_NAME_MIN)
SiteName = SingleLineText(SITE_NAME_MAX, min_length=SITE_NAME_MIN)
ContactEmail = SingleLineText(CONTACT_EMAIL_MAX)
ContactPhone = SingleLineText(CONTACT_PHONE_MAX)
WebhookUrl = SingleLineText(WEBHOOK_URL_MAX)
WebhookSecret = SingleLineText(WEBHOOK_SECRET_MAX, min_length=WEBHOOK_SECRET_MIN)
HostName = SingleLineText(HOST_MAX, min_length=1)


class UnitBase(SQLModel):
    name: UnitName = Field(
        min_length=UNIT_NAME_MIN, max_length=UNIT_NAME_MAX, description="单位名称, unique"
    )
    parent_id: Id | None = Field(
        default=None, foreign_key="unit.id", description="the unit that supervises this one"
    )
    contact_email: ContactEmail | None = Field(
        default=None,
        max_length=CONTACT_EMAIL_MAX,
        description="the unit's contact e-mail for operators",
    )
    contact_phone: ContactPhone | None = Field(
        default=None,
        max_length=CONTACT_PHONE_MAX,
        description="the unit's contact phone for operators",
    )
    webhook_url: WebhookUrl | None = Field(
        default=None,
        max_length=WEBHOOK_URL_MAX,
        description="where notifications are pushed (with webhook_secret); null: pull only",
    )


class Unit(UnitBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=UNIT_NAME_MAX, unique=True)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    webhook_secret: str | None = Field(default=None, max_length=WEBHOOK_SECRET_MAX)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )


def pushes_notifications(webhook_url: str | None, webhook_secret: str | None) -> bool:
    """Whether a unit's notifications are pushed: a push needs both an address and a secret to
    sign with; otherwise the unit pulls them."""
    return bool(webhook_url and webhook_secret)


class UnitCreate(UnitBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "东川市财政局",
                    "parent_id": 2,
                    "contact_email": "czj@dongchuan.gov.cn",
                    "contact_phone": "0871-62345678",
                    "webhook_url": "https://oa.dongchuan.gov.cn/zhaocuo/hook",
                    "webhook_secret": "k3J9sQ2mX8vR5tW1",
                }
            ]
        }
    )

    webhook_secret: WebhookSecret | None = Field(
        default=None, description="signs each webhook body (HMAC-SHA256), 16 characters or more"
    )


class UnitUpdate(SQLModel):
    """Only the fields sent change; null clears a field that may be empty (not the name)."""

    # Not Optional: a unit always has a name, so `"name": null` is refused (422).
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "东川市财政局", "contact_phone": "0871-62345679"}]}
    )

    name: UnitName = Field(default=None, description="the new name (unique; not null)")
    parent_id: Id | None = Field(default=None, description="the new supervising unit")
    contact_email: ContactEmail | None = Field(default=None, description="contact e-mail")
    contact_phone: ContactPhone | None = Field(default=None, description="contact phone")
    webhook_url: WebhookUrl | None = Field(default=None, description="where to push notifications")
    webhook_secret: WebhookSecret | None = Field(default=None, description="a new webhook secret")


class UnitPublic(UnitBase):
    id: int = Field(description="the unit's id")
    created_at: LocalDateTime = Field(description="when the unit was added")


class SiteStatus(StrEnum):
    active = "active"
    closed = "closed"


describe_enum(SiteStatus, {SiteStatus.active: "运行中", SiteStatus.closed: "已关停"})


class SiteBase(SQLModel):
    site_code: SiteCode = Field(
        max_length=SITE_CODE_MAX,
        description="网站标识码, e.g. 6108000003, bm07000001 or 12BM010001",
    )
    name: SiteName = Field(
        min_length=SITE_NAME_MIN, max_length=SITE_NAME_MAX, description="the site's name"
    )
    owner_unit_id: Id = Field(
        foreign_key="unit.id", description="the unit that runs it and answers its reports"
    )
    status: SiteStatus = Field(
        default=SiteStatus.active, max_length=10, description="closed sites take no reports"
    )


class Site(SiteBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    site_code: str = Field(max_length=SITE_CODE_MAX, unique=True)
    owner_unit_id: int = Field(foreign_key="unit.id", index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )


class SiteHost(SQLModel, table=True):
    """A host name served by a site; routes reports that arrive with a URL but no site code."""

    __tablename__ = "site_host"

    host: str = Field(primary_key=True, max_length=HOST_MAX)
    site_id: int = Field(foreign_key="site.id", index=True, ondelete="CASCADE")


class SiteCreate(SiteBase):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "site_code": "6108000003",
                    "name": "东川市教育局网站",
                    "owner_unit_id": 3,
                    "hosts": ["jyj.dongchuan.gov.cn"],
                }
            ]
        }
    )

    hosts: list[HostName] = Field(
        default_factory=list,
        max_length=HOSTS_PER_SITE_MAX,
        description="host names that route reports without a site code",
    )


class SiteUpdate(SQLModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"owner_unit_id": 4, "status": "closed"}]}
    )

    name: SiteName | None = Field(default=None, description="the new name")
    owner_unit_id: Id | None = Field(default=None, description="the new owner unit")
    status: SiteStatus | None = Field(default=None, description="closed sites take no reports")
    hosts: list[HostName] | None = Field(
        default=None,
        max_length=HOSTS_PER_SITE_MAX,
        description="replaces every host name of the site",
    )


class SitePublic(SiteBase):
    id: int = Field(description="the site's id")
    hosts: list[str] = Field(description="host names that route reports without a site code")
