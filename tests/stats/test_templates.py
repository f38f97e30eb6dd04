"""Notice templates: stored per issuing unit, edited by its supervisors and admins, used."""

import io

import docx

from tests.conftest import local
from tests.stats.conftest import September

AS_OF = local(2026, 10, 12, 18, 0)
TEMPLATE = {
    "issuer_name": "甲市人民政府办公室",
    "document_prefix": "甲政办公开",
    "recipients": "各县（市）区政府，市政府各部门：",
    "contact_name": "丛瑶",
    "contact_phone": "2998538",
    "requirements": "请各单位认真整改。\n请于{deadline}前将整改情况书面报{report_to}。",
    "rectification_workdays": 5,
    "report_to": "市政府办公室",
}


def test_a_unit_without_a_template_gets_the_defaults(client, september: September) -> None:
    d = september.directory
    response = client.get(f"/api/v1/notice-templates/{d.city_a}", headers=d.auth("supervisor_a"))
    assert response.status_code == 200
    body = response.json()
    assert body["stored"] is False and body["updated_at"] is None
    assert body["recipients"] == "各有关单位：" and body["rectification_workdays"] == 10


def test_a_stored_template_fills_the_notice(client, september: September) -> None:
    d = september.directory
    headers = d.auth("supervisor_a")
    stored = client.put(f"/api/v1/notice-templates/{d.city_a}", json=TEMPLATE, headers=headers)
    assert stored.status_code == 200, stored.text
    assert stored.json()["stored"] is True
    listed = client.get("/api/v1/notice-templates", headers=headers).json()
    assert listed["total"] == 1 and listed["items"][0]["unit_id"] == d.city_a
    assert (listed["limit"], listed["offset"]) == (50, 0)

    # Issued on Wednesday 30 September: five working days later, across the National Day
    # holidays (1–7 October) and with the make-up working Saturday 10 October, is Tuesday 13.
    document = client.get(
        "/api/v1/notices/2026-09",
        params={
            "as_of": AS_OF.isoformat(),
            "format": "json",
            "issued_on": "2026-09-30",
            "number": 5,
        },
        headers=headers,
    ).json()
    assert document["document_number"] == "甲政办公开〔2026〕5号"
    assert document["recipients"] == "各县（市）区政府，市政府各部门："
    assert document["requirements"] == [
        "请各单位认真整改。",
        "请于10月13日前将整改情况书面报市政府办公室。",
    ]
    word = client.get(
        "/api/v1/notices/2026-09",
        params={"as_of": AS_OF.isoformat(), "format": "docx", "issued_on": "2026-09-30"},
        headers=headers,
    )
    paragraphs = [p.text for p in docx.Document(io.BytesIO(word.content)).paragraphs]
    assert paragraphs[:2] == ["甲市人民政府办公室", "甲政办公开〔2026〕　号"]
    assert "（联系人：丛瑶  联系电话：2998538）" in paragraphs
    assert "2026年9月30日" in paragraphs


def test_templates_are_for_the_units_supervisors_and_admins(client, september: September) -> None:
    d = september.directory
    url = f"/api/v1/notice-templates/{d.city_a}"
    assert client.put(url, json=TEMPLATE, headers=d.auth("handler_a1")).status_code == 403
    # Another city's supervisor is not told the unit exists.
    assert client.put(url, json=TEMPLATE, headers=d.auth("supervisor_b")).status_code == 404
    assert client.get(url, headers=d.auth("supervisor_b")).status_code == 404
    assert client.put(url, json=TEMPLATE, headers=d.auth("admin")).status_code == 200
    assert (
        client.get("/api/v1/notice-templates", headers=d.auth("supervisor_b")).json()["total"] == 0
    )
    bad = client.put(url, json={**TEMPLATE, "rectification_workdays": 0}, headers=d.auth("admin"))
    assert bad.status_code == 422
    assert client.get(url, headers=d.auth("admin")).json()["rectification_workdays"] == 5
