"""The admin history: every directory, token and calendar change on record, and who made it."""

import getpass
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.audit.models import AdminHistory, HistoryIsAppendOnly
from app.auth import ApiToken, Role
from app.cli import cli
from tests.conftest import Directory

runner = CliRunner()
NOTICE_2027 = {
    "source": "国务院办公厅关于2027年部分节假日安排的通知",
    "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}],
    "makeup_workdays": [],
}


@pytest.fixture
def admin(client, directory: Directory, engine: Engine) -> dict:
    """The province's admin token, held by a named person."""
    with Session(engine) as session:
        token = session.exec(select(ApiToken).where(ApiToken.role == Role.admin)).one()
        token.holder = "王建国"
        session.add(token)
        session.commit()
        return {"id": token.id, "headers": directory.auth("admin")}


def history(client, admin: dict, **filters) -> dict:
    response = client.get("/api/v1/admin/history", params=filters, headers=admin["headers"])
    assert response.status_code == 200, response.text
    return response.json()


def actor_of(entry: dict) -> tuple:
    keys = ("actor", "actor_token_id", "actor_holder", "actor_unit_id", "actor_unit_name")
    return tuple(entry[key] for key in keys)


def test_minting_a_handler_token_for_another_unit_is_on_record(
    client, directory: Directory, admin: dict
):
    minted = client.post(
        "/api/v1/tokens",
        json={"unit_id": directory.dept_b1, "role": "handler", "holder": "李四"},
        headers=admin["headers"],
    ).json()

    (entry,) = history(client, admin, entity_kind="token", entity_id=minted["id"])["items"]
    assert actor_of(entry) == (
        f"token:{admin['id']}",
        admin["id"],
        "王建国",
        directory.province,
        "测试省人民政府办公厅",
    )
    assert entry["action"] == "created"
    assert entry["before"] is None
    assert entry["after"]["unit_id"] == directory.dept_b1
    assert entry["after"]["role"] == "handler"
    assert entry["after"]["holder"] == "李四"
    assert entry["at"] == "2026-11-23T10:00:00.000+08:00"
    assert "token_hash" not in entry["after"] and entry["after"]["token_hash_set"] is True
    assert minted["token"][10:] not in json.dumps(entry)


def test_re_parenting_a_unit_is_on_record_with_before_and_after(
    client, directory: Directory, admin: dict
):
    moved = client.patch(
        f"/api/v1/units/{directory.dept_b1}",
        json={"parent_id": directory.city_a},
        headers=admin["headers"],
    )
    assert moved.status_code == 200

    (entry,) = history(
        client, admin, entity_kind="unit", entity_id=directory.dept_b1, actor_token_id=admin["id"]
    )["items"]
    assert entry["action"] == "updated"
    assert entry["actor_token_id"] == admin["id"]
    assert entry["before"]["parent_id"] == directory.city_b
    assert entry["after"]["parent_id"] == directory.city_a
    assert entry["after"]["name"] == "乙市教育局"


def test_an_admin_transferring_a_report_to_itself_is_on_record(
    client, directory: Directory, admin: dict
):
    submitted = client.post(
        "/api/v1/reports",
        json={
            "site_code": directory.site_b1,
            "page_url": "http://jyj.yi.example.gov.cn/",
            "category": 4,
            "description": "首页有错别字",
            "phone": "13800138000",
        },
    )
    assert submitted.status_code == 201
    report_id = client.get("/api/v1/unit/reports", headers=admin["headers"]).json()["items"][0][
        "id"
    ]

    taken = client.post(
        f"/api/v1/unit/reports/{report_id}/transfer",
        json={"to_unit_id": directory.province},
        headers=admin["headers"],
    )

    assert taken.status_code == 200
    (entry,) = history(client, admin, entity_kind="report", entity_id=report_id)["items"]
    assert entry["action"] == "transferred"
    assert entry["actor_token_id"] == admin["id"]
    assert entry["before"] == {"owner_unit_id": directory.dept_b1}
    assert entry["after"] == {"owner_unit_id": directory.province, "clock": 2}
    assert [e["kind"] for e in taken.json()["events"]] == ["submitted", "transferred"]


def test_loading_a_calendar_year_is_on_record_with_its_days(
    client, directory: Directory, admin: dict
):
    loaded = client.put("/api/v1/calendar/2027", json=NOTICE_2027, headers=admin["headers"])
    assert loaded.status_code == 200
    notice = {
        **NOTICE_2027,
        "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-02"}],
    }
    assert (
        client.put("/api/v1/calendar/2027", json=notice, headers=admin["headers"]).status_code
        == 200
    )

    second, first = history(client, admin, entity_kind="calendar", entity_id=2027)["items"]
    assert first["before"] is None
    assert first["after"]["holidays"] == {
        "2027-01-01": "元旦",
        "2027-01-02": "元旦",
        "2027-01-03": "元旦",
    }
    assert second["before"]["holidays"] == first["after"]["holidays"]
    assert second["after"]["holidays"] == {"2027-01-01": "元旦", "2027-01-02": "元旦"}
    assert second["action"] == "loaded" and second["actor_holder"] == "王建国"


def test_sites_are_on_record_with_their_hosts(client, directory: Directory, admin: dict):
    created = client.post(
        "/api/v1/sites",
        json={
            "site_code": "9901000003",
            "name": "甲市人民政府网站",
            "owner_unit_id": directory.city_a,
            "hosts": ["www.jia.example.gov.cn"],
        },
        headers=admin["headers"],
    ).json()
    client.patch(
        f"/api/v1/sites/{created['id']}", json={"name": "甲市政府门户"}, headers=admin["headers"]
    )

    updated, made = history(client, admin, entity_kind="site", entity_id=created["id"])["items"]
    assert (made["action"], made["before"], made["after"]["hosts"]) == (
        "created",
        None,
        ["www.jia.example.gov.cn"],
    )
    assert updated["action"] == "updated"
    assert updated["before"]["name"] == "甲市人民政府网站"
    assert updated["after"]["name"] == "甲市政府门户"
    assert updated["after"]["hosts"] == ["www.jia.example.gov.cn"]


def test_the_list_filters_by_actor_and_time_and_pages_newest_first(
    client, directory: Directory, admin: dict, clock
):
    minted = []
    for unit_id in (directory.city_a, directory.city_b, directory.dept_a1):
        minted.append(
            client.post(
                "/api/v1/tokens",
                json={"unit_id": unit_id, "role": "supervisor"},
                headers=admin["headers"],
            ).json()["id"]
        )
        clock.advance(timedelta(hours=1))

    everything = history(client, admin, actor_token_id=admin["id"])
    assert everything["total"] == 3
    assert [e["entity_id"] for e in everything["items"]] == minted[::-1]
    assert [e["at"] for e in everything["items"]] == [
        "2026-11-23T12:00:00.000+08:00",
        "2026-11-23T11:00:00.000+08:00",
        "2026-11-23T10:00:00.000+08:00",
    ]
    page = history(client, admin, actor_token_id=admin["id"], limit=1, offset=1)
    assert (page["total"], page["limit"], page["offset"]) == (3, 1, 1)
    assert [e["entity_id"] for e in page["items"]] == [minted[1]]
    window = history(
        client,
        admin,
        entity_kind="token",
        since="2026-11-23T10:30:00+08:00",
        until="2026-11-23T12:00:00+08:00",
    )
    assert [e["entity_id"] for e in window["items"]] == [minted[1]]
    assert history(client, admin, entity_kind="unit", actor_token_id=admin["id"])["total"] == 0


def test_only_admins_read_the_history(client, directory: Directory):
    for who in ("handler_a1", "supervisor_a"):
        response = client.get("/api/v1/admin/history", headers=directory.auth(who))
        assert response.status_code == 403
    assert client.get("/api/v1/admin/history").status_code == 401


def test_a_refused_change_leaves_no_entry(client, directory: Directory, admin: dict):
    before = history(client, admin)["total"]

    refused = client.post(
        "/api/v1/units",
        json={"name": "甲市教育局", "parent_id": directory.city_a},
        headers=admin["headers"],
    )

    assert refused.status_code == 409
    assert history(client, admin)["total"] == before


def test_entries_cannot_be_changed_or_deleted(client, directory: Directory, admin, engine):
    client.patch(
        f"/api/v1/units/{directory.dept_a1}",
        json={"contact_phone": "029-1234"},
        headers=admin["headers"],
    )
    with Session(engine) as session:
        entry = session.exec(select(AdminHistory)).first()
        entry.action = "created"
        session.add(entry)
        with pytest.raises(HistoryIsAppendOnly):
            session.flush()
        session.rollback()
        entry = session.exec(select(AdminHistory)).first()
        session.delete(entry)
        with pytest.raises(HistoryIsAppendOnly):
            session.flush()


def test_a_webhook_secret_is_recorded_as_set_never_in_clear(client, directory: Directory, admin):
    secret = "s3cret-webhook-key-0123456789"
    client.patch(
        f"/api/v1/units/{directory.dept_a1}",
        json={"webhook_secret": secret},
        headers=admin["headers"],
    )

    (entry,) = history(
        client, admin, entity_kind="unit", entity_id=directory.dept_a1, actor_token_id=admin["id"]
    )["items"]
    assert (entry["before"]["webhook_secret_set"], entry["after"]["webhook_secret_set"]) == (
        False,
        True,
    )
    assert secret not in json.dumps(entry)


# --- the operator's commands --------------------------------------------------------------


@pytest.fixture
def command_engine(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Engine:
    monkeypatch.setattr("app.db.get_engine", lambda: engine)
    return engine


def cli_entries(engine: Engine) -> list[AdminHistory]:
    with Session(engine) as session:
        query = select(AdminHistory).where(AdminHistory.actor == "cli").order_by(AdminHistory.id)
        return list(session.exec(query).all())


def test_token_commands_record_the_cli_as_actor(command_engine, directory: Directory):
    created = runner.invoke(
        cli, ["token", "create", "--unit", "乙市教育局", "--role", "handler", "--holder", "李四"]
    )
    assert created.exit_code == 0, created.output
    token_id = int(created.stderr.split()[1])
    revoked = runner.invoke(cli, ["token", "revoke", str(token_id)])
    assert revoked.exit_code == 0, revoked.output

    entries = cli_entries(command_engine)
    assert [(e.entity_kind, e.entity_id, e.action) for e in entries] == [
        ("token", token_id, "created"),
        ("token", token_id, "revoked"),
    ]
    assert entries[0].actor_token_id is None
    assert entries[0].actor_holder == getpass.getuser()
    assert entries[1].before["revoked_at"] is None and entries[1].after["revoked_at"]


def test_importing_sites_records_each_unit_and_site(command_engine, tmp_path: Path):
    csv_file = tmp_path / "sites.csv"
    csv_file.write_text(
        "site_code,name,host,owner_unit,parent_unit\n"
        "9901000001,东川市人民政府门户网站,www.dongchuan.example.gov.cn,东川市人民政府办公室,示范省人民政府办公厅\n",
        encoding="utf-8",
    )

    result = runner.invoke(cli, ["import", "sites", str(csv_file)])

    assert result.exit_code == 0, result.output
    entries = cli_entries(command_engine)
    assert sorted((e.entity_kind, e.action) for e in entries) == [
        ("site", "created"),
        ("unit", "created"),
        ("unit", "created"),
    ]
    site = next(e for e in entries if e.entity_kind == "site")
    assert site.after["hosts"] == ["www.dongchuan.example.gov.cn"]
    assert site.after["name"] == "东川市人民政府门户网站"
    # Running the same file again changes nothing, and records nothing.
    assert runner.invoke(cli, ["import", "sites", str(csv_file)]).exit_code == 0
    assert len(cli_entries(command_engine)) == 3


def test_loading_a_calendar_from_the_command_line_is_on_record(command_engine, tmp_path: Path):
    notice = tmp_path / "2027.json"
    notice.write_text(json.dumps(NOTICE_2027, ensure_ascii=False), encoding="utf-8")

    result = runner.invoke(cli, ["calendar", "load", str(notice)])

    assert result.exit_code == 0, result.output
    (entry,) = cli_entries(command_engine)
    assert (entry.entity_kind, entry.entity_id, entry.action) == ("calendar", 2027, "loaded")
    assert entry.after["source"] == NOTICE_2027["source"]
