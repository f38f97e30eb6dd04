"""Request-scoped dependencies shared by the routers."""

from datetime import datetime

from fastapi import Request
from sqlmodel import Session

from app.config import Settings
from app.db import RequestSession
from app.workdays.calendar import WorkCalendar
from app.workdays.sources import held_calendar


# Async because they never block: a sync dependency costs a hop through the thread pool.
async def get_now(request: Request) -> datetime:
    return request.app.state.clock.now()


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def work_calendar(session: Session) -> WorkCalendar:
    """The calendar in force, held until the session's transaction ends."""
    # Held until the request commits, so that a calendar load cannot miss its report.
    return held_calendar(session)


def get_work_calendar(session: Session = RequestSession) -> WorkCalendar:
    return work_calendar(session)
