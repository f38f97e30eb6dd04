"""The owner unit's side of the front door: reading screenshots, keeping a report off the list."""

from datetime import datetime

from pydantic import ConfigDict
from sqlmodel import Field, Session, SQLModel

from app.auth import Principal
from app.errors import NotFound
from app.reports import screenshots
from app.reports.models import EventKind, Report
from app.reports.service import (
    _can_see_contact,
    _get_for_update,
    _require_owner,
    _touch,
    get_for_unit,
    record_event,
)


def read_attachment(
    *, session: Session, principal: Principal, report_id: int, n: int
) -> screenshots.ReportAttachment:
    """A report's n-th screenshot for its owner unit and supervisors; anyone else gets 404."""
    report = get_for_unit(session=session, principal=principal, report_id=report_id)
    if not _can_see_contact(session=session, principal=principal, report=report):
        # An admin outside the owner's tree sees the report, never the citizen's screenshots;
        # like another unit, it learns nothing of them.
        raise NotFound(
            f"留言 {report_id} 不存在或不在您的单位范围内",
            en=f"report {report_id} not found",
            code="report_not_found",
        )
    return screenshots.read(session=session, report_id=report.id, n=n)


def set_publication(
    *, session: Session, principal: Principal, report_id: int, publish: bool, now: datetime
) -> Report:
    """The owner unit shows a report on the public list of answers or keeps it off (on record)."""
    report = _get_for_update(session=session, principal=principal, report_id=report_id)
    _require_owner(principal=principal, report=report)
    if report.published == publish:
        return report
    report.published = publish
    record_event(
        session=session,
        report=report,
        kind=EventKind.publication_changed,
        principal=principal,
        at=now,
        data={"publish": publish},
    )
    _touch(session=session, report=report, now=now)
    return report


class PublicationIn(SQLModel):
    """Whether the report may appear on the public list of answers (留言选登) once resolved."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"publish": False}]})

    publish: bool = Field(
        description="false keeps it off the public list; true (the default) shows it once resolved"
    )
