"""The nightly SLA report: exact daily figures, one report per day, catch-up, files, outbox."""

import csv
import io
import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.config import Settings
from app.reports.models import EventKind, Report
from app.reports.service import record_event
from app.sla.models import Notification
from app.stats import jobs, queries
from app.stats.exports import SlaFormat, render_sla_report
from app.stats.models import SlaReport, SlaReportRun
from app.stats.schemas import SlaLine, SlaReportOut
from app.stats.service import SLA_TOTAL_FIELDS, produce_sla_report
from tests.conftest import local
from tests.stats.conftest import September


@pytest.fixture
def report_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"sla_report_dir": str(tmp_path / "sla")})


@pytest.fixture
def rungs(session: Session, september: September) -> None:
    """Rungs fired around Tuesday 29 September, as the escalation sweep records them."""
    ids = september.ids
    for name, kind, at in [
        ("R4", EventKind.reminder, local(2026, 9, 28, 9, 0)),  # the day before: not counted
        ("R5", EventKind.reminder, local(2026, 9, 29, 9, 0)),
        ("B1", EventKind.supervise, local(2026, 9, 29, 9, 0)),
        ("R4", EventKind.urge, local(2026, 9, 30, 9, 0)),  # the day after: not counted
    ]:
        record_event(
            session=session,
            report=session.get(Report, ids[name]),
            kind=kind,
            actor="scheduler",
            at=at,
        )
    session.commit()


def stored_days(engine: Engine) -> list[date]:
    # A short session of its own: on SQLite an open transaction would hold the write lock
    # that the job needs.
    with Session(engine) as session:
        query = select(SlaReportRun.report_date).order_by(SlaReportRun.report_date)
        return list(session.exec(query).all())


def lines_of(session: Session, day: date) -> dict[int, dict[str, int]]:
    rows = session.exec(select(SlaReport).where(SlaReport.report_date == day)).all()
    return {
        row.unit_id: {field: getattr(row, field) for field in queries.SLA_FIELDS} for row in rows
    }


def line(**counts: int) -> dict[str, int]:
    return dict.fromkeys(queries.SLA_FIELDS, 0) | counts


def test_a_day_after_the_mid_autumn_holiday(
    session: Session, settings: Settings, september: September, rungs: None
) -> None:
    run = produce_sla_report(
        session=session,
        report_date=date(2026, 9, 29),
        now=local(2026, 9, 30, 1, 30),
        settings=settings,
    )
    session.commit()
    assert run.as_of == local(2026, 9, 30, 0, 0)
    d = september.directory
    assert lines_of(session, date(2026, 9, 29)) == {
        # R2, R4 and R5 open; R4's first reply was due that day and is now overdue; R5 is
        # paused; the reminder on R5 fired that day.
        d.dept_a1: line(open_reports=3, due_today=1, overdue_first_replies=1, reminders=1),
        d.dept_b1: line(open_reports=1, overdue_resolutions=1, supervisions=1),
    }
    assert run.units == 2


def test_a_resolution_due_on_the_day_counts_as_due_and_then_overdue(
    session: Session, settings: Settings, september: September
) -> None:
    produce_sla_report(
        session=session,
        report_date=date(2026, 9, 21),
        now=local(2026, 9, 22, 1, 30),
        settings=settings,
    )
    session.commit()
    # R3 was declined that day and R6 closed before it: 甲市教育局 has nothing to report.
    assert lines_of(session, date(2026, 9, 21)) == {
        september.directory.dept_b1: line(open_reports=1, due_today=1, overdue_resolutions=1),
    }


def test_a_day_is_produced_once(session: Session, settings: Settings, september: September) -> None:
    first = produce_sla_report(
        session=session,
        report_date=date(2026, 9, 29),
        now=local(2026, 9, 30, 1, 30),
        settings=settings,
    )
    session.commit()
    again = produce_sla_report(
        session=session,
        report_date=date(2026, 9, 29),
        now=local(2026, 9, 30, 2, 0),
        settings=settings,
    )
    assert first is not None and again is None
    count = select(func.count()).select_from(SlaReport)
    assert session.exec(count).one() == 2


def test_the_nightly_job_catches_up_every_missed_day(
    engine: Engine, report_settings: Settings, september: September, rungs: None
) -> None:
    jobs.run_nightly_report(engine=engine, now=local(2026, 9, 30, 1, 30), settings=report_settings)
    days = stored_days(engine)
    # From the first receipt (B1, Tuesday 1 September) up to yesterday.
    assert days[0] == date(2026, 9, 1) and days[-1] == date(2026, 9, 29) and len(days) == 29

    jobs.run_nightly_report(engine=engine, now=local(2026, 9, 30, 1, 45), settings=report_settings)
    assert len(stored_days(engine)) == 29

    # Three nights missed: the next start produces them all.
    jobs.run_nightly_report(engine=engine, now=local(2026, 10, 3, 9, 0), settings=report_settings)
    days = stored_days(engine)
    assert days[-3:] == [date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 2)]
    assert len(days) == 32


def test_a_failed_day_does_not_stop_the_others_and_is_retried(
    engine: Engine,
    report_settings: Settings,
    september: September,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = queries.sla_counts

    def failing_on_the_15th(*, session, day_start, day_end):
        if day_start == local(2026, 9, 15, 0, 0):
            raise RuntimeError("disk full")
        return real(session=session, day_start=day_start, day_end=day_end)

    monkeypatch.setattr(queries, "sla_counts", failing_on_the_15th)
    jobs.run_nightly_report(engine=engine, now=local(2026, 9, 30, 1, 30), settings=report_settings)
    days = stored_days(engine)
    assert date(2026, 9, 15) not in days and len(days) == 28

    monkeypatch.setattr(queries, "sla_counts", real)
    jobs.run_nightly_report(engine=engine, now=local(2026, 9, 30, 1, 30), settings=report_settings)
    assert date(2026, 9, 15) in stored_days(engine)


def test_nothing_is_produced_before_the_first_report(
    engine: Engine, report_settings: Settings, directory
) -> None:
    jobs.run_nightly_report(engine=engine, now=local(2026, 9, 30, 1, 30), settings=report_settings)
    assert stored_days(engine) == []


def test_the_report_is_written_as_json_csv_and_xlsx(
    engine: Engine, report_settings: Settings, september: September, rungs: None
) -> None:
    jobs.run_nightly_report(engine=engine, now=local(2026, 9, 30, 1, 30), settings=report_settings)
    folder = Path(report_settings.sla_report_dir)
    document = json.loads((folder / "sla-report-2026-09-29.json").read_text(encoding="utf-8"))
    assert document["as_of"] == "2026-09-30T00:00:00.000+08:00"
    assert document["totals"] == {
        "open_reports": 4,
        "due_today": 1,
        "overdue_first_replies": 1,
        "overdue_resolutions": 1,
        "reminders": 1,
        "urges": 0,
        "supervisions": 1,
        "rungs_fired": 2,
    }
    content = (folder / "sla-report-2026-09-29.csv").read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == [
        "单位",
        "未办结留言",
        "当日到期",
        "首次答复超期",
        "办结超期",
        "提醒",
        "催办",
        "督办",
    ]
    assert rows[1:] == [
        ["乙市教育局", "1", "0", "0", "1", "0", "0", "1"],
        ["甲市教育局", "3", "1", "1", "0", "1", "0", "0"],
        ["合计", "4", "1", "1", "1", "1", "0", "1"],
    ]
    sheet = openpyxl.load_workbook(folder / "sla-report-2026-09-29.xlsx").active
    assert sheet["A1"].value == "单位" and sheet["B4"].value == 4
    assert sorted(path.name for path in folder.iterdir() if path.name.startswith(".")) == []


def test_supervising_units_get_their_subtree_through_the_outbox(
    engine: Engine, report_settings: Settings, september: September, rungs: None
) -> None:
    def sent() -> dict[int, Notification]:
        with Session(engine) as session:
            query = select(Notification).where(
                Notification.key.startswith("sla-report:2026-09-29:")
            )
            return {notification.unit_id: notification for notification in session.exec(query)}

    jobs.run_nightly_report(engine=engine, now=local(2026, 9, 30, 1, 30), settings=report_settings)
    d = september.directory
    by_unit = sent()
    # The departments supervise nobody; their city offices and the province hear.
    assert set(by_unit) == {d.city_a, d.city_b, d.province}
    assert by_unit[d.city_a].kind == "nightly_report"
    assert by_unit[d.city_a].payload["totals"] == line(
        open_reports=3, due_today=1, overdue_first_replies=1, reminders=1
    )
    assert by_unit[d.province].payload["totals"]["open_reports"] == 4
    assert by_unit[d.province].payload["units_reporting"] == 2
    assert by_unit[d.city_b].payload["details"] == (
        f"/api/v1/sla-reports/2026-09-29?unit_id={d.city_b}"
    )
    first_ids = {unit_id: notification.id for unit_id, notification in by_unit.items()}
    # A rerun queues nothing twice.
    jobs.run_nightly_report(engine=engine, now=local(2026, 9, 30, 2, 0), settings=report_settings)
    assert {unit_id: n.id for unit_id, n in sent().items()} == first_ids


def test_the_endpoint_shows_the_callers_subtree(
    client, engine: Engine, report_settings: Settings, september: September, rungs: None
) -> None:
    jobs.run_nightly_report(engine=engine, now=local(2026, 9, 30, 1, 30), settings=report_settings)
    d = september.directory
    mine = client.get("/api/v1/sla-reports/2026-09-29", headers=d.auth("supervisor_a")).json()
    assert [entry["unit_name"] for entry in mine["lines"]] == ["甲市教育局"]
    assert mine["lines"][0]["rungs_fired"] == 1
    assert mine["totals"]["open_reports"] == 3
    everyone = client.get("/api/v1/sla-reports/2026-09-29", headers=d.auth("admin")).json()
    assert everyone["totals"]["open_reports"] == 4
    as_csv = client.get(
        "/api/v1/sla-reports/2026-09-29", params={"format": "csv"}, headers=d.auth("admin")
    )
    assert as_csv.content.startswith(b"\xef\xbb\xbf")

    missing = client.get("/api/v1/sla-reports/2026-10-20", headers=d.auth("admin"))
    assert missing.status_code == 404
    assert "zhaocuo sla-report --date" in missing.json()["detail"]
    assert (
        client.get("/api/v1/sla-reports/2026-09-29", headers=d.auth("handler_a1")).status_code
        == 403
    )
    assert client.get("/api/v1/sla-reports/29-09-2026", headers=d.auth("admin")).status_code == 422
    other = client.get(
        "/api/v1/sla-reports/2026-09-29",
        params={"unit_id": d.dept_b1},
        headers=d.auth("supervisor_a"),
    )
    assert other.status_code == 404


@pytest.mark.parametrize("sla_format", list(SlaFormat))
def test_a_stored_control_character_never_stops_the_files(sla_format: SlaFormat) -> None:
    # Names stored before validation existed may hold \x0b or \x01: openpyxl raised on them
    # and the whole night's report rolled back.
    line = SlaLine(
        unit_id=1,
        unit_name="甲市\x0b教育\x01局",
        parent_id=None,
        open_reports=2,
        due_today=1,
        overdue_first_replies=1,
        overdue_resolutions=0,
        reminders=0,
        urges=1,
        supervisions=0,
        rungs_fired=1,
    )
    report = SlaReportOut(
        report_date=date(2026, 9, 29),
        as_of=local(2026, 9, 30, 0, 0),
        produced_at=local(2026, 9, 30, 1, 30),
        scope_unit_id=None,
        lines=[line],
        totals={name: 0 for name in SLA_TOTAL_FIELDS},
    )
    rendered = render_sla_report(report, sla_format)
    if sla_format == SlaFormat.xlsx:
        sheet = openpyxl.load_workbook(io.BytesIO(rendered.content)).active
        assert sheet["A2"].value == "甲市教育局"
    elif sla_format == SlaFormat.csv:
        assert "甲市教育局" in rendered.content.decode("utf-8-sig")
