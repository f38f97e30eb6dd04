"""The calendar load as a job: the year in one transaction, then the open reports in their own.

A load is more than one transaction on purpose: the calendar must be committed (and its lock
released) before open reports follow it in short batches, so that submissions keep flowing
while a year loads. `service.load_year` only flushes; this job commits the caller's session
(the request's, or the command's) once the year is loaded, then moves the reports. The session
gives its connection back on commit: on SQLite the engine has one, which the move then takes.
"""

import logging
from datetime import datetime

from sqlmodel import Session

from app.audit.models import Actor
from app.config import Settings
from app.workdays import service
from app.workdays.hooks import recompute_open_deadlines
from app.workdays.schemas import CalendarLoadResult, CalendarNotice

log = logging.getLogger(__name__)


def load_year_and_follow(
    *,
    session: Session,
    year: int,
    notice: CalendarNotice,
    now: datetime,
    actor: str,
    audit_actor: Actor,
    settings: Settings,
) -> CalendarLoadResult:
    """Load a year from a notice and commit it; then move open reports to it; both counted.

    Until the move has run the year's version is pending, so a crash between the two leaves
    the scheduler to finish it; a recompute already running elsewhere is waited for.
    """
    result = service.load_year(
        session=session,
        year=year,
        notice=notice,
        now=now,
        actor=actor,
        settings=settings,
        audit_actor=audit_actor,
    )
    session.commit()
    engine = session.get_bind()
    moved = recompute_open_deadlines(engine=engine, now=now, settings=settings, wait=True) or 0
    log.info("%d open reports had their due dates moved to the calendar in force", moved)
    return result.model_copy(update={"reports_moved": moved})
