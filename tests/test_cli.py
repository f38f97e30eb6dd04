"""`zhaocuo token …` against the test database."""

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.auth import ApiToken
from app.cli import cli
from tests.conftest import Directory

runner = CliRunner()


@pytest.fixture
def command_engine(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Engine:
    """Point the commands' sessions at the test database."""
    monkeypatch.setattr("app.db.get_engine", lambda: engine)
    return engine


def token_count(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(ApiToken)).all())


def test_token_create_by_unit_id_or_name(command_engine: Engine, directory: Directory) -> None:
    before = token_count(command_engine)
    by_id = runner.invoke(
        cli, ["token", "create", "--unit", str(directory.dept_a1), "--role", "handler"]
    )
    by_name = runner.invoke(
        cli, ["token", "create", "--unit", "乙市教育局", "--role", "supervisor", "--label", "x"]
    )

    assert by_id.exit_code == 0, by_id.output
    assert by_id.stdout.startswith("zc_")
    assert "for 甲市教育局 as handler" in by_id.stderr
    assert by_name.exit_code == 0, by_name.output
    assert "for 乙市教育局 as supervisor" in by_name.stderr
    assert token_count(command_engine) == before + 2


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        ("999999", "error: no unit with id 999999"),
        ("不存在的单位", "error: no unit named '不存在的单位'"),
    ],
)
def test_token_create_for_an_unknown_unit_says_so(
    command_engine: Engine, directory: Directory, unit: str, message: str
) -> None:
    before = token_count(command_engine)
    result = runner.invoke(cli, ["token", "create", "--unit", unit, "--role", "handler"])

    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert token_count(command_engine) == before
