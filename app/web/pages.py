"""Rendering the citizens' pages: templates, their filters, and static files with cache headers."""

import hashlib
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import Scope

from app.contract import business_zone
from app.reports.models import (
    DECLINE_REASON_LABELS,
    EVENT_KIND_LABELS,
    RATING_LABELS,
    VERDICT_LABELS,
)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
# A file's URL carries a hash of its bytes, so a browser may keep it for a year.
STATIC_MAX_AGE = 365 * 24 * 3600

STATUS_LABELS = {
    "unrouted": "待分办",
    "assigned": "办理中",
    "replied": "已答复，办理中",
    "awaiting_citizen": "待您补充信息",
    "resolved": "已办结",
    "declined": "不予受理",
}


def _versions() -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        for path in STATIC_DIR.iterdir()
        if path.is_file()
    }


VERSIONS = _versions()


def static_url(name: str) -> str:
    return f"/static/{name}?v={VERSIONS[name]}"


def local_time(instant: datetime | None) -> str:
    """An instant as the citizen reads it: the business zone's wall clock."""
    if instant is None:
        return ""
    return instant.astimezone(business_zone()).strftime("%Y年%m月%d日 %H:%M")


def local_text(text: str | None) -> str:
    """An instant the API already wrote in the business zone (ISO 8601), as the citizen reads it."""
    if not text:
        return ""
    try:
        return local_time(datetime.fromisoformat(text))
    except ValueError:
        return text


def _label(table: dict, value) -> str:
    for key, label in table.items():
        if str(key) == str(value):
            return label
    return str(value)


templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["static_url"] = static_url
templates.env.filters["local_time"] = local_time
templates.env.filters["local_text"] = local_text
templates.env.filters["status_label"] = lambda value: _label(STATUS_LABELS, value)
templates.env.filters["event_label"] = lambda value: _label(EVENT_KIND_LABELS, value)
templates.env.filters["rating_label"] = lambda value: _label(RATING_LABELS, value)
templates.env.filters["verdict_label"] = lambda value: _label(VERDICT_LABELS, value)
templates.env.filters["decline_label"] = lambda value: _label(DECLINE_REASON_LABELS, value)


def render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


class CachedStatic(StaticFiles):
    """Static files a browser and any proxy may keep: their URLs change with their bytes."""

    async def get_response(self, path: str, scope: Scope):
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}, immutable"
        return response


def mount_static(app: FastAPI) -> None:
    app.mount("/static", CachedStatic(directory=STATIC_DIR), name="static")
