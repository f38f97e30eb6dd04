"""The public list of answered reports (留言选登) and the owner unit's publication switch."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session

from app.clock import FrozenClock
from app.errors import Unprocessable
from app.main import create_app
from app.reports.answered import list_answered
from tests.conftest import Directory, local
from tests.reports.helpers import submit

A1, B1 = "handler_a1", "handler_b1"


def act(client, directory: Directory, who: str, report_id: int, action: str, body: dict) -> dict:
    response = client.post(
        f"/api/v1/unit/reports/{report_id}/{action}", json=body, headers=directory.auth(who)
    )
    assert response.status_code == 200, response.text
    return response.json()


def newest_id(client, directory: Directory, who: str) -> int:
    inbox = client.get("/api/v1/unit/reports", headers=directory.auth(who)).json()
    return max(item["id"] for item in inbox["items"])


def publication(client, directory: Directory, who: str, report_id: int, publish: bool):
    return client.patch(
        f"/api/v1/unit/reports/{report_id}/publication",
        json={"publish": publish},
        headers=directory.auth(who),
    )


@pytest.fixture
def answered(client, directory: Directory, clock: FrozenClock) -> dict[str, int]:
    """Two answered reports (November and, by local time, December) and three that are not."""
    ids = {}
    submit(client, description="标题错字，请致电13812345678或写信zhang@example.com告知结果。")
    ids["november"] = newest_id(client, directory, A1)
    clock.set(local(2026, 11, 24, 9, 0))
    act(client, directory, A1, ids["november"], "reply", {"text": "已收到，正在核实。"})
    clock.set(local(2026, 11, 30, 15, 0))
    act(
        client,
        directory,
        A1,
        ids["november"],
        "resolve",
        {"verdict": "confirmed", "text": "已更正。如有疑问请拨打010-12345678。"},
    )

    submit(
        client,
        site_code="99BM000009",
        page_url="http://jyj.yi.example.gov.cn/index.html",
        category=0,
        description="首页打不开，身份证11010519491231002X的办事页面也打不开。",
    )
    ids["december"] = newest_id(client, directory, B1)
    clock.set(local(2026, 12, 1, 0, 10))  # 16:10 UTC on 30 November: December, locally
    act(
        client,
        directory,
        B1,
        ids["december"],
        "resolve",
        {"verdict": "not_confirmed", "text": "经核实页面可以正常访问。"},
    )

    submit(client, description="这是一条重复的留言内容。")
    ids["declined"] = newest_id(client, directory, A1)
    act(
        client,
        directory,
        A1,
        ids["declined"],
        "decline",
        {"reason": "duplicate", "text": "与此前留言重复。"},
    )
    submit(client, description="这条留言还没有办结。")
    ids["open"] = newest_id(client, directory, A1)
    submit(client, description="这条留言办结了但不公开。")
    ids["withheld"] = newest_id(client, directory, A1)
    assert publication(client, directory, A1, ids["withheld"], False).status_code == 200
    act(
        client,
        directory,
        A1,
        ids["withheld"],
        "resolve",
        {"verdict": "confirmed", "text": "已处理。"},
    )
    return ids


def listed(client, **params) -> list[int]:
    response = client.get("/api/v1/answered", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_the_list_shows_resolved_published_reports_newest_resolution_first_masked(client, answered):
    page = client.get("/api/v1/answered").json()

    assert (page["total"], page["limit"], page["offset"]) == (2, 20, 0)
    december, november = page["items"]
    assert november == {
        "id": answered["november"],
        "category": 4,
        "category_label": "错别字",
        "site_code": "9901000002",
        "site_name": "甲市教育局网站",
        "unit_name": "甲市教育局",
        "page_url": "http://jyj.jia.example.gov.cn/xxgk/index.html",
        "description": "标题错字，请致电138****5678或写信z***@example.com告知结果。",
        "verdict": "confirmed",
        "answer": "已更正。如有疑问请拨打010-****5678。",
        "first_reply": "已收到，正在核实。",
        "received_at": "2026-11-23T10:00:00.000+08:00",
        "resolved_at": "2026-11-30T15:00:00.000+08:00",
    }
    assert december["id"] == answered["december"]
    assert december["description"] == "首页打不开，身份证110***********002X的办事页面也打不开。"
    assert december["first_reply"] is None
    assert december["resolved_at"] == "2026-12-01T00:10:00.000+08:00"
    # No contact field, not even empty, and no tracking code (it opens the report).
    assert set(november) == set(december)
    assert not {"name", "phone", "email", "tracking_code"} & set(november)


def test_the_filters_site_category_and_local_month_of_resolution(client, answered):
    assert listed(client, site_code="99BM000009") == [answered["december"]]
    assert listed(client, site_code="9901000002") == [answered["november"]]
    assert listed(client, category=4) == [answered["november"]]
    assert listed(client, category=6) == []
    assert listed(client, month="2026-11") == [answered["november"]]
    assert listed(client, month="2026-12") == [answered["december"]]
    assert listed(client, month="2026-12", category=4) == []


def test_paging(client, answered):
    page = client.get("/api/v1/answered", params={"limit": 1, "offset": 1}).json()
    assert ([item["id"] for item in page["items"]], page["total"]) == ([answered["november"]], 2)
    past_the_end = client.get("/api/v1/answered", params={"offset": 5}).json()
    assert (past_the_end["items"], past_the_end["total"]) == ([], 2)


def test_a_month_not_written_yyyy_mm_is_refused(client, session: Session):
    response = client.get("/api/v1/answered", params={"month": "2026-13"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "month"]
    with pytest.raises(Unprocessable) as caught:
        list_answered(session=session, month="2026-1", limit=10, offset=0)
    assert caught.value.code == "month_invalid"


def test_the_service_gives_the_same_page(client, answered, session: Session):
    page = list_answered(session=session, site_code="9901000002", limit=10, offset=0)
    assert [item.id for item in page.items] == [answered["november"]]
    assert (
        page.items[0].description == "标题错字，请致电138****5678或写信z***@example.com告知结果。"
    )


def test_publication_is_the_owners_choice_and_on_record(
    client, directory: Directory, answered, clock: FrozenClock
):
    report_id = answered["november"]
    refused = publication(client, directory, "supervisor_a", report_id, False)
    assert (refused.status_code, refused.json()["code"]) == (403, "owner_unit_required")
    hidden = publication(client, directory, B1, report_id, False)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "report_not_found")

    clock.set(local(2026, 12, 2, 10, 0))
    detail = publication(client, directory, A1, report_id, False).json()
    assert detail["published"] is False
    event = detail["events"][-1]
    assert (event["kind"], event["actor"], event["data"], event["at"]) == (
        "publication_changed",
        f"unit:{directory.dept_a1}:handler",
        {"publish": False},
        "2026-12-02T10:00:00.000+08:00",
    )
    assert listed(client) == [answered["december"]]
    # Asking again for what already holds records nothing.
    again = publication(client, directory, A1, report_id, False).json()
    assert len(again["events"]) == len(detail["events"])
    shown = publication(client, directory, A1, report_id, True).json()
    assert [e["data"] for e in shown["events"] if e["kind"] == "publication_changed"] == [
        {"publish": False},
        {"publish": True},
    ]
    assert listed(client) == [answered["december"], answered["november"]]


def test_the_citizen_never_sees_the_publication_event(client, directory: Directory):
    receipt = submit(client)
    report_id = newest_id(client, directory, A1)
    assert publication(client, directory, A1, report_id, False).status_code == 200
    public = client.get(f"/api/v1/reports/{receipt['tracking_code']}").json()
    assert [e["kind"] for e in public["events"]] == ["submitted"]


def test_the_list_is_rate_limited_like_other_public_reads(settings, engine, clock):
    limited = settings.model_copy(update={"public_read_rate_limit": "2/minute"})
    with TestClient(create_app(settings=limited, engine=engine, clock=clock)) as client:
        statuses = [client.get("/api/v1/answered").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]


def test_the_page_walks_the_answered_index_without_sorting(engine, session: Session):
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's planner scans tables this small whatever the indexes")
    statements = []

    def capture(conn, cursor, statement, params, context, executemany):
        if statement.startswith("SELECT"):
            statements.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        list_answered(session=session, category=4, limit=10, offset=0)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    page_statement, params = statements[0]
    plan = [
        row[3]
        for row in session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + page_statement, params
        )
    ]
    assert plan[0] == "SEARCH report USING INDEX ix_report_answered (status=? AND published=?)"
    assert not any("TEMP B-TREE" in step for step in plan)
