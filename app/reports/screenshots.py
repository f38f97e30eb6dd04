"""Screenshots stored with their report: in the database, written in the report's transaction.

No shared disk is needed by many API nodes, and a refused or rolled-back submission leaves no
file behind. Only the owner unit and its supervisors read them (see app.reports.service).
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, col, select

from app.db import UtcDateTime
from app.errors import NotFound
from app.reports.attachments import EXTENSIONS, PreparedImage


class ReportAttachment(SQLModel, table=True):
    """A screenshot of a report: re-encoded bytes without metadata (app.reports.attachments)."""

    __tablename__ = "report_attachment"
    __table_args__ = (UniqueConstraint("report_id", "n"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    n: int = Field(description="1, 2, 3 in the order the citizen attached them")
    media_type: str = Field(max_length=20)
    size: int
    width: int
    height: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class AttachmentInfo(SQLModel):
    """A screenshot attached to a report, as the unit's detail lists it."""

    n: int = Field(description="its number: GET /api/v1/unit/reports/{id}/attachments/{n}")
    media_type: str = Field(description="image/png, image/jpeg or image/webp")
    size: int = Field(description="bytes, as stored after re-encoding")
    width: int = Field(description="pixels, after orientation and downscaling")
    height: int = Field(description="pixels, after orientation and downscaling")


def store(
    *, session: Session, report_id: int, images: Sequence[PreparedImage], now: datetime
) -> None:
    """Add a report's prepared screenshots, numbered from 1, to the current transaction."""
    for n, image in enumerate(images, start=1):
        session.add(
            ReportAttachment(
                report_id=report_id,
                n=n,
                media_type=image.media_type,
                size=image.size,
                width=image.width,
                height=image.height,
                data=image.data,
                created_at=now,
            )
        )


def infos(*, session: Session, report_id: int) -> list[AttachmentInfo]:
    """What a report's screenshots are, without their bytes, in order."""
    query = (
        select(
            ReportAttachment.n,
            ReportAttachment.media_type,
            ReportAttachment.size,
            ReportAttachment.width,
            ReportAttachment.height,
        )
        .where(ReportAttachment.report_id == report_id)
        .order_by(col(ReportAttachment.n))
    )
    return [
        AttachmentInfo(n=n, media_type=media_type, size=size, width=width, height=height)
        for n, media_type, size, width, height in session.exec(query).all()
    ]


def count(*, session: Session, report_id: int) -> int:
    """How many screenshots a report has."""
    query = select(func.count()).where(ReportAttachment.report_id == report_id)
    return session.exec(query).one()


def read(*, session: Session, report_id: int, n: int) -> ReportAttachment:
    """A report's n-th screenshot, or 404 (the caller has checked it may see the report)."""
    attachment = session.exec(
        select(ReportAttachment).where(
            ReportAttachment.report_id == report_id, ReportAttachment.n == n
        )
    ).first()
    if attachment is None:
        raise NotFound(
            f"留言 {report_id} 没有第 {n} 张截图",
            en=f"report {report_id} has no screenshot {n}",
            code="attachment_not_found",
        )
    return attachment


def filename(*, report_id: int, attachment: ReportAttachment) -> str:
    """The name a download gets: the report and the screenshot's number, never the citizen's."""
    return f"report-{report_id}-screenshot-{attachment.n}.{EXTENSIONS[attachment.media_type]}"
