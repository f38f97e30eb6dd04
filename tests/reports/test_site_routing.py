"""Routing the citizen can trust: closed sites, a page of another site, sites opened later."""

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.reports.models import Report
from tests.conftest import Directory, local
from tests.reports.helpers import events_of
from tests.reports.helpers import stored as report_of

SITE_CLOSED_NOTICE = "该网站已关停，您的留言已转交其主办单位办理。"


def submit(client, **fields) -> dict:
    body = {
        "site_code": "9901000002",
        "page_url": "https://jyj.jia.example.gov.cn/tzgg/1.html",
        "category": 4,
        "description": "通知标题有错别字，请更正。",
        **fields,
    }
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def site_id(client, directory: Directory, code: str) -> int:
    sites = client.get("/api/v1/sites", headers=directory.auth("admin")).json()["items"]
    return next(s["id"] for s in sites if s["site_code"] == code)


def detail(client, directory: Directory, report_id: int, who="admin") -> dict:
    response = client.get(f"/api/v1/unit/reports/{report_id}", headers=directory.auth(who))
    assert response.status_code == 200, response.text
    return response.json()


def test_an_open_site_gets_no_mark(client, directory: Directory, engine: Engine):
    receipt = submit(client)

    assert receipt["site_closed"] is False and receipt["site_notice"] is None
    report = report_of(engine, receipt["tracking_code"])
    shown = detail(client, directory, report.id, who="handler_a1")
    assert (shown["site_closed"], shown["page_host_site_code"]) == (False, None)


def test_a_closed_sites_report_reaches_its_owner_marked(
    client, directory: Directory, engine: Engine
):
    client.patch(
        f"/api/v1/sites/{site_id(client, directory, directory.site_a1)}",
        json={"status": "closed"},
        headers=directory.auth("admin"),
    )

    receipt = submit(client)

    assert receipt["status"] == "assigned"
    assert receipt["owner_unit_name"] == "甲市教育局"
    assert receipt["site_closed"] is True
    assert receipt["site_notice"] == SITE_CLOSED_NOTICE
    assert receipt["resolution_due_at"] == "2026-12-14T23:59:59.999+08:00"
    report = report_of(engine, receipt["tracking_code"])
    assert detail(client, directory, report.id, who="handler_a1")["site_closed"] is True


def test_a_closed_site_found_by_host_also_goes_to_its_owner(client, directory: Directory):
    client.patch(
        f"/api/v1/sites/{site_id(client, directory, directory.site_a1)}",
        json={"status": "closed"},
        headers=directory.auth("admin"),
    )

    receipt = submit(client, site_code=None)

    assert (receipt["owner_unit_name"], receipt["site_closed"]) == ("甲市教育局", True)


def test_a_page_of_another_site_is_recorded_for_the_unit_and_operators(
    client, directory: Directory, engine: Engine
):
    receipt = submit(client, page_url="https://jyj.yi.example.gov.cn/news/2.html")

    # The site code decides the owner; the host's site is on record beside it.
    assert receipt["owner_unit_name"] == "甲市教育局"
    report = report_of(engine, receipt["tracking_code"])
    assert report.page_host_site_code == directory.site_b1
    for who in ("handler_a1", "admin"):
        assert detail(client, directory, report.id, who=who)["page_host_site_code"] == "99BM000009"
    # The citizen's view does not carry it.
    public = client.get(f"/api/v1/reports/{receipt['tracking_code']}").json()
    assert "page_host_site_code" not in public


def test_a_new_site_routes_the_reports_waiting_for_it(
    client, directory: Directory, engine: Engine, clock
):
    by_code = submit(client, site_code="9901000077", page_url="https://x.example.org/a.html")
    by_host = submit(client, site_code=None, page_url="https://WWW.new.example.gov.cn/b.html")
    other = submit(client, site_code=None, page_url="https://elsewhere.example.org/c.html")
    assert {r["status"] for r in (by_code, by_host, other)} == {"unrouted"}
    clock.set(local(2026, 11, 24, 9, 0))

    created = client.post(
        "/api/v1/sites",
        json={
            "site_code": "9901000077",
            "name": "甲市新网站",
            "owner_unit_id": directory.city_a,
            "hosts": ["new.example.gov.cn"],
        },
        headers=directory.auth("admin"),
    )

    assert created.status_code == 201, created.text
    with Session(engine) as session:
        rows = {r.tracking_code: r for r in session.exec(select(Report)).all()}
    for receipt in (by_code, by_host):
        report = rows[receipt["tracking_code"]]
        assert report.status == "assigned"
        assert report.owner_unit_id == directory.city_a
        assert report.site_id == created.json()["id"]
        assert report.assigned_at == local(2026, 11, 24, 9, 0)
        assert report.resolution_due_at == local(2026, 12, 15, 23, 59, 59, 999000)
        event = events_of(engine, report.id)[-1]
        assert (event.kind, event.actor, event.at) == (
            "routed",
            "system",
            local(2026, 11, 24, 9, 0),
        )
        assert event.data == {
            "to_unit_id": directory.city_a,
            "site_id": created.json()["id"],
            "reason": "site_created",
        }
    assert rows[by_host["tracking_code"]].site_code == "9901000077"
    assert rows[other["tracking_code"]].status == "unrouted"
    public = client.get(f"/api/v1/reports/{by_code['tracking_code']}").json()
    assert public["owner_unit_name"] == "甲市人民政府办公室"
    assert public["events"][-1]["data"] == {"unit": "甲市人民政府办公室"}


def test_reopening_a_site_routes_its_waiting_reports(client, directory: Directory, engine: Engine):
    # A report stored unrouted while the site was closed (before closed sites were routed).
    receipt = submit(client, site_code="9901000088", page_url="https://old.example.org/x.html")
    created = client.post(
        "/api/v1/sites",
        json={
            "site_code": "9901000099",
            "name": "旧网站",
            "owner_unit_id": directory.dept_b1,
            "status": "closed",
            "hosts": ["old.example.org"],
        },
        headers=directory.auth("admin"),
    )
    assert created.status_code == 201, created.text
    # Created closed, it still takes the report: to its owner, marked.
    report = report_of(engine, receipt["tracking_code"])
    assert (report.owner_unit_id, report.site_closed) == (directory.dept_b1, True)

    waiting = submit(client, site_code="9901000066", page_url="https://gone.example.org/y.html")
    closed_site = client.post(
        "/api/v1/sites",
        json={"site_code": "9901000055", "name": "停用网站", "owner_unit_id": directory.dept_b1},
        headers=directory.auth("admin"),
    ).json()
    client.patch(
        f"/api/v1/sites/{closed_site['id']}",
        json={"status": "closed"},
        headers=directory.auth("admin"),
    )
    reopened = client.patch(
        f"/api/v1/sites/{closed_site['id']}",
        json={"status": "active", "hosts": ["gone.example.org"]},
        headers=directory.auth("admin"),
    )

    assert reopened.status_code == 200, reopened.text
    report = report_of(engine, waiting["tracking_code"])
    assert (report.status, report.owner_unit_id, report.site_closed) == (
        "assigned",
        directory.dept_b1,
        False,
    )
    assert events_of(engine, report.id)[-1].data["reason"] == "site_reopened"


def test_a_refused_site_creation_routes_nothing(client, directory: Directory, engine: Engine):
    receipt = submit(client, site_code="9901000077", page_url="https://x.example.org/a.html")

    refused = client.post(
        "/api/v1/sites",
        json={"site_code": "9901000077", "name": "甲市新网站", "owner_unit_id": 999999},
        headers=directory.auth("admin"),
    )

    assert refused.status_code == 404
    assert report_of(engine, receipt["tracking_code"]).status == "unrouted"
