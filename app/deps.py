"""Request-scoped dependencies shared by the routers."""

from datetime import datetime

from fastapi import Depends, Request
from sqlmodel import Session

from app.config import Settings
from app.db import get_session
from app.workdays.calendar import WorkCalendar
from app.workdays.sources import get_calendar


def get_now(request: Request) -> datetime:
    return request.app.state.clock.now()


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_work_calendar(session: Session = Depends(get_session)) -> WorkCalendar:
    return get_calendar(session)
