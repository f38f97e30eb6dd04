"""The citizens' pages: thin routes over the reports service, as the JSON API calls it."""

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from app.config import Settings
from app.db import RequestSession
from app.deps import get_app_settings, get_now, get_work_calendar
from app.errors import AppError, NotFound, TooManyRequests, Unprocessable
from app.metrics import REPORTS_SUBMITTED
from app.reports import ratings, service
from app.reports.answered import list_answered
from app.reports.attachments import prepare_screenshots
from app.reports.models import RATING_LABELS, TRACKING_CODE_REGEX, Category
from app.reports.router_public import rate_limited, read_rate_limited
from app.reports.schemas import RatingIn, SupplementIn
from app.reports.submission import Submission, read_submission
from app.web import captcha, guards
from app.web.forms import (
    CATEGORY_CHOICES,
    FILES_AGAIN,
    FORM_FIELDS,
    field_errors,
    search_sites,
    site_context,
)
from app.web.pages import mount_static, render
from app.workdays.calendar import WorkCalendar

router = APIRouter(include_in_schema=False)

ANSWERED_PAGE_SIZE = 20
TRACKING_CODE = re.compile(TRACKING_CODE_REGEX)
FORM_UNREADABLE = "表单无法读取，请在本页重新填写并提交。"
NOT_FOUND = "没有留言使用这个查询码，请与提交时的回执核对。"
BAD_FILTER = "筛选条件有误，已显示全部留言。"


def _address(request: Request) -> str:
    return request.client.host if request.client else "?"


def _recent(request: Request) -> guards.RecentSubmissions:
    return request.app.state.recent_submissions


@dataclass
class ReportForm:
    """A posted report form: what was typed (to show again), its errors, and the submission."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    submission: Submission | None = None


async def read_report_form(request: Request) -> ReportForm:
    """The form as the API reads it (app.reports.submission), its errors in Chinese."""
    errors: dict[str, str] = {}
    general: list[str] = []
    submission = None
    try:
        submission = await read_submission(request)
    except RequestValidationError as exc:
        errors = field_errors(list(exc.errors()))
        # The API's reader takes a body it cannot read as JSON: not a form this page sent.
        general = [] if errors else [FORM_UNREADABLE]
    except Unprocessable as exc:  # too many or too large screenshots, or an unreadable form
        errors = {"screenshots": exc.message}
    try:
        form = await request.form()
        values = {key: value for key, value in form.items() if isinstance(value, str)}
    except Exception:  # the body could not be parsed at all: nothing typed to show again
        values = {}
    return ReportForm(values=values, errors=errors, general=general, submission=submission)


def _form_page(
    request: Request,
    *,
    session: Session,
    settings: Settings,
    now,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    errors = errors or {}
    # A refused URL or code has its own error next to the field: no second sentence about it.
    site = site_context(
        session=session,
        site_code="" if "site_code" in errors else values.get("site_code", ""),
        page_url="" if "page_url" in errors else values.get("page_url", ""),
    )
    challenge = None
    if _recent(request).captcha_needed(_address(request)):
        challenge = guards.new_captcha_challenge(now=now)
    return render(
        request,
        "report.html",
        status_code=status_code,
        values=values,
        errors=errors,
        general=general or [],
        files_again=FILES_AGAIN if errors or general else None,
        site=site,
        categories=CATEGORY_CHOICES,
        form_token=guards.form_token(settings=settings, now=now),
        honeypot=guards.HONEYPOT_FIELD if settings.form_honeypot else None,
        captcha_challenge=challenge,
        max_attachments=settings.max_attachments,
        max_attachment_mb=settings.max_attachment_bytes // (1024 * 1024),
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, q: str = "", session: Session = RequestSession) -> HTMLResponse:
    sites = search_sites(session=session, text=q)
    return render(request, "home.html", query=q[:100], sites=sites, searched=bool(q.strip()))


@router.get("/jiucuo", response_class=HTMLResponse)
@router.get("/exposure/jiucuo.html", response_class=HTMLResponse)
def report_form(
    request: Request,
    site_code: str = "",
    url: str = "",
    session: Session = RequestSession,
    settings: Settings = Depends(get_app_settings),
    now=Depends(get_now),
) -> HTMLResponse:
    values = {"site_code": site_code.strip()[:40], "page_url": url.strip()[:2000]}
    return _form_page(request, session=session, settings=settings, now=now, values=values)


def _guard_errors(request: Request, form: ReportForm, *, settings: Settings, now) -> list[str]:
    values = form.values
    problems = [
        guards.honeypot_error(settings=settings, value=values.get(guards.HONEYPOT_FIELD)),
        guards.fill_time_error(
            settings=settings, token=values.get(guards.FORM_TOKEN_FIELD), now=now
        ),
    ]
    if _recent(request).captcha_needed(_address(request)):
        challenge = values.get(guards.CAPTCHA_CHALLENGE_FIELD) or ""
        problem = guards.captcha_error(
            settings=settings, challenge=challenge, typed=values.get(guards.CAPTCHA_FIELD), now=now
        )
        # One try per picture, right or wrong: guessing means fetching a new challenge each time.
        if problem != guards.CAPTCHA_MISSING and not _recent(request).spend_challenge(challenge):
            problem = problem or guards.CAPTCHA_USED
        problems.append(problem)
    return [problem for problem in problems if problem]


@router.post("/jiucuo", response_class=HTMLResponse)
def submit_form(
    request: Request,
    form: ReportForm = Depends(read_report_form),
    session: Session = RequestSession,
    settings: Settings = Depends(get_app_settings),
    now=Depends(get_now),
    calendar: WorkCalendar = Depends(get_work_calendar),
) -> HTMLResponse:
    values = {key: form.values.get(key, "") for key in FORM_FIELDS}

    def again(status_code: int, general: list[str], errors: dict[str, str] | None = None):
        return _form_page(
            request,
            session=session,
            settings=settings,
            now=now,
            values=values,
            errors=errors if errors is not None else form.errors,
            general=general,
            status_code=status_code,
        )

    try:
        rate_limited(request)
    except TooManyRequests as exc:
        return again(429, [exc.message + "。"])
    general = form.general + _guard_errors(request, form, settings=settings, now=now)
    if general or form.errors or form.submission is None:
        return again(422, general)
    try:
        attachments = prepare_screenshots(form.submission.files, settings=settings)
    except Unprocessable as exc:
        return again(422, [], {"screenshots": exc.message})
    report, receipt = service.submit_with_receipt(
        session=session,
        report_in=form.submission.report_in,
        now=now,
        calendar=calendar,
        settings=settings,
        attachments=attachments,
    )
    REPORTS_SUBMITTED.labels(routed=str(report.owner_unit_id is not None).lower()).inc()
    _recent(request).count(_address(request))
    return render(request, "receipt.html", status_code=201, receipt=receipt)


@router.get("/captcha/{challenge}.png")
def captcha_picture(challenge: str, settings: Settings = Depends(get_app_settings)) -> Response:
    if not re.fullmatch(r"[0-9]{1,12}\.[0-9a-f]{16}", challenge):
        return Response(status_code=404)
    text = guards.captcha_answer(settings=settings, challenge=challenge)
    return Response(
        captcha.draw(text, seed=challenge),
        media_type="image/png",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/track", response_class=HTMLResponse, response_model=None)
def track_lookup(request: Request, code: str = "") -> Response:
    code = code.strip().upper()
    if not code:
        return render(request, "track_lookup.html", code="", error=None)
    if not TRACKING_CODE.fullmatch(code):
        error = "查询码是回执上的16位字母和数字，请核对后重新输入。"
        return render(request, "track_lookup.html", status_code=422, code=code[:40], error=error)
    return RedirectResponse(f"/track/{code}", status_code=303)


def _track_page(
    request: Request,
    *,
    session: Session,
    code: str,
    now,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    code = code.strip().upper()
    try:
        if not TRACKING_CODE.fullmatch(code):
            raise NotFound(NOT_FOUND, en="no such tracking code", code="report_not_found")
        report = service.get_by_tracking_code(session=session, tracking_code=code)
    except NotFound:
        return render(request, "not_found.html", status_code=404, message=NOT_FOUND)
    view = service.public_view(session=session, report=report, now=now)
    return render(
        request,
        "track.html",
        status_code=status_code,
        report=view,
        errors=errors or {},
        typed=typed or {},
        ratings=list(RATING_LABELS.items()),
    )


@router.get("/track/{code}", response_class=HTMLResponse)
def track(
    request: Request, code: str, session: Session = RequestSession, now=Depends(get_now)
) -> HTMLResponse:
    try:
        read_rate_limited(request)
    except TooManyRequests as exc:
        page = render(
            request,
            "not_found.html",
            status_code=429,
            heading="查询过于频繁",
            message=exc.message + "。",
        )
        page.headers.update(exc.headers or {})
        return page
    return _track_page(request, session=session, code=code, now=now)


async def posted_fields(request: Request) -> dict[str, str]:
    """A small urlencoded form's text fields (the supplement and the rating)."""
    try:
        form = await request.form(max_files=0, max_fields=10)
    except Exception:
        return {}
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _action(
    request: Request,
    *,
    session: Session,
    code: str,
    now,
    fields: dict[str, str],
    error_field: str,
    invalid: str,
    act,
) -> Response:
    """Run a citizen's action from the tracking page; on a refusal show the page with why."""
    try:
        rate_limited(request)
        act()
    except ValidationError:
        session.rollback()
        return _track_page(
            request,
            session=session,
            code=code,
            now=now,
            errors={error_field: invalid},
            typed=fields,
            status_code=422,
        )
    except NotFound:
        return _track_page(request, session=session, code=code, now=now)
    except AppError as exc:
        session.rollback()
        return _track_page(
            request,
            session=session,
            code=code,
            now=now,
            errors={error_field: exc.message},
            typed=fields,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/track/{code.strip().upper()}#{error_field}", status_code=303)


@router.post("/track/{code}/supplement", response_class=HTMLResponse, response_model=None)
def supplement(
    request: Request,
    code: str,
    fields: dict[str, str] = Depends(posted_fields),
    session: Session = RequestSession,
    now=Depends(get_now),
    calendar: WorkCalendar = Depends(get_work_calendar),
    settings: Settings = Depends(get_app_settings),
) -> Response:
    def act() -> None:
        text = SupplementIn.model_validate({"text": fields.get("text", "")}).text
        service.supplement(
            session=session,
            tracking_code=code,
            text=text,
            now=now,
            calendar=calendar,
            settings=settings,
        )

    return _action(
        request,
        session=session,
        code=code,
        now=now,
        fields=fields,
        error_field="supplement",
        invalid="请填写2至2000个字的补充信息。",
        act=act,
    )


@router.post("/track/{code}/rating", response_class=HTMLResponse, response_model=None)
def rate(
    request: Request,
    code: str,
    fields: dict[str, str] = Depends(posted_fields),
    session: Session = RequestSession,
    now=Depends(get_now),
    calendar: WorkCalendar = Depends(get_work_calendar),
    settings: Settings = Depends(get_app_settings),
) -> Response:
    def act() -> None:
        body: dict[str, Any] = {"rating": fields.get("rating", "")}
        if fields.get("comment", "").strip():
            body["comment"] = fields["comment"]
        rating_in = RatingIn.model_validate(body)
        ratings.rate(
            session=session,
            tracking_code=code,
            rating_in=rating_in,
            now=now,
            calendar=calendar,
            settings=settings,
        )

    return _action(
        request,
        session=session,
        code=code,
        now=now,
        fields=fields,
        error_field="rating",
        invalid="请选择满意、基本满意或不满意；说明最多1000个字。",
        act=act,
    )


def _answered_filters(site_code: str, category: str, month: str) -> tuple[dict, bool]:
    filters: dict[str, Any] = {"site_code": None, "category": None, "month": None}
    valid = True
    if site_code.strip():
        filters["site_code"] = site_code.strip()[:40]
    if category.strip():
        try:
            filters["category"] = Category(int(category))
        except ValueError:
            valid = False
    if month.strip():
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}", month.strip()):
            filters["month"] = month.strip()
        else:
            valid = False
    return filters, valid


@router.get("/answered", response_class=HTMLResponse)
def answered(
    request: Request,
    site_code: str = "",
    category: str = "",
    month: str = "",
    page: str = "1",
    session: Session = RequestSession,
) -> HTMLResponse:
    filters, valid = _answered_filters(site_code, category, month)
    number = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    try:
        found = list_answered(
            session=session,
            limit=ANSWERED_PAGE_SIZE,
            offset=(number - 1) * ANSWERED_PAGE_SIZE,
            **filters,
        )
    except Unprocessable:
        filters, valid = {"site_code": None, "category": None, "month": None}, False
        found = list_answered(session=session, limit=ANSWERED_PAGE_SIZE, offset=0)
        number = 1
    pages = max(1, -(-found.total // ANSWERED_PAGE_SIZE))
    return render(
        request,
        "answered.html",
        found=found,
        page=number,
        pages=pages,
        filters={
            "site_code": filters["site_code"] or "",
            "category": "" if filters["category"] is None else str(int(filters["category"])),
            "month": filters["month"] or "",
        },
        notice=None if valid else BAD_FILTER,
        categories=CATEGORY_CHOICES,
    )


def install_pages(app: FastAPI, settings: Settings) -> None:
    """The citizens' pages, their static files and the per-address submission count."""
    app.state.recent_submissions = guards.RecentSubmissions(settings)
    mount_static(app)
    app.include_router(router)
