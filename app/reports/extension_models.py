"""Deadline extensions (延期申请): the table and the API shapes (app.reports.extensions)."""

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict
from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from app.contract import DEFAULT_LIMIT, MAX_LIMIT, LocalDateTime, describe_enum
from app.db import UtcDateTime
from app.fields import MultiLineText, Offset

EXTENSION_TEXT_MAX = 2000
# The widest request the schema takes; the rule's own limit is ZHAOCUO_MAX_EXTENSION_WORKDAYS.
EXTENSION_WORKDAYS_CEILING = 60


class ExtensionState(StrEnum):
    pending = "pending"
    approved = "approved"
    refused = "refused"


EXTENSION_STATE_LABELS = {
    ExtensionState.pending: "待审批",
    ExtensionState.approved: "已批准",
    ExtensionState.refused: "不予批准",
}
describe_enum(ExtensionState, EXTENSION_STATE_LABELS)


class ExtensionRequest(SQLModel, table=True):
    """One owner unit's request for more time on one clock of a report, and its decision."""

    __tablename__ = "extension_request"
    __table_args__ = (
        Index("ix_extension_request_report_clock", "report_id", "clock"),
        Index("ix_extension_request_unit_state", "unit_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id")
    clock: int = Field(description="the report's clock the request was made on")
    unit_id: int = Field(foreign_key="unit.id", description="the owner unit that asked")
    workdays: int
    reason: str = Field(sa_column=Column(Text, nullable=False))
    state: ExtensionState = Field(default=ExtensionState.pending, max_length=10)
    requested_by: str = Field(max_length=100)
    requested_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    resolution_due_before: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    resolution_due_after: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    decided_by: str | None = Field(default=None, max_length=100)
    decided_by_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    note: str | None = Field(default=None, sa_column=Column(Text))


class ExtensionIn(SQLModel):
    """An owner unit's request for more working days before the resolution is due."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"workdays": 5, "reason": "涉及栏目改版，需协调技术服务商，预计需延长5个工作日。"}
            ]
        }
    )

    workdays: int = Field(
        ge=1,
        le=EXTENSION_WORKDAYS_CEILING,
        description="working days to add to the resolution due; with those approved on this "
        "clock at most ZHAOCUO_MAX_EXTENSION_WORKDAYS (10 by default)",
    )
    reason: MultiLineText(EXTENSION_TEXT_MAX, min_length=2) = Field(
        description="why more time is needed, for the supervising unit"
    )


class ExtensionDecisionIn(SQLModel):
    """A supervising unit's (or an admin's) decision on an extension request."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "同意延期，请按新期限办结。"}]}
    )

    note: MultiLineText(EXTENSION_TEXT_MAX, min_length=2) = Field(
        description="the decision's note, for the owner unit (the citizen never sees it)"
    )


class ExtensionOut(SQLModel):
    """An extension request as the owner unit and its supervisors see it."""

    id: int = Field(description="the request's id")
    report_id: int = Field(description="the report it is for")
    clock: int = Field(description="the report's clock it was made on")
    unit_id: int = Field(description="the owner unit that asked")
    unit_name: str = Field(description="that unit's name")
    workdays: int = Field(description="working days asked for")
    reason: str = Field(description="why")
    state: ExtensionState = Field(description="pending, approved or refused")
    requested_by: str = Field(description="unit:<unit id>:<role> of the token that asked")
    requested_at: LocalDateTime = Field(description="when it was asked")
    resolution_due_before: LocalDateTime = Field(description="the resolution due when asked")
    resolution_due_after: LocalDateTime | None = Field(
        description="the resolution due once approved; null otherwise"
    )
    decided_by: str | None = Field(description="unit:<unit id>:<role> of the decision's token")
    decided_by_unit_id: int | None = Field(description="the deciding unit")
    decided_at: LocalDateTime | None = Field(description="when it was decided")
    note: str | None = Field(description="the decision's note")
    lapsed: bool = Field(
        description="pending, but the resolution due has passed (or the report was closed, "
        "transferred or reopened): it can only be refused; the report is judged on its old date"
    )
    can_decide: bool = Field(description="the caller may approve or refuse it now")


class ExtensionFilters(SQLModel):
    state: ExtensionState | None = Field(default=None, description="only requests in this state")
    limit: int = Field(
        default=DEFAULT_LIMIT,
        ge=1,
        le=MAX_LIMIT,
        description="page size, 50 by default, at most 500",
    )
    offset: Offset = Field(default=0, description="items to skip: 0 for the first page")
