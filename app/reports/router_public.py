from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from app.config import Settings
from app.contract import error_responses
from app.db import RequestSession, in_request_transaction
from app.deps import get_app_settings, get_now, get_work_calendar, work_calendar
from app.errors import TooManyRequests
from app.metrics import REPORTS_SUBMITTED
from app.reports import ratings, service
from app.reports.models import Report
from app.reports.schemas import (
    RatingIn,
    ReportPublic,
    ReportReceipt,
    SupplementIn,
    TrackingCode,
)
from app.reports.submission import (
    SUBMISSION_BODY,
    Submission,
    prepared_attachments,
    read_submission,
)
from app.workdays.calendar import WorkCalendar

router = APIRouter(prefix="/api/v1/reports", tags=["public"])

TrackingCodePath = Annotated[
    TrackingCode,
    Path(
        description="查询码, the 16 letters and digits on the receipt",
        examples=["K7M4Q9T2XW8R3HPA"],
    ),
]


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


def _limit(request: Request, limiter, *, zh: str, en: str) -> None:
    address = _client_address(request)
    if limiter is not None and not limiter.hit(address):
        seconds = limiter.retry_after(address)
        raise TooManyRequests(
            f"您的地址{zh}过于频繁，请在{seconds}秒后再试",
            en=f"too many {en} from your address; please try again in {seconds} seconds",
            code="too_many_requests",
            headers={"Retry-After": str(seconds)},
        )


def rate_limited(request: Request) -> None:
    """Submissions and supplements per address (ZHAOCUO_PUBLIC_RATE_LIMIT)."""
    _limit(request, request.app.state.rate_limiter, zh="提交", en="reports")


def read_rate_limited(request: Request) -> None:
    """Reads by tracking code per address (ZHAOCUO_PUBLIC_READ_RATE_LIMIT): guessing stays slow."""
    _limit(request, request.app.state.read_rate_limiter, zh="查询", en="look-ups")


async def _limit_on_loop(request: Request, limiter, *, zh: str, en: str) -> None:
    """_limit from an async dependency: on the event loop when the counts are in memory."""
    if limiter is None:
        return
    if limiter.in_process:
        _limit(request, limiter, zh=zh, en=en)
    else:
        await run_in_threadpool(_limit, request, limiter, zh=zh, en=en)


# The API's dependencies are async, so that a request pays no thread-pool hop for its limit;
# the web pages call the sync ones above from their worker threads.
async def submissions_limited(request: Request) -> None:
    """rate_limited, as a dependency of the API's routes."""
    await _limit_on_loop(request, request.app.state.rate_limiter, zh="提交", en="reports")


async def reads_limited(request: Request) -> None:
    """read_rate_limited, as a dependency of the API's routes."""
    await _limit_on_loop(request, request.app.state.read_rate_limiter, zh="查询", en="look-ups")


@router.post(
    "",
    status_code=201,
    response_model=ReportReceipt,
    dependencies=[Depends(submissions_limited)],
    summary="提交找错留言 (submit a report)",
    responses=error_responses(413, 422, 429),
    openapi_extra={"requestBody": SUBMISSION_BODY},
)
async def submit_report(
    request: Request, submission: Submission = Depends(read_submission)
) -> ReportReceipt:
    """Report an error on a government website. Keep the tracking code to follow it up.

    Send JSON, or the same fields as `multipart/form-data` with up to 3 screenshots in
    `screenshots`; a file that is not a PNG, JPEG, WebP or GIF image (by its bytes), or too
    large, is a 422 naming it, and nothing is stored.
    """
    # The hot path of the public API: async, so that reading the body, the rate limit and the
    # receipt's serialisation stay on the event loop, and the transaction (the calendar, the
    # service and the commit) is one call, committed before the 201: on the event loop on
    # PostgreSQL, in a worker thread on SQLite (in_request_transaction).
    settings: Settings = request.app.state.settings
    now = request.app.state.clock.now()
    attachments = await prepared_attachments(submission, settings=settings)

    def store(session: Session) -> tuple[Report, ReportReceipt]:
        return service.submit_with_receipt(
            session=session,
            report_in=submission.report_in,
            now=now,
            calendar=work_calendar(session),
            settings=settings,
            attachments=attachments,
        )

    report, receipt = await in_request_transaction(request, store)
    REPORTS_SUBMITTED.labels(routed=str(report.owner_unit_id is not None).lower()).inc()
    return receipt


@router.get(
    "/{tracking_code}",
    response_model=ReportPublic,
    summary="凭查询码查看留言 (read a report by tracking code)",
    responses=error_responses(404, 422, 429),
    dependencies=[Depends(reads_limited)],
)
def read_report(
    tracking_code: TrackingCodePath, session: Session = RequestSession, now=Depends(get_now)
) -> ReportPublic:
    """A report's status, answers and timeline, by tracking code."""
    report = service.get_by_tracking_code(session=session, tracking_code=tracking_code)
    return service.public_view(session=session, report=report, now=now)


@router.post(
    "/{tracking_code}/supplement",
    response_model=ReportPublic,
    dependencies=[Depends(submissions_limited)],
    summary="补充单位要求的信息 (add the information the unit asked for)",
    responses=error_responses(404, 409, 413, 422, 429),
)
def supplement_report(
    tracking_code: TrackingCodePath,
    supplement_in: SupplementIn,
    session: Session = RequestSession,
    now=Depends(get_now),
    calendar: WorkCalendar = Depends(get_work_calendar),
    settings: Settings = Depends(get_app_settings),
) -> ReportPublic:
    """Add the information the unit asked for; its clocks resume."""
    report = service.supplement(
        session=session,
        tracking_code=tracking_code,
        text=supplement_in.text,
        now=now,
        calendar=calendar,
        settings=settings,
    )
    return service.public_view(session=session, report=report, now=now)


@router.post(
    "/{tracking_code}/rating",
    response_model=ReportPublic,
    dependencies=[Depends(submissions_limited)],
    summary="评价办理结果 (rate the answer)",
    responses=error_responses(404, 409, 413, 422, 429),
)
def rate_report(
    tracking_code: TrackingCodePath,
    rating_in: RatingIn,
    session: Session = RequestSession,
    now=Depends(get_now),
    calendar: WorkCalendar = Depends(get_work_calendar),
    settings: Settings = Depends(get_app_settings),
) -> ReportPublic:
    """Rate a resolved or declined report once, within the rating window after its closing
    (ZHAOCUO_RATING_WINDOW_WORKDAYS working days). `dissatisfied` with a comment (the reason)
    sends the report back to its unit on a new clock, once."""
    report = ratings.rate(
        session=session,
        tracking_code=tracking_code,
        rating_in=rating_in,
        now=now,
        calendar=calendar,
        settings=settings,
    )
    return service.public_view(session=session, report=report, now=now)
