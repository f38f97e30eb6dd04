"""Due dates of real reports on real calendar dates (Asia/Shanghai, 2 and 15 working days).

2026 (from the State Council notice, as shipped in chinesecalendar): 中秋节 25–27 September,
国庆节 1–7 October, make-up working days Sunday 20 September and Saturday 10 October.
"""

from datetime import datetime

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from app.db import session_scope
from app.reports import deadlines
from app.reports.models import ReportEvent
from app.scheduler import finish_calendar_recompute
from app.workdays.models import CalendarYear
from app.workdays.service import load_year, mark_recomputed, pending_versions
from tests.conftest import Directory, local, submit_report
from tests.reports.helpers import act, due, stored
from tests.workdays.notices import notice_2027, notice_2027_fields

# Only 元旦 of the 2027 notice matters to the reports below: Friday 1 to Sunday 3 January,
# with no make-up day.
NOTICE_2027 = notice_2027_fields()


def instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@pytest.mark.parametrize(
    ("received", "first_reply_due", "resolution_due"),
    [
        pytest.param(
            local(2026, 11, 23, 10, 0), due(2026, 11, 25), due(2026, 12, 14), id="Monday morning"
        ),
        pytest.param(
            local(2026, 11, 23, 0, 30),
            due(2026, 11, 25),
            due(2026, 12, 14),
            id="Monday 00:30 local, still Sunday in UTC",
        ),
        pytest.param(
            local(2026, 11, 27, 20, 0), due(2026, 12, 1), due(2026, 12, 18), id="Friday evening"
        ),
        pytest.param(
            local(2026, 11, 27, 23, 59, 59),
            due(2026, 12, 1),
            due(2026, 12, 18),
            id="Friday one second before midnight",
        ),
        pytest.param(
            local(2026, 11, 28, 11, 0), due(2026, 12, 1), due(2026, 12, 18), id="Saturday"
        ),
        pytest.param(local(2026, 11, 29, 18, 0), due(2026, 12, 1), due(2026, 12, 18), id="Sunday"),
        # Wednesday 30 Sep counts 1, 1–7 Oct are holidays, Thursday 8 Oct counts 2; the
        # make-up Saturday 10 October counts among the 15.
        pytest.param(
            local(2026, 9, 29, 16, 0),
            due(2026, 10, 8),
            due(2026, 10, 26),
            id="Tuesday before National Day",
        ),
        pytest.param(
            local(2026, 9, 30, 9, 0),
            due(2026, 10, 9),
            due(2026, 10, 27),
            id="last working day before National Day",
        ),
        pytest.param(
            local(2026, 10, 3, 9, 0), due(2026, 10, 9), due(2026, 10, 27), id="during National Day"
        ),
        pytest.param(
            local(2026, 10, 9, 9, 0),
            due(2026, 10, 12),
            due(2026, 10, 29),
            id="Friday before the make-up Saturday",
        ),
        # The make-up Sunday 20 September is the first working day after Saturday the 19th.
        pytest.param(
            local(2026, 9, 19, 9, 0),
            due(2026, 9, 21),
            due(2026, 10, 15),
            id="Saturday before the make-up Sunday",
        ),
        pytest.param(
            local(2026, 9, 24, 9, 0),
            due(2026, 9, 29),
            due(2026, 10, 22),
            id="Thursday before Mid-Autumn",
        ),
    ],
)
def test_due_dates_on_real_dates(
    client, directory: Directory, clock, received, first_reply_due, resolution_due
):
    receipt = submit_report(client, at=received)

    assert instant(receipt["received_at"]) == received
    assert instant(receipt["first_reply_due_at"]) == first_reply_due
    assert instant(receipt["resolution_due_at"]) == resolution_due
    assert receipt["deadlines_provisional"] is False


def test_deadline_instant_is_end_of_the_local_day_with_its_offset(
    client, directory: Directory, clock
):
    receipt = submit_report(client, at=local(2026, 11, 23, 10, 0))

    assert receipt["received_at"] == "2026-11-23T10:00:00.000+08:00"
    assert receipt["first_reply_due_at"] == "2026-11-25T23:59:59.999+08:00"
    assert receipt["first_reply_due_date"] == "2026-11-25"


def test_past_the_official_calendar_deadlines_are_provisional_until_the_year_is_loaded(
    client, directory: Directory, engine, clock
):
    # Thursday 17 December 2026: the 15th working day lies in January 2027, with no official
    # data yet, so Friday 1 January counts as a working day (weekend rule).
    receipt = submit_report(client, at=local(2026, 12, 17, 10, 0))
    code = receipt["tracking_code"]
    assert instant(receipt["first_reply_due_at"]) == due(2026, 12, 21)
    assert instant(receipt["resolution_due_at"]) == due(2027, 1, 7)
    assert receipt["deadlines_provisional"] is True
    public = client.get(f"/api/v1/reports/{code}").json()
    assert public["deadlines_provisional"] is True
    # A report whose due dates all lie in 2026 is not touched by the 2027 notice.
    untouched = submit_report(client, at=local(2026, 12, 1, 10, 0))
    clock.set(local(2026, 12, 18, 9, 0))

    response = client.put(
        "/api/v1/calendar/2027", json=NOTICE_2027, headers=directory.auth("admin")
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "year": 2027,
        "holidays": 17,
        "makeup_workdays": 3,
        "reports_moved": 1,
    }
    report = stored(engine, code)
    assert report.first_reply_due_at == due(2026, 12, 21)
    assert report.resolution_due_at == due(2027, 1, 8)
    assert report.deadlines_provisional is False
    with Session(engine) as session:
        events = session.exec(
            select(ReportEvent).where(ReportEvent.report_id == report.id).order_by(ReportEvent.id)
        ).all()
    assert [e.kind for e in events] == ["submitted", "deadlines_recomputed"]
    assert events[-1].actor == "system"
    assert events[-1].at == local(2026, 12, 18, 9, 0)
    assert events[-1].data["provisional"] == [True, False]
    assert [instant(v) for v in events[-1].data["resolution_due_at"]] == [
        due(2027, 1, 7),
        due(2027, 1, 8),
    ]
    other = stored(engine, untouched["tracking_code"])
    assert other.resolution_due_at == due(2026, 12, 22)
    assert client.get(f"/api/v1/reports/{code}").json()["deadlines_provisional"] is False


def test_loading_a_year_moves_each_clock_by_its_own_paused_days(
    client, directory: Directory, engine, clock
):
    # Received Friday 18 December 2026: first reply due Tuesday 22 December. Asked on Wednesday
    # 23 (late), answered Friday 25: 2 working days paused, which move the resolution only,
    # from Friday 8 to Tuesday 12 January 2027 on the weekend rule.
    code = submit_report(client, at=local(2026, 12, 18, 10, 0))["tracking_code"]
    report_id = stored(engine, code).id
    clock.set(local(2026, 12, 23, 10, 0))
    act(client, directory, report_id, "request-info", {"text": "请补充说明。"})
    clock.set(local(2026, 12, 25, 10, 0))
    client.post(f"/api/v1/reports/{code}/supplement", json={"text": "补充如下。"})
    before = stored(engine, code)
    assert (before.paused_workdays, before.first_reply_paused_workdays) == (2, 0)
    assert before.resolution_due_at == due(2027, 1, 12)

    response = client.put(
        "/api/v1/calendar/2027", json=NOTICE_2027, headers=directory.auth("admin")
    )

    assert response.json()["reports_moved"] == 1
    after = stored(engine, code)
    # 元旦 Friday 1 January is a holiday: 17 working days after 18 December is Wednesday 13.
    assert after.resolution_due_at == due(2027, 1, 13)
    assert after.first_reply_due_at == due(2026, 12, 22)
    assert after.deadlines_provisional is False


def test_loading_a_year_leaves_closed_reports_alone(client, directory: Directory, engine, clock):
    code = submit_report(client, at=local(2026, 12, 17, 10, 0))["tracking_code"]
    report = stored(engine, code)
    act(client, directory, report.id, "resolve", {"verdict": "confirmed", "text": "已更正。"})

    response = client.put(
        "/api/v1/calendar/2027", json=NOTICE_2027, headers=directory.auth("admin")
    )

    assert response.json()["reports_moved"] == 0
    after = stored(engine, code)
    assert after.resolution_due_at == due(2027, 1, 7)
    assert after.deadlines_provisional is True


def test_pause_across_national_day_moves_the_due_dates(client, directory: Directory, engine, clock):
    # Received Monday 28 September: due Wednesday 30 September and Friday 23 October.
    receipt = submit_report(client, at=local(2026, 9, 28, 10, 0))
    assert instant(receipt["first_reply_due_at"]) == due(2026, 9, 30)
    assert instant(receipt["resolution_due_at"]) == due(2026, 10, 23)
    report = stored(engine, receipt["tracking_code"])
    clock.set(local(2026, 9, 29, 15, 0))
    act(client, directory, report.id, "request-info", {"text": "请提供页面截图。"})
    # The citizen answers on Friday 9 October: 30 September, 8 and 9 October were paused.
    clock.set(local(2026, 10, 9, 20, 0))

    response = client.post(
        f"/api/v1/reports/{receipt['tracking_code']}/supplement", json={"text": "截图已上传。"}
    )

    assert response.status_code == 200, response.text
    view = response.json()
    assert view["status"] == "assigned"
    # Five working days after 28 September is the make-up Saturday 10 October.
    assert instant(view["first_reply_due_at"]) == due(2026, 10, 10)
    assert instant(view["resolution_due_at"]) == due(2026, 10, 28)
    after = stored(engine, receipt["tracking_code"])
    assert after.paused_workdays == after.first_reply_paused_workdays == 3
    assert after.paused_at is None


def test_two_pauses_add_up(client, directory: Directory, engine, clock):
    receipt = submit_report(client, at=local(2026, 11, 23, 10, 0))
    code = receipt["tracking_code"]
    report_id = stored(engine, code).id
    for asked, answered in [
        (local(2026, 11, 23, 11, 0), local(2026, 11, 24, 9, 0)),  # 1 working day
        (local(2026, 11, 25, 9, 0), local(2026, 11, 30, 9, 0)),  # Thursday, Friday, Monday: 3
    ]:
        clock.set(asked)
        act(client, directory, report_id, "request-info", {"text": "请补充说明。"})
        clock.set(answered)
        assert (
            client.post(
                f"/api/v1/reports/{code}/supplement", json={"text": "补充如下。"}
            ).status_code
            == 200
        )

    report = stored(engine, code)
    assert report.paused_workdays == 4
    assert report.first_reply_due_at == due(2026, 12, 1)
    assert report.resolution_due_at == due(2026, 12, 18)


def test_pause_and_answer_on_the_same_day_moves_nothing(client, directory, engine, clock):
    receipt = submit_report(client, at=local(2026, 11, 23, 10, 0))
    report_id = stored(engine, receipt["tracking_code"]).id
    act(client, directory, report_id, "request-info", {"text": "请补充说明。"})
    clock.set(local(2026, 11, 23, 17, 0))

    view = client.post(
        f"/api/v1/reports/{receipt['tracking_code']}/supplement", json={"text": "补充如下。"}
    ).json()

    assert instant(view["first_reply_due_at"]) == due(2026, 11, 25)
    assert instant(view["resolution_due_at"]) == due(2026, 12, 14)


def test_transfer_restarts_both_clocks_and_drops_the_pause(
    client, directory: Directory, engine, clock
):
    receipt = submit_report(client, at=local(2026, 9, 28, 10, 0))
    code = receipt["tracking_code"]
    report_id = stored(engine, code).id
    act(client, directory, report_id, "request-info", {"text": "请提供截图。"})
    clock.set(local(2026, 9, 30, 9, 0))
    client.post(f"/api/v1/reports/{code}/supplement", json={"text": "截图已上传。"})
    assert stored(engine, code).paused_workdays == 2
    # Transferred on the last working day before the holiday, to department B1.
    clock.set(local(2026, 9, 30, 17, 0))

    detail = act(client, directory, report_id, "transfer", {"to_unit_id": directory.dept_b1})

    assert detail["paused_workdays"] == 0
    assert instant(detail["assigned_at"]) == local(2026, 9, 30, 17, 0)
    assert instant(detail["first_reply_due_at"]) == due(2026, 10, 9)
    assert instant(detail["resolution_due_at"]) == due(2026, 10, 27)


@pytest.mark.parametrize(
    ("received", "closed", "workdays"),
    [
        pytest.param(local(2026, 11, 23, 9, 0), local(2026, 11, 23, 18, 0), 0, id="same day"),
        pytest.param(local(2026, 11, 23, 9, 0), local(2026, 11, 24, 8, 0), 1, id="next morning"),
        pytest.param(local(2026, 11, 27, 17, 0), local(2026, 11, 30, 9, 0), 1, id="over a weekend"),
        pytest.param(local(2026, 11, 28, 10, 0), local(2026, 11, 28, 11, 0), 0, id="on a Saturday"),
        pytest.param(
            local(2026, 9, 29, 10, 0), local(2026, 10, 9, 10, 0), 3, id="across National Day"
        ),
        pytest.param(
            local(2026, 9, 30, 10, 0),
            local(2026, 10, 10, 10, 0),
            3,
            id="closed on the make-up Saturday",
        ),
        pytest.param(
            local(2026, 9, 18, 10, 0),
            local(2026, 9, 28, 10, 0),
            6,
            id="across the make-up Sunday and Mid-Autumn",
        ),
    ],
)
def test_handling_workdays_on_resolution(
    client, directory: Directory, engine, clock, received, closed, workdays
):
    receipt = submit_report(client, at=received)
    report_id = stored(engine, receipt["tracking_code"]).id
    clock.set(closed)

    detail = act(
        client,
        directory,
        report_id,
        "resolve",
        {"verdict": "not_confirmed", "text": "信息无误。"},
    )

    assert detail["handling_workdays"] == workdays


def test_handling_workdays_count_from_the_transfer(client, directory: Directory, engine, clock):
    receipt = submit_report(client, at=local(2026, 11, 23, 10, 0))
    report_id = stored(engine, receipt["tracking_code"]).id
    clock.set(local(2026, 11, 25, 10, 0))
    act(client, directory, report_id, "transfer", {"to_unit_id": directory.dept_b1})
    clock.set(local(2026, 11, 27, 10, 0))

    detail = act(
        client,
        directory,
        report_id,
        "resolve",
        {"verdict": "confirmed", "text": "已更正。"},
        who="handler_b1",
    )

    assert detail["handling_workdays"] == 2


# --- inbox filters ----------------------------------------------------------------------


@pytest.fixture
def three_reports(client, directory: Directory, engine, clock) -> dict[str, int]:
    """Received Thursday 19, Friday 20 and Monday 23 November; the Friday one was replied to."""
    ids = {}
    for name, at in [
        ("thursday", local(2026, 11, 19, 10, 0)),
        ("friday", local(2026, 11, 20, 10, 0)),
        ("monday", local(2026, 11, 23, 10, 0)),
    ]:
        ids[name] = stored(engine, submit_report(client, at=at)["tracking_code"]).id
    clock.set(local(2026, 11, 23, 11, 0))
    act(client, directory, ids["friday"], "reply", {"text": "已收到。"})
    return ids


def inbox(client, directory: Directory, ids: dict[str, int], **params) -> list[str]:
    page = client.get(
        "/api/v1/unit/reports", params=params, headers=directory.auth("handler_a1")
    ).json()
    names = {report_id: name for name, report_id in ids.items()}
    return sorted(names[item["id"]] for item in page["items"])


@pytest.mark.parametrize(
    ("now", "overdue"),
    [
        # Thursday's first reply is due at the end of Monday 23 November.
        pytest.param(local(2026, 11, 23, 23, 59), [], id="Monday night"),
        pytest.param(local(2026, 11, 24, 0, 1), ["thursday"], id="Tuesday just after midnight"),
        pytest.param(local(2026, 11, 26, 9, 0), ["monday", "thursday"], id="Thursday"),
        # Friday's report was replied to; its resolution is due Friday 11 December.
        pytest.param(local(2026, 12, 11, 23, 0), ["monday", "thursday"], id="11 December"),
        pytest.param(local(2026, 12, 12, 9, 0), ["friday", "monday", "thursday"], id="12 December"),
    ],
)
def test_overdue_filter(client, directory: Directory, clock, three_reports, now, overdue):
    clock.set(now)

    assert inbox(client, directory, three_reports, overdue="true") == overdue
    not_overdue = sorted(set(three_reports) - set(overdue))
    assert inbox(client, directory, three_reports, overdue="false") == not_overdue


def test_a_paused_report_is_not_overdue(client, directory: Directory, clock, three_reports):
    clock.set(local(2026, 11, 23, 15, 0))
    act(client, directory, three_reports["thursday"], "request-info", {"text": "请补充。"})
    clock.set(local(2026, 11, 26, 9, 0))

    assert inbox(client, directory, three_reports, overdue="true") == ["monday"]


@pytest.mark.parametrize(
    ("now", "workdays", "coming_due"),
    [
        # On Monday: Thursday's report is due today, Monday's on Wednesday.
        pytest.param(local(2026, 11, 23, 12, 0), 0, ["thursday"], id="today"),
        pytest.param(local(2026, 11, 23, 12, 0), 1, ["thursday"], id="within 1"),
        pytest.param(local(2026, 11, 23, 12, 0), 2, ["monday", "thursday"], id="within 2"),
        # On Tuesday Thursday's report is overdue, so no longer coming due.
        pytest.param(local(2026, 11, 24, 9, 0), 1, ["monday"], id="Tuesday within 1"),
        # Friday's next deadline is its resolution, Friday 11 December: 14 working days on.
        pytest.param(local(2026, 11, 23, 12, 0), 13, ["monday", "thursday"], id="within 13"),
        pytest.param(
            local(2026, 11, 23, 12, 0), 14, ["friday", "monday", "thursday"], id="within 14"
        ),
    ],
)
def test_due_within_workdays_filter(
    client, directory: Directory, clock, three_reports, now, workdays, coming_due
):
    clock.set(now)

    assert inbox(client, directory, three_reports, due_within_workdays=workdays) == coming_due


def test_due_within_counts_working_days_across_a_holiday(client, directory, engine, clock):
    ids = {
        "before": stored(
            engine, submit_report(client, at=local(2026, 9, 29, 10, 0))["tracking_code"]
        ).id
    }
    clock.set(local(2026, 9, 30, 10, 0))

    # From Wednesday 30 September, the next working day is Thursday 8 October: due then.
    assert inbox(client, directory, ids, due_within_workdays=0) == []
    assert inbox(client, directory, ids, due_within_workdays=1) == ["before"]


def test_due_within_workdays_rejects_nonsense(client, directory: Directory):
    response = client.get(
        "/api/v1/unit/reports",
        params={"due_within_workdays": -1},
        headers=directory.auth("handler_a1"),
    )

    assert response.status_code == 422


def test_filtering_on_the_receipt_date_shown_finds_the_report(client, directory: Directory, clock):
    # 00:30 on Tuesday 24 November in Beijing is still Monday 23 November in UTC.
    receipt = submit_report(client, at=local(2026, 11, 24, 0, 30))
    handler = directory.auth("handler_a1")

    listed = client.get("/api/v1/unit/reports", headers=handler).json()["items"]
    [line] = [r for r in listed if r["tracking_code"] == receipt["tracking_code"]]
    assert line["received_at"] == "2026-11-24T00:30:00.000+08:00"
    assert line["received_date"] == "2026-11-24"
    assert line["first_reply_due_date"] == "2026-11-26"

    shown = line["received_date"]
    found = client.get(
        "/api/v1/unit/reports",
        params={"received_from": shown, "received_to": shown},
        headers=handler,
    ).json()
    assert [r["tracking_code"] for r in found["items"]] == [receipt["tracking_code"]]
    day_before = client.get(
        "/api/v1/unit/reports",
        params={"received_from": "2026-11-23", "received_to": "2026-11-23"},
        headers=handler,
    ).json()
    assert day_before["items"] == []


def test_a_load_whose_recompute_never_ran_is_finished_by_the_scheduler(
    client, directory: Directory, engine, clock, settings
):
    # The load commits, then the process dies before its recompute (as if killed there).
    code = submit_report(client, at=local(2026, 12, 17, 10, 0))["tracking_code"]
    clock.set(local(2026, 12, 18, 9, 0))
    with session_scope(engine) as session:
        load_year(
            session=session,
            year=2027,
            notice=notice_2027(),
            now=clock.now(),
            actor="test",
            settings=settings,
        )
    assert stored(engine, code).resolution_due_at == due(2027, 1, 7)
    with Session(engine) as session:
        assert pending_versions(session=session) == [
            (2027, session.get(CalendarYear, 2027).version)
        ]

    # The scheduler's next sweep finds the pending year first, and moves the report.
    assert finish_calendar_recompute(engine=engine, clock=clock, settings=settings) == 1

    report = stored(engine, code)
    assert (report.resolution_due_at, report.deadlines_provisional) == (due(2027, 1, 8), False)
    with Session(engine) as session:
        assert pending_versions(session=session) == []
        kinds = session.exec(
            select(ReportEvent.kind)
            .where(ReportEvent.report_id == report.id)
            .order_by(ReportEvent.id)
        ).all()
    assert kinds == ["submitted", "deadlines_recomputed"]
    # Nothing pending any more: the next sweeps do not scan the open reports again.
    assert finish_calendar_recompute(engine=engine, clock=clock, settings=settings) is None


def test_a_year_loaded_again_during_a_recompute_stays_pending(engine, settings):
    # The recompute records only the versions it read: a load committed after it began
    # keeps its own version pending, for its own recompute (or the scheduler) to apply.
    with session_scope(engine) as session:
        load_year(
            session=session,
            year=2027,
            notice=notice_2027(),
            now=local(2026, 12, 18, 9, 0),
            actor="test",
            settings=settings,
        )
    with Session(engine) as session:
        read = pending_versions(session=session)
    with session_scope(engine) as session:
        load_year(
            session=session,
            year=2027,
            notice=notice_2027(),
            now=local(2026, 12, 18, 9, 5),
            actor="test",
            settings=settings,
        )
    with session_scope(engine) as session:
        mark_recomputed(session=session, versions=read)
    with Session(engine) as session:
        latest = session.get(CalendarYear, 2027).version
        assert read != [(2027, latest)]
        assert pending_versions(session=session) == [(2027, latest)]


def test_the_scheduler_leaves_a_recompute_running_elsewhere_alone(engine, settings):
    if engine.dialect.name != "postgresql":
        pytest.skip("one writer at a time on SQLite: there is no recompute running elsewhere")
    with session_scope(engine) as session:
        load_year(
            session=session,
            year=2027,
            notice=notice_2027(),
            now=local(2026, 12, 18, 9, 0),
            actor="test",
            settings=settings,
        )
    key = {"key": deadlines.RECOMPUTE_LOCK_KEY}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as elsewhere:
        elsewhere.execute(text("SELECT pg_advisory_lock(:key)"), key)
        # Another process is moving the reports: the scheduler's try finds it busy.
        assert (
            deadlines.recompute_open_deadlines(
                engine=engine, now=local(2026, 12, 18, 9, 1), settings=settings
            )
            is None
        )
        with Session(engine) as session:
            assert [year for year, _ in pending_versions(session=session)] == [2027]
        elsewhere.execute(text("SELECT pg_advisory_unlock(:key)"), key)
    assert (
        deadlines.recompute_open_deadlines(
            engine=engine, now=local(2026, 12, 18, 9, 2), settings=settings
        )
        == 0
    )
    with Session(engine) as session:
        assert pending_versions(session=session) == []
