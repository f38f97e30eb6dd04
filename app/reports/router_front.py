"""Endpoints of the citizens' front door: screenshots for units, publication, answered reports."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from sqlmodel import Session

from app.auth import Principal, get_principal
from app.contract import MAX_ID, LimitQuery, OffsetQuery, Page, error_responses
from app.db import RequestSession
from app.deps import get_now
from app.directory.models import SITE_CODE_MAX
from app.reports import publication, screenshots, service
from app.reports.answered import MONTH_REGEX, AnsweredReport, list_answered
from app.reports.attachments import MEDIA_TYPES
from app.reports.models import Category
from app.reports.publication import PublicationIn
from app.reports.router_public import reads_limited
from app.reports.schemas import GivenSiteCode, ReportDetail

unit_router = APIRouter(prefix="/api/v1/unit/reports", tags=["unit"])
answered_router = APIRouter(prefix="/api/v1/answered", tags=["public"])

ReportId = Annotated[int, Path(ge=1, le=MAX_ID, description="the report's id (from the inbox)")]
AttachmentNumber = Annotated[
    int, Path(ge=1, le=100, description="the screenshot's number n, from the report's attachments")
]
IMAGE_CONTENT = {
    media_type: {"schema": {"type": "string", "format": "binary"}}
    for media_type in MEDIA_TYPES.values()
}


@unit_router.get(
    "/{report_id}/attachments/{n}",
    summary="查看网民上传的截图 (a screenshot the citizen attached)",
    response_class=Response,
    responses={
        200: {"description": "the image, re-encoded without metadata", "content": IMAGE_CONTENT},
        **error_responses(401, 404, 422),
    },
)
def read_attachment(
    report_id: ReportId,
    n: AttachmentNumber,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
) -> Response:
    """The n-th screenshot of a report, for its owner unit and the units above it only."""
    attachment = publication.read_attachment(
        session=session, principal=principal, report_id=report_id, n=n
    )
    name = screenshots.filename(report_id=report_id, attachment=attachment)
    return Response(
        content=attachment.data,
        media_type=attachment.media_type,
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            # The citizen's evidence: never kept by a shared cache.
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
        },
    )


@unit_router.patch(
    "/{report_id}/publication",
    response_model=ReportDetail,
    summary="设置是否公开选登 (show on or keep off the public list of answers)",
    responses=error_responses(401, 403, 404, 413, 422),
)
def set_publication(
    report_id: ReportId,
    publication_in: PublicationIn,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
) -> ReportDetail:
    """The owner unit keeps a report off the public list (留言选登) or shows it again."""
    report = publication.set_publication(
        session=session,
        principal=principal,
        report_id=report_id,
        publish=publication_in.publish,
        now=now,
    )
    return service.unit_view(session=session, principal=principal, report=report)


@answered_router.get(
    "",
    response_model=Page[AnsweredReport],
    summary="留言选登：已办结的留言及答复 (answered reports)",
    responses=error_responses(422, 429),
    dependencies=[Depends(reads_limited)],
)
def answered(
    site_code: Annotated[
        GivenSiteCode | None,
        Query(max_length=SITE_CODE_MAX, description="only this site's reports, e.g. 6108000003"),
    ] = None,
    category: Annotated[Category | None, Query(description="only this kind of error")] = None,
    month: Annotated[
        str | None,
        Query(pattern=MONTH_REGEX, description="resolved in this local month, e.g. 2026-11"),
    ] = None,
    limit: LimitQuery = 20,
    offset: OffsetQuery = 0,
    session: Session = RequestSession,
) -> Page[AnsweredReport]:
    """Resolved reports the owner units publish, newest resolution first; contacts masked."""
    return list_answered(
        session=session,
        site_code=site_code,
        category=category,
        month=month,
        limit=limit,
        offset=offset,
    )
