from datetime import date, datetime

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response, StreamingResponse
from sqlmodel import Session

from app.auth import Principal, require_supervisor
from app.config import Settings
from app.db import RequestSession
from app.deps import get_app_settings, get_now
from app.stats import service, templates
from app.stats.exports import SlaFormat, render_sla_report
from app.stats.models import NoticeTemplateIn, NoticeTemplateOut, NoticeTemplatePage
from app.stats.notice import NoticeFormat, RenderedFile
from app.stats.schemas import StatsOut

router = APIRouter(prefix="/api/v1", tags=["statistics"])

PERIOD_DESCRIPTION = "2026-04 (a month), 2026-Q3, 2026, or 2026-04-01..2026-04-30"
AS_OF_DESCRIPTION = "the cut-off instant (default now); later events are ignored"
UNIT_DESCRIPTION = "a unit of your subtree (default: your own unit; for admins, every unit)"


def _download(rendered: RenderedFile) -> Response:
    headers = {"Content-Disposition": f'inline; filename="{rendered.filename}"'}
    if rendered.chunks is not None:
        return StreamingResponse(rendered.chunks, media_type=rendered.media_type, headers=headers)
    return Response(
        content=rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Disposition": f'inline; filename="{rendered.filename}"'},
    )


@router.get("/stats", response_model=StatsOut)
def read_stats(
    period: str = Query(description=PERIOD_DESCRIPTION),
    as_of: datetime | None = Query(None, description=AS_OF_DESCRIPTION),
    unit_id: int | None = Query(None, description=UNIT_DESCRIPTION),
    principal: Principal = Depends(require_supervisor),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    settings: Settings = Depends(get_app_settings),
) -> StatsOut:
    """Per unit and per supervising subtree: received, valid, resolved, rates, flags, rankings."""
    return service.stats_for(
        session=session,
        principal=principal,
        period=period,
        now=now,
        settings=settings,
        as_of=as_of,
        unit_id=unit_id,
    )


@router.get("/notices/{period}")
def read_notice(
    period: str,
    format: NoticeFormat = Query(
        NoticeFormat.md, description="md, csv, xlsx, json, docx (GB/T 9704) or pdf (LibreOffice)"
    ),
    as_of: str | None = Query(
        None,
        max_length=40,
        description=AS_OF_DESCRIPTION + "; a date alone (2026-05-06) is the end of that day, "
        "local time",
    ),
    unit_id: int | None = Query(None, description=UNIT_DESCRIPTION),
    issued_on: date | None = Query(
        None, description="成文日期 (default today): the rectification deadline counts from it"
    ),
    number: int | None = Query(
        None, ge=1, le=100000, description="the number in the 发文字号 (〔2026〕5号)"
    ),
    principal: Principal = Depends(require_supervisor),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    settings: Settings = Depends(get_app_settings),
) -> Response:
    """The draft notice (通报) of a period: 一、总体情况, 二、存在问题, 三、工作要求, annex."""
    rendered = service.notice_for(
        session=session,
        principal=principal,
        period=period,
        notice_format=format,
        now=now,
        settings=settings,
        as_of=service.parse_cutoff(as_of),
        unit_id=unit_id,
        issued_on=issued_on,
        document_number=number,
        stream=True,
    )
    return _download(rendered)


@router.get("/notice-templates", response_model=NoticeTemplatePage, tags=["notices"])
def list_notice_templates(
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=2**31 - 1),
    principal: Principal = Depends(require_supervisor),
    session: Session = RequestSession,
) -> NoticeTemplatePage:
    """The stored notice templates of your subtree (every one for admins)."""
    items, total = templates.list_templates(
        session=session, principal=principal, limit=limit, offset=offset
    )
    return NoticeTemplatePage(items=items, total=total, limit=limit, offset=offset)


@router.get("/notice-templates/{unit_id}", response_model=NoticeTemplateOut, tags=["notices"])
def read_notice_template(
    unit_id: int = Path(ge=1, le=2**31 - 1),
    principal: Principal = Depends(require_supervisor),
    session: Session = RequestSession,
) -> NoticeTemplateOut:
    """A unit's notice template (发文机关, 文号, 主送, 联系人, 工作要求), or the defaults."""
    return templates.read_template(session=session, principal=principal, unit_id=unit_id)


@router.put("/notice-templates/{unit_id}", response_model=NoticeTemplateOut, tags=["notices"])
def put_notice_template(
    template_in: NoticeTemplateIn,
    unit_id: int = Path(ge=1, le=2**31 - 1),
    principal: Principal = Depends(require_supervisor),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
) -> NoticeTemplateOut:
    """Store a unit's notice template: its supervisors and admins may."""
    return templates.put_template(
        session=session, principal=principal, unit_id=unit_id, template_in=template_in, now=now
    )


@router.get("/sla-reports/{report_date}")
def read_sla_report(
    report_date: date,
    format: SlaFormat = Query(SlaFormat.json, description="json, csv or xlsx"),
    unit_id: int | None = Query(None, description=UNIT_DESCRIPTION),
    principal: Principal = Depends(require_supervisor),
    session: Session = RequestSession,
    settings: Settings = Depends(get_app_settings),
) -> Response:
    """The nightly SLA report of a day: open, due, overdue and escalations per unit."""
    report = service.sla_report_for(
        session=session,
        principal=principal,
        report_date=report_date,
        settings=settings,
        unit_id=unit_id,
    )
    return _download(render_sla_report(report, format))
