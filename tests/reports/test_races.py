"""Unit actions racing a citizen's supplement, as real concurrent requests over HTTP.

Each round puts a fresh report in `awaiting_citizen`, then sends the two requests at the same
moment from two threads, each on its own connection (and so its own database transaction).
Whichever order the database settles on, a closed report never changes again, a transferred
report keeps the receiving unit's clock, and the request that lost answers 409.
"""

import threading
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.reports.models import Report, ReportEvent
from tests.conftest import Directory
from tests.live_server import serving

ROUNDS = 40
SUPPLEMENT = {"text": "是“通知公告”栏目，网址见上。"}
RESOLVE = {"verdict": "confirmed", "text": "栏目已更新，感谢您的监督。"}
DECLINE = {"reason": "out_of_scope", "text": "该页面不属于本单位网站。"}


@pytest.fixture
def base_url(app) -> Iterator[str]:
    with serving(app) as url:
        yield url


def _paused_report(http: httpx.Client, directory: Directory) -> tuple[str, int]:
    response = http.post(
        "/api/v1/reports",
        json={
            "site_code": directory.site_a1,
            "page_url": "http://jyj.jia.example.gov.cn/zwgk/index.html",
            "category": 1,
            "description": "“通知公告”栏目自2024年起没有更新。",
            "name": "林晓",
            "phone": "13800138000",
        },
    )
    assert response.status_code == 201, response.text
    code = response.json()["tracking_code"]
    report_id = http.get(
        "/api/v1/unit/reports", headers=directory.auth("handler_a1"), params={"limit": 1}
    ).json()["items"][0]["id"]
    asked = http.post(
        f"/api/v1/unit/reports/{report_id}/request-info",
        json={"text": "请说明具体是哪个栏目。"},
        headers=directory.auth("handler_a1"),
    )
    assert asked.status_code == 200, asked.text
    return code, report_id


def _race(base_url: str, requests: list[tuple[str, dict, dict]]) -> list[httpx.Response]:
    """Send the requests at once, one thread and one fresh connection each."""
    clients = [httpx.Client(base_url=base_url, timeout=30) for _ in requests]
    for client in clients:  # open the connections before the start line
        client.get("/healthz")
    start = threading.Barrier(len(requests))
    responses: list[httpx.Response | None] = [None] * len(requests)

    def send(index: int) -> None:
        path, body, headers = requests[index]
        start.wait()
        responses[index] = clients[index].post(path, json=body, headers=headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    return responses


def _state(engine: Engine, report_id: int) -> tuple[Report, list[str]]:
    with Session(engine) as session:
        report = session.get(Report, report_id)
        kinds = session.exec(
            select(ReportEvent.kind)
            .where(ReportEvent.report_id == report_id)
            .order_by(ReportEvent.id)
        ).all()
        return report, list(kinds)


@pytest.mark.parametrize(
    ("action", "body", "closed_status"),
    [("resolve", RESOLVE, "resolved"), ("decline", DECLINE, "declined")],
)
def test_a_supplement_never_reopens_a_report_closed_at_the_same_moment(
    app, base_url, directory: Directory, engine, action, body, closed_status
):
    outcomes = {"closed first": 0, "supplement first": 0}
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for _ in range(ROUNDS):
            code, report_id = _paused_report(http, directory)
            supplemented, closed = _race(
                base_url,
                [
                    (f"/api/v1/reports/{code}/supplement", SUPPLEMENT, {}),
                    (
                        f"/api/v1/unit/reports/{report_id}/{action}",
                        body,
                        directory.auth("handler_a1"),
                    ),
                ],
            )
            report, kinds = _state(engine, report_id)

            # Closing is allowed whether or not the citizen answered first: it always wins.
            assert closed.status_code == 200, closed.text
            assert report.status == closed_status
            assert report.closed_at is not None
            assert report.final_answer == body["text"]
            assert kinds[-1] == closed_status, kinds
            if supplemented.status_code == 409:
                outcomes["closed first"] += 1
                assert kinds == ["submitted", "info_requested", closed_status]
            else:
                assert supplemented.status_code == 200, supplemented.text
                outcomes["supplement first"] += 1
                assert kinds == ["submitted", "info_requested", "supplemented", closed_status]
    assert sum(outcomes.values()) == ROUNDS


def test_a_stale_supplement_never_rewrites_the_receiving_units_clock(
    app, base_url, directory: Directory, engine, clock
):
    outcomes = {"transfer first": 0, "supplement first": 0}
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for _ in range(ROUNDS):
            code, report_id = _paused_report(http, directory)
            # The transfer comes three days into the pause: the old clock's due dates differ.
            clock.advance(timedelta(days=3))
            supplemented, transferred = _race(
                base_url,
                [
                    (f"/api/v1/reports/{code}/supplement", SUPPLEMENT, {}),
                    (
                        f"/api/v1/unit/reports/{report_id}/transfer",
                        {"to_unit_id": directory.dept_b1, "text": "属乙市教育局网站"},
                        directory.auth("handler_a1"),
                    ),
                ],
            )
            report, kinds = _state(engine, report_id)
            receiving = http.get(
                f"/api/v1/unit/reports/{report_id}", headers=directory.auth("handler_b1")
            ).json()
            clock.advance(-timedelta(days=3))

            assert transferred.status_code == 200, transferred.text
            assert report.owner_unit_id == directory.dept_b1
            assert report.status == "assigned"
            assert report.clock == 2
            assert report.assigned_at == clock.now() + timedelta(days=3)
            assert report.paused_workdays == 0 and report.paused_at is None
            # The due dates the transfer answered with are the ones that stayed.
            assert receiving["first_reply_due_at"] == transferred.json()["first_reply_due_at"]
            assert receiving["resolution_due_at"] == transferred.json()["resolution_due_at"]
            assert kinds[-1] == "transferred", kinds
            if supplemented.status_code == 409:
                outcomes["transfer first"] += 1
            else:
                assert supplemented.status_code == 200, supplemented.text
                outcomes["supplement first"] += 1
                assert kinds == ["submitted", "info_requested", "supplemented", "transferred"]
    assert sum(outcomes.values()) == ROUNDS
