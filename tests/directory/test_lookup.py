"""GET /api/v1/units/directory and the CLI's suggestions for a unit name that matches none."""

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import Directory

runner = CliRunner()


def find(client, directory: Directory, who: str = "handler_a1", **params):
    return client.get("/api/v1/units/directory", params=params, headers=directory.auth(who))


@pytest.mark.parametrize("who", ["handler_a1", "handler_b1", "supervisor_b", "admin"])
def test_any_unit_token_finds_units_by_part_of_a_name(client, directory: Directory, who):
    response = find(client, directory, who, q="教育局")

    # By name, as the database orders it (乙 U+4E59 before 甲 U+7532).
    assert response.status_code == 200, response.text
    page = response.json()
    assert page == {
        "items": [
            {"id": directory.dept_b1, "name": "乙市教育局", "parent_name": "乙市人民政府办公室"},
            {"id": directory.dept_a1, "name": "甲市教育局", "parent_name": "甲市人民政府办公室"},
        ],
        "total": 2,
        "limit": 50,
        "offset": 0,
    }


def test_no_contact_details_and_paging(client, directory: Directory):
    page = find(client, directory, q="", limit=2, offset=1).json()

    assert page["total"] == 5
    assert len(page["items"]) == 2
    assert all(set(item) == {"id", "name", "parent_name"} for item in page["items"])
    root = find(client, directory, q="测试省").json()["items"]
    assert root == [{"id": directory.province, "name": "测试省人民政府办公厅", "parent_name": None}]


def test_like_wildcards_are_plain_text(client, directory: Directory):
    assert find(client, directory, q="%").json()["total"] == 0
    assert find(client, directory, q="_").json()["total"] == 0


def test_a_token_is_needed(client, directory: Directory):
    response = client.get("/api/v1/units/directory", params={"q": "教育局"})

    assert (response.status_code, response.json()["code"]) == (401, "token_missing")


@pytest.fixture
def command_engine(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Engine:
    monkeypatch.setattr("app.db.get_engine", lambda: engine)
    return engine


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("甲市教育", "did you mean: 甲市教育局"),
        ("教育局", "did you mean: 乙市教育局, 甲市教育局"),
        ("甲市教肓局", "did you mean: 甲市教育局"),
    ],
)
def test_token_create_suggests_near_names(
    command_engine: Engine, directory: Directory, typed: str, suggested: str
):
    result = runner.invoke(cli, ["token", "create", "--unit", typed, "--role", "handler"])

    assert result.exit_code == 1
    assert f"error: no unit named {typed!r}" in result.stderr
    assert suggested in result.stderr


def test_no_suggestion_for_a_name_near_nothing(command_engine: Engine, directory: Directory):
    result = runner.invoke(cli, ["token", "create", "--unit", "ZZZ", "--role", "handler"])

    assert result.exit_code == 1
    assert "did you mean" not in result.stderr
