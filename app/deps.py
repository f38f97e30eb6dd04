"""Request-scoped dependencies shared by the routers."""

from datetime import datetime

from fastapi import Request
from sqlmodel import Session

from app.config import Settings
from app.db import RequestSession
from app.workdays.calendar import WorkCalendar
from app.workdays.sources import get_calendar


# Async because they never block: a sync dependency costs a hop through the thread pool.
async def get_now(request: Request) -> datetime:
    return request.app.state.clock.now()


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_work_calendar(session: Session = RequestSession) -> WorkCalendar:
    return get_calendar(session)
