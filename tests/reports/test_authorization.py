"""Who may see and do what, against every unit-facing endpoint.

The callers: nobody (no token), a made-up token, a revoked token, the handlers of department
A1 and of department B1, the supervisor of city A (above A1), the supervisor of city B, and an
admin. The report acted on belongs to department A1 unless said otherwise.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from httpx import Response
from sqlmodel import Session

from app.auth import Role, issue_token, revoke_token
from tests.conftest import Directory, local, submit_report

ACTORS = [
    "public",
    "bad_token",
    "revoked",
    "handler_a1",
    "handler_b1",
    "supervisor_a",
    "supervisor_b",
    "admin",
]

NOTICE_2027 = {
    "source": "国务院办公厅关于2027年部分节假日安排的通知（测试用）",
    "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}],
    "makeup_workdays": [],
}


@dataclass
class World:
    directory: Directory
    headers: dict[str, dict[str, str]]
    report_a1: int
    report_b1: int
    report_unrouted: int
    spare_token_id: int


CITIZEN = {"name": "周敏", "phone": "13600001234", "email": "zhoumin@example.com"}


def submit(client, site_code: str | None, page_url: str) -> str:
    return submit_report(client, site_code=site_code, page_url=page_url, **CITIZEN)["tracking_code"]


def report_ids(client, directory: Directory, *tracking_codes: str) -> list[int]:
    inbox = client.get("/api/v1/unit/reports", headers=directory.auth("admin")).json()
    ids = {item["tracking_code"]: item["id"] for item in inbox["items"]}
    return [ids[code] for code in tracking_codes]


@pytest.fixture
def world(client, directory: Directory, session: Session) -> World:
    revoked, revoked_plain = issue_token(
        session=session, unit_id=directory.dept_a1, role=Role.handler
    )
    revoke_token(session=session, token_id=revoked.id, now=local(2026, 11, 20, 9, 0))
    spare, _ = issue_token(session=session, unit_id=directory.dept_b1, role=Role.handler)
    session.commit()
    headers = {who: directory.auth(who) for who in directory.tokens}
    headers["public"] = {}
    headers["bad_token"] = {"Authorization": "Bearer zc_thisisnotatokenanyoneissued"}
    headers["revoked"] = {"Authorization": f"Bearer {revoked_plain}"}
    codes = [
        submit(client, directory.site_a1, "http://jyj.jia.example.gov.cn/"),
        submit(client, directory.site_b1, "http://jyj.yi.example.gov.cn/"),
        submit(client, None, "http://www.unknown.example.gov.cn/"),
    ]
    return World(directory, headers, *report_ids(client, directory, *codes), spare.id)


def _post(path: str, body: Callable[[World], dict]) -> Callable[..., Response]:
    def call(client, world: World, headers: dict) -> Response:
        return client.post(path.format(w=world), json=body(world), headers=headers)

    return call


def _get(path: str) -> Callable[..., Response]:
    def call(client, world: World, headers: dict) -> Response:
        return client.get(path.format(w=world), headers=headers)

    return call


def _patch(path: str, body: Callable[[World], dict]) -> Callable[..., Response]:
    def call(client, world: World, headers: dict) -> Response:
        return client.patch(path.format(w=world), json=body(world), headers=headers)

    return call


def _put(path: str, body: Callable[[World], dict]) -> Callable[..., Response]:
    def call(client, world: World, headers: dict) -> Response:
        return client.put(path.format(w=world), json=body(world), headers=headers)

    return call


A1 = "/api/v1/unit/reports/{w.report_a1}"
NO_AUTH = (401, 401, 401)

# endpoint: (call, expected status for each caller, in the order of ACTORS)
# 404: the caller may not see the report, and is not told that it exists.
# 403: the caller sees the report (or the endpoint) but its role may not do this.
# Each row:           (public, bad, revoked) handler_a1 handler_b1 supervisor_a supervisor_b admin
MATRIX: dict[str, tuple[Callable[..., Response], tuple[int, ...]]] = {
    "list reports": (_get("/api/v1/unit/reports"), (*NO_AUTH, 200, 200, 200, 200, 200)),
    "read report": (_get(A1), (*NO_AUTH, 200, 404, 200, 404, 200)),
    "read unrouted report": (
        _get("/api/v1/unit/reports/{w.report_unrouted}"),
        (*NO_AUTH, 404, 404, 404, 404, 200),
    ),
    "reply": (
        _post(A1 + "/reply", lambda w: {"text": "已收到。"}),
        (*NO_AUTH, 200, 404, 403, 404, 403),
    ),
    "resolve": (
        _post(A1 + "/resolve", lambda w: {"verdict": "confirmed", "text": "已修复。"}),
        (*NO_AUTH, 200, 404, 403, 404, 403),
    ),
    "decline": (
        _post(A1 + "/decline", lambda w: {"reason": "out_of_scope", "text": "不属本单位。"}),
        (*NO_AUTH, 200, 404, 403, 404, 403),
    ),
    "request info": (
        _post(A1 + "/request-info", lambda w: {"text": "请提供截图。"}),
        (*NO_AUTH, 200, 404, 403, 404, 403),
    ),
    "transfer within city A": (
        _post(A1 + "/transfer", lambda w: {"to_unit_id": w.directory.city_a}),
        (*NO_AUTH, 200, 404, 200, 404, 200),
    ),
    "transfer to city B's department": (
        _post(A1 + "/transfer", lambda w: {"to_unit_id": w.directory.dept_b1}),
        (*NO_AUTH, 200, 404, 403, 404, 200),
    ),
    "route": (
        _post(
            "/api/v1/unit/reports/{w.report_unrouted}/route",
            lambda w: {"unit_id": w.directory.dept_a1},
        ),
        (*NO_AUTH, 403, 403, 403, 403, 200),
    ),
    "list units": (_get("/api/v1/units"), (*NO_AUTH, 200, 200, 200, 200, 200)),
    "create unit": (
        _post(
            "/api/v1/units",
            lambda w: {"name": "甲市卫生健康委员会", "parent_id": w.directory.city_a},
        ),
        (*NO_AUTH, 403, 403, 403, 403, 201),
    ),
    "update unit": (
        _patch("/api/v1/units/{w.directory.dept_a1}", lambda w: {"contact_phone": "0999-1234567"}),
        (*NO_AUTH, 403, 403, 403, 403, 200),
    ),
    "list sites": (_get("/api/v1/sites"), (*NO_AUTH, 200, 200, 200, 200, 200)),
    "create site": (
        _post(
            "/api/v1/sites",
            lambda w: {
                "site_code": "9901000003",
                "name": "甲市卫健委网站",
                "owner_unit_id": w.directory.dept_a1,
                "hosts": [],
            },
        ),
        (*NO_AUTH, 403, 403, 403, 403, 201),
    ),
    "list tokens": (_get("/api/v1/tokens"), (*NO_AUTH, 403, 403, 403, 403, 200)),
    "create token": (
        _post("/api/v1/tokens", lambda w: {"unit_id": w.directory.dept_a1, "role": "handler"}),
        (*NO_AUTH, 403, 403, 403, 403, 201),
    ),
    "revoke token": (
        _post("/api/v1/tokens/{w.spare_token_id}/revoke", lambda w: {}),
        (*NO_AUTH, 403, 403, 403, 403, 200),
    ),
    "load calendar": (
        _put("/api/v1/calendar/2027", lambda w: NOTICE_2027),
        (*NO_AUTH, 403, 403, 403, 403, 200),
    ),
}

ALLOWED = [
    pytest.param(endpoint, actor, status, id=f"{endpoint} as {actor}")
    for endpoint, (_, statuses) in MATRIX.items()
    for actor, status in zip(ACTORS, statuses, strict=True)
    if status < 400
]


@pytest.mark.parametrize("endpoint", MATRIX)
def test_refused_callers(client, world: World, endpoint):
    """Every caller the matrix refuses, in one go: a refused call changes nothing."""
    call, statuses = MATRIX[endpoint]
    expected = {a: s for a, s in zip(ACTORS, statuses, strict=True) if s >= 400}

    responses = {actor: call(client, world, world.headers[actor]) for actor in expected}

    assert {actor: r.status_code for actor, r in responses.items()} == expected
    for actor, response in responses.items():
        assert isinstance(response.json()["detail"], str), actor
        if expected[actor] == 401:
            assert response.headers["www-authenticate"] == "Bearer"
    admin = world.headers["admin"]
    for report_id, status in [(world.report_a1, "assigned"), (world.report_unrouted, "unrouted")]:
        detail = client.get(f"/api/v1/unit/reports/{report_id}", headers=admin).json()
        assert (detail["status"], len(detail["events"])) == (status, 1)


@pytest.mark.parametrize(("endpoint", "actor", "expected"), ALLOWED)
def test_allowed_callers(client, world: World, endpoint, actor, expected):
    call, _ = MATRIX[endpoint]

    response = call(client, world, world.headers[actor])

    assert response.status_code == expected, response.text


# --- what each caller sees --------------------------------------------------------------


@pytest.fixture
def city_a_report(client, world: World) -> int:
    """A report held by city A itself (transferred there by department A1)."""
    code = submit(client, world.directory.site_a1, "http://jyj.jia.example.gov.cn/b.html")
    (rid,) = report_ids(client, world.directory, code)
    response = client.post(
        f"/api/v1/unit/reports/{rid}/transfer",
        json={"to_unit_id": world.directory.city_a},
        headers=world.headers["handler_a1"],
    )
    assert response.status_code == 200
    return rid


@pytest.mark.parametrize(
    ("actor", "visible"),
    [
        ("handler_a1", {"report_a1"}),
        ("handler_b1", {"report_b1"}),
        ("supervisor_a", {"report_a1", "city_a"}),
        ("supervisor_b", {"report_b1"}),
        ("admin", {"report_a1", "report_b1", "city_a", "report_unrouted"}),
    ],
)
def test_inbox_holds_exactly_what_the_caller_may_see(
    client, world: World, city_a_report, actor, visible
):
    names = {
        world.report_a1: "report_a1",
        world.report_b1: "report_b1",
        world.report_unrouted: "report_unrouted",
        city_a_report: "city_a",
    }

    page = client.get("/api/v1/unit/reports", headers=world.headers[actor]).json()

    assert {names[item["id"]] for item in page["items"]} == visible
    assert page["total"] == len(visible)


@pytest.mark.parametrize("actor", ["handler_a1", "supervisor_a"])
def test_unit_filter_cannot_reach_outside_the_callers_scope(client, world: World, actor):
    page = client.get(
        "/api/v1/unit/reports",
        params={"unit_id": world.directory.dept_b1},
        headers=world.headers[actor],
    ).json()

    assert page == {"items": [], "total": 0, "limit": 50, "offset": 0}


def test_another_units_report_looks_exactly_like_a_missing_one(client, world: World):
    headers = world.headers["handler_b1"]
    missing_id = world.report_unrouted + 1000

    hidden = client.get(f"/api/v1/unit/reports/{world.report_a1}", headers=headers)
    missing = client.get(f"/api/v1/unit/reports/{missing_id}", headers=headers)

    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.json() == {
        "detail": f"留言 {world.report_a1} 不存在或不在您的单位范围内",
        "code": "report_not_found",
    }
    assert missing.json() == {
        "detail": f"留言 {missing_id} 不存在或不在您的单位范围内",
        "code": "report_not_found",
    }
    reply = client.post(
        f"/api/v1/unit/reports/{world.report_a1}/reply",
        json={"text": "已收到。"},
        headers=headers,
    )
    assert reply.json() == hidden.json()


@pytest.mark.parametrize("actor", ["handler_a1", "supervisor_a", "admin"])
def test_owner_and_supervisors_see_contact_details(client, world: World, actor):
    detail = client.get(
        f"/api/v1/unit/reports/{world.report_a1}", headers=world.headers[actor]
    ).json()

    assert (detail["citizen_name"], detail["citizen_phone"], detail["citizen_email"]) == (
        "周敏",
        "13600001234",
        "zhoumin@example.com",
    )


def test_contact_details_never_leave_the_owner_and_its_supervisors(
    client, world: World, session: Session
):
    # An admin of another branch may read and route reports, but not the citizen's contact.
    _, plain = issue_token(session=session, unit_id=world.directory.city_b, role=Role.admin)
    session.commit()
    elsewhere = {"Authorization": f"Bearer {plain}"}
    for report_id, headers in [
        (world.report_a1, elsewhere),
        (world.report_unrouted, world.headers["admin"]),
    ]:
        detail = client.get(f"/api/v1/unit/reports/{report_id}", headers=headers)
        assert detail.status_code == 200
        assert "13600001234" not in detail.text
        body = detail.json()
        assert (body["citizen_name"], body["citizen_phone"], body["citizen_email"]) == (
            None,
            None,
            None,
        )


@pytest.mark.parametrize("actor", ["supervisor_a", "admin"])
def test_a_supervisor_or_admin_sees_but_does_not_answer(client, world: World, actor):
    response = client.post(
        f"/api/v1/unit/reports/{world.report_a1}/reply",
        json={"text": "已收到。"},
        headers=world.headers[actor],
    )

    assert response.status_code == 403
    assert response.json() == {
        "detail": "只有主办单位才能答复自己的留言；上级单位可以将其转办",
        "code": "owner_unit_required",
    }


def test_a_supervisor_transfers_only_within_its_subtree(client, world: World):
    headers = world.headers["supervisor_a"]

    outside = client.post(
        f"/api/v1/unit/reports/{world.report_a1}/transfer",
        json={"to_unit_id": world.directory.dept_b1},
        headers=headers,
    )
    inside = client.post(
        f"/api/v1/unit/reports/{world.report_a1}/transfer",
        json={"to_unit_id": world.directory.city_a},
        headers=headers,
    )

    assert outside.status_code == 403
    assert outside.json() == {
        "detail": "上级单位只能转办给本单位管辖范围内的单位",
        "code": "transfer_outside_subtree",
    }
    assert inside.status_code == 200
    assert inside.json()["owner_unit_id"] == world.directory.city_a
    # City A now owns the report, and as its owner may send it anywhere, like a handler.
    onward = client.post(
        f"/api/v1/unit/reports/{world.report_a1}/transfer",
        json={"to_unit_id": world.directory.dept_b1},
        headers=headers,
    )
    assert onward.status_code == 200
    assert onward.json()["owner_unit_id"] == world.directory.dept_b1


def test_a_supervisor_cannot_tell_a_missing_unit_from_another_trees(client, world: World):
    def transfer_to(unit_id: int):
        return client.post(
            f"/api/v1/unit/reports/{world.report_a1}/transfer",
            json={"to_unit_id": unit_id},
            headers=world.headers["supervisor_a"],
        )

    other_tree = transfer_to(world.directory.dept_b1)
    missing = transfer_to(world.directory.dept_b1 + 1000)

    assert other_tree.status_code == missing.status_code == 403
    assert other_tree.json() == missing.json()
    assert other_tree.headers["content-length"] == missing.headers["content-length"]


def test_admin_routes_and_the_owner_then_sees_it(client, world: World):
    routed = client.post(
        f"/api/v1/unit/reports/{world.report_unrouted}/route",
        json={"unit_id": world.directory.dept_b1},
        headers=world.headers["admin"],
    )
    assert routed.status_code == 200

    page = client.get("/api/v1/unit/reports", headers=world.headers["handler_b1"]).json()

    assert {item["id"] for item in page["items"]} == {world.report_b1, world.report_unrouted}


@pytest.mark.parametrize(
    ("actor", "units", "sites"),
    [
        ("handler_a1", {"甲市教育局"}, {"9901000002"}),
        ("handler_b1", {"乙市教育局"}, {"99BM000009"}),
        ("supervisor_a", {"甲市人民政府办公室", "甲市教育局"}, {"9901000002"}),
        ("supervisor_b", {"乙市人民政府办公室", "乙市教育局"}, {"99BM000009"}),
        (
            "admin",
            {
                "测试省人民政府办公厅",
                "甲市人民政府办公室",
                "甲市教育局",
                "乙市人民政府办公室",
                "乙市教育局",
            },
            {"9901000002", "99BM000009"},
        ),
    ],
)
def test_directory_lists_the_callers_subtree(client, world: World, actor, units, sites):
    headers = world.headers[actor]

    listed_units = client.get("/api/v1/units", headers=headers).json()["items"]
    listed_sites = client.get("/api/v1/sites", headers=headers).json()["items"]

    assert {unit["name"] for unit in listed_units} == units
    assert {site["site_code"] for site in listed_sites} == sites


def test_a_token_revoked_through_the_api_stops_working_at_once(client, world: World):
    spare = next(
        t
        for t in client.get("/api/v1/tokens", headers=world.headers["admin"]).json()["items"]
        if t["id"] == world.spare_token_id
    )
    assert spare["revoked_at"] is None
    issued = client.post(
        "/api/v1/tokens",
        json={"unit_id": world.directory.dept_b1, "role": "handler"},
        headers=world.headers["admin"],
    ).json()
    token_headers = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get("/api/v1/unit/reports", headers=token_headers).status_code == 200

    revoked = client.post(
        f"/api/v1/tokens/{issued['id']}/revoke", json={}, headers=world.headers["admin"]
    )

    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    response = client.get("/api/v1/unit/reports", headers=token_headers)
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_token_listing_never_shows_the_secret(client, world: World):
    response = client.get("/api/v1/tokens", headers=world.headers["admin"])

    for plain in world.directory.tokens.values():
        assert plain not in response.text
    assert all("token_hash" not in token for token in response.json())
