"""The public list of answered reports (留言选登) and the owner unit's publication switch."""

from sqlmodel import Session

from app.reports.answered import list_answered
from tests.conftest import Directory
from tests.reports.test_public import submit


def resolve(
    client, directory: Directory, text: str = "经核实，错别字已更正，感谢您的监督。"
) -> int:
    [item] = client.get("/api/v1/unit/reports", headers=directory.auth("handler_a1")).json()[
        "items"
    ][:1]
    response = client.post(
        f"/api/v1/unit/reports/{item['id']}/resolve",
        json={"verdict": "confirmed", "text": text},
        headers=directory.auth("handler_a1"),
    )
    assert response.status_code == 200, response.text
    return item["id"]


def test_a_resolved_report_is_listed_masked_and_can_be_kept_off(
    client, directory: Directory, engine
):
    submit(client, description="标题错字，请致电13812345678或写信zhang@example.com告知结果。")
    report_id = resolve(client, directory, text="已更正。如有疑问请拨打010-12345678。")

    page = client.get("/api/v1/answered").json()
    assert page["total"] == 1
    [item] = page["items"]
    assert item["description"] == "标题错字，请致电138****5678或写信z***@example.com告知结果。"
    assert item["answer"] == "已更正。如有疑问请拨打010-****5678。"
    assert item["site_name"] == "甲市教育局网站"
    assert "phone" not in item and "email" not in item and "name" not in item

    response = client.patch(
        f"/api/v1/unit/reports/{report_id}/publication",
        json={"publish": False},
        headers=directory.auth("handler_a1"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["published"] is False
    assert response.json()["events"][-1]["kind"] == "publication_changed"
    assert client.get("/api/v1/answered").json()["total"] == 0
    with Session(engine) as session:
        assert list_answered(session=session, limit=10, offset=0).total == 0
