"""The citizen's side: submitting a report, routing it, reading it back, supplementing it."""

import hashlib
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.config import Settings
from app.directory.models import Site
from app.main import create_app
from app.reports.models import Report, ReportEvent, ReportStatus
from app.reports.service import TRACKING_ALPHABET, TRACKING_LENGTH
from tests.conftest import REPORT_ON_SITE_A1, Directory, fetch, local
from tests.reports.helpers import CITIZEN, count, payload, submit


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- submitting and routing -------------------------------------------------------------


def test_submission_returns_tracking_code_owner_and_due_dates(client, directory: Directory):
    receipt = submit(client)

    assert len(receipt["tracking_code"]) == TRACKING_LENGTH
    assert set(receipt["tracking_code"]) <= set(TRACKING_ALPHABET)
    assert receipt["status"] == "assigned"
    assert receipt["owner_unit_name"] == "甲市教育局"
    assert instant(receipt["received_at"]) == local(2026, 11, 23, 10, 0)
    # Monday: the 2nd working day after it is Wednesday, the 15th is Monday 14 December.
    assert instant(receipt["first_reply_due_at"]) == local(2026, 11, 25, 23, 59, 59, 999000)
    assert instant(receipt["resolution_due_at"]) == local(2026, 12, 14, 23, 59, 59, 999000)
    assert receipt["deadlines_provisional"] is False


def test_a_submitted_report_is_stored_with_every_column_as_the_rules_set_it(
    client, directory: Directory, engine
):
    # The submission writes its row with one INSERT from values it sets itself, not through
    # the ORM's defaults: each column is checked, so that a new one cannot be left unset.
    receipt = submit(client)

    [row] = fetch(engine, select(Report))
    [site_id] = fetch(engine, select(Site.id).where(Site.site_code == directory.site_a1))
    stored = row.model_dump()
    key = hashlib.sha256(REPORT_ON_SITE_A1["page_url"].encode()).hexdigest()
    end_of = lambda month, day: local(2026, month, day, 23, 59, 59, 999000)  # noqa: E731
    assert stored == {
        "id": row.id,
        "tracking_code": receipt["tracking_code"],
        "site_id": site_id,
        "site_code": directory.site_a1,
        "owner_unit_id": directory.dept_a1,
        "category": 4,
        "page_url": REPORT_ON_SITE_A1["page_url"],
        "description": REPORT_ON_SITE_A1["description"],
        "citizen_name": CITIZEN["name"],
        "citizen_phone": CITIZEN["phone"],
        "citizen_email": CITIZEN["email"],
        "status": ReportStatus.assigned,
        "verdict": None,
        "decline_reason": None,
        "first_reply": None,
        "final_answer": None,
        "received_at": local(2026, 11, 23, 10, 0),
        "assigned_at": local(2026, 11, 23, 10, 0),
        "clock": 1,
        "first_responded_at": None,
        "first_replied_at": None,
        "closed_at": None,
        "handling_workdays": None,
        "settled": False,
        "published": True,
        "first_reply_due_at": end_of(11, 25),
        "resolution_due_at": end_of(12, 14),
        "deadlines_provisional": False,
        "paused_at": None,
        "paused_workdays": 0,
        "first_reply_paused_workdays": 0,
        "extension_workdays": 0,
        "extended_at": None,
        "status_before_pause": None,
        "site_closed": False,
        "page_host_site_code": None,
        # The reminder: one working day before the first reply is due.
        "next_rung": "reminder",
        "next_rung_at": end_of(11, 24),
        "rating": None,
        "rating_comment": None,
        "rated_at": None,
        "rating_due_at": None,
        "reopened_at": None,
        "normalized_page_url": REPORT_ON_SITE_A1["page_url"],
        "page_url_key": key,
        "possible_duplicate_ids": [],
        "duplicate_of_id": None,
        "created_at": local(2026, 11, 23, 10, 0),
        "updated_at": local(2026, 11, 23, 10, 0),
    }


def test_tracking_codes_differ_between_reports(client, directory: Directory):
    codes = {submit(client)["tracking_code"] for _ in range(5)}

    assert len(codes) == 5


@pytest.mark.parametrize(
    ("site_code", "page_url", "owner"),
    [
        pytest.param("9901000002", "http://example.com/", "甲市教育局", id="by site code"),
        pytest.param(
            "99BM000009",
            "http://jyj.jia.example.gov.cn/",
            "乙市教育局",
            id="site code wins over the host",
        ),
        pytest.param(None, "http://jyj.jia.example.gov.cn/a.html", "甲市教育局", id="by host"),
        pytest.param(
            "6108000003",
            "https://jyj.jia.example.gov.cn/",
            "甲市教育局",
            id="unknown site code, then host",
        ),
        pytest.param(
            None,
            "http://www.jyj.jia.example.gov.cn/",
            "甲市教育局",
            id="host with www added",
        ),
        pytest.param(
            None,
            "HTTPS://JYJ.Jia.Example.gov.cn:8443/x?y=1",
            "甲市教育局",
            id="host in capitals with a port",
        ),
        pytest.param(None, "http://www.jia.example.gov.cn/", "甲市人民政府办公室", id="www host"),
        pytest.param(
            None,
            "http://jia.example.gov.cn/zwgk/",
            "甲市人民政府办公室",
            id="www host without www",
        ),
    ],
)
def test_routing_by_site_code_then_by_host(
    client, directory: Directory, site_code, page_url, owner
):
    created = client.post(
        "/api/v1/sites",
        json={
            "site_code": "9901000001",
            "name": "甲市人民政府门户网站",
            "owner_unit_id": directory.city_a,
            "hosts": ["www.jia.example.gov.cn"],
        },
        headers=directory.auth("admin"),
    )
    assert created.status_code == 201, created.text

    receipt = submit(client, site_code=site_code, page_url=page_url)

    assert receipt["status"] == "assigned"
    assert receipt["owner_unit_name"] == owner


@pytest.mark.parametrize(
    ("site_code", "page_url"),
    [
        pytest.param(
            "6108000003", "http://www.unknown.example.gov.cn/", id="unknown code and host"
        ),
        pytest.param(None, "http://www.unknown.example.gov.cn/", id="no code, unknown host"),
        pytest.param(None, "http://jia.example.gov.cn/", id="parent domain of a known host"),
    ],
)
def test_report_nobody_owns_is_unrouted(client, directory: Directory, engine, site_code, page_url):
    receipt = submit(client, site_code=site_code, page_url=page_url)

    assert receipt["status"] == "unrouted"
    assert receipt["owner_unit_name"] is None
    assert receipt["first_reply_due_at"] is None
    assert receipt["resolution_due_at"] is None
    with Session(engine) as session:
        report = session.exec(select(Report)).one()
        assert report.owner_unit_id is None
        assert report.site_code == site_code


def test_closed_site_still_goes_to_its_owner_and_the_receipt_says_so(client, directory: Directory):
    sites = client.get("/api/v1/sites", headers=directory.auth("admin")).json()["items"]
    site_a1 = next(s for s in sites if s["site_code"] == directory.site_a1)
    closed = client.patch(
        f"/api/v1/sites/{site_a1['id']}", json={"status": "closed"}, headers=directory.auth("admin")
    )
    assert closed.status_code == 200, closed.text

    receipt = submit(client)

    assert receipt["status"] == "assigned"
    assert receipt["owner_unit_name"] == "甲市教育局"
    assert receipt["site_closed"] is True
    assert receipt["site_notice"] == "该网站已关停，您的留言已转交其主办单位办理。"


@pytest.mark.parametrize("site_code", ["6108000003", "bm07000001", "BT00000001", "12BM010001"])
def test_every_real_site_code_shape_is_accepted(client, directory: Directory, site_code):
    receipt = submit(client, site_code=site_code, page_url="http://www.unknown.example.gov.cn/")

    assert receipt["status"] == "unrouted"


def test_site_code_is_trimmed_and_blank_means_none(client, directory: Directory, engine):
    assert submit(client, site_code=" 9901000002 ")["owner_unit_name"] == "甲市教育局"
    assert submit(client, site_code="  ", page_url="http://x.example.gov.cn/")["status"] == (
        "unrouted"
    )
    with Session(engine) as session:
        codes = session.exec(select(Report.site_code).order_by(Report.id)).all()
    assert codes == ["9901000002", None]


# --- validation -------------------------------------------------------------------------

SITE_CODE_MESSAGE = "is not a site code"
URL_MESSAGE = "must start with http:// or https://"
PHONE_MESSAGE = "11-digit mobile number"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("site_code", "610800000", SITE_CODE_MESSAGE),
        ("site_code", "61080000031", SITE_CODE_MESSAGE),
        ("site_code", "BM07000001", SITE_CODE_MESSAGE),
        ("site_code", "bt00000001", SITE_CODE_MESSAGE),
        ("site_code", "12bm010001", SITE_CODE_MESSAGE),
        ("site_code", "bm0700001", SITE_CODE_MESSAGE),
        ("site_code", "6108-000003", SITE_CODE_MESSAGE),
        ("page_url", "ftp://jyj.jia.example.gov.cn/file.pdf", URL_MESSAGE),
        ("page_url", "javascript:alert(1)", URL_MESSAGE),
        ("page_url", "jyj.jia.example.gov.cn/xxgk/", URL_MESSAGE),
        ("page_url", "http://", URL_MESSAGE),
        ("description", "错字", "5 to 2000 characters (you wrote 2)"),
        ("description", "  错别字啊  ", "5 to 2000 characters (you wrote 4)"),
        ("description", "错" * 2001, "at most 2000 characters"),
        ("phone", "12345", PHONE_MESSAGE),
        ("phone", "1391234567", PHONE_MESSAGE),
        ("phone", "23912345678", PHONE_MESSAGE),
        ("phone", "139123456789", PHONE_MESSAGE),
        ("phone", "12-3456789", PHONE_MESSAGE),
        ("email", "ouyang.example.com", "not a valid email address"),
        ("email", "ouyang@", "not a valid email address"),
        ("category", 7, "must be one of 0, 1, 2, 3, 4, 5, 6 or 10"),
        ("name", "名" * 51, "at most 50 characters"),
    ],
)
def test_bad_field_is_422_with_a_message_and_nothing_stored(
    client, directory: Directory, engine, field, value, message
):
    response = client.post(
        "/api/v1/reports", json=payload(**{field: value}), headers={"Accept-Language": "en"}
    )

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [error["loc"] for error in errors] == [["body", field]]
    assert message in errors[0]["msg"]
    assert count(engine, Report) == 0
    assert count(engine, ReportEvent) == 0


def test_site_code_message_shows_the_real_shapes(client, directory: Directory):
    response = client.post("/api/v1/reports", json=payload(site_code="abc"))

    message = response.json()["errors"][0]["msg"]
    for example in ("6108000003", "bm07000001", "BT00000001", "12BM010001"):
        assert example in message


@pytest.mark.parametrize("missing", ["page_url", "category", "description"])
def test_required_field_missing_is_422(client, directory: Directory, engine, missing):
    body = payload()
    del body[missing]

    response = client.post("/api/v1/reports", json=body)

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", missing]
    assert count(engine, Report) == 0


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("139 1234 5678", "13912345678"),
        ("+86 139-1234-5678", "13912345678"),
        ("8613912345678", "13912345678"),
        ("010-12345678", "010-12345678"),
        ("0755 1234567", "07551234567"),
        ("(010)12345678", "01012345678"),
        ("", None),
    ],
)
def test_phone_numbers_are_accepted_and_normalised(client, directory: Directory, given, stored):
    receipt = submit(client, phone=given)

    inbox = client.get("/api/v1/unit/reports", headers=directory.auth("handler_a1")).json()
    detail = client.get(
        f"/api/v1/unit/reports/{inbox['items'][0]['id']}", headers=directory.auth("handler_a1")
    ).json()
    assert detail["tracking_code"] == receipt["tracking_code"]
    assert detail["citizen_phone"] == stored


@pytest.mark.parametrize("length", [5, 2000])
def test_description_length_limits_are_inclusive(client, directory: Directory, length):
    assert submit(client, description="错" * length)["status"] == "assigned"


def test_contact_details_are_optional(client, directory: Directory, engine):
    receipt = submit(client, name=None, phone=None, email=None)

    assert receipt["status"] == "assigned"
    with Session(engine) as session:
        report = session.exec(select(Report)).one()
    assert (report.citizen_name, report.citizen_phone, report.citizen_email) == (None, None, None)


# --- reading a report back --------------------------------------------------------------


def assert_no_contact_details(text: str) -> None:
    for value in CITIZEN.values():
        assert value not in text
    assert "citizen_" not in text


def test_public_view_shows_status_category_and_timeline(client, directory: Directory):
    receipt = submit(client)

    response = client.get(f"/api/v1/reports/{receipt['tracking_code']}")

    assert response.status_code == 200
    view = response.json()
    assert view["status"] == "assigned"
    assert view["category"] == 4
    assert view["category_label"] == "错别字"
    assert view["site_code"] == "9901000002"
    assert view["site_name"] == "甲市教育局网站"
    assert view["owner_unit_name"] == "甲市教育局"
    assert view["description"] == REPORT_ON_SITE_A1["description"]
    assert instant(view["first_reply_due_at"]) == local(2026, 11, 25, 23, 59, 59, 999000)
    assert [entry["kind"] for entry in view["events"]] == ["submitted"]
    assert_no_contact_details(response.text)


def test_public_view_shows_answers_and_never_contact_details(client, directory: Directory, clock):
    receipt = submit(client)
    code = receipt["tracking_code"]
    inbox = client.get("/api/v1/unit/reports", headers=directory.auth("handler_a1")).json()
    report_id = inbox["items"][0]["id"]
    handler = directory.auth("handler_a1")

    clock.set(local(2026, 11, 24, 9, 0))
    client.post(
        f"/api/v1/unit/reports/{report_id}/reply",
        json={"text": "已收到，正在核实。"},
        headers=handler,
    )
    clock.set(local(2026, 11, 26, 15, 0))
    client.post(
        f"/api/v1/unit/reports/{report_id}/resolve",
        json={"verdict": "confirmed", "text": "已更正为“教育局”，感谢指正。"},
        headers=handler,
    )

    response = client.get(f"/api/v1/reports/{code}")

    view = response.json()
    assert view["status"] == "resolved"
    assert view["verdict"] == "confirmed"
    assert view["first_reply"] == "已收到，正在核实。"
    assert view["final_answer"] == "已更正为“教育局”，感谢指正。"
    assert [(e["kind"], e["text"]) for e in view["events"]] == [
        ("submitted", None),
        ("replied", "已收到，正在核实。"),
        ("resolved", "已更正为“教育局”，感谢指正。"),
    ]
    assert view["events"][2]["data"] == {"verdict": "confirmed"}
    assert instant(view["events"][1]["at"]) == local(2026, 11, 24, 9, 0)
    assert_no_contact_details(response.text)
    # The unit, by contrast, sees who wrote.
    detail = client.get(f"/api/v1/unit/reports/{report_id}", headers=handler).json()
    assert (detail["citizen_name"], detail["citizen_phone"], detail["citizen_email"]) == (
        CITIZEN["name"],
        CITIZEN["phone"],
        CITIZEN["email"],
    )


def test_transfer_notes_stay_internal(client, directory: Directory):
    code = submit(client)["tracking_code"]
    report_id = client.get("/api/v1/unit/reports", headers=directory.auth("handler_a1")).json()[
        "items"
    ][0]["id"]
    client.post(
        f"/api/v1/unit/reports/{report_id}/transfer",
        json={"to_unit_id": directory.dept_b1, "text": "内部备注：联系人王科长 13700001111"},
        headers=directory.auth("handler_a1"),
    )

    response = client.get(f"/api/v1/reports/{code}")

    view = response.json()
    assert view["owner_unit_name"] == "乙市教育局"
    assert view["events"][-1] == {
        "kind": "transferred",
        "at": view["events"][-1]["at"],
        "text": None,
        "data": {"unit": "乙市教育局"},
    }
    assert "13700001111" not in response.text


def test_tracking_code_is_read_case_insensitively(client, directory: Directory):
    code = submit(client)["tracking_code"]

    response = client.get(f"/api/v1/reports/{code.lower()}")

    assert response.status_code == 200
    assert response.json()["tracking_code"] == code


def test_unknown_tracking_code_is_404(client, directory: Directory):
    submit(client)

    response = client.get("/api/v1/reports/ABCDEFGHJKMNPQRS")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "没有留言使用这个查询码，请与提交时的回执核对",
        "code": "report_not_found",
    }
    english = client.get("/api/v1/reports/ABCDEFGHJKMNPQRS", headers={"Accept-Language": "en"})
    assert english.json()["detail"] == (
        "no report has this tracking code; check it against your receipt"
    )


# --- supplementing ----------------------------------------------------------------------


def _report_id(client, directory: Directory) -> int:
    inbox = client.get("/api/v1/unit/reports", headers=directory.auth("handler_a1")).json()
    return inbox["items"][0]["id"]


def test_supplement_without_a_question_is_409_and_changes_nothing(
    client, directory: Directory, engine
):
    code = submit(client)["tracking_code"]

    response = client.post(f"/api/v1/reports/{code}/supplement", json={"text": "补充截图链接"})

    assert response.status_code == 409
    assert response.json() == {
        "detail": "这条留言目前不需要您补充信息",
        "code": "report_not_awaiting_citizen",
    }
    assert count(engine, ReportEvent) == 1
    assert client.get(f"/api/v1/reports/{code}").json()["status"] == "assigned"


def test_supplement_of_unknown_code_is_404(client, directory: Directory):
    response = client.post("/api/v1/reports/ABCDEFGHJKMNPQRS/supplement", json={"text": "补充"})

    assert response.status_code == 404


def test_supplement_answers_the_question_and_the_clocks_resume(client, directory: Directory, clock):
    code = submit(client)["tracking_code"]
    report_id = _report_id(client, directory)
    asked = client.post(
        f"/api/v1/unit/reports/{report_id}/request-info",
        json={"text": "请提供出错页面的完整网址。"},
        headers=directory.auth("handler_a1"),
    )
    assert asked.status_code == 200, asked.text

    waiting = client.get(f"/api/v1/reports/{code}").json()
    assert waiting["status"] == "awaiting_citizen"
    assert waiting["question"] == "请提供出错页面的完整网址。"
    assert waiting["events"][-1]["text"] == "请提供出错页面的完整网址。"

    # Asked on Monday, answered on Thursday: Tuesday to Thursday, 3 working days, were paused.
    clock.set(local(2026, 11, 26, 11, 0))
    response = client.post(
        f"/api/v1/reports/{code}/supplement",
        json={"text": "网址是 http://jyj.jia.example.gov.cn/xxgk/index.html"},
    )

    assert response.status_code == 200, response.text
    view = response.json()
    assert view["status"] == "assigned"
    assert view["question"] is None
    assert [e["kind"] for e in view["events"]] == ["submitted", "info_requested", "supplemented"]
    assert instant(view["first_reply_due_at"]) == local(2026, 11, 30, 23, 59, 59, 999000)
    assert instant(view["resolution_due_at"]) == local(2026, 12, 17, 23, 59, 59, 999000)
    again = client.post(f"/api/v1/reports/{code}/supplement", json={"text": "再补充一点"})
    assert again.status_code == 409


def test_supplement_text_must_not_be_empty(client, directory: Directory):
    code = submit(client)["tracking_code"]
    client.post(
        f"/api/v1/unit/reports/{_report_id(client, directory)}/request-info",
        json={"text": "请提供截图。"},
        headers=directory.auth("handler_a1"),
    )

    response = client.post(f"/api/v1/reports/{code}/supplement", json={"text": "a"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "text"]


# --- flooding --------------------------------------------------------------------------


def test_an_address_past_the_submission_limit_gets_429_and_nothing_is_stored(
    settings, engine, clock, directory: Directory
):
    limited = settings.model_copy(update={"public_rate_limit": "2/minute"})
    with TestClient(create_app(settings=limited, engine=engine, clock=clock)) as client:
        first, second = submit(client), submit(client)
        third = client.post("/api/v1/reports", json=payload())

    assert first["tracking_code"] != second["tracking_code"]
    assert third.status_code == 429
    # The window is a minute and the first hit was a moment ago: about a minute to wait.
    retry_after = int(third.headers["Retry-After"])
    assert 55 <= retry_after <= 60
    assert third.json() == {
        "detail": f"您的地址提交过于频繁，请在{retry_after}秒后再试",
        "code": "too_many_requests",
    }
    assert count(engine, Report) == 2


def test_an_address_reading_reports_too_fast_gets_429_with_retry_after(
    settings, engine, clock, directory: Directory
):
    limited = settings.model_copy(update={"public_read_rate_limit": "3/minute"})
    with TestClient(create_app(settings=limited, engine=engine, clock=clock)) as client:
        code = submit(client)["tracking_code"]
        reads = [client.get(f"/api/v1/reports/{code}") for _ in range(3)]
        guess = client.get("/api/v1/reports/ZZZZZZZZZZZZZZZZ", headers={"Accept-Language": "en"})

    assert [r.status_code for r in reads] == [200, 200, 200]
    assert guess.status_code == 429
    retry_after = int(guess.headers["Retry-After"])
    assert 55 <= retry_after <= 60
    assert guess.json() == {
        "detail": f"too many look-ups from your address; please try again in {retry_after} seconds",
        "code": "too_many_requests",
    }


def test_reads_by_tracking_code_have_a_generous_limit_of_their_own(database_url):
    assert Settings(database_url=database_url).public_read_rate_limit == "120/minute"
