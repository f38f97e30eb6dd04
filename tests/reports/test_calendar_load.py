"""A calendar load running beside real concurrent transactions (PostgreSQL).

The load commits the calendar, then moves open reports in short batches; meanwhile units close
reports and citizens submit new ones. No closed report may change, and every report must end
with the new calendar's dates.
"""

import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.reports import deadlines
from app.reports import service as reports_service
from app.reports.models import EventKind, Report, ReportEvent, ReportStatus
from tests.conftest import Directory, local, submit_report
from tests.workdays.notices import notice_2027_fields

ROUNDS = 5
REPORTS_PER_ROUND = 60


def due(year: int, month: int, day: int) -> datetime:
    return local(year, month, day, 23, 59, 59, 999000)


def reports_by_code(engine: Engine, codes: list[str]) -> dict[str, Report]:
    with Session(engine, expire_on_commit=False) as session:
        rows = session.exec(select(Report).where(col(Report.tracking_code).in_(codes))).all()
        session.expunge_all()
    return {report.tracking_code: report for report in rows}


def kinds_by_report(engine: Engine, report_ids: list[int]) -> dict[int, list[str]]:
    with Session(engine) as session:
        rows = session.exec(
            select(ReportEvent.report_id, ReportEvent.kind)
            .where(col(ReportEvent.report_id).in_(report_ids))
            .order_by(col(ReportEvent.id))
        ).all()
    kinds: dict[int, list[str]] = {}
    for report_id, kind in rows:
        kinds.setdefault(report_id, []).append(kind)
    return kinds


@pytest.fixture
def postgres_only(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one transaction at a time: nothing to race")


@pytest.fixture
def small_batches(monkeypatch) -> None:
    """A load slow enough for the other transactions to land while it runs."""
    monkeypatch.setattr(deadlines, "RECOMPUTE_BATCH_IDS", 2)
    real = reports_service.compute_deadlines

    def slow_compute_deadlines(**kwargs):
        time.sleep(0.002)
        return real(**kwargs)

    for module in (deadlines, reports_service):
        monkeypatch.setattr(module, "compute_deadlines", slow_compute_deadlines)


def load_2027(client, directory: Directory) -> dict:
    response = client.put(
        "/api/v1/calendar/2027", json=notice_2027_fields(), headers=directory.auth("admin")
    )
    assert response.status_code == 200, response.text
    return response.json()


def reset_2026(engine: Engine) -> None:
    """Back to the packaged calendar, and no open report left, for the next round."""
    with Session(engine) as session:
        for report in session.exec(
            select(Report).where(col(Report.status) != ReportStatus.resolved)
        ).all():
            report.status = ReportStatus.declined
            session.add(report)
        from app.workdays.models import CalendarDay, CalendarYear

        for model in (CalendarDay, CalendarYear):
            for row in session.exec(select(model)).all():
                session.delete(row)
            session.flush()
        session.commit()


def test_reports_closed_during_a_load_never_change_again(
    postgres_only, small_batches, client, directory: Directory, engine: Engine, clock
):
    # Thursday 17 December 2026: resolution due in January 2027, provisional until 2027 loads.
    clock.set(local(2026, 12, 17, 10, 0))
    for _round in range(ROUNDS):
        codes = [submit_report(client)["tracking_code"] for _ in range(REPORTS_PER_ROUND)]
        reports = reports_by_code(engine, codes)
        # The later half, by id: the load reaches them last, after they have been closed.
        closing = sorted(reports.values(), key=lambda r: r.id)[REPORTS_PER_ROUND // 2 :]
        answers: dict[int, int] = {}

        def close_all(closing=closing, answers=answers) -> None:
            for report in closing:
                response = client.post(
                    f"/api/v1/unit/reports/{report.id}/resolve",
                    json={"verdict": "confirmed", "text": "已更正。"},
                    headers=directory.auth("handler_a1"),
                )
                answers[report.id] = response.status_code

        closer = threading.Thread(target=close_all)
        closer.start()
        moved = load_2027(client, directory)["reports_moved"]
        closer.join()

        after = reports_by_code(engine, codes)
        kinds = kinds_by_report(engine, [r.id for r in reports.values()])
        assert set(answers.values()) == {200}
        for report in reports.values():
            stored = after[report.tracking_code]
            history = kinds[report.id]
            if stored.status == ReportStatus.resolved:
                if EventKind.deadlines_recomputed in history:
                    # Moved before it was closed, never after.
                    assert history.index("deadlines_recomputed") < history.index("resolved")
                    assert stored.resolution_due_at == due(2027, 1, 8)
                else:
                    assert stored.resolution_due_at == due(2027, 1, 7)
                    assert stored.deadlines_provisional is True
            else:
                assert history == ["submitted", "deadlines_recomputed"]
                assert stored.resolution_due_at == due(2027, 1, 8)
                assert stored.deadlines_provisional is False
        recomputed = sum("deadlines_recomputed" in kinds[r.id] for r in reports.values())
        assert moved == recomputed
        reset_2026(engine)


def test_reports_submitted_while_a_year_loads_have_its_dates(
    postgres_only, small_batches, client, directory: Directory, engine: Engine, clock
):
    clock.set(local(2026, 12, 17, 10, 0))
    for _round in range(ROUNDS):
        for _ in range(REPORTS_PER_ROUND):
            submit_report(client)["tracking_code"]
        during: list[str] = []
        loading = threading.Event()
        loading.set()

        def submit_while_loading(loading=loading, during=during) -> None:
            while loading.is_set():
                during.append(submit_report(client)["tracking_code"])

        submitters = [threading.Thread(target=submit_while_loading) for _ in range(2)]
        for thread in submitters:
            thread.start()
        load_2027(client, directory)
        loading.clear()
        for thread in submitters:
            thread.join()

        assert during
        stored = reports_by_code(engine, during)
        # Received Thursday 17 December: 15 working days with 元旦 (1–3 January) a holiday.
        wrong = {
            code: (r.resolution_due_at, r.deadlines_provisional)
            for code, r in stored.items()
            if (r.resolution_due_at, r.deadlines_provisional) != (due(2027, 1, 8), False)
        }
        assert wrong == {}, f"{len(wrong)} of {len(during)} kept the old calendar's dates"
        reset_2026(engine)
