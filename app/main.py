import gc
import logging
import math
import time
import uuid
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import lru_cache

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from prometheus_client import Counter, Histogram
from sqlalchemy import Engine
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import heartbeat, metrics_database
from app.audit.router import router as audit_router
from app.clock import Clock
from app.config import Settings, get_settings
from app.contract import use_business_zone
from app.cors import ApiCors
from app.db import (
    create_db_engine,
    create_event_loop_engine,
    install_database_error_handler,
    session_scope,
)
from app.directory.router import router as directory_router
from app.directory.router_lookup import router as unit_lookup_router
from app.errors import install_error_handler, install_validation_error_handler
from app.logs import accepted_request_id, request_id
from app.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS, UNMATCHED_ROUTE
from app.migrate import current_revision, head_revision
from app.reports.router_extensions import router as extensions_router
from app.reports.router_front import answered_router
from app.reports.router_front import unit_router as unit_front_router
from app.reports.router_public import router as public_router
from app.reports.router_unit import router as unit_router
from app.request_body import RequestBodyGuard
from app.sla.router import router as notifications_router
from app.stats.jobs import NIGHTLY_JOB
from app.stats.router import router as stats_router
from app.web.routes import install_pages
from app.wiring import install_hooks
from app.workdays.router import router as calendar_router
from app.workdays.service import coverage_status

log = logging.getLogger("zhaocuo")

OPENAPI_TAGS = [
    {
        "name": "public",
        "description": "网民：提交留言、凭查询码查看进展、补充信息。无需令牌。"
        " Citizens: submit a report, follow it by tracking code, add information. No token.",
    },
    {
        "name": "unit",
        "description": "单位：收件箱、答复、办结、不予受理、转办、请网民补充。"
        " Units: the inbox and the workflow of a report.",
    },
    {
        "name": "directory",
        "description": "单位、网站与令牌名录（写操作需管理员）。"
        " Units, sites and tokens; writes need an admin token.",
    },
    {
        "name": "calendar",
        "description": "工作日日历：国务院节假日安排的载入与覆盖范围。"
        " The working-day calendar: loading the State Council notice, coverage.",
    },
    {
        "name": "notifications",
        "description": "提醒、催办、督办等通知的拉取、确认与推送重试。"
        " Reminders and escalations to pull, acknowledge, and failed pushes to retry.",
    },
    {
        "name": "statistics",
        "description": "统计、通报草稿与每日时限报告（上级单位或管理员）。"
        " Statistics, draft notices and nightly SLA reports (supervisors, admins).",
    },
    {
        "name": "operations",
        "description": "运维：存活与就绪检查。 Liveness and readiness for operators.",
    },
    {
        "name": "admin",
        "description": "管理员：单位、网站、令牌和日历的每一次改动记录。"
        " Admins: the history of every change to units, sites, tokens and calendars.",
    },
]


class RateLimiter:
    """Public requests per client address, shared across processes when the storage is."""

    def __init__(self, limit: str, storage_uri: str, namespace: str = "public") -> None:
        self._limit = parse(limit)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._namespace = namespace
        # Counted in this process's memory: a hit never waits on the network, so it may run
        # on the event loop rather than cost a hop through the thread pool.
        self.in_process = storage_uri.startswith("memory://")

    def hit(self, key: str) -> bool:
        return self._limiter.hit(self._limit, self._namespace, key)

    def retry_after(self, key: str) -> int:
        """Whole seconds until the address may send again: when its oldest hit leaves the window."""
        reset_at = self._limiter.get_window_stats(self._limit, self._namespace, key).reset_time
        return max(1, math.ceil(reset_at - time.time()))


def _rate_limiter(limit: str, storage_uri: str, namespace: str) -> RateLimiter | None:
    return RateLimiter(limit, storage_uri, namespace) if limit else None


REQUEST_ID_HEADER = "X-Request-ID"


@lru_cache(maxsize=4096)
def _request_series(route: str, method: str, status: int) -> tuple[Counter, Histogram]:
    """A route's request counter and latency histogram, looked up once (labels() takes a lock
    and checks its values every time)."""
    return (
        HTTP_REQUESTS.labels(route=route, method=method, status=str(status)),
        HTTP_REQUEST_SECONDS.labels(route=route, method=method),
    )


class RequestContext:
    """Every HTTP request gets a request id (the client's X-Request-ID when sane, else a new
    one), carried by each log line of the request and returned in the response; and its
    count and latency by route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        current = accepted_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        current = current or uuid.uuid4().hex
        # Not reset afterwards: each request runs in its own task, and the error and access
        # log lines written after the app returns still belong to this request.
        request_id.set(current)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = current
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # The router leaves the matched route in the scope: its template, not the path,
            # so that a tracking code never becomes a label.
            route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
            answered, seconds = _request_series(route, scope["method"], status)
            answered.inc()
            seconds.observe(time.perf_counter() - started)


def _warn_about_calendar(app: FastAPI) -> None:
    try:
        with session_scope(app.state.engine) as session:
            status = coverage_status(
                session=session, now=app.state.clock.now(), settings=app.state.settings
            )
    except Exception:
        # Serve anyway: /readyz says what is wrong (an unmigrated database, say).
        log.exception("could not check the working-day calendar at startup")
        return
    if status.warning:
        log.warning(
            "the working-day calendar ends on %s (%d days from now): load the next year's "
            "State Council notice with `zhaocuo calendar load`; deadlines past it follow the "
            "weekend rule and are marked provisional",
            status.covered_until,
            status.days_left,
        )


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or create_db_engine(
        settings.database_url, settings.database_pool_size, settings.sqlite_synchronous
    )
    install_hooks()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        _warn_about_calendar(app)
        # Made here, on the loop that serves the requests: its connections wait on this loop.
        if engine.dialect.name == "postgresql":
            app.state.event_loop_engine = create_event_loop_engine(
                engine.url, settings.database_pool_size
            )
        # A single-node server runs the scheduled jobs itself (the `make run` default).
        app.state.scheduled_jobs = None
        if settings.scheduler == "embedded":
            from app.scheduler import ScheduledJobs

            app.state.scheduled_jobs = ScheduledJobs(
                engine=engine, settings=settings, clock=app.state.clock
            )
            app.state.scheduled_jobs.start()
        try:
            yield
        finally:
            if app.state.scheduled_jobs is not None:
                app.state.scheduled_jobs.shutdown()
            if app.state.event_loop_engine is not None:
                await app.state.event_loop_engine.dispose()
                app.state.event_loop_engine = None

    use_business_zone(settings.tz)
    # Swagger UI and ReDoc from the assets in the package: intranets reach no CDN.
    app = FastAPIOffline(
        title="zhaocuo — 我为政府网站找错",
        version="0.2.0",
        description=(
            "Citizens report errors on government websites; each report goes to the unit that "
            "runs the site, which must answer within deadlines counted in Chinese working days."
        ),
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.event_loop_engine = None  # PostgreSQL's, while the app is started (lifespan)
    app.state.clock = clock or Clock()
    app.state.rate_limiter = _rate_limiter(
        settings.public_rate_limit, settings.rate_limit_storage, "public"
    )
    app.state.read_rate_limiter = _rate_limiter(
        settings.public_read_rate_limit, settings.rate_limit_storage, "public_read"
    )
    install_error_handler(app)
    install_validation_error_handler(app)
    install_database_error_handler(app)
    app.add_middleware(
        RequestBodyGuard,
        max_json_body_bytes=settings.max_json_body_bytes,
        max_multipart_body_bytes=settings.max_multipart_body_bytes,
    )
    app.add_middleware(RequestContext)
    if settings.cors_origins:
        app.add_middleware(ApiCors, origins=settings.cors_origins)
    app.include_router(public_router)
    app.include_router(unit_router)
    app.include_router(unit_front_router)
    app.include_router(answered_router)
    app.include_router(extensions_router)
    app.include_router(unit_lookup_router)
    app.include_router(directory_router)
    app.include_router(calendar_router)
    app.include_router(notifications_router)
    app.include_router(stats_router)
    app.include_router(audit_router)
    install_pages(app, settings)

    @app.get("/healthz", tags=["operations"], summary="存活检查 (the process is up)")
    def healthz() -> dict:
        """The process is up."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="就绪检查 (database, migrations, calendar)",
        responses={503: {"description": "未就绪：原因见 checks (not ready; checks says why)"}},
    )
    def readyz(request: Request) -> JSONResponse:
        """Ready to serve: database reachable, migrations at head, a scheduler heard from recently;
        calendar coverage and the last nightly report as details."""
        checks: dict = {}
        ready = True
        try:
            # Reading the revision connects, so it fails as SELECT 1 would if the database is down.
            current = current_revision(engine)
            checks["database"] = "ok"
            head = head_revision()
            checks["migrations"] = {"current": current, "head": head}
            ready = current == head
            with session_scope(engine) as session:
                coverage = coverage_status(
                    session=session, now=request.app.state.clock.now(), settings=settings
                )
                last_beat = heartbeat.last_heartbeat_at(session=session)
                nightly = heartbeat.job_outcome(session=session, job=NIGHTLY_JOB)
            checks["calendar"] = {
                "covered_until": coverage.covered_until.isoformat(),
                "days_left": coverage.days_left,
                "warning": coverage.warning,
            }
            # Without a scheduler no reminder, escalation, webhook or nightly report is made.
            now = request.app.state.clock.now()
            stale_after = timedelta(seconds=settings.scheduler_stale_seconds)
            scheduler_ok = last_beat is not None and now - last_beat <= stale_after
            checks["scheduler"] = {
                "last_heartbeat_at": last_beat.astimezone(settings.tz).isoformat()
                if last_beat
                else None,
                "stale_after_seconds": settings.scheduler_stale_seconds,
                "ok": scheduler_ok,
            }
            ready = ready and scheduler_ok
            # A failing nightly report is shown, but the API still serves.
            checks["nightly_report"] = _nightly_check(nightly, settings)
        except Exception as exc:  # readiness must answer, whatever is broken
            # The driver's text names the host, port and user: it goes to the log, not the public.
            log.exception("readiness check failed")
            checks["error"] = (
                f"{type(exc).__name__}: the database cannot be read or is not migrated; "
                "the server log has the details"
            )
            ready = False
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="运行指标 (Prometheus metrics)",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
    )
    def prometheus_metrics(request: Request) -> Response:
        """Prometheus metrics (text exposition format); see docs/operations.md."""
        content, media_type = metrics_database.scrape(
            engine=engine, settings=settings, now=request.app.state.clock.now
        )
        return Response(content=content, media_type=media_type)

    return app


def _nightly_check(outcome: heartbeat.JobOutcome | None, settings: Settings) -> dict:
    def local(instant):
        return instant.astimezone(settings.tz).isoformat() if instant else None

    if outcome is None:
        return {"ok": True, "last_success_at": None, "last_failure_at": None}
    check = {
        "ok": not outcome.failing,
        "last_success_at": local(outcome.last_success_at),
        "last_failure_at": local(outcome.last_failure_at),
    }
    if outcome.failing:
        check["reason"] = outcome.last_failure_reason
    return check


def create_served_app() -> FastAPI:
    """create_app for the workers of `zhaocuo serve`, with what startup built frozen.

    A worker holds about 390,000 objects from its imports and its app. Each full pass of the
    garbage collector walked them all and stalled every request in flight for 100–180 ms
    (about once per 3,000 submissions: the p99 under load). Frozen once built, they are not
    walked again, and the full passes that remain take a few milliseconds.
    """
    app = create_app()
    gc.freeze()
    return app
