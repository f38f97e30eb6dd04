"""The pause-expiry job: clocks resume by themselves, an event says so, the unit is told."""

import threading
from datetime import timedelta

from sqlmodel import select

from app.reports.models import ReportEvent
from app.scheduler import CITIZEN_DELIVERY_JOB_ID, PAUSE_EXPIRY_JOB_ID, ScheduledJobs
from app.sla.models import Notification, NotificationKind
from app.sla.pauses import expire_pauses
from tests.conftest import fetch, local, submit_report
from tests.reports.helpers import act, due, stored
from tests.sla.helpers import CALENDAR


def expire(engine, settings, at):
    return expire_pauses(engine=engine, now=at, settings=settings, calendar=CALENDAR)


def events(engine, report_id):
    query = select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id)
    return fetch(engine, query)


def expired_notifications(engine):
    return fetch(
        engine, select(Notification).where(Notification.kind == NotificationKind.pause_expired)
    )


def asked_before_national_day(client, directory, engine, clock):
    """Received Monday 28 September 2026, asked on Tuesday 29 September at 15:00."""
    code = submit_report(client, at=local(2026, 9, 28, 10, 0))["tracking_code"]
    report_id = stored(engine, code).id
    clock.set(local(2026, 9, 29, 15, 0))
    act(client, directory, report_id, "request-info", {"text": "请提供页面截图。"})
    return code, report_id


def test_a_pause_across_national_day_ends_after_its_fifth_working_day(
    client, directory, engine, clock, settings
):
    code, report_id = asked_before_national_day(client, directory, engine, clock)
    # Working days after 29 September: 30 Sep (1), the holiday 1–7 Oct, 8 Oct (2), 9 Oct (3),
    # make-up Saturday 10 Oct (4), Monday 12 Oct (5). The pause runs out at the end of 12 Oct.
    assert expire(engine, settings, local(2026, 10, 12, 23, 59, 59)).expired == 0
    assert stored(engine, code).status == "awaiting_citizen"

    result = expire(engine, settings, local(2026, 10, 13, 0, 0, 30))

    assert (result.expired, result.notifications) == (1, 1)
    report = stored(engine, code)
    assert (report.status, report.paused_at, report.paused_workdays) == ("assigned", None, 5)
    # As a supplement would: 2 + 5 working days after 28 Sep is Tuesday 13 October
    # (29, 30 Sep, 8, 9, 10, 12, 13 Oct); 15 + 5 = 20 is Friday 30 October.
    assert report.first_reply_due_at == due(2026, 10, 13)
    assert report.resolution_due_at == due(2026, 10, 30)
    # The escalation ladder runs again: the next rung is the reminder on Monday 12 October's
    # end, already past, so the sweep sends it at once.
    assert report.next_rung == "reminder"
    last = events(engine, report_id)[-1]
    assert (last.kind, last.actor, last.at) == (
        "pause_expired",
        "system",
        local(2026, 10, 13, 0, 0, 30),
    )
    assert last.data == {
        "paused_at": local(2026, 9, 29, 15, 0).astimezone(last.at.tzinfo).isoformat(),
        "paused_workdays": 5,
        "clock": 1,
    }
    [notice] = expired_notifications(engine)
    assert (notice.unit_id, notice.report_id) == (directory.dept_a1, report_id)
    # Queued at night, pushed when working hours open.
    assert notice.not_before == local(2026, 10, 13, 9, 0)
    assert notice.payload["text"] == (
        f"【补充期满】甲市教育局：留言 #{report_id}（甲市教育局网站）请网民补充信息已满 5 个"
        "工作日未获补充，已恢复计时，首次答复期限 2026-10-13，办结期限 2026-10-30。"
        "信息确实不足的，可以“信息不足”为由不予受理。"
    )
    assert notice.payload["pause"]["paused_workdays"] == 5
    # The citizen sees it on the tracking view.
    view = client.get(f"/api/v1/reports/{code}").json()
    assert [e["kind"] for e in view["events"]][-1] == "pause_expired"

    # Done once: the next run finds nothing, and the citizen can no longer supplement.
    assert expire(engine, settings, local(2026, 10, 13, 0, 1, 30)).expired == 0
    late = client.post(f"/api/v1/reports/{code}/supplement", json={"text": "截图。"})
    assert (late.status_code, late.json()["code"]) == (409, "report_not_awaiting_citizen")
    clock.set(local(2026, 10, 13, 10, 0))
    declined = act(
        client,
        directory,
        report_id,
        "decline",
        {"reason": "insufficient_info", "text": "经联系未获补充信息，无法核实。"},
    )
    assert (declined["status"], declined["decline_reason"]) == ("declined", "insufficient_info")
    assert len(expired_notifications(engine)) == 1


def test_a_replied_report_goes_back_to_replied_and_the_unit_reads_only_the_resolution_date(
    client, directory, engine, clock, settings
):
    # Received Monday 23 November, replied at once, asked on Tuesday 24.
    code = submit_report(client, at=local(2026, 11, 23, 10, 0))["tracking_code"]
    report_id = stored(engine, code).id
    act(client, directory, report_id, "reply", {"text": "已收到。"})
    clock.set(local(2026, 11, 24, 10, 0))
    act(client, directory, report_id, "request-info", {"text": "是哪一页？"})
    # 25, 26, 27, 30 Nov, 1 Dec: runs out at the end of Tuesday 1 December.
    assert expire(engine, settings, local(2026, 12, 1, 23, 0)).expired == 0

    assert expire(engine, settings, local(2026, 12, 2, 8, 0)).expired == 1

    report = stored(engine, code)
    assert (report.status, report.paused_workdays) == ("replied", 5)
    # 15 + 5 = 20 working days after 23 November: Monday 21 December.
    assert report.resolution_due_at == due(2026, 12, 21)
    [notice] = expired_notifications(engine)
    assert notice.payload["text"].endswith(
        "已恢复计时，办结期限 2026-12-21。信息确实不足的，可以“信息不足”为由不予受理。"
    )


def test_two_schedulers_end_a_pause_once(client, directory, engine, clock, settings):
    code, report_id = asked_before_national_day(client, directory, engine, clock)
    at = local(2026, 10, 13, 0, 0, 30)
    results = []
    runs = [
        threading.Thread(target=lambda: results.append(expire(engine, settings, at)))
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()

    assert sorted(result.expired for result in results) == [0, 1]
    assert [e.kind for e in events(engine, report_id)].count("pause_expired") == 1
    assert len(expired_notifications(engine)) == 1
    assert stored(engine, code).paused_workdays == 5


def test_a_supplement_in_time_leaves_nothing_to_expire(client, directory, engine, clock, settings):
    code, _ = asked_before_national_day(client, directory, engine, clock)
    clock.set(local(2026, 10, 12, 20, 0))
    client.post(f"/api/v1/reports/{code}/supplement", json={"text": "截图已上传。"})

    assert expire(engine, settings, local(2026, 10, 13, 0, 0, 30)).expired == 0
    assert stored(engine, code).paused_workdays == 5


def test_the_jobs_are_scheduled(engine, settings):
    scheduled = ScheduledJobs(engine=engine, settings=settings)

    pause_job = scheduled.scheduler.get_job(PAUSE_EXPIRY_JOB_ID)
    citizen_job = scheduled.scheduler.get_job(CITIZEN_DELIVERY_JOB_ID)
    assert pause_job.trigger.interval == timedelta(seconds=60)
    assert citizen_job.trigger.interval == timedelta(seconds=30)
