"""What the report tests share: due instants, the stored report, a unit's action over the API."""

from datetime import datetime
from functools import partial

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.reports.models import Report, ReportEvent
from tests.conftest import REPORT_ON_SITE_A1, Directory, local, submit_report

CITIZEN = {"name": "欧阳明远", "phone": "13912345678", "email": "ouyang.mingyuan@example.com"}

# A report with the citizen's contact details unless a test leaves them out (name=None, ...).
submit = partial(submit_report, **CITIZEN)


def payload(**changes) -> dict:
    """The body a citizen sends, for posts that are meant to be refused."""
    body = REPORT_ON_SITE_A1 | CITIZEN | changes
    return {key: value for key, value in body.items() if value is not None}


def count(engine: Engine, model) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def due(year: int, month: int, day: int) -> datetime:
    """The end of a local day, as deadlines are stated."""
    return local(year, month, day, 23, 59, 59, 999000)


def stored(engine: Engine, tracking_code: str) -> Report:
    with Session(engine) as session:
        return session.exec(select(Report).where(Report.tracking_code == tracking_code)).one()


def act(client, directory: Directory, report_id: int, action: str, body: dict, who="handler_a1"):
    response = client.post(
        f"/api/v1/unit/reports/{report_id}/{action}", json=body, headers=directory.auth(who)
    )
    assert response.status_code == 200, response.text
    return response.json()


def events_of(engine: Engine, report_id: int) -> list[ReportEvent]:
    with Session(engine) as session:
        query = select(ReportEvent).where(ReportEvent.report_id == report_id)
        return list(session.exec(query.order_by(ReportEvent.id)).all())
