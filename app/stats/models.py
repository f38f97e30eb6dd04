from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UtcDateTime


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
