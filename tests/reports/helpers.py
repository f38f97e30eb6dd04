"""What the report tests share: due instants, the stored report, a unit's action over the API."""

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.reports.models import Report
from tests.conftest import Directory, local


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
