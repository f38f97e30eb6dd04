from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app.contract import LocalDateTime, describe_enum
from app.db import UtcDateTime, utcnow

# Shared by the API models and the CSV importer, which checks names before any model sees them.
UNIT_NAME_MIN, UNIT_NAME_MAX = 2, 200
SITE_NAME_MIN, SITE_NAME_MAX = 1, 200


class UnitBase(SQLModel):
    name: str = Field(
        min_length=UNIT_NAME_MIN, max_length=UNIT_NAME_MAX, description="单位名称, unique"
    )
    parent_id: int | None = Field(
        default=None, foreign_key="unit.id", description="the unit that supervises this one"
    )
    contact_email: str | None = Field(
        default=None, max_length=200, description="the unit's contact e-mail for operators"
    )
    contact_phone: str | None = Field(
        default=None, max_length=40, description="the unit's contact phone for operators"
    )
    webhook_url: str | None = Field(
        default=None,
        max_length=500,
        description="where notifications are pushed (with webhook_secret); null: pull only",
    )


class Unit(UnitBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=UNIT_NAME_MAX, unique=True)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    webhook_secret: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )


class UnitCreate(UnitBase):
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=200)


class UnitUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=UNIT_NAME_MIN, max_length=UNIT_NAME_MAX)
    parent_id: int | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=200)


class UnitPublic(UnitBase):
    id: int = Field(description="the unit's id")
    created_at: LocalDateTime = Field(description="when the unit was added")


class SiteStatus(StrEnum):
    active = "active"
    closed = "closed"


describe_enum(SiteStatus, {SiteStatus.active: "运行中", SiteStatus.closed: "已关停"})


class SiteBase(SQLModel):
    site_code: str = Field(
        max_length=20, description="网站标识码, e.g. 6108000003, bm07000001 or 12BM010001"
    )
    name: str = Field(
        min_length=SITE_NAME_MIN, max_length=SITE_NAME_MAX, description="the site's name"
    )
    owner_unit_id: int = Field(
        foreign_key="unit.id", description="the unit that runs it and answers its reports"
    )
    status: SiteStatus = Field(
        default=SiteStatus.active, max_length=10, description="closed sites take no reports"
    )


class Site(SiteBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    site_code: str = Field(max_length=20, unique=True)
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

    host: str = Field(primary_key=True, max_length=253)
    site_id: int = Field(foreign_key="site.id", index=True, ondelete="CASCADE")


class SiteCreate(SiteBase):
    hosts: list[str] = Field(default_factory=list)


class SiteUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=SITE_NAME_MIN, max_length=SITE_NAME_MAX)
    owner_unit_id: int | None = None
    status: SiteStatus | None = None
    hosts: list[str] | None = None


class SitePublic(SiteBase):
    id: int = Field(description="the site's id")
    hosts: list[str] = Field(description="host names that route reports without a site code")
