from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response, StreamingResponse
from sqlmodel import Session

from app.auth import Principal, require_supervisor
from app.config import Settings
from app.contract import (
    DEFAULT_LIMIT,
    MAX_ID,
    LimitQuery,
    OffsetQuery,
    Page,
    describe_enum,
    error_responses,
)
from app.db import RequestSession
from app.deps import get_app_settings, get_now
from app.fields import IsoDate, IsoDateTime
from app.stats import service, templates
from app.stats.exports import MEDIA_TYPES as SLA_MEDIA_TYPES
from app.stats.exports import SlaFormat, render_sla_report
from app.stats.models import NoticeTemplateIn, NoticeTemplateOut
from app.stats.notice import MEDIA_TYPES as NOTICE_MEDIA_TYPES
from app.stats.notice import NoticeFormat, RenderedFile
from app.stats.periods import PERIOD_MAX, PERIOD_PATTERN
from app.stats.schemas import StatsPage

router = APIRouter(prefix="/api/v1", tags=["statistics"])

PERIOD_DESCRIPTION = "2026-04 (a month), 2026-Q3, 2026, or 2026-04-01..2026-04-30"
AS_OF_DESCRIPTION = (
    "the cut-off instant (default now), e.g. 2026-10-08T00:00:00+08:00; without an offset it "
    "is local time; later events are ignored"
)
UNIT_DESCRIPTION = "a unit of your subtree (default: your own unit; for admins, every unit)"
FORMAT_LABELS = {
    "md": "Markdown 文本",
    "csv": "CSV 表格",
    "xlsx": "Excel 工作簿",
    "docx": "Word 文档",
    "pdf": "PDF 文档",
    "json": "JSON 数据",
}

describe_enum(NoticeFormat, {f: FORMAT_LABELS.get(f.value, f.value) for f in NoticeFormat})
describe_enum(SlaFormat, {f: FORMAT_LABELS.get(f.value, f.value) for f in SlaFormat})

Period = Annotated[
    str,
    Path(
        max_length=PERIOD_MAX,
        pattern=PERIOD_PATTERN,
        description=PERIOD_DESCRIPTION,
        examples=["2026-Q3", "2026-09"],
    ),
]
AsOf = Annotated[IsoDateTime | None, Query(description=AS_OF_DESCRIPTION)]
UnitScope = Annotated[int | None, Query(ge=1, le=MAX_ID, description=UNIT_DESCRIPTION)]
READ_ERRORS = error_responses(401, 403, 404, 422)


def _formats(formats) -> str:
    return " · ".join(f"{f.value} {FORMAT_LABELS.get(f.value, f.value)}" for f in formats)


def _download_responses(media_types: dict[Any, str], what: str) -> dict[int | str, dict]:
    """The 200 of a download in each of its media types, and the errors it can return."""
    content = {}
    for media_type in media_types.values():
        bare = media_type.split(";")[0]
        if bare == "application/json":
            content[bare] = {"schema": {"type": "object"}}
        else:
            content[bare] = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"description": what, "content": content}, **READ_ERRORS}


def _download(rendered: RenderedFile) -> Response:
    # attachment: browsers and clients save the file under its name rather than showing it.
    headers = {"Content-Disposition": f'attachment; filename="{rendered.filename}"'}
    if rendered.chunks is not None:
        return StreamingResponse(rendered.chunks, media_type=rendered.media_type, headers=headers)
    return Response(
        content=rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Disposition": f'attachment; filename="{rendered.filename}"'},
    )


@router.get(
    "/stats",
    response_model=StatsPage,
    summary="统计数据 (statistics of a period)",
    responses=READ_ERRORS,
)
def read_stats(
    period: str = Query(
        description=PERIOD_DESCRIPTION,
        max_length=PERIOD_MAX,
        pattern=PERIOD_PATTERN,
        examples=["2026-Q3"],
    ),
    as_of: AsOf = None,
    unit_id: UnitScope = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
    principal: Principal = Depends(require_supervisor),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    settings: Settings = Depends(get_app_settings),
) -> StatsPage:
    """Per unit and per supervising subtree: received, valid, resolved, rates, flags, rankings.

    `limit` and `offset` page the list of units and each ranking; the totals cover the scope.
    """
    stats = service.stats_for(
        session=session,
        principal=principal,
        period=period,
        now=now,
        settings=settings,
        as_of=as_of,
        unit_id=unit_id,
    )
    return StatsPage.of(stats, limit=limit, offset=offset)


@router.get(
    "/notices/{period}",
    response_class=Response,
    summary="通报草稿下载 (the draft notice of a period, as a file)",
    responses=_download_responses(
        NOTICE_MEDIA_TYPES, "the notice as a file, e.g. tongbao-2026-Q3.xlsx (attachment)"
    ),
)
def read_notice(
    period: Period,
    format: NoticeFormat = Query(NoticeFormat.md, description=_formats(NoticeFormat)),
    as_of: str | None = Query(
        None,
        max_length=40,
        description=AS_OF_DESCRIPTION + "; a date alone (2026-05-06) is the end of that day, "
        "local time",
        examples=["2026-10-08T00:00:00+08:00", "2026-09-30"],
    ),
    unit_id: UnitScope = None,
    issued_on: IsoDate | None = Query(
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


@router.get(
    "/notice-templates",
    response_model=Page[NoticeTemplateOut],
    summary="通报模板列表 (the stored notice templates)",
    responses=error_responses(401, 403, 422),
)
def list_notice_templates(
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
    principal: Principal = Depends(require_supervisor),
    session: Session = RequestSession,
) -> Page[NoticeTemplateOut]:
    """The stored notice templates of your subtree (every one for admins)."""
    items, total = templates.list_templates(
        session=session, principal=principal, limit=limit, offset=offset
    )
    return Page(items=items, total=total, limit=limit, offset=offset)


TemplateUnit = Annotated[
    int, Path(ge=1, le=MAX_ID, description="the issuing unit whose template this is")
]


@router.get(
    "/notice-templates/{unit_id}",
    response_model=NoticeTemplateOut,
    summary="查看通报模板 (a unit's notice template)",
    responses=error_responses(401, 403, 404, 422),
)
def read_notice_template(
    unit_id: TemplateUnit,
    principal: Principal = Depends(require_supervisor),
    session: Session = RequestSession,
) -> NoticeTemplateOut:
    """A unit's notice template (发文机关, 文号, 主送, 联系人, 工作要求), or the defaults."""
    return templates.read_template(session=session, principal=principal, unit_id=unit_id)


@router.put(
    "/notice-templates/{unit_id}",
    response_model=NoticeTemplateOut,
    summary="保存通报模板 (store a unit's notice template)",
    responses=error_responses(401, 403, 404, 413, 422),
)
def put_notice_template(
    template_in: NoticeTemplateIn,
    unit_id: TemplateUnit,
    principal: Principal = Depends(require_supervisor),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
) -> NoticeTemplateOut:
    """Store a unit's notice template: its supervisors and admins may."""
    return templates.put_template(
        session=session, principal=principal, unit_id=unit_id, template_in=template_in, now=now
    )


@router.get(
    "/sla-reports/{report_date}",
    response_class=Response,
    summary="每日时限报告下载 (the nightly SLA report of a day, as a file)",
    responses=_download_responses(
        SLA_MEDIA_TYPES, "the report as a file, e.g. sla-report-2026-11-22.xlsx (attachment)"
    ),
)
def read_sla_report(
    report_date: Annotated[
        IsoDate, Path(description="the day reported on, local, e.g. 2026-11-22")
    ],
    format: SlaFormat = Query(SlaFormat.json, description=_formats(SlaFormat)),
    unit_id: UnitScope = None,
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
