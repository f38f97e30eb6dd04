"""The admin API for units, sites and tokens, and who may use it."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from tests.conftest import Directory

API = "/api/v1"


def test_no_token_or_an_unknown_one_is_401(client: TestClient, directory: Directory):
    missing = client.get(f"{API}/units")
    basic = client.get(f"{API}/units", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    unknown = client.get(f"{API}/units", headers={"Authorization": "Bearer zc_not-a-real-token"})

    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json() == {
        "detail": "缺少令牌：请在请求头中发送 Authorization: Bearer <令牌>",
        "code": "token_missing",
    }
    in_english = client.get(f"{API}/units", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert in_english.json() == {
        "detail": "missing bearer token: send 'Authorization: Bearer <token>'",
        "code": "token_missing",
    }
    assert basic.status_code == 401
    assert unknown.status_code == 401
    assert unknown.json() == {
        "detail": "令牌无效或已被吊销，请向管理员申请新令牌",
        "code": "token_invalid",
    }


@pytest.mark.parametrize("who", ["handler_a1", "supervisor_a"])
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/units", {"name": "丙市人民政府办公室"}),
        ("patch", "/units/{province}", {"name": "改名"}),
        ("post", "/sites", {"site_code": "9903000001", "name": "丙", "owner_unit_id": 1}),
        ("patch", "/sites/1", {"name": "改名"}),
        ("get", "/tokens", None),
        ("post", "/tokens", {"unit_id": 1, "role": "admin"}),
        ("post", "/tokens/1/revoke", None),
    ],
)
def test_directory_changes_and_tokens_need_an_admin_token(
    client: TestClient, directory: Directory, who: str, method: str, path: str, body
):
    url = API + path.format(province=directory.province)
    kwargs = {"json": body} if body is not None else {}

    response = client.request(method.upper(), url, headers=directory.auth(who), **kwargs)

    assert response.status_code == 403
    assert response.json() == {
        "detail": "此操作需要管理员（admin）令牌",
        "code": "admin_token_required",
    }


def names(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["name"] for item in response.json()["items"]}


def test_unit_and_site_lists_are_limited_to_the_callers_subtree(
    client: TestClient, directory: Directory
):
    d = directory
    assert names(client.get(f"{API}/units", headers=d.auth("handler_a1"))) == {"甲市教育局"}
    assert names(client.get(f"{API}/units", headers=d.auth("supervisor_a"))) == {
        "甲市人民政府办公室",
        "甲市教育局",
    }
    assert len(names(client.get(f"{API}/units", headers=d.auth("admin")))) == 5

    sites_b = client.get(f"{API}/sites", headers=d.auth("supervisor_b")).json()
    assert [(s["site_code"], s["hosts"]) for s in sites_b["items"]] == [
        (d.site_b1, ["jyj.yi.example.gov.cn"])
    ]
    all_sites = client.get(f"{API}/sites", headers=d.auth("admin")).json()
    assert sorted(s["site_code"] for s in all_sites["items"]) == sorted([d.site_a1, d.site_b1])
    assert (all_sites["total"], all_sites["limit"], all_sites["offset"]) == (2, 50, 0)


def test_units_come_in_pages_of_the_size_asked(client: TestClient, directory: Directory):
    admin = directory.auth("admin")
    every = client.get(f"{API}/units", headers=admin).json()
    second = client.get(f"{API}/units", headers=admin, params={"limit": 2, "offset": 2}).json()

    assert (every["total"], every["limit"], every["offset"]) == (5, 50, 0)
    assert (second["total"], second["limit"], second["offset"]) == (5, 2, 2)
    assert second["items"] == every["items"][2:4]
    too_many = client.get(f"{API}/units", headers=admin, params={"limit": 501})
    assert too_many.status_code == 422


def test_admin_creates_and_changes_units(client: TestClient, directory: Directory):
    admin = directory.auth("admin")

    created = client.post(
        f"{API}/units", headers=admin, json={"name": "甲市财政局", "parent_id": directory.city_a}
    )
    assert created.status_code == 201, created.text
    unit = created.json()
    assert (unit["name"], unit["parent_id"]) == ("甲市财政局", directory.city_a)

    renamed = client.patch(f"{API}/units/{unit['id']}", headers=admin, json={"name": "甲市财政厅"})
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["parent_id"]) == ("甲市财政厅", directory.city_a)
    assert "甲市财政厅" in names(client.get(f"{API}/units", headers=directory.auth("supervisor_a")))


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (
            {"name": "甲市教育局"},
            409,
            ("unit_name_taken", "名为“甲市教育局”的单位已存在，单位名称不能重复"),
        ),
        (
            {"name": "丙市教育局", "parent_id": 999999},
            404,
            ("unit_not_found", "单位 999999 不存在，请核对单位编号"),
        ),
    ],
)
def test_unit_creation_conflicts(
    client: TestClient, directory: Directory, body: dict, status: int, detail: tuple[str, str]
):
    response = client.post(f"{API}/units", headers=directory.auth("admin"), json=body)
    assert response.status_code == status
    assert (response.json()["code"], response.json()["detail"]) == detail


@pytest.mark.parametrize("body", [{"name": "甲"}, {}, {"name": "丙市教育局", "parent_id": "x"}])
def test_malformed_units_are_422(client: TestClient, directory: Directory, body: dict):
    response = client.post(f"{API}/units", headers=directory.auth("admin"), json=body)
    assert response.status_code == 422


def test_unit_changes_that_break_the_tree_are_refused(client: TestClient, directory: Directory):
    admin = directory.auth("admin")

    cycle = client.patch(
        f"{API}/units/{directory.province}", headers=admin, json={"parent_id": directory.dept_a1}
    )
    taken = client.patch(
        f"{API}/units/{directory.dept_a1}", headers=admin, json={"name": "乙市教育局"}
    )
    missing = client.patch(f"{API}/units/999999", headers=admin, json={"name": "无此单位"})

    assert cycle.status_code == 409
    assert cycle.json() == {
        "detail": "单位不能挂在自身或其下级单位之下，请选择其他上级单位",
        "code": "unit_parent_cycle",
    }
    assert taken.status_code == 409
    assert taken.json()["code"] == "unit_name_taken"
    assert missing.status_code == 404
    assert missing.json()["code"] == "unit_not_found"
    assert names(client.get(f"{API}/units", headers=directory.auth("supervisor_a"))) == {
        "甲市人民政府办公室",
        "甲市教育局",
    }


def test_admin_registers_and_changes_sites(client: TestClient, directory: Directory):
    admin = directory.auth("admin")

    created = client.post(
        f"{API}/sites",
        headers=admin,
        json={
            "site_code": "12BM010001",
            "name": "甲市财政局网站",
            "owner_unit_id": directory.dept_a1,
            "hosts": ["CZJ.jia.example.gov.cn", "czj.jia.example.gov.cn."],
        },
    )
    assert created.status_code == 201, created.text
    site = created.json()
    assert (site["site_code"], site["status"], site["hosts"]) == (
        "12BM010001",
        "active",
        ["czj.jia.example.gov.cn"],
    )

    moved = client.patch(
        f"{API}/sites/{site['id']}",
        headers=admin,
        json={"owner_unit_id": directory.dept_b1, "status": "closed", "hosts": []},
    )
    assert moved.status_code == 200
    assert (moved.json()["owner_unit_id"], moved.json()["status"], moved.json()["hosts"]) == (
        directory.dept_b1,
        "closed",
        [],
    )
    sites_b = client.get(f"{API}/sites", headers=directory.auth("supervisor_b")).json()["items"]
    assert sorted(s["site_code"] for s in sites_b) == ["12BM010001", directory.site_b1]


@pytest.mark.parametrize(
    ("change", "status", "detail"),
    [
        ({"site_code": "9901000002"}, 409, "site_code_taken"),
        ({"hosts": ["jyj.jia.example.gov.cn"]}, 409, "site_host_taken"),
        ({"owner_unit_id": 999999}, 404, "unit_not_found"),
        ({"site_code": "A1234"}, 422, None),
        ({"hosts": ["not a host"]}, 422, "site_host_invalid"),
        ({"status": "deleted"}, 422, None),
        ({"name": ""}, 422, None),
    ],
)
def test_site_registration_errors(
    client: TestClient, directory: Directory, change: dict, status: int, detail: str | None
):
    body = {"site_code": "9903000001", "name": "丙市网站", "owner_unit_id": directory.dept_a1}

    response = client.post(f"{API}/sites", headers=directory.auth("admin"), json=body | change)

    assert response.status_code == status
    if detail is not None:
        assert response.json()["code"] == detail
    listed = client.get(f"{API}/sites", headers=directory.auth("admin")).json()["items"]
    assert "9903000001" not in {s["site_code"] for s in listed}


def test_a_malformed_site_code_is_explained(client: TestClient, directory: Directory):
    body = {"site_code": "A1234", "name": "丙市网站", "owner_unit_id": directory.dept_a1}
    response = client.post(f"{API}/sites", headers=directory.auth("admin"), json=body)
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "请求体中的“site_code”不是网站标识码：网站标识码形如 6108000003（10 位数字）、"
        "bm07000001、BT00000001 或 12BM010001，印在网站页面底部。"
    )
    assert response.json()["errors"][0]["type"] == "site_code"


def test_changing_an_unknown_site_is_404(client: TestClient, directory: Directory):
    response = client.patch(f"{API}/sites/999999", headers=directory.auth("admin"), json={})
    assert response.status_code == 404
    assert response.json() == {
        "detail": "网站 999999 不存在，请核对网站编号",
        "code": "site_not_found",
    }


def test_tokens_are_issued_listed_without_secrets_and_revoked(
    client: TestClient, directory: Directory, clock: FrozenClock
):
    admin = directory.auth("admin")

    issued = client.post(
        f"{API}/tokens",
        headers=admin,
        json={"unit_id": directory.dept_b1, "role": "handler", "label": "乙市教育局办公室"},
    )
    assert issued.status_code == 201, issued.text
    token = issued.json()
    assert token["token"].startswith("zc_")
    assert token["prefix"] == token["token"][:10]
    as_new = {"Authorization": f"Bearer {token['token']}"}
    assert names(client.get(f"{API}/units", headers=as_new)) == {"乙市教育局"}

    listed = client.get(f"{API}/tokens", headers=admin, params={"unit_id": directory.dept_b1})
    assert listed.status_code == 200
    # newest first: this token, then the fixture's handler_b1 token
    tokens = listed.json()["items"]
    assert [(t["role"], t["label"]) for t in tokens] == [
        ("handler", "乙市教育局办公室"),
        ("handler", ""),
    ]
    assert listed.json()["total"] == 2
    assert tokens[0]["id"] == token["id"]
    assert all("token" not in t and "token_hash" not in t for t in tokens)

    revoked = client.post(f"{API}/tokens/{token['id']}/revoke", headers=admin)
    assert revoked.status_code == 200
    first_revocation = revoked.json()["revoked_at"]
    assert first_revocation is not None
    assert client.get(f"{API}/units", headers=as_new).status_code == 401

    clock.advance(timedelta(hours=1))
    again = client.post(f"{API}/tokens/{token['id']}/revoke", headers=admin)
    assert again.json()["revoked_at"] == first_revocation


@pytest.mark.parametrize(
    ("body", "status"),
    [({"unit_id": 999999, "role": "handler"}, 404), ({"unit_id": 1, "role": "boss"}, 422)],
)
def test_token_errors(client: TestClient, directory: Directory, body: dict, status: int):
    response = client.post(f"{API}/tokens", headers=directory.auth("admin"), json=body)
    assert response.status_code == status


def test_revoking_an_unknown_token_is_404(client: TestClient, directory: Directory):
    response = client.post(f"{API}/tokens/999999/revoke", headers=directory.auth("admin"))
    assert response.status_code == 404
    assert response.json() == {
        "detail": "令牌 999999 不存在，请核对令牌编号",
        "code": "token_not_found",
    }
