"""Duplicates: the normalised page address, possible duplicates at intake, decline onto one."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app.reports.duplicates import normalize_url, url_key
from app.reports.models import Report
from tests.conftest import Directory
from tests.reports.helpers import stored as report_of
from tests.reports.workflow import act, submit

PAGE = "http://jyj.jia.example.gov.cn/zwgk/index.html"
SHOUTED = "HTTP://JYJ.JIA.EXAMPLE.GOV.CN:80/zwgk/index.html?utm_source=weixin"


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        (PAGE, PAGE),
        ("HTTP://JYJ.Jia.Example.GOV.CN/zwgk/index.html", PAGE),
        ("http://jyj.jia.example.gov.cn:80/zwgk/index.html", PAGE),
        ("http://jyj.jia.example.gov.cn/zwgk/index.html#top", PAGE),
        ("https://www.gov.cn:443/a?b=1", "https://www.gov.cn/a?b=1"),
        ("https://www.gov.cn:8443/a", "https://www.gov.cn:8443/a"),
        ("http://www.gov.cn:443/a", "http://www.gov.cn:443/a"),
        ("https://www.gov.cn", "https://www.gov.cn/"),
        (
            "https://www.gov.cn/a?utm_source=wx&id=7&UTM_Medium=x&spm=1.2&from=timeline",
            "https://www.gov.cn/a?id=7",
        ),
        ("https://www.gov.cn/a?share_token=abc&shareId=9&fbclid=z", "https://www.gov.cn/a"),
        # The path keeps its case (servers tell /A from /a), the parameters their order.
        ("https://www.gov.cn/Zwgk/A.html?b=2&a=1", "https://www.gov.cn/Zwgk/A.html?b=2&a=1"),
        ("  https://www.gov.cn/a?q=%E6%95%99  ", "https://www.gov.cn/a?q=%E6%95%99"),
    ],
)
def test_a_page_address_is_normalised(given: str, normalised: str) -> None:
    assert normalize_url(given) == normalised


def test_the_key_is_the_sha256_of_the_normalised_address() -> None:
    assert url_key(PAGE) == url_key(normalize_url(SHOUTED + "#top"))
    assert len(url_key(PAGE)) == 64 and url_key(PAGE) != url_key(PAGE + "?id=1")


def test_open_reports_of_the_same_site_category_and_page_are_possible_duplicates(
    client, clock, engine: Engine, directory: Directory
) -> None:
    first = report_of(engine, submit(client, page_url=PAGE))
    clock.advance(timedelta(days=29, hours=23))
    second = report_of(engine, submit(client, page_url=SHOUTED + "#x"))
    other_category = report_of(engine, submit(client, page_url=PAGE, category=4))
    other_page = report_of(engine, submit(client, page_url=PAGE + "?id=2"))
    assert first.possible_duplicate_ids == []
    assert second.possible_duplicate_ids == [first.id]
    assert second.normalized_page_url.endswith("/zwgk/index.html")
    assert other_category.possible_duplicate_ids == [] and other_page.possible_duplicate_ids == []

    detail = client.get(f"/api/v1/unit/reports/{second.id}", headers=directory.auth("handler_a1"))
    assert detail.status_code == 200
    assert detail.json()["possible_duplicates"] == [
        {"id": first.id, "status": "assigned", "received_at": "2026-11-23T10:00:00.000+08:00"}
    ]

    # Older than 30 days, or closed: not a possible duplicate any more.
    clock.advance(timedelta(hours=2))
    third = report_of(engine, submit(client, page_url=PAGE))
    assert third.possible_duplicate_ids == [second.id]
    act(client, directory, second.id, "resolve", {"verdict": "confirmed", "text": "已改正。"})
    assert report_of(engine, submit(client, page_url=PAGE)).possible_duplicate_ids == [third.id]


def test_another_site_is_never_a_duplicate(client, engine: Engine, directory: Directory) -> None:
    submit(client, page_url=PAGE)
    other = report_of(engine, submit(client, page_url=PAGE, site_code="99BM000009"))
    assert other.possible_duplicate_ids == []


def decline_as_duplicate(client, directory, report_id, duplicate_of, who="handler_a1"):
    body = {"reason": "duplicate", "text": "与您此前的留言重复。", "duplicate_of": duplicate_of}
    return act(client, directory, report_id, "decline", body, who=who)


def test_a_duplicate_is_declined_onto_its_original_and_the_citizen_sees_its_answers(
    client, engine: Engine, directory: Directory
) -> None:
    original_code = submit(client, page_url=PAGE)
    original = report_of(engine, original_code)
    duplicate_code = submit(client, page_url=PAGE)
    duplicate = report_of(engine, duplicate_code)
    act(client, directory, original.id, "reply", {"text": "已收到，正在核实。"})

    response = decline_as_duplicate(client, directory, duplicate.id, original.id)
    assert response.status_code == 200, response.text
    assert report_of(engine, duplicate_code).duplicate_of_id == original.id
    detail = client.get(
        f"/api/v1/unit/reports/{duplicate.id}", headers=directory.auth("handler_a1")
    )
    assert detail.json()["duplicate_of_id"] == original.id
    assert detail.json()["events"][-1]["data"]["duplicate_of"] == original.id

    view = client.get(f"/api/v1/reports/{duplicate_code}").json()
    assert view["status"] == "declined" and view["decline_reason"] == "duplicate"
    assert view["original"] == {
        "status": "replied",
        "verdict": None,
        "first_reply": "已收到，正在核实。",
        "final_answer": None,
    }
    act(client, directory, original.id, "resolve", {"verdict": "confirmed", "text": "已改正。"})
    view = client.get(f"/api/v1/reports/{duplicate_code}").json()
    assert view["original"]["status"] == "resolved"
    assert view["original"]["verdict"] == "confirmed"
    assert view["original"]["final_answer"] == "已改正。"
    # Nothing else of the original: not its code, its text, its contact or its history.
    assert original_code not in str(view)
    assert client.get(f"/api/v1/reports/{original_code}").json()["original"] is None


def test_duplicate_of_is_checked(client, engine: Engine, directory: Directory) -> None:
    first = report_of(engine, submit(client)).id
    second = report_of(engine, submit(client)).id
    elsewhere = report_of(engine, submit(client, site_code="99BM000009")).id

    response = decline_as_duplicate(client, directory, first, first)
    assert (response.status_code, response.json()["code"]) == (422, "duplicate_of_self")
    body = {"reason": "out_of_scope", "text": "不属于本单位。", "duplicate_of": second}
    response = act(client, directory, first, "decline", body)
    assert (response.status_code, response.json()["code"]) == (422, "duplicate_of_unexpected")
    for missing_or_foreign in (elsewhere, 999_999):
        response = decline_as_duplicate(client, directory, first, missing_or_foreign)
        assert (response.status_code, response.json()["code"]) == (409, "duplicate_of_other_unit")
    # Nothing changed by the refusals.
    assert report_of(engine, submit(client)).status == "assigned"
    with Session(engine) as session:
        assert session.get(Report, first).status == "assigned"

    assert decline_as_duplicate(client, directory, second, first).status_code == 200
    # first → second → first would be a loop.
    response = decline_as_duplicate(client, directory, first, second)
    assert (response.status_code, response.json()["code"]) == (409, "duplicate_chain_loop")
    # Without duplicate_of (an original the service never saw) the reason is still accepted.
    body = {"reason": "duplicate", "text": "已通过12345热线答复。"}
    assert act(client, directory, first, "decline", body).status_code == 200
    assert client.get(f"/api/v1/reports/{report_of_id(engine, first)}").json()["original"] is None


def report_of_id(engine: Engine, report_id: int) -> str:
    with Session(engine) as session:
        return session.get(Report, report_id).tracking_code
