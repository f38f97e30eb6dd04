from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app.db import UtcDateTime, utcnow


class CalendarYear(SQLModel, table=True):
    """A year loaded from a State Council notice: its days replace the packaged data wholesale."""

    __tablename__ = "calendar_year"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    source: str = Field(max_length=300, description="the notice the days were taken from")
    # A fresh random value at every load. Processes compare these to know whether their cached
    # calendar is stale; a timestamp would not do, as two loads may share one (frozen) instant.
    version: str = Field(max_length=32)
    # The version open reports' due dates were last moved to: a load leaves it behind, and the
    # recompute that follows (or, after a crash, the scheduler) brings it level.
    recomputed_version: str | None = Field(default=None, max_length=32)
    loaded_by: str = Field(max_length=100)
    loaded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )


class CalendarDay(SQLModel, table=True):
    """An override of the packaged calendar, loaded from a State Council notice."""

    __tablename__ = "calendar_day"

    day: date = Field(primary_key=True)
    year: int = Field(foreign_key="calendar_year.year", index=True)
    is_workday: bool
    name: str = Field(default="", max_length=100)
    source: str = Field(default="", max_length=300)
    loaded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )
