from datetime import date, datetime

from pydantic import ConfigDict, field_validator
from sqlalchemy import Column, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.contract import LocalDateTime
from app.db import UtcDateTime
from app.fields import no_control_characters, no_control_characters_but_line_breaks


class SlaReportRun(SQLModel, table=True):
    """One nightly SLA report: its date is claimed once, so reruns and twin schedulers skip it."""

    __tablename__ = "sla_report_run"

    report_date: date = Field(primary_key=True, description="the local day the report covers")
    as_of: datetime = Field(
        sa_column=Column(UtcDateTime(), nullable=False),
        description="the snapshot instant: the end of report_date",
    )
    produced_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    units: int = Field(default=0, description="units with a row in this report")


class SlaReport(SQLModel, table=True):
    """One unit's line of a nightly SLA report; units with nothing to report have no line."""

    __tablename__ = "sla_report"
    __table_args__ = (UniqueConstraint("report_date", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    report_date: date = Field(foreign_key="sla_report_run.report_date")
    unit_id: int = Field(foreign_key="unit.id", index=True)
    open_reports: int = Field(default=0, description="routed and not closed at the snapshot")
    due_today: int = Field(default=0, description="open at the start of the day, a deadline on it")
    overdue_first_replies: int = Field(default=0, description="no first response past its due")
    overdue_resolutions: int = Field(default=0, description="not closed past its resolution due")
    reminders: int = Field(default=0, description="reminders (提醒) fired during the day")
    urges: int = Field(default=0, description="催办 fired during the day")
    supervisions: int = Field(default=0, description="督办 fired during the day")


class SettledFigures(SQLModel, table=True):
    """One unit's figures over the settled reports it received in one local month or year.

    A closed report never changes again and counts the same for every later cut-off, so the
    settle job adds it here once, to its month's row and to its year's row; statistics then
    read these rows instead of every report (a year's row saves twelve).
    """

    __tablename__ = "settled_figures"

    unit_id: int = Field(foreign_key="unit.id", primary_key=True)
    starts_on: date = Field(primary_key=True, description="the first day of the month or year")
    months: int = Field(primary_key=True, description="1 for a month's row, 12 for a year's")
    received: int = 0
    declined: int = 0
    resolved: int = 0
    confirmed: int = 0
    first_replies_due: int = 0
    first_replies_in_time: int = 0
    late_first_replies: int = 0
    handling_workdays_total: int = 0
    extended: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    ratings: int = 0
    satisfied_ratings: int = 0
    reopened: int = 0
    duplicates_declined: int = 0
    # No overdue_open: a closed report is never overdue.


class SettledState(SQLModel, table=True):
    """What the settled figures hold: one row, written by the settle job."""

    __tablename__ = "settled_state"

    id: int = Field(default=1, primary_key=True)
    timezone: str = Field(max_length=64, description="the zone whose months the rows follow")
    settled_through: datetime | None = Field(
        default=None,
        sa_column=Column(UtcDateTime()),
        description="the latest closing among settled reports: cut-offs before it read reports",
    )
    settled_reports: int = Field(default=0, description="reports added so far")
    last_run_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))


class NoticeTemplateBase(SQLModel):
    """What an issuing unit's notices say besides the figures (GB/T 9704 elements)."""

    issuer_name: str = Field(
        default="", max_length=200, description="发文机关; empty: the unit's own name"
    )
    document_prefix: str = Field(
        default="",
        max_length=100,
        description="发文字号 before the year, e.g. 营政办公开 (gives 营政办公开〔2019〕5号)",
    )
    recipients: str = Field(default="各有关单位：", max_length=500, description="主送机关")
    contact_name: str = Field(default="", max_length=50, description="联系人 (the office's)")
    contact_phone: str = Field(default="", max_length=50, description="联系电话 (the office's)")
    requirements: str = Field(
        default="",
        max_length=4000,
        description="三、工作要求, one paragraph a line; {deadline}, {report_to} and {issuer} are "
        "filled in; empty: the default wording",
    )
    rectification_workdays: int = Field(
        default=10, ge=1, le=60, description="整改 deadline: working days after the issue date"
    )
    report_to: str = Field(
        default="", max_length=200, description="who receives the 整改情况; empty: the issuer"
    )


class NoticeTemplate(NoticeTemplateBase, table=True):
    """One issuing unit's notice template; a unit without one gets the defaults."""

    __tablename__ = "notice_template"

    unit_id: int = Field(foreign_key="unit.id", primary_key=True)
    requirements: str = Field(default="", sa_column=Column(Text(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class NoticeTemplateIn(NoticeTemplateBase):
    """The whole template (PUT replaces it); fields left out take their defaults."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "issuer_name": "营口市人民政府办公室",
                    "document_prefix": "营政办公开",
                    "recipients": "各县（市）区人民政府，市政府各部门：",
                    "contact_name": "王明",
                    "contact_phone": "0417-2825000",
                    "requirements": "",
                    "rectification_workdays": 10,
                    "report_to": "市政府办公室",
                }
            ]
        }
    )

    @field_validator(
        "issuer_name", "document_prefix", "recipients", "contact_name", "contact_phone", "report_to"
    )
    @classmethod
    def _single_line(cls, value: str) -> str:
        return no_control_characters(value)

    @field_validator("requirements")
    @classmethod
    def _multi_line(cls, value: str) -> str:
        return no_control_characters_but_line_breaks(value)


class NoticeTemplateOut(NoticeTemplateBase):
    unit_id: int = Field(description="the issuing unit")
    unit_name: str = Field(description="its name")
    stored: bool = Field(description="false: no template stored, these are the defaults")
    updated_at: LocalDateTime | None = Field(description="when it was last stored; null: never")
