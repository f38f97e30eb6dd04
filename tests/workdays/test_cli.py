"""`zhaocuo calendar load` and `show`, against the test database."""

import json
from datetime import date

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.db import session_scope
from app.workdays import cli
from app.workdays.models import CalendarDay, CalendarYear
from tests.workdays.notices import notice_2027_fields

runner = CliRunner()


@pytest.fixture(autouse=True)
def _cli_uses_the_test_database(engine, monkeypatch):
    monkeypatch.setattr(cli, "session_scope", lambda: session_scope(engine))


def stored(engine) -> dict[int, str]:
    with Session(engine) as session:
        return {y.year: y.source for y in session.exec(select(CalendarYear)).all()}


def test_load_a_json_notice(tmp_path, engine):
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(notice_2027_fields(), ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(cli.calendar_app, ["load", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "calendar 2027 loaded: 17 holiday days, 3 make-up working days; "
        "0 open reports had their due dates moved\n"
    )
    assert stored(engine) == {2027: "国务院办公厅关于2027年部分节假日安排的通知"}


def test_load_a_csv_saved_by_excel_with_a_byte_order_mark(tmp_path, engine):
    path = tmp_path / "2027.csv"
    path.write_text(
        "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-14,workday,春节\n", encoding="utf-8-sig"
    )
    result = runner.invoke(
        cli.calendar_app, ["load", str(path), "--source", "国办发明电〔2026〕1号"]
    )
    assert result.exit_code == 0, result.output
    assert "1 holiday days, 1 make-up working days" in result.stdout
    assert stored(engine) == {2027: "国办发明电〔2026〕1号"}
    with Session(engine) as session:
        assert session.get(CalendarDay, date(2027, 1, 1)).name == "元旦"


def test_a_csv_without_source_is_named_after_its_file(tmp_path, engine):
    path = tmp_path / "holidays-2027.csv"
    path.write_text("date,kind,name\n2027-01-01,holiday,元旦\n", encoding="utf-8")
    assert runner.invoke(cli.calendar_app, ["load", str(path)]).exit_code == 0
    assert stored(engine) == {2027: "holidays-2027.csv"}


@pytest.mark.parametrize(
    ("name", "content", "args", "message"),
    [
        (
            "2027.csv",
            "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-04,rest,元旦\n",
            [],
            "2027.csv: line 3: kind must be holiday or workday, not 'rest'",
        ),
        (
            "2027.json",
            json.dumps(notice_2027_fields(source="")),
            [],
            "2027.json is not a calendar notice: source: String should have at least 1 character",
        ),
        ("2027.json", "{not json", [], "2027.json is not a calendar notice: file: Invalid JSON"),
        (
            "2027.json",
            json.dumps(notice_2027_fields()),
            ["--source", "x"],
            "--source is for CSV files; a JSON file carries its own 'source'",
        ),
        (
            "two-years.csv",
            "date,kind,name\n2026-12-31,holiday,元旦\n2027-01-01,holiday,元旦\n",
            [],
            "two-years.csv lists days of these years: 2026, 2027; a file holds one year: "
            "pass --year",
        ),
        (
            "2028.csv",
            "date,kind,name\n2028-01-01,holiday,元旦\n",
            [],
            "error: calendar 2028 not loaded: the official calendar ends on 2026-12-31: "
            "load 2027 before 2028",
        ),
        (
            "2027.csv",
            "date,kind,name\n2027-01-01,holiday,元旦\n",
            ["--year", "2026"],
            "holiday 元旦 2027-01-01–2027-01-01 is not inside 2026",
        ),
    ],
)
def test_load_refuses_a_bad_file_and_says_why(tmp_path, engine, name, content, args, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(cli.calendar_app, ["load", str(path), *args])
    assert result.exit_code == 1
    assert message in result.stderr
    assert stored(engine) == {}


def test_show_a_packaged_year():
    result = runner.invoke(cli.calendar_app, ["show", "2026"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "2026: official, from the chinesecalendar package; 248 working days",
        "source: chinesecalendar 1.11.0",
        "holidays:",
    ]
    assert "  2026-10-01 – 2026-10-07   7 days  国庆节" in lines
    assert "  2026-09-20 Sunday    国庆节" in lines
    assert "make-up working days:" in lines
    assert "the official calendar" in lines[-1]


def test_show_a_loaded_year_and_a_year_without_data(tmp_path):
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(notice_2027_fields(), ensure_ascii=False), encoding="utf-8")
    assert runner.invoke(cli.calendar_app, ["load", str(path)]).exit_code == 0

    loaded = runner.invoke(cli.calendar_app, ["show", "2027"]).stdout.splitlines()
    assert loaded[0].startswith("2027: official, loaded by cli")
    assert loaded[0].endswith("; 253 working days")
    assert "  2027-02-06 – 2027-02-12   7 days  春节" in loaded

    empty = runner.invoke(cli.calendar_app, ["show", "2028"]).stdout.splitlines()
    assert empty[0] == (
        "2028: NOT official: no notice loaded, Monday to Friday are working days; 260 working days"
    )
