"""`zhaocuo notice`, `zhaocuo sla-report` and `zhaocuo settle` against the test database."""

import logging
from datetime import date
from pathlib import Path

import docx
import openpyxl
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.clock import FrozenClock
from app.config import Settings
from app.stats.models import SlaReportRun
from tests.conftest import local
from tests.stats.conftest import September

runner = CliRunner()


@pytest.fixture
def command_env(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, settings: Settings, tmp_path: Path
) -> Settings:
    """The commands' settings, engine and clock, pointed at the test database."""
    cli_settings = settings.model_copy(update={"sla_report_dir": str(tmp_path / "sla")})
    monkeypatch.setattr("app.stats.cli.get_settings", lambda: cli_settings)
    monkeypatch.setattr("app.stats.cli.get_engine", lambda: engine)
    monkeypatch.setattr("app.db.get_engine", lambda: engine)
    monkeypatch.setattr("app.stats.cli.Clock", lambda: FrozenClock(local(2026, 10, 13, 9, 0)))
    return cli_settings


def stored_days(engine: Engine) -> list[date]:
    with Session(engine) as session:
        return list(session.exec(select(SlaReportRun.report_date)).all())


def test_notice_prints_markdown_for_a_subtree(command_env: Settings, september: September) -> None:
    result = runner.invoke(
        cli, ["notice", "2026-09", "--unit", "甲市人民政府办公室", "--as-of", "2026-10-12T18:00:00"]
    )
    assert result.exit_code == 0, result.output
    assert "数据截至2026年10月12日18:00" in result.stdout
    assert "甲市人民政府办公室及所属单位共受理“我为政府网站找错”网民留言7条" in result.stdout


def test_a_cut_off_given_as_a_date_is_the_end_of_that_day(
    command_env: Settings, september: September
) -> None:
    result = runner.invoke(
        cli, ["notice", "2026-09", "--unit", "甲市人民政府办公室", "--as-of", "2026-10-09"]
    )
    assert result.exit_code == 0, result.output
    assert "（统计时段：2026年9月1日至2026年9月30日；数据截至2026年10月9日）" in result.stdout


def test_notice_writes_a_word_document(
    command_env: Settings, september: September, tmp_path: Path
) -> None:
    target = tmp_path / "通报.docx"
    result = runner.invoke(
        cli,
        ["notice", "2026-09", "--format", "docx", "--issued-on", "2026-10-13", "-o", str(target)],
    )
    assert result.exit_code == 0, result.output
    text = [paragraph.text for paragraph in docx.Document(str(target)).paragraphs]
    assert "现将有关情况通报如下：" in text[6]
    assert "2026年10月13日" in text


def test_notice_writes_a_workbook(
    command_env: Settings, september: September, tmp_path: Path
) -> None:
    target = tmp_path / "通报.xlsx"
    result = runner.invoke(cli, ["notice", "2026-Q3", "--format", "xlsx", "--output", str(target)])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(target)["各单位统计"]
    assert sheet["A4"].value == "序号"
    assert sheet.cell(row=sheet.max_row, column=1).value == "合计"
    assert sheet.cell(row=sheet.max_row, column=4).value == 8  # everything received in Q3


def test_notice_explains_a_bad_period_or_unit(command_env: Settings, september: September) -> None:
    bad = runner.invoke(cli, ["notice", "2026-13"])
    assert bad.exit_code == 1
    assert "2026-Q3" in bad.output
    unknown = runner.invoke(cli, ["notice", "2026-09", "--unit", "不存在的单位"])
    assert unknown.exit_code == 1
    assert "no unit named" in unknown.output


def test_sla_report_by_hand_for_one_day_then_again(
    command_env: Settings, engine: Engine, september: September
) -> None:
    first = runner.invoke(cli, ["sla-report", "--date", "2026-09-29"])
    assert first.exit_code == 0, first.output
    assert "produced" in first.output
    assert stored_days(engine) == [date(2026, 9, 29)]
    folder = Path(command_env.sla_report_dir)
    (folder / "sla-report-2026-09-29.csv").unlink()

    again = runner.invoke(cli, ["sla-report", "--date", "2026-09-29"])
    assert again.exit_code == 0
    assert "already existed" in again.output
    assert (folder / "sla-report-2026-09-29.csv").exists()
    assert stored_days(engine) == [date(2026, 9, 29)]


def test_sla_report_refuses_a_day_not_over(command_env: Settings, september: September) -> None:
    result = runner.invoke(cli, ["sla-report", "--date", "2026-10-13"])
    assert result.exit_code == 1
    assert "not over yet" in result.output


def test_sla_report_without_a_date_fills_every_missing_day(
    command_env: Settings, engine: Engine, september: September
) -> None:
    result = runner.invoke(cli, ["sla-report"])
    assert result.exit_code == 0, result.output
    assert "42 day(s) were missing" in result.output  # 1 September to 12 October
    days = stored_days(engine)
    assert min(days) == date(2026, 9, 1) and max(days) == date(2026, 10, 12) and len(days) == 42


def test_settle_adds_what_closed_and_says_how_much(
    command_env: Settings, session: Session, september: September
) -> None:
    session.commit()
    result = runner.invoke(cli, ["settle"])
    assert result.exit_code == 0, result.output
    # At 09:00 on 13 October: R6, R9 and R3, whose rating windows have passed; the three
    # closed since 10 October can still be rated.
    assert result.stdout == "3 closed report(s) settled, received in 1 month(s)\n"
    again = runner.invoke(cli, ["settle"])
    assert again.stdout == "0 closed report(s) settled, received in 0 month(s)\n"


def nightly_samples(client) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
        if sample.name.startswith("zhaocuo_nightly_report")
    }


def test_a_failed_night_is_a_failure_everywhere_an_operator_looks(
    command_env: Settings,
    engine: Engine,
    september: September,
    monkeypatch: pytest.MonkeyPatch,
    client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def disk_full(**_arguments) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("app.stats.jobs.write_sla_files", disk_full)
    with caplog.at_level(logging.ERROR, logger="zhaocuo.stats"):
        failed = runner.invoke(cli, ["sla-report"])

    assert failed.exit_code == 1
    assert failed.output.startswith(
        "error: 42 of 42 missing day(s) failed and stay pending: "
        "2026-09-01 to 2026-10-12 (42 days): OSError: [Errno 28] No space left on device"
    )
    assert stored_days(engine) == []
    assert (
        "nightly SLA report failed for 42 of 42 day(s): 2026-09-01 to 2026-10-12 (42 days): "
        "OSError: [Errno 28] No space left on device" in caplog.text
    )
    nightly = client.get("/readyz").json()["checks"]["nightly_report"]
    assert nightly["ok"] is False
    assert nightly["last_success_at"] is None
    assert nightly["last_failure_at"] == "2026-10-13T09:00:00+08:00"
    assert nightly["reason"] == (
        "2026-09-01 to 2026-10-12 (42 days): OSError: [Errno 28] No space left on device"
    )
    assert nightly_samples(client) == {
        "zhaocuo_nightly_report_failures_total": 1.0,
        "zhaocuo_nightly_report_last_failure_timestamp_seconds": local(
            2026, 10, 13, 9, 0
        ).timestamp(),
    }

    monkeypatch.undo()
    monkeypatch.setattr("app.stats.cli.get_settings", lambda: command_env)
    monkeypatch.setattr("app.stats.cli.get_engine", lambda: engine)
    monkeypatch.setattr("app.stats.cli.Clock", lambda: FrozenClock(local(2026, 10, 13, 9, 5)))
    fixed = runner.invoke(cli, ["sla-report"])

    assert fixed.exit_code == 0, fixed.output
    assert len(stored_days(engine)) == 42
    nightly = client.get("/readyz").json()["checks"]["nightly_report"]
    assert nightly == {
        "ok": True,
        "last_success_at": "2026-10-13T09:05:00+08:00",
        "last_failure_at": "2026-10-13T09:00:00+08:00",
    }
    assert nightly_samples(client) == {
        "zhaocuo_nightly_report_failures_total": 1.0,
        "zhaocuo_nightly_report_last_failure_timestamp_seconds": local(
            2026, 10, 13, 9, 0
        ).timestamp(),
        "zhaocuo_nightly_report_last_success_timestamp_seconds": local(
            2026, 10, 13, 9, 5
        ).timestamp(),
        # The frozen clock does not move; the run's own duration is measured, not frozen.
        "zhaocuo_nightly_report_last_duration_seconds": pytest.approx(1.0, abs=60),
    }


def test_one_day_by_hand_that_fails_exits_non_zero(
    command_env: Settings, engine: Engine, september: September, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unwritable(**_arguments) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("app.stats.jobs.write_sla_files", unwritable)

    result = runner.invoke(cli, ["sla-report", "--date", "2026-09-29"])

    assert result.exit_code == 1
    assert result.output == (
        "error: the SLA report for 2026-09-29 failed: PermissionError: [Errno 13] "
        "Permission denied\n"
    )
    assert stored_days(engine) == []
