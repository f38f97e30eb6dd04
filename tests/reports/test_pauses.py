"""Bounded pauses: at most two questions per clock; a pause counts at most five working days;
pausing never clears lateness. Dates are real 2026 calendar days, counted by hand."""

import pytest

from app.reports.pauses import expiry_cutoff
from tests.conftest import local, submit_report
from tests.reports.helpers import act, due, stored
from tests.sla.helpers import CALENDAR

LIMIT_SENTENCE = (
    "本轮办理已请网民补充信息 2 次，达到上限 2 次，不能再次提问：请根据现有信息答复或办结，"
    "信息确实不足的可以“信息不足”为由不予受理"
)


def ask(client, directory, report_id, who="handler_a1"):
    return client.post(
        f"/api/v1/unit/reports/{report_id}/request-info",
        json={"text": "请补充说明是哪一页。"},
        headers=directory.auth(who),
    )


def supplement(client, code):
    response = client.post(f"/api/v1/reports/{code}/supplement", json={"text": "是首页。"})
    assert response.status_code == 200, response.text


def test_a_third_question_on_a_clock_is_refused_and_a_transfer_starts_a_new_clock(
    client, directory, engine, clock
):
    code = submit_report(client, at=local(2026, 11, 23, 10, 0))["tracking_code"]
    report_id = stored(engine, code).id
    for asked, answered in [
        (local(2026, 11, 23, 11, 0), local(2026, 11, 24, 9, 0)),
        (local(2026, 11, 24, 10, 0), local(2026, 11, 24, 11, 0)),
    ]:
        clock.set(asked)
        assert ask(client, directory, report_id).status_code == 200
        clock.set(answered)
        supplement(client, code)
    clock.set(local(2026, 11, 24, 12, 0))

    refused = ask(client, directory, report_id)

    assert refused.status_code == 409
    assert refused.json() == {"detail": LIMIT_SENTENCE, "code": "info_request_limit_reached"}
    english = client.post(
        f"/api/v1/unit/reports/{report_id}/request-info",
        json={"text": "请补充。"},
        headers={**directory.auth("handler_a1"), "Accept-Language": "en"},
    )
    assert english.json()["detail"] == (
        "this clock has had 2 questions, the most allowed (2); answer or resolve the report "
        "with what you have, or decline it as insufficient_info"
    )
    assert stored(engine, code).status == "assigned"
    # Transferred: the receiving unit's clock allows its own two questions.
    act(client, directory, report_id, "transfer", {"to_unit_id": directory.dept_b1})
    assert ask(client, directory, report_id, who="handler_b1").status_code == 200


def test_the_number_of_questions_is_a_setting(client, directory, engine, clock):
    client.app.state.settings = client.app.state.settings.model_copy(
        update={"max_info_requests": 1}
    )
    code = submit_report(client, at=local(2026, 11, 23, 10, 0))["tracking_code"]
    report_id = stored(engine, code).id
    assert ask(client, directory, report_id).status_code == 200
    supplement(client, code)

    refused = ask(client, directory, report_id)

    assert refused.json()["code"] == "info_request_limit_reached"
    assert "达到上限 1 次" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("now", "cutoff"),
    [
        # Tuesday 13 October: the 5th working day before it is Wednesday 30 September
        # (12 Oct, make-up Sat 10 Oct, 9 Oct, 8 Oct, 30 Sep): pauses begun by 29 September ran out.
        (local(2026, 10, 13, 0, 0, 30), local(2026, 9, 30, 0, 0)),
        # Monday 12 October: 10 Oct, 9 Oct, 8 Oct, 30 Sep, 29 Sep.
        (local(2026, 10, 12, 23, 59, 59), local(2026, 9, 29, 0, 0)),
        # Monday 30 November: 27, 26, 25, 24, 23 November.
        (local(2026, 11, 30, 9, 0), local(2026, 11, 23, 0, 0)),
    ],
)
def test_the_expiry_cutoff_counts_working_days_back(settings, now, cutoff):
    assert expiry_cutoff(now=now, calendar=CALENDAR, settings=settings) == cutoff


def test_a_late_supplement_counts_at_most_the_pause_limit(client, directory, engine, clock):
    # Received Monday 28 September, asked Tuesday 29 September; the pause ran out at the end of
    # Monday 12 October (5 working days: 30 Sep, 8, 9, make-up Sat 10, 12 Oct). Answered on
    # Wednesday 14 October before any job ended it: 6 working days, counted as 5.
    code = submit_report(client, at=local(2026, 9, 28, 10, 0))["tracking_code"]
    report_id = stored(engine, code).id
    clock.set(local(2026, 9, 29, 15, 0))
    assert ask(client, directory, report_id).status_code == 200
    clock.set(local(2026, 10, 14, 10, 0))

    supplement(client, code)

    report = stored(engine, code)
    assert report.paused_workdays == 5
    # 2 + 5 working days after 28 Sep: 29, 30 Sep, 8, 9, 10, 12, 13 Oct.
    assert report.first_reply_due_at == due(2026, 10, 13)
    # 15 + 5 = 20 working days after 28 Sep: Friday 30 October.
    assert report.resolution_due_at == due(2026, 10, 30)


def test_pausing_never_clears_a_reply_already_late(client, directory, engine, clock):
    # Received Monday 23 November: first reply due Wednesday 25 November. Nobody answered; the
    # question comes on Thursday 26, the answer on Friday 27 (1 working day paused), the reply
    # on Friday 27. The pause began with the reply already late: it moves the resolution due
    # (Monday 14 to Tuesday 15 December), not the first reply's.
    code = submit_report(client, at=local(2026, 11, 23, 10, 0))["tracking_code"]
    report_id = stored(engine, code).id
    clock.set(local(2026, 11, 26, 10, 0))
    assert ask(client, directory, report_id).status_code == 200
    clock.set(local(2026, 11, 27, 10, 0))
    supplement(client, code)
    clock.set(local(2026, 11, 27, 11, 0))
    act(client, directory, report_id, "reply", {"text": "已核实，正在更正。"})

    report = stored(engine, code)
    assert (report.paused_workdays, report.first_reply_paused_workdays) == (1, 0)
    assert report.first_reply_due_at == due(2026, 11, 25)
    assert report.resolution_due_at == due(2026, 12, 15)
    # Statistics count a first reply as late when it came after its due instant.
    assert report.first_responded_at == local(2026, 11, 27, 11, 0)
    assert report.first_responded_at > report.first_reply_due_at


def test_a_pause_begun_on_a_weekend_after_the_due_date_keeps_the_reply_late(
    client, directory, engine, clock
):
    # Received Wednesday 25 November: first reply due Friday 27. Asked on Saturday 28 (late),
    # answered Monday 30 (1 working day paused), replied Monday 30: still late. The resolution
    # due moves from Wednesday 16 to Thursday 17 December.
    code = submit_report(client, at=local(2026, 11, 25, 10, 0))["tracking_code"]
    report_id = stored(engine, code).id
    clock.set(local(2026, 11, 28, 10, 0))
    assert ask(client, directory, report_id).status_code == 200
    clock.set(local(2026, 11, 30, 9, 0))
    supplement(client, code)
    clock.set(local(2026, 11, 30, 10, 0))
    act(client, directory, report_id, "reply", {"text": "已核实。"})

    report = stored(engine, code)
    assert report.first_reply_due_at == due(2026, 11, 27)
    assert report.resolution_due_at == due(2026, 12, 17)
    assert report.first_responded_at > report.first_reply_due_at


def test_a_pause_begun_on_national_day_after_the_due_date_keeps_the_reply_late(
    client, directory, engine, clock
):
    # Received Monday 28 September: first reply due Wednesday 30 September. Asked on Thursday
    # 1 October, a holiday (late); answered Thursday 8 October, the first working day after the
    # holiday (1 working day paused); replied the same morning: still late. The resolution: 16
    # working days after 28 September (29, 30 Sep, 8, 9, make-up Sat 10, 12–16, 19–23, 26 Oct).
    code = submit_report(client, at=local(2026, 9, 28, 10, 0))["tracking_code"]
    report_id = stored(engine, code).id
    clock.set(local(2026, 10, 1, 10, 0))
    assert ask(client, directory, report_id).status_code == 200
    clock.set(local(2026, 10, 8, 9, 0))
    supplement(client, code)
    clock.set(local(2026, 10, 8, 10, 0))
    act(client, directory, report_id, "reply", {"text": "已核实。"})

    report = stored(engine, code)
    assert (report.paused_workdays, report.first_reply_paused_workdays) == (1, 0)
    assert report.first_reply_due_at == due(2026, 9, 30)
    assert report.resolution_due_at == due(2026, 10, 26)
    assert report.first_responded_at > report.first_reply_due_at


def test_a_pause_begun_on_the_due_day_moves_the_first_reply_due(client, directory, engine, clock):
    # Received Monday 28 September: first reply due Wednesday 30 September at 23:59:59.999.
    # Asked on the due day at 16:00, still in time; answered Friday 9 October (8 and 9 October
    # paused): the first reply is due 4 working days after 28 September (29, 30 Sep, 8, 9 Oct),
    # the resolution 17 (Tuesday 27 October). Replied on the 9th: in time.
    code = submit_report(client, at=local(2026, 9, 28, 10, 0))["tracking_code"]
    report_id = stored(engine, code).id
    clock.set(local(2026, 9, 30, 16, 0))
    assert ask(client, directory, report_id).status_code == 200
    clock.set(local(2026, 10, 9, 10, 0))
    supplement(client, code)
    clock.set(local(2026, 10, 9, 11, 0))
    act(client, directory, report_id, "reply", {"text": "已核实。"})

    report = stored(engine, code)
    assert (report.paused_workdays, report.first_reply_paused_workdays) == (2, 2)
    assert report.first_reply_due_at == due(2026, 10, 9)
    assert report.resolution_due_at == due(2026, 10, 27)
    assert report.first_responded_at <= report.first_reply_due_at


def test_a_pause_after_a_late_reply_leaves_it_late(client, directory, engine, clock):
    # Received Monday 23 November: first reply due Wednesday 25. Replied Thursday 26 (late),
    # then asked; answered Monday 30 (27 and 30 November paused). Moving the first-reply due
    # by them would make it Friday 27, and the late reply in time.
    code = submit_report(client, at=local(2026, 11, 23, 10, 0))["tracking_code"]
    report_id = stored(engine, code).id
    clock.set(local(2026, 11, 26, 10, 0))
    act(client, directory, report_id, "reply", {"text": "已收到，正在核实。"})
    clock.set(local(2026, 11, 26, 11, 0))
    assert ask(client, directory, report_id).status_code == 200
    clock.set(local(2026, 11, 30, 9, 0))

    supplement(client, code)

    report = stored(engine, code)
    assert report.status == "replied"
    assert (report.paused_workdays, report.first_reply_paused_workdays) == (2, 0)
    assert report.first_reply_due_at == due(2026, 11, 25)
    # 15 + 2 working days after 23 November: Wednesday 16 December.
    assert report.resolution_due_at == due(2026, 12, 16)
    assert report.first_responded_at > report.first_reply_due_at


def test_closing_during_a_pause_begun_in_time_is_judged_on_the_moved_dates(
    client, directory, engine, clock
):
    # Received Monday 23 November: first reply due Wednesday 25. Asked Tuesday 24; no answer;
    # declined as too little information on Friday 27, during the pause (25, 26, 27 November
    # paused): the first reply is due Monday 30, so the decline came in time.
    code = submit_report(client, at=local(2026, 11, 23, 10, 0))["tracking_code"]
    report_id = stored(engine, code).id
    clock.set(local(2026, 11, 24, 10, 0))
    assert ask(client, directory, report_id).status_code == 200
    clock.set(local(2026, 11, 27, 10, 0))

    act(
        client,
        directory,
        report_id,
        "decline",
        {"reason": "insufficient_info", "text": "信息不足，无法核实。"},
    )

    report = stored(engine, code)
    assert (report.paused_workdays, report.first_reply_paused_workdays) == (3, 3)
    assert report.first_reply_due_at == due(2026, 11, 30)
    assert report.first_responded_at == local(2026, 11, 27, 10, 0)
    assert report.first_responded_at <= report.first_reply_due_at
    # Working days in (23, 27 November] less the 3 paused.
    assert report.handling_workdays == 1
