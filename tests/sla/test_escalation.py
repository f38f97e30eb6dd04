"""The escalation ladder on real calendar dates: planning, the sweep, once per clock."""

import logging
from datetime import datetime

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from app.config import Settings
from app.directory.models import Unit
from app.reports.deadlines import recompute_open_deadlines
from app.reports.models import EventKind, Report, ReportEvent, ReportStatus
from app.sla import escalation
from app.sla.escalation import due_reports_query, ladder, plan_next_rung, sweep
from app.sla.models import EscalationRung, Notification, NotificationKind, Rung
from app.workdays.sources import build_calendar, packaged_calendar_days
from tests.conftest import fetch, local
from tests.sla.helpers import CALENDAR, rungs_of, submit_at
from tests.sla.reference_sweep import reference_fire

END_OF_DAY = (23, 59, 59, 999000)


def run_sweep(engine: Engine, settings: Settings, at: datetime, **kwargs):
    return sweep(engine=engine, now=at, settings=settings, calendar=CALENDAR, **kwargs)


def get_report(engine: Engine, report_id: int) -> Report:
    [report] = fetch(engine, select(Report).where(Report.id == report_id))
    return report


def rung_events(engine: Engine, report_id: int) -> list[ReportEvent]:
    kinds = (EventKind.reminder, EventKind.urge, EventKind.supervise)
    return fetch(
        engine,
        select(ReportEvent)
        .where(ReportEvent.report_id == report_id, col(ReportEvent.kind).in_(kinds))
        .order_by(col(ReportEvent.id)),
    )


def notifications_of(engine: Engine, report_id: int, kind: NotificationKind) -> list[Notification]:
    return fetch(
        engine,
        select(Notification)
        .where(Notification.report_id == report_id, Notification.kind == kind)
        .order_by(col(Notification.unit_id)),
    )


def test_the_whole_ladder_across_national_day(client, directory, clock, engine, settings):
    # Received Tuesday 29 September 2026; 1–7 October is the National Day holiday and
    # Saturday 10 October a make-up working day. First reply due Thursday 8 October (the 2nd
    # working day), resolution due Monday 26 October (the 15th).
    report_id = submit_at(client, local(2026, 9, 29, 10, 0))
    report = get_report(engine, report_id)
    assert report.first_reply_due_at == local(2026, 10, 8, *END_OF_DAY)
    assert report.resolution_due_at == local(2026, 10, 26, *END_OF_DAY)
    assert (report.next_rung, report.next_rung_at) == ("reminder", local(2026, 9, 30, *END_OF_DAY))

    # Reminder: at the end of Wednesday 30 September, one working day left; to the owner.
    assert run_sweep(engine, settings, local(2026, 9, 30, 23, 59, 59)).fired == 0
    reminder_at = local(2026, 9, 30, *END_OF_DAY)
    assert run_sweep(engine, settings, reminder_at).fired == 1
    assert rungs_of(engine, report_id) == [
        (1, "reminder", reminder_at, [directory.dept_a1]),
    ]
    [event] = rung_events(engine, report_id)
    assert (event.kind, event.actor, event.at) == (EventKind.reminder, "scheduler", reminder_at)
    assert event.data["target_unit_ids"] == [directory.dept_a1]
    assert datetime.fromisoformat(event.data["deadline"]) == local(2026, 10, 8, *END_OF_DAY)
    [notice] = notifications_of(engine, report_id, NotificationKind.reminder)
    assert notice.unit_id == directory.dept_a1
    # Fired at midnight before the holiday: it goes out when working hours next open.
    assert notice.not_before == local(2026, 10, 8, 9, 0)
    assert notice.payload["rung"]["recipient"] == "owner"
    assert "2026-10-08" in notice.payload["text"]
    assert "citizen" not in str(notice.payload) and "tracking_code" not in notice.payload["report"]

    # 催办: nothing during the holiday; at first-reply overdue, to the owner and its parent.
    assert run_sweep(engine, settings, local(2026, 10, 5, 12, 0)).fired == 0
    urge_at = local(2026, 10, 8, *END_OF_DAY)
    assert run_sweep(engine, settings, urge_at).fired == 1
    assert rungs_of(engine, report_id)[1] == (
        1,
        "urge",
        urge_at,
        [directory.dept_a1, directory.city_a],
    )
    urges = notifications_of(engine, report_id, NotificationKind.urge)
    assert [(n.unit_id, n.payload["rung"]["recipient"]) for n in urges] == [
        (directory.city_a, "parent"),
        (directory.dept_a1, "owner"),
    ]
    assert {n.not_before for n in urges} == {local(2026, 10, 9, 9, 0)}

    # 督办: at resolution overdue, to the parent and the grandparent.
    assert run_sweep(engine, settings, local(2026, 10, 26, 18, 0)).fired == 0
    supervise_at = local(2026, 10, 26, *END_OF_DAY)
    assert run_sweep(engine, settings, supervise_at).fired == 1
    assert rungs_of(engine, report_id)[2] == (
        1,
        "supervise",
        supervise_at,
        [directory.city_a, directory.province],
    )
    supervises = notifications_of(engine, report_id, NotificationKind.supervise)
    assert [(n.unit_id, n.payload["rung"]["recipient"]) for n in supervises] == [
        (directory.province, "grandparent"),
        (directory.city_a, "parent"),
    ]
    assert [e.kind for e in rung_events(engine, report_id)] == [
        EventKind.reminder,
        EventKind.urge,
        EventKind.supervise,
    ]

    # The ladder is done: nothing pending, and later sweeps fire nothing more.
    report = get_report(engine, report_id)
    assert (report.next_rung, report.next_rung_at) == (None, None)
    assert run_sweep(engine, settings, local(2026, 12, 31, 12, 0)).reports == 0
    # Rungs are internal: the citizen's timeline does not show them.
    public = client.get(f"/api/v1/reports/{report.tracking_code}").json()
    assert {entry["kind"] for entry in public["events"]} == {"submitted"}


def test_a_first_response_stops_reminder_and_urge_but_not_supervise(
    client, directory, clock, engine, settings
):
    report_id = submit_at(client, local(2026, 11, 23, 10, 0))
    clock.set(local(2026, 11, 24, 9, 30))
    reply = client.post(
        f"/api/v1/unit/reports/{report_id}/reply",
        json={"text": "已收到，正在核实。"},
        headers=directory.auth("handler_a1"),
    )
    assert reply.status_code == 200, reply.text
    # The reply replans at once: the reminder's and 催办's times pass with nothing to do.
    report = get_report(engine, report_id)
    assert (report.next_rung, report.next_rung_at) == (
        "supervise",
        local(2026, 12, 14, *END_OF_DAY),
    )
    result = run_sweep(engine, settings, local(2026, 11, 25, 23, 59, 59, 999000))
    assert (result.fired, result.skipped) == (0, 0)
    assert run_sweep(engine, settings, local(2026, 12, 14, *END_OF_DAY)).fired == 1
    assert [r[1] for r in rungs_of(engine, report_id)] == ["supervise"]


def test_closing_a_report_removes_its_pending_rung(client, directory, clock, engine):
    report_id = submit_at(client, local(2026, 11, 23, 10, 0))
    response = client.post(
        f"/api/v1/unit/reports/{report_id}/resolve",
        json={"verdict": "confirmed", "text": "已更正错别字。"},
        headers=directory.auth("handler_a1"),
    )
    assert response.status_code == 200, response.text
    report = get_report(engine, report_id)
    assert (report.status, report.next_rung, report.next_rung_at) == (
        ReportStatus.resolved,
        None,
        None,
    )


def test_a_paused_clock_has_no_rung_and_resumes_with_moved_rungs(
    client, directory, clock, engine, settings
):
    report_id = submit_at(client, local(2026, 11, 23, 10, 0))
    clock.set(local(2026, 11, 23, 15, 0))
    asked = client.post(
        f"/api/v1/unit/reports/{report_id}/request-info",
        json={"text": "请提供出错页面的截图。"},
        headers=directory.auth("handler_a1"),
    )
    assert asked.status_code == 200, asked.text
    report = get_report(engine, report_id)
    assert (report.next_rung, report.next_rung_at) == (None, None)
    # Paused through the reminder's and the first reply's original times: nothing fires.
    assert run_sweep(engine, settings, local(2026, 11, 26, 12, 0)).reports == 0

    # The citizen answers on Thursday 26 November: 3 working days paused (24, 25, 26), so the
    # first reply is due on Monday 30 November and the reminder falls on Friday 27.
    clock.set(local(2026, 11, 26, 12, 0))
    code = report.tracking_code
    answered = client.post(f"/api/v1/reports/{code}/supplement", json={"text": "截图见附件链接。"})
    assert answered.status_code == 200, answered.text
    report = get_report(engine, report_id)
    assert report.first_reply_due_at == local(2026, 11, 30, *END_OF_DAY)
    assert (report.next_rung, report.next_rung_at) == ("reminder", local(2026, 11, 27, *END_OF_DAY))


def test_a_transfer_starts_a_new_ladder_for_the_receiving_unit(
    client, directory, clock, engine, settings
):
    report_id = submit_at(client, local(2026, 11, 23, 10, 0))
    # Nobody answered: reminder and 催办 fire on clock 1 for department A1.
    assert run_sweep(engine, settings, local(2026, 11, 26, 10, 0)).fired == 2
    clock.set(local(2026, 11, 26, 10, 30))
    moved = client.post(
        f"/api/v1/unit/reports/{report_id}/transfer",
        json={"to_unit_id": directory.dept_b1, "text": "乙市教育局的网站"},
        headers=directory.auth("handler_a1"),
    )
    assert moved.status_code == 200, moved.text
    report = get_report(engine, report_id)
    assert report.clock == 2
    assert (report.next_rung, report.next_rung_at) == ("reminder", local(2026, 11, 27, *END_OF_DAY))
    # Clock 2's rungs fire too, to the new owner and its parent.
    assert run_sweep(engine, settings, local(2026, 11, 30, *END_OF_DAY)).fired == 2
    assert [(r[0], r[1], r[3]) for r in rungs_of(engine, report_id)] == [
        (1, "reminder", [directory.dept_a1]),
        (1, "urge", [directory.dept_a1, directory.city_a]),
        (2, "reminder", [directory.dept_b1]),
        (2, "urge", [directory.dept_b1, directory.city_b]),
    ]
    # The receiving unit heard of the report's arrival.
    [arrival] = [
        n
        for n in notifications_of(engine, report_id, NotificationKind.new_report)
        if n.unit_id == directory.dept_b1
    ]
    assert arrival.key == f"new_report:{report_id}:2:{directory.dept_b1}"


def test_after_downtime_every_rung_that_came_due_fires_once(
    client, directory, clock, engine, settings
):
    report_id = submit_at(client, local(2026, 11, 23, 10, 0))
    # The scheduler was down from Monday to Friday: the reminder (Tuesday night) and the
    # 催办 (Wednesday night) are both due at its first sweep.
    result = run_sweep(engine, settings, local(2026, 11, 27, 10, 0))
    assert (result.reports, result.fired, result.notifications) == (1, 2, 3)
    assert [r[1:3] for r in rungs_of(engine, report_id)] == [
        ("reminder", local(2026, 11, 24, *END_OF_DAY)),
        ("urge", local(2026, 11, 25, *END_OF_DAY)),
    ]
    # A second sweep, a retry or a restart finds nothing to do.
    assert run_sweep(engine, settings, local(2026, 11, 27, 10, 1)).reports == 0
    assert len(rung_events(engine, report_id)) == 2


def test_replanning_from_the_start_never_fires_a_rung_twice(
    client, directory, clock, engine, settings
):
    report_id = submit_at(client, local(2026, 11, 23, 10, 0))
    assert run_sweep(engine, settings, local(2026, 11, 26, 10, 0)).fired == 2
    # A calendar reload replans every open report from the bottom of the ladder.
    with Session(engine) as other:
        report = other.get(Report, report_id)
        plan_next_rung(report=report, calendar=CALENDAR, settings=settings)
        assert report.next_rung == "reminder"
        other.add(report)
        other.commit()
    result = run_sweep(engine, settings, local(2026, 11, 26, 10, 5))
    assert (result.fired, result.skipped) == (0, 2)
    assert len(rungs_of(engine, report_id)) == 2
    assert len(rung_events(engine, report_id)) == 2
    assert len(notifications_of(engine, report_id, NotificationKind.urge)) == 2


def test_recomputing_deadlines_replans_only_moved_ladders_from_the_rung_reached(
    client, directory, clock, engine, settings
):
    # Received Monday 23 November 2026: first reply due Wednesday 25, reminder Tuesday 24.
    waiting = submit_at(client, local(2026, 11, 23, 10, 0))
    reminded = submit_at(client, local(2026, 11, 23, 10, 5))
    done = submit_at(client, local(2026, 11, 23, 10, 10))
    late = submit_at(client, local(2026, 11, 2, 10, 0))  # all dates past
    with Session(engine) as other:
        for report_id, rung, at in [
            (reminded, "urge", local(2026, 11, 25, *END_OF_DAY)),
            (done, None, None),
        ]:
            report = other.get(Report, report_id)
            report.next_rung, report.next_rung_at = rung, at
            other.add(report)
        other.commit()
    ladder_of_late = (get_report(engine, late).next_rung, get_report(engine, late).next_rung_at)
    # Tuesday 24 November becomes a holiday: first reply due Thursday 26, reminder Wednesday 25.
    moved_calendar = build_calendar(
        package=packaged_calendar_days(),
        loaded_days=[(local(2026, 11, 24).date(), False)],
        loaded_years=set(),
    )
    moved = recompute_open_deadlines(
        engine=engine,
        calendar=moved_calendar,
        now=local(2026, 11, 23, 11, 0),
        settings=settings,
    )

    assert moved == 3
    assert (get_report(engine, waiting).next_rung, get_report(engine, waiting).next_rung_at) == (
        "reminder",
        local(2026, 11, 25, *END_OF_DAY),
    )
    assert (get_report(engine, reminded).next_rung, get_report(engine, reminded).next_rung_at) == (
        "urge",
        local(2026, 11, 26, *END_OF_DAY),
    )
    assert (get_report(engine, done).next_rung, get_report(engine, done).next_rung_at) == (
        None,
        None,
    )
    # Received 2 November, due 4 and 23 November: no date moved, the ladder stays where it was.
    assert get_report(engine, late).resolution_due_at == local(2026, 11, 23, *END_OF_DAY)
    assert (get_report(engine, late).next_rung, get_report(engine, late).next_rung_at) == (
        ladder_of_late
    )


def test_one_failing_report_does_not_stop_the_sweep(
    client, directory, clock, engine, settings, monkeypatch, caplog
):
    report_ids = [submit_at(client, local(2026, 11, 23, 10, m)) for m in range(3)]
    broken = report_ids[1]
    real_summary = escalation.row_summary

    def summary_failing_for_one(*, report, **arguments):
        if report.id == broken:
            raise RuntimeError("payload could not be built")
        return real_summary(report=report, **arguments)

    monkeypatch.setattr(escalation, "row_summary", summary_failing_for_one)
    with caplog.at_level(logging.ERROR, logger="app.sla.escalation"):
        result = run_sweep(engine, settings, local(2026, 11, 24, 23, 59, 59, 999000), batch_size=2)
    assert result.failed_report_ids == [broken]
    assert result.fired == 2
    assert f"report {broken} failed" in caplog.text
    # The failed report's claim rolled back with it: no rung row, no event, still due.
    assert rungs_of(engine, broken) == []
    assert rung_events(engine, broken) == []
    assert get_report(engine, broken).next_rung == "reminder"
    for report_id in (report_ids[0], report_ids[2]):
        assert [r[1] for r in rungs_of(engine, report_id)] == ["reminder"]

    # Fixed: the next sweep fires it, and only it.
    monkeypatch.setattr(escalation, "row_summary", real_summary)
    result = run_sweep(engine, settings, local(2026, 11, 24, 23, 59, 59, 999000))
    assert (result.reports, result.fired, result.failed_report_ids) == (1, 1, [])
    assert [r[1] for r in rungs_of(engine, broken)] == ["reminder"]


def test_a_report_whose_rows_the_database_refuses_does_not_stop_the_sweep(
    client, directory, clock, engine, settings, monkeypatch
):
    # The failure comes from the database this time (an event of a report that is not there),
    # in the middle of a batch's statements: the batch rolls back and is retried report by
    # report, and only the refused report is left for the next sweep.
    report_ids = [submit_at(client, local(2026, 11, 23, 10, m)) for m in range(3)]
    refused = report_ids[1]
    real_rows = escalation._rung_rows

    def rows_refused_for_one(**arguments):
        event, outbox = real_rows(**arguments)
        if arguments["report"].id == refused:
            event = {**event, "report_id": 10**9}
        return event, outbox

    monkeypatch.setattr(escalation, "_rung_rows", rows_refused_for_one)
    result = run_sweep(engine, settings, local(2026, 11, 24, 23, 59, 59, 999000), batch_size=3)
    assert result.failed_report_ids == [refused]
    assert result.fired == 2
    assert rungs_of(engine, refused) == []
    assert get_report(engine, refused).next_rung == "reminder"
    for report_id in (report_ids[0], report_ids[2]):
        assert [r[1] for r in rungs_of(engine, report_id)] == ["reminder"]
        assert len(notifications_of(engine, report_id, NotificationKind.reminder)) == 1


def test_the_sweep_reads_due_reports_through_the_next_rung_index(engine, session):
    query = due_reports_query(now=local(2026, 11, 24, 12, 0), limit=500, excluded_ids=[])
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    if engine.dialect.name == "postgresql":
        # A near-empty table is scanned whole; forbid that to see the plan the index allows.
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
        plan = "\n".join(session.execute(text(f"EXPLAIN {sql}")).scalars())
    else:
        plan = "\n".join(str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    session.rollback()
    assert "ix_report_next_rung_at" in plan
    # Ordered by the index itself: no sort of all due reports before the LIMIT.
    assert "TEMP B-TREE" not in plan and "Sort" not in plan


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (1, [Rung.reminder, Rung.urge, Rung.supervise]),
        (0, [Rung.urge, Rung.supervise]),
    ],
)
def test_reminder_workdays_before_zero_means_no_reminder(settings, setting, expected):
    report = Report(
        tracking_code="X",
        category=4,
        page_url="https://example.gov.cn/",
        description="xxxxx",
        status=ReportStatus.assigned,
        received_at=local(2026, 11, 23, 10, 0),
        assigned_at=local(2026, 11, 23, 10, 0),
        clock=1,
        first_reply_due_at=local(2026, 11, 25, *END_OF_DAY),
        resolution_due_at=local(2026, 12, 14, *END_OF_DAY),
    )
    tuned = settings.model_copy(update={"reminder_workdays_before": setting})
    assert [
        rung for rung, _ in ladder(report=report, calendar=CALENDAR, settings=tuned)
    ] == expected


def written_by_sweeps(connection) -> dict[str, list]:
    """Everything a sweep writes, as stored (JSON as its text), without generated ids."""
    rung_kinds = "('reminder', 'urge', 'supervise')"
    queries = {
        "rungs": "SELECT report_id, clock, CAST(rung AS TEXT), due_at, fired_at, "
        "CAST(target_unit_ids AS TEXT) FROM escalation_rung ORDER BY report_id, rung",
        "events": "SELECT report_id, CAST(kind AS TEXT), actor, actor_unit_id, at, "
        f"CAST(data AS TEXT) FROM report_event WHERE CAST(kind AS TEXT) IN {rung_kinds} "
        "ORDER BY report_id, id",
        "outbox": 'SELECT "key", unit_id, CAST(kind AS TEXT), report_id, CAST(payload AS TEXT), '
        "created_at, not_before, attempts, next_attempt_at FROM notification "
        f'WHERE CAST(kind AS TEXT) IN {rung_kinds} ORDER BY "key"',
        "reports": "SELECT id, next_rung, next_rung_at, updated_at FROM report ORDER BY id",
    }
    return {
        name: [tuple(row) for row in connection.execute(text(sql))] for name, sql in queries.items()
    }


def test_the_sweep_on_rows_writes_what_the_orm_sweep_wrote_byte_for_byte(
    client, directory, clock, engine, settings
):
    # Every path: a reminder due, two rungs due after downtime, 督办 to the grandparent, a
    # first response that skips reminder and 催办, a rung already claimed, a unit with a webhook.
    with Session(engine) as other:
        unit = other.get(Unit, directory.dept_a1)
        unit.webhook_url, unit.webhook_secret = "https://hook.example.gov.cn/in", "s" * 32
        other.add(unit)
        other.commit()
    claimed = submit_at(client, local(2026, 11, 23, 10, 0))
    submit_at(client, local(2026, 11, 20, 10, 0))  # reminder and 催办
    submit_at(client, local(2026, 10, 30, 10, 0))  # every rung, 督办 too
    answered = submit_at(client, local(2026, 11, 19, 10, 0))
    clock.set(local(2026, 11, 19, 11, 0))
    response = client.post(
        f"/api/v1/unit/reports/{answered}/reply",
        json={"text": "已收到，正在核实。"},
        headers=directory.auth("handler_a1"),
    )
    assert response.status_code == 200, response.text
    with Session(engine) as other:  # claimed by an earlier sweep, then replanned from the start
        other.add(
            EscalationRung(
                report_id=claimed,
                clock=1,
                rung=Rung.reminder,
                due_at=local(2026, 11, 24, *END_OF_DAY),
                fired_at=local(2026, 11, 24, *END_OF_DAY),
                target_unit_ids=[directory.dept_a1],
            )
        )
        other.commit()
    now = local(2026, 11, 26, 10, 0)

    with Session(engine) as reference:
        counts = reference_fire(session=reference, now=now, calendar=CALENDAR, settings=settings)
        expected = written_by_sweeps(reference.connection())
        reference.rollback()
    result = run_sweep(engine, settings, now)
    with engine.connect() as connection:
        written = written_by_sweeps(connection)

    assert (result.fired, result.skipped) == counts == (6, 1)
    assert result.notifications == len(expected["outbox"]) == 10
    assert written == expected
