from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlmodel import Session

from app.auth import Principal, require_admin
from app.config import Settings
from app.contract import error_responses
from app.db import RequestSession
from app.deps import get_app_settings, get_now
from app.fields import YEAR_MAX, YEAR_MIN
from app.workdays import jobs, service
from app.workdays.schemas import (
    CalendarLoadResult,
    CalendarNotice,
    CalendarYearPublic,
    CoveragePublic,
)

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])

Year = Annotated[int, Path(ge=YEAR_MIN, le=YEAR_MAX, description="a calendar year, e.g. 2027")]


# Declared before /{year}, which would otherwise take "coverage" for a year.
@router.get(
    "/coverage",
    response_model=CoveragePublic,
    summary="日历覆盖范围 (how far the official calendar reaches)",
)
def get_coverage(
    now: datetime = Depends(get_now),
    settings: Settings = Depends(get_app_settings),
    session: Session = RequestSession,
) -> CoveragePublic:
    """The last day the official calendar covers; warning when it ends soon."""
    return service.coverage_status(session=session, now=now, settings=settings)


@router.get(
    "/{year}",
    response_model=CalendarYearPublic,
    summary="某年的节假日与调休 (a year's holidays and make-up days)",
    responses=error_responses(422),
)
def get_year(year: Year, session: Session = RequestSession) -> CalendarYearPublic:
    """A year's holidays and make-up working days, and whether they are official."""
    return service.describe_year(session=session, year=year)


@router.put(
    "/{year}",
    response_model=CalendarLoadResult,
    summary="载入某年的国务院节假日安排 (load a year's notice, admin)",
    responses=error_responses(401, 403, 409, 413, 422),
)
def put_year(
    year: Year,
    notice: CalendarNotice,
    principal: Principal = Depends(require_admin),
    now: datetime = Depends(get_now),
    session: Session = RequestSession,
    settings: Settings = Depends(get_app_settings),
) -> CalendarLoadResult:
    """Load a year from the State Council notice (admin); open reports' deadlines follow it."""
    # A job of several transactions (app.workdays.jobs): the year, then the reports' batches.
    return jobs.load_year_and_follow(
        session=session,
        year=year,
        notice=notice,
        now=now,
        actor=principal.actor,
        audit_actor=principal.audit_actor,
        settings=settings,
    )
