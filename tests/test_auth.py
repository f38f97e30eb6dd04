"""Tokens: an expiry that is enforced, a holder, and the admin token that cannot be revoked."""

import threading
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import Directory
from tests.live_server import serving

EN = {"Accept-Language": "en"}


def mint(client, directory: Directory, **body) -> dict:
    response = client.post(
        "/api/v1/tokens",
        json={"unit_id": directory.dept_a1, "role": "handler", **body},
        headers=directory.auth("admin"),
    )
    assert response.status_code == 201, response.text
    return response.json()


def bearer(issued: dict) -> dict:
    return {"Authorization": f"Bearer {issued['token']}", **EN}


def admin_token_id(client, directory: Directory) -> int:
    tokens = client.get("/api/v1/tokens", headers=directory.auth("admin")).json()["items"]
    return next(t["id"] for t in tokens if t["role"] == "admin")


def test_a_token_stops_working_at_its_expiry_with_its_own_code(client, directory, clock):
    issued = mint(client, directory, holder="张三", expires_at="2026-11-23T18:00:00+08:00")
    assert issued["holder"] == "张三"
    assert client.get("/api/v1/unit/reports", headers=bearer(issued)).status_code == 200

    clock.advance(timedelta(hours=8))  # 18:00 local: the expiry itself
    expired = client.get("/api/v1/unit/reports", headers=bearer(issued))

    assert expired.status_code == 401
    assert expired.json() == {
        "detail": "this token has expired; ask an administrator for a new one",
        "code": "token_expired",
    }
    assert expired.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("expires_at", "status"),
    [("2026-11-23T09:59:59+08:00", 422), ("2026-11-24T10:00:00", 422)],
    ids=["in the past", "without an offset"],
)
def test_an_expiry_must_be_a_future_instant_with_its_offset(
    client, directory, engine, expires_at, status
):
    before = len(client.get("/api/v1/tokens", headers=directory.auth("admin")).json())

    response = client.post(
        "/api/v1/tokens",
        json={"unit_id": directory.dept_a1, "role": "handler", "expires_at": expires_at},
        headers={**directory.auth("admin"), **EN},
    )

    assert response.status_code == status
    assert len(client.get("/api/v1/tokens", headers=directory.auth("admin")).json()) == before


def test_an_expiry_in_the_past_is_refused_with_a_sentence(client, directory):
    response = client.post(
        "/api/v1/tokens",
        json={
            "unit_id": directory.dept_a1,
            "role": "handler",
            "expires_at": "2026-01-01T00:00:00Z",
        },
        headers={**directory.auth("admin"), **EN},
    )

    assert response.json() == {
        "detail": "expires_at must be in the future",
        "code": "token_expiry_in_past",
    }


def test_the_last_active_admin_token_cannot_be_revoked_over_the_api(client, directory):
    only_admin = admin_token_id(client, directory)

    refused = client.post(
        f"/api/v1/tokens/{only_admin}/revoke", headers={**directory.auth("admin"), **EN}
    )

    assert refused.status_code == 409
    assert refused.json() == {
        "detail": (
            "this is the last active admin token, and revoking it would leave nobody able to "
            "administer the service: issue another admin token first"
        ),
        "code": "last_admin_token",
    }
    assert client.get("/api/v1/tokens", headers=directory.auth("admin")).status_code == 200


def test_an_expired_admin_token_does_not_count_as_another(client, directory, clock):
    only_admin = admin_token_id(client, directory)
    mint(
        client,
        directory,
        unit_id=directory.province,
        role="admin",
        expires_at="2026-11-23T11:00:00+08:00",
    )
    clock.advance(timedelta(hours=2))

    refused = client.post(f"/api/v1/tokens/{only_admin}/revoke", headers=directory.auth("admin"))

    assert refused.status_code == 409


def test_with_a_second_admin_token_the_first_can_be_revoked(client, directory):
    first = admin_token_id(client, directory)
    second = mint(client, directory, unit_id=directory.province, role="admin", holder="赵六")

    revoked = client.post(f"/api/v1/tokens/{first}/revoke", headers=bearer(second))
    then_last = client.post(f"/api/v1/tokens/{second['id']}/revoke", headers=bearer(second))

    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert then_last.status_code == 409
    assert client.get("/api/v1/tokens", headers=directory.auth("admin")).status_code == 401


def test_the_server_command_line_can_still_revoke_the_last_admin_token(
    client, directory, engine: Engine, monkeypatch
):
    monkeypatch.setattr("app.db.get_engine", lambda: engine)
    only_admin = admin_token_id(client, directory)

    result = CliRunner().invoke(cli, ["token", "revoke", str(only_admin)])

    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/tokens", headers=directory.auth("admin")).status_code == 401


def test_token_create_on_the_command_line_takes_holder_and_expiry(
    client, directory, engine: Engine, monkeypatch
):
    monkeypatch.setattr("app.db.get_engine", lambda: engine)

    result = CliRunner().invoke(
        cli,
        [
            "token",
            "create",
            "--unit",
            "甲市教育局",
            "--role",
            "handler",
            "--holder",
            "钱七",
            "--expires-at",
            "2099-06-30T18:00:00+08:00",
        ],
    )
    naive = CliRunner().invoke(
        cli,
        [
            "token",
            "create",
            "--unit",
            "甲市教育局",
            "--role",
            "handler",
            "--expires-at",
            "2099-06-30",
        ],
    )

    assert result.exit_code == 0, result.output
    listed = client.get("/api/v1/tokens", headers=directory.auth("admin")).json()["items"][0]
    assert listed["holder"] == "钱七"
    assert datetime.fromisoformat(listed["expires_at"]) == datetime.fromisoformat(
        "2099-06-30T18:00:00+08:00"
    )
    assert naive.exit_code == 2
    assert "with its offset" in naive.output


@pytest.mark.parametrize(
    ("option", "value"),
    [("--label", "令" * 201), ("--holder", "钱" * 101), ("--label", "甲\x0b乙")],
)
def test_token_create_on_the_command_line_refuses_what_the_api_refuses(
    directory, engine: Engine, monkeypatch, option: str, value: str
):
    monkeypatch.setattr("app.db.get_engine", lambda: engine)
    args = ["token", "create", "--unit", "甲市教育局", "--role", "handler", option, value]

    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 2
    assert f"Invalid value for {option}" in " ".join(result.output.split())
    with engine.connect() as connection:
        tokens = connection.exec_driver_sql("SELECT count(*) FROM api_token").scalar_one()
    assert tokens == len(directory.tokens)


def _revoke_each_other(base_url: str, pair: list[dict]) -> list[int]:
    """Each of two admin tokens revokes the other at the same moment; the two statuses."""
    start = threading.Barrier(2)
    answers = [0, 0]

    def revoke_the_other(index: int) -> None:
        me, other = pair[index], pair[1 - index]
        with httpx.Client(base_url=base_url, timeout=30) as own:
            own.get("/healthz")  # connected before the start line
            start.wait()
            answers[index] = own.post(
                f"/api/v1/tokens/{other['id']}/revoke", headers=bearer(me)
            ).status_code

    threads = [threading.Thread(target=revoke_the_other, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_two_admins_revoking_each_other_at_once_leave_one_admin(app, directory, engine):
    """Real concurrent requests: exactly one revocation succeeds, one admin token remains."""
    with serving(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        for _ in range(20):
            pair = [
                http.post(
                    "/api/v1/tokens",
                    json={"unit_id": directory.province, "role": "admin"},
                    headers=directory.auth("admin"),
                ).json()
                for _ in range(2)
            ]
            # The fixture's admin steps aside, so that each of the pair is the other's last.
            others = [
                t
                for t in http.get("/api/v1/tokens", headers=bearer(pair[0])).json()["items"]
                if t["role"] == "admin"
                and t["revoked_at"] is None
                and t["id"] not in {p["id"] for p in pair}
            ]
            for other in others:
                revoked = http.post(f"/api/v1/tokens/{other['id']}/revoke", headers=bearer(pair[0]))
                assert revoked.status_code == 200
            answers = _revoke_each_other(base_url, pair)

            # The loser is refused under the lock (409), or finds its own token already revoked
            # when it authenticates (401): never do both succeed.
            assert sorted(answers) in ([200, 401], [200, 409])
            survivor = pair[answers.index(200)]
            assert http.get("/api/v1/tokens", headers=bearer(survivor)).status_code == 200
            directory.tokens["admin"] = survivor["token"]
