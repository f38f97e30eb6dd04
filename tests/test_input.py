"""Ordinary bad input gets a clear 4xx that changes nothing, the same on SQLite and PostgreSQL.

Each case was a 500, a silently stored character that later broke an export, or an answer that
differed between the backends (issue 9, items 4 and 5).
"""

import json
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app.db import metadata
from tests.conftest import Directory

API = "/api/v1"
REPORT = {
    "site_code": "9901000002",
    "page_url": "http://jyj.jia.example.gov.cn/xxgk/2026/11/t20261120_1.html",
    "category": 4,
    "description": "第二段“教育局”误写为“教肓局”。",
}
NOTICE_2027 = {
    "source": "国务院办公厅关于2027年部分节假日安排的通知",
    "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}],
    "makeup_workdays": [],
}
# A well-formed tracking code that no report has: the body is refused before it is looked up.
SOME_CODE = "ABCDEFGHJKMNPQRS"


def report(**changes) -> dict:
    return {**REPORT, **changes}


def email_of(length: int) -> str:
    """A valid address of exactly `length` characters (email-validator takes up to 254)."""
    local = "a" * 64
    remaining = length - len(local) - 1 - len(".cn")
    labels: list[str] = []
    while remaining > 0:
        cost_of_dot = 1 if labels else 0
        take = min(63, remaining - cost_of_dot)
        if remaining - cost_of_dot - take == 1:  # a last label of 0 characters is no label
            take -= 1
        labels.append("b" * take)
        remaining -= take + cost_of_dot
    address = f"{local}@{'.'.join(labels)}.cn"
    assert len(address) == length
    return address


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    who: str | None = None
    body: object = None
    raw: str | None = None
    status: int = 422
    field: tuple | None = None


def cases(d: Directory) -> list[Case]:
    unit, site_path = f"{API}/units/{d.dept_a1}", f"{API}/sites/1"
    return [
        # Control characters (item 4): a 422 naming the field.
        Case("unit name with VT", "POST", f"{API}/units", "admin", {"name": "甲\x0b乙局"},
             field=("body", "name")),
        Case("unit name with SOH", "POST", f"{API}/units", "admin",
             {"name": "甲\x01乙局", "parent_id": d.province}, field=("body", "name")),
        Case("unit name with a newline", "POST", f"{API}/units", "admin",
             {"name": "甲乙局\n"}, field=("body", "name")),
        Case("unit rename with C1 NEL", "PATCH", unit, "admin", {"name": "甲\x85局"},
             field=("body", "name")),
        Case("unit contact with NUL", "PATCH", unit, "admin", {"contact_email": "a\x00@b.cn"},
             field=("body", "contact_email")),
        Case("site name with ESC", "POST", f"{API}/sites", "admin",
             {"site_code": "9901000077", "name": "网站\x1b", "owner_unit_id": d.dept_a1},
             field=("body", "name")),
        Case("site rename with DEL", "PATCH", site_path, "admin", {"name": "网\x7f站"},
             field=("body", "name")),
        Case("token label with BEL", "POST", f"{API}/tokens", "admin",
             {"unit_id": d.dept_a1, "role": "handler", "label": "值班\x07"},
             field=("body", "label")),
        Case("report description with NUL", "POST", f"{API}/reports", None,
             report(description="教育局\x00写错了"), field=("body", "description")),
        Case("report name with NUL", "POST", f"{API}/reports", None,
             report(name="张\x00三"), field=("body", "name")),
        Case("report page_url with NUL", "POST", f"{API}/reports", None,
             report(page_url="http://jyj.jia.example.gov.cn/\x00"), field=("body", "page_url")),
        Case("supplement with BEL", "POST", f"{API}/reports/{SOME_CODE}/supplement", None,
             {"text": "截图\x07见附件"}, field=("body", "text")),
        Case("reply with form feed", "POST", f"{API}/unit/reports/1/reply", "handler_a1",
             {"text": "已改正\x0c"}, field=("body", "text")),
        Case("transfer note with NUL", "POST", f"{API}/unit/reports/1/transfer", "supervisor_a",
             {"to_unit_id": d.city_a, "text": "\x00"}, field=("body", "text")),
        Case("calendar holiday name with US", "PUT", f"{API}/calendar/2027", "admin",
             {**NOTICE_2027, "holidays": [{**NOTICE_2027["holidays"][0], "name": "元旦\x1f"}]},
             field=("body", "holidays", 0, "name")),
        Case("calendar source with NUL", "PUT", f"{API}/calendar/2027", "admin",
             {**NOTICE_2027, "source": "通知\x00"}, field=("body", "source")),
        # NUL in a path or a query (a 500 on PostgreSQL).
        Case("NUL as a tracking code", "GET", f"{API}/reports/%00",
             field=("path", "tracking_code")),
        Case("NUL in the inbox site code", "GET", f"{API}/unit/reports?site_code=%00",
             "handler_a1", field=("query", "site_code")),
        Case("NUL in a period", "GET", f"{API}/stats?period=2026%00", "supervisor_a",
             field=("query", "period")),
        # What Python's json module takes and no database or encoder does (both backends).
        Case("lone surrogate", "POST", f"{API}/reports", None,
             raw='{"site_code": "9901000002", "page_url": "http://a.example.gov.cn/", '
                 '"category": 4, "description": "\\ud800\\ud800\\ud800\\ud800\\ud800"}',
             field=("body",)),
        Case("NaN", "POST", f"{API}/reports", None,
             raw=json.dumps(report()).replace('"category": 4', '"category": NaN'),
             field=("body",)),
        Case("Infinity", "POST", f"{API}/units", "admin",
             raw='{"name": "甲乙局", "parent_id": Infinity}', field=("body",)),
        Case("1e400", "POST", f"{API}/unit/reports/1/transfer", "supervisor_a",
             raw='{"to_unit_id": 1e400}', field=("body",)),
        # Ids outside the INTEGER column (PostgreSQL: 2^31; SQLite: 2^63), or negative.
        Case("report id 2^31", "GET", f"{API}/unit/reports/2147483648", "admin",
             field=("path", "report_id")),
        Case("report id 2^63", "GET", f"{API}/unit/reports/9223372036854775808", "admin",
             field=("path", "report_id")),
        Case("report id -1", "GET", f"{API}/unit/reports/-1", "admin", field=("path", "report_id")),
        Case("unit id 2^31", "PATCH", f"{API}/units/2147483648", "admin", {"contact_phone": "1"},
             field=("path", "unit_id")),
        Case("parent id 2^31", "POST", f"{API}/units", "admin",
             {"name": "甲乙局", "parent_id": 2**31}, field=("body", "parent_id")),
        Case("transfer to 2^63", "POST", f"{API}/unit/reports/1/transfer", "supervisor_a",
             {"to_unit_id": 2**63}, field=("body", "to_unit_id")),
        Case("inbox unit_id 2^31", "GET", f"{API}/unit/reports?unit_id=2147483648", "admin",
             field=("query", "unit_id")),
        Case("inbox offset 2^63", "GET", f"{API}/unit/reports?offset=9223372036854775808",
             "admin", field=("query", "offset")),
        Case("tokens of unit -1", "GET", f"{API}/tokens?unit_id=-1", "admin",
             field=("query", "unit_id")),
        Case("revoke token 2^31", "POST", f"{API}/tokens/2147483648/revoke", "admin",
             field=("path", "token_id")),
        Case("stats unit 2^63", "GET", f"{API}/stats?period=2026&unit_id=9223372036854775808",
             "supervisor_a", field=("query", "unit_id")),
        Case("ack notification 2^31", "POST", f"{API}/unit/notifications/2147483648/ack",
             "handler_a1", field=("path", "notification_id")),
        # Dates at the calendar's edges, and dates that are not ISO 8601 text.
        Case("received_from 0001-01-01", "GET", f"{API}/unit/reports?received_from=0001-01-01",
             "handler_a1", field=("query", "received_from")),
        Case("received_to 9999-12-31", "GET", f"{API}/unit/reports?received_to=9999-12-31",
             "handler_a1", field=("query", "received_to")),
        Case("received_to 0", "GET", f"{API}/unit/reports?received_to=0", "handler_a1",
             field=("query", "received_to")),
        Case("received_from 1700000000", "GET",
             f"{API}/unit/reports?received_from=1700000000", "handler_a1",
             field=("query", "received_from")),
        Case("period 0001", "GET", f"{API}/stats?period=0001", "supervisor_a"),
        Case("period 9999", "GET", f"{API}/stats?period=9999", "supervisor_a"),
        Case("notice period 0001-01", "GET", f"{API}/notices/0001-01", "supervisor_a"),
        Case("as_of 0001-01-01T00:00:00", "GET",
             f"{API}/stats?period=2026&as_of=0001-01-01T00:00:00", "supervisor_a",
             field=("query", "as_of")),
        Case("as_of 0", "GET", f"{API}/stats?period=2026&as_of=0", "supervisor_a",
             field=("query", "as_of")),
        Case("SLA report of 0001-01-01", "GET", f"{API}/sla-reports/0001-01-01", "supervisor_a",
             field=("path", "report_date")),
        Case("SLA report of 9999-12-31", "GET", f"{API}/sla-reports/9999-12-31", "supervisor_a",
             field=("path", "report_date")),
        Case("calendar year 1", "GET", f"{API}/calendar/1", field=("path", "year")),
        Case("calendar year 9999", "GET", f"{API}/calendar/9999", field=("path", "year")),
        Case("holiday on 0", "PUT", f"{API}/calendar/2027", "admin",
             {**NOTICE_2027, "holidays": [{"name": "元旦", "start": 0, "end": "2027-01-01"}]},
             field=("body", "holidays", 0, "start")),
        # Null where the column is NOT NULL; strings longer than their column.
        Case("unit name null", "PATCH", unit, "admin", {"name": None}, field=("body", "name")),
        Case("e-mail of 201 characters", "POST", f"{API}/reports", None,
             report(email=email_of(201)), field=("body", "email")),
        Case("e-mail of 254 characters", "POST", f"{API}/reports", None,
             report(email=email_of(254)), field=("body", "email")),
        Case("token label of 300 characters", "POST", f"{API}/tokens", "admin",
             {"unit_id": d.dept_a1, "role": "handler", "label": "标" * 300},
             field=("body", "label")),
        Case("contact e-mail of 201 characters", "PATCH", unit, "admin",
             {"contact_email": "x" * 201}, field=("body", "contact_email")),
        Case("host of 254 characters", "PATCH", site_path, "admin",
             {"hosts": ["a" * 251 + ".cn"]}, field=("body", "hosts", 0)),
    ]  # fmt: skip


def snapshot(engine: Engine) -> dict[str, list]:
    """Every row of every table."""
    with engine.connect() as connection:
        return {
            table.name: sorted(map(repr, connection.execute(select(table)).all()))
            for table in metadata.sorted_tables
        }


@pytest.fixture
def warmed(client: TestClient, directory: Directory) -> Directory:
    """The directory with a report, every token used once (its last_used_at then stays put)."""
    response = client.post(f"{API}/reports", json=report())
    assert response.status_code == 201, response.text
    for who in directory.tokens:
        assert client.get(f"{API}/units", headers=directory.auth(who)).status_code == 200
    return directory


def test_bad_input_is_a_4xx_that_names_the_field_and_changes_nothing(
    client: TestClient, warmed: Directory, engine: Engine
):
    before = snapshot(engine)
    failures = []
    for case in cases(warmed):
        headers = warmed.auth(case.who) if case.who else {}
        if case.raw is not None:
            headers["content-type"] = "application/json"
            response = client.request(case.method, case.path, content=case.raw, headers=headers)
        else:
            response = client.request(case.method, case.path, json=case.body, headers=headers)
        body = response.json()
        if response.status_code != case.status:
            failures.append(f"{case.name}: {response.status_code} {response.text[:200]}")
            continue
        if case.field is not None and (
            body.get("code") != "validation_error"
            or tuple(body["errors"][0]["loc"][: len(case.field)]) != case.field
            or (len(case.field) > 1 and f"“{case.field[1]}" not in body["detail"])
        ):
            failures.append(f"{case.name}: {response.text[:300]}")
    assert failures == []
    assert snapshot(engine) == before


def test_the_detail_names_the_field_in_chinese_or_english(client: TestClient, warmed: Directory):
    body = {"name": "甲\x0b乙局"}
    zh = client.post(f"{API}/units", json=body, headers=warmed.auth("admin"))
    en = client.post(
        f"{API}/units",
        json=body,
        headers={**warmed.auth("admin"), "Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"},
    )

    assert zh.status_code == en.status_code == 422
    assert zh.json() == {
        "detail": "请求体中的“name”不能包含控制字符（第 2 个字符是 U+000B）。",
        "code": "validation_error",
        "errors": [
            {
                "loc": ["body", "name"],
                "msg": "不能包含控制字符（第 2 个字符是 U+000B）",
                "type": "control_character",
            }
        ],
    }
    assert en.json()["detail"] == (
        "Body field 'name' must not contain control characters (U+000B at position 2)."
    )
    assert en.json()["code"] == "validation_error"


def test_multi_line_texts_keep_their_line_breaks(client: TestClient, warmed: Directory):
    description = "第一段：“教育局”误写为“教肓局”。\r\n第二段：\t日期写错。"
    receipt = client.post(f"{API}/reports", json=report(description=description))

    assert receipt.status_code == 201, receipt.text
    public = client.get(f"{API}/reports/{receipt.json()['tracking_code']}").json()
    assert public["description"] == description


def test_texts_as_long_as_their_columns_are_taken(client: TestClient, warmed: Directory):
    email = email_of(200)
    assert len(email) == 200
    submitted = client.post(f"{API}/reports", json=report(email=email, name="名" * 50))
    token = client.post(
        f"{API}/tokens",
        json={"unit_id": warmed.dept_a1, "role": "handler", "label": "标" * 200},
        headers=warmed.auth("admin"),
    )

    assert submitted.status_code == 201, submitted.text
    assert token.status_code == 201, token.text
    assert token.json()["label"] == "标" * 200


def test_every_validation_error_is_declared_as_the_validation_error_body(client: TestClient):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]

    assert "HTTPValidationError" not in schemas
    assert set(schemas["ValidationErrorBody"]["required"]) == {"detail", "code", "errors"}
    declared = [
        (path, method)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "422" in operation["responses"]
    ]
    assert len(declared) > 20
    for path, method in declared:
        content = spec["paths"][path][method]["responses"]["422"]["content"]
        refs = [choice["$ref"] for choice in content["application/json"]["schema"]["anyOf"]]
        assert refs == [
            "#/components/schemas/ValidationErrorBody",
            "#/components/schemas/ErrorBody",
        ], (path, method)
