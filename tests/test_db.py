"""The request transaction: committed before the response, or the caller hears of it."""

from fastapi.testclient import TestClient
from sqlalchemy import event, func
from sqlmodel import Session, select

from app.reports.models import Report


def test_a_commit_that_fails_is_never_answered_with_201(app, engine, directory):
    def refuse(session: Session) -> None:
        raise RuntimeError("the disk is full")

    event.listen(Session, "before_commit", refuse)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.post(
                "/api/v1/reports",
                json={
                    "site_code": directory.site_a1,
                    "page_url": "https://jyj.jia.example.gov.cn/a.html",
                    "category": 4,
                    "description": "标题里的错别字",
                },
            )
    finally:
        event.remove(Session, "before_commit", refuse)
    assert response.status_code == 500
    assert "tracking_code" not in response.text
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Report)).one() == 0
