from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from sqlmodel import Session

from app.auth import Principal, require_supervisor
from app.config import Settings
from app.db import RequestSession
from app.deps import get_app_settings, get_now
from app.fields import Id, IsoDate, IsoDateTime
from app.stats import service
from app.stats.exports import SlaFormat, render_sla_report
from app.stats.notice import NoticeFormat, RenderedFile
from app.stats.periods import PERIOD_MAX, PERIOD_PATTERN
from app.stats.schemas import StatsOut

router = APIRouter(prefix="/api/v1", tags=["statistics"])

PERIOD_DESCRIPTION = "2026-04 (a month), 2026-Q3, 2026, or 2026-04-01..2026-04-30"
AS_OF_DESCRIPTION = "the cut-off instant (default now); later events are ignored"
UNIT_DESCRIPTION = "a unit of your subtree (default: your own unit; for admins, every unit)"


def _download(rendered: RenderedFile) -> Response:
    return Response(
        content=rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Disposition": f'inline; filename="{rendered.filename}"'},
    )


@router.get("/stats", response_model=StatsOut)
def read_stats(
    period: str = Query(
        description=PERIOD_DESCRIPTION, max_length=PERIOD_MAX, pattern=PERIOD_PATTERN
    ),
    as_of: IsoDateTime | None = Query(None, description=AS_OF_DESCRIPTION),
    unit_id: Id | None = Query(None, description=UNIT_DESCRIPTION),
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
    period: Annotated[str, Path(max_length=PERIOD_MAX, pattern=PERIOD_PATTERN)],
    format: NoticeFormat = Query(NoticeFormat.md, description="md, csv, xlsx or json"),
    as_of: IsoDateTime | None = Query(None, description=AS_OF_DESCRIPTION),
    unit_id: Id | None = Query(None, description=UNIT_DESCRIPTION),
    principal: Principal = Depends(require_supervisor),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
    settings: Settings = Depends(get_app_settings),
) -> Response:
    """The draft notice (通报) of a period: 一、总体情况, 二、存在问题 and the annex table."""
    rendered = service.notice_for(
        session=session,
        principal=principal,
        period=period,
        notice_format=format,
        now=now,
        settings=settings,
        as_of=as_of,
        unit_id=unit_id,
    )
    return _download(rendered)


@router.get("/sla-reports/{report_date}")
def read_sla_report(
    report_date: IsoDate,
    format: SlaFormat = Query(SlaFormat.json, description="json, csv or xlsx"),
    unit_id: Id | None = Query(None, description=UNIT_DESCRIPTION),
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
