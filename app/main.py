import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine

from app.clock import Clock
from app.config import Settings, get_settings
from app.contract import use_business_zone
from app.db import create_db_engine, session_scope
from app.directory.router import router as directory_router
from app.errors import install_error_handler, install_validation_error_handler
from app.migrate import current_revision, head_revision
from app.reports.router_public import router as public_router
from app.reports.router_unit import router as unit_router
from app.request_body import RequestBodyGuard
from app.sla.router import router as notifications_router
from app.stats.router import router as stats_router
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
]


class RateLimiter:
    """Public submissions per client address, shared across processes when the storage is."""

    def __init__(self, limit: str, storage_uri: str) -> None:
        self._limit = parse(limit)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def hit(self, key: str) -> bool:
        return self._limiter.hit(self._limit, "public", key)


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
    engine = engine or create_db_engine(settings.database_url, settings.database_pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        _warn_about_calendar(app)
        # A single-node server runs the scheduled jobs itself (the `make run` default).
        app.state.scheduled_jobs = None
        if settings.scheduler == "embedded":
            from app.sla.jobs import ScheduledJobs

            app.state.scheduled_jobs = ScheduledJobs(
                engine=engine, settings=settings, clock=app.state.clock
            )
            app.state.scheduled_jobs.start()
        try:
            yield
        finally:
            if app.state.scheduled_jobs is not None:
                app.state.scheduled_jobs.shutdown()

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
    app.state.clock = clock or Clock()
    app.state.rate_limiter = (
        RateLimiter(settings.public_rate_limit, settings.rate_limit_storage)
        if settings.public_rate_limit
        else None
    )
    install_error_handler(app)
    install_validation_error_handler(app)
    app.add_middleware(RequestBodyGuard, max_json_body_bytes=settings.max_json_body_bytes)
    app.include_router(public_router)
    app.include_router(unit_router)
    app.include_router(directory_router)
    app.include_router(calendar_router)
    app.include_router(notifications_router)
    app.include_router(stats_router)

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
        """Ready to serve: database reachable, migrations at head; calendar coverage reported."""
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
            checks["calendar"] = {
                "covered_until": coverage.covered_until.isoformat(),
                "days_left": coverage.days_left,
                "warning": coverage.warning,
            }
        except Exception as exc:  # readiness must answer, whatever is broken
            log.exception("readiness check failed")
            checks["error"] = str(exc)
            ready = False
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    return app
