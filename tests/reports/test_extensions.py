"""Deadline extensions (延期申请) on real calendar days, around National Day 2026.

A report of 甲市教育局 received on Wednesday 9 September 2026 is due for its first reply on
Friday 11 September and for its resolution on Wednesday 30 September (15 working days, with
the make-up working day Sunday 20 September and without the Mid-autumn holiday on Friday 25).
Five working days from 30 September skip the National Day holiday (1–7 October) and count the
make-up working day Saturday 10 October: Thursday 8, Friday 9, Saturday 10, Monday 12,
Tuesday 13 October.
"""

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app.auth import Role, issue_token
from app.directory.models import UnitCreate
from app.directory.service import create_unit
from app.reports.models import Report
from tests.conftest import Directory, local
from tests.reports.helpers import events_of, submit
from tests.reports.helpers import stored as report_of
from tests.workdays.notices import notice_2027_fields

RECEIVED = local(2026, 9, 9, 10, 0)
FIRST_REPLY_DUE = "2026-09-11T23:59:59.999+08:00"
RESOLUTION_DUE = "2026-09-30T23:59:59.999+08:00"
EXTENDED_DUE = "2026-10-13T23:59:59.999+08:00"
REASON = "涉及栏目改版，需协调技术服务商。"
NOTE = "同意延期，请按新期限办结。"


@pytest.fixture
def report(client, directory: Directory, engine: Engine, clock) -> Report:
    clock.set(RECEIVED)
    return report_of(engine, submit(client)["tracking_code"])


def ask(client, directory: Directory, report_id: int, workdays: int = 5, who="handler_a1"):
    return client.post(
        f"/api/v1/unit/reports/{report_id}/extension",
        json={"workdays": workdays, "reason": REASON},
        headers=directory.auth(who),
    )


def decide(client, directory: Directory, extension_id: int, verb: str, who="supervisor_a"):
    return client.post(
        f"/api/v1/unit/extensions/{extension_id}/{verb}",
        json={"note": NOTE},
        headers=directory.auth(who),
    )


def unit_detail(client, directory: Directory, report_id: int) -> dict:
    response = client.get(f"/api/v1/unit/reports/{report_id}", headers=directory.auth("handler_a1"))
    assert response.status_code == 200, response.text
    return response.json()


def reply(client, directory: Directory, report_id: int) -> None:
    response = client.post(
        f"/api/v1/unit/reports/{report_id}/reply",
        json={"text": "已收到，正在核实。"},
        headers=directory.auth("handler_a1"),
    )
    assert response.status_code == 200, response.text


def test_the_report_is_due_on_the_days_the_tests_name(client, directory, report):
    detail = unit_detail(client, directory, report.id)

    assert detail["first_reply_due_at"] == FIRST_REPLY_DUE
    assert detail["resolution_due_at"] == RESOLUTION_DUE


def test_five_working_days_across_national_day_move_only_the_resolution_due(
    client, directory: Directory, engine, clock, report
):
    reply(client, directory, report.id)
    clock.set(local(2026, 9, 28, 10, 0))
    asked = ask(client, directory, report.id)
    assert asked.status_code == 201, asked.text
    request = asked.json()
    assert request | {"id": 0} == {
        "id": 0,
        "report_id": report.id,
        "clock": 1,
        "unit_id": directory.dept_a1,
        "unit_name": "甲市教育局",
        "workdays": 5,
        "reason": REASON,
        "state": "pending",
        "requested_by": f"unit:{directory.dept_a1}:handler",
        "requested_at": "2026-09-28T10:00:00.000+08:00",
        "resolution_due_before": RESOLUTION_DUE,
        "resolution_due_after": None,
        "decided_by": None,
        "decided_by_unit_id": None,
        "decided_at": None,
        "note": None,
        "lapsed": False,
        "can_decide": False,
    }
    # Asking changes nothing yet.
    assert unit_detail(client, directory, report.id)["resolution_due_at"] == RESOLUTION_DUE

    clock.set(local(2026, 9, 29, 15, 0))
    approved = decide(client, directory, request["id"], "approve")

    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"
    assert approved.json()["resolution_due_after"] == EXTENDED_DUE
    assert approved.json()["decided_by"] == f"unit:{directory.city_a}:supervisor"
    assert approved.json()["decided_at"] == "2026-09-29T15:00:00.000+08:00"
    assert approved.json()["note"] == NOTE
    detail = unit_detail(client, directory, report.id)
    assert detail["resolution_due_at"] == EXTENDED_DUE
    assert detail["resolution_due_date"] == "2026-10-13"
    assert detail["first_reply_due_at"] == FIRST_REPLY_DUE
    assert [e["kind"] for e in detail["events"]] == [
        "submitted",
        "replied",
        "extension_requested",
        "extension_approved",
    ]
    assert detail["events"][2]["data"] == {
        "extension_id": request["id"],
        "workdays": 5,
        "reason": REASON,
        "resolution_due_at": "2026-09-30T15:59:59.999000+00:00",
    }
    assert detail["events"][3]["data"] == {
        "extension_id": request["id"],
        "workdays": 5,
        "note": NOTE,
        "resolution_due_at": [
            "2026-09-30T15:59:59.999000+00:00",
            "2026-10-13T15:59:59.999000+00:00",
        ],
    }
    # The ladder's next rung, 督办, moved with the date.
    stored = report_of(engine, report.tracking_code)
    assert stored.next_rung == "supervise"
    assert stored.next_rung_at == local(2026, 10, 13, 23, 59, 59, 999000)
    assert stored.extension_workdays == 5
    assert stored.extended_at == local(2026, 9, 29, 15, 0)
    # The citizen sees the approval and the new date, not the request, the reason or the note.
    public = client.get(f"/api/v1/reports/{report.tracking_code}").json()
    assert public["resolution_due_at"] == EXTENDED_DUE
    assert [e["kind"] for e in public["events"]] == ["submitted", "replied", "extension_approved"]
    assert public["events"][-1] == {
        "kind": "extension_approved",
        "at": "2026-09-29T15:00:00.000+08:00",
        "text": None,
        "data": {"workdays": 5, "resolution_due_at": EXTENDED_DUE},
    }


def test_the_extended_date_survives_a_pause_and_the_supplement(
    client, directory: Directory, engine, clock, report
):
    clock.set(local(2026, 9, 28, 10, 0))
    extension_id = ask(client, directory, report.id).json()["id"]
    decide(client, directory, extension_id, "approve")
    clock.set(local(2026, 10, 9, 10, 0))
    asked = client.post(
        f"/api/v1/unit/reports/{report.id}/request-info",
        json={"text": "请说明具体是哪个栏目。"},
        headers=directory.auth("handler_a1"),
    )
    assert asked.status_code == 200, asked.text
    clock.set(local(2026, 10, 12, 10, 0))

    answered = client.post(
        f"/api/v1/reports/{report.tracking_code}/supplement", json={"text": "是通知公告栏目。"}
    )

    assert answered.status_code == 200, answered.text
    # Paused over Saturday 10 (a make-up working day) and Monday 12 October: two working days
    # more, on top of the five granted: Thursday 15 October.
    detail = unit_detail(client, directory, report.id)
    assert detail["paused_workdays"] == 2
    assert detail["resolution_due_at"] == "2026-10-15T23:59:59.999+08:00"
    # Never by the extension, nor by a pause begun a month after it was due: still Friday
    # 11 September.
    assert detail["first_reply_paused_workdays"] == 0
    assert detail["first_reply_due_at"] == "2026-09-11T23:59:59.999+08:00"


@pytest.fixture
def more_tokens(session: Session, directory: Directory) -> Directory:
    """A sibling of 甲市教育局 under 甲市, and supervisor tokens at the owner, the sibling and the
    province (the owner's grandparent)."""
    sibling = create_unit(
        session=session, unit_in=UnitCreate(name="甲市财政局", parent_id=directory.city_a)
    ).id
    for who, unit_id in (
        ("owner_supervisor", directory.dept_a1),
        ("sibling_supervisor", sibling),
        ("province_supervisor", directory.province),
    ):
        directory.tokens[who] = issue_token(session=session, unit_id=unit_id, role=Role.supervisor)[
            1
        ]
    directory.tokens["parent_handler"] = issue_token(
        session=session, unit_id=directory.city_a, role=Role.handler
    )[1]
    session.commit()
    return directory


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("handler_a1", 403, "extension_decider_required"),  # the owner itself
        ("owner_supervisor", 403, "extension_decider_required"),  # the owner, supervisor role
        ("sibling_supervisor", 404, "extension_not_found"),  # beside the owner: not its request
        ("supervisor_b", 404, "extension_not_found"),  # another tree
        ("handler_b1", 404, "extension_not_found"),
        ("parent_handler", 404, "extension_not_found"),  # above, but a handler token
        ("supervisor_a", 200, None),  # the parent
        ("province_supervisor", 200, None),  # the grandparent
        ("admin", 200, None),
    ],
)
def test_who_may_approve(
    client, more_tokens: Directory, engine, clock, report, who: str, status: int, code
):
    clock.set(local(2026, 9, 28, 10, 0))
    extension_id = ask(client, more_tokens, report.id).json()["id"]

    response = decide(client, more_tokens, extension_id, "approve", who=who)

    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["code"] == code
        assert report_of(engine, report.tracking_code).resolution_due_at == local(
            2026, 9, 30, 23, 59, 59, 999000
        )
        assert [e.kind for e in events_of(engine, report.id)][-1] == "extension_requested"
    else:
        assert report_of(engine, report.tracking_code).resolution_due_at == local(
            2026, 10, 13, 23, 59, 59, 999000
        )


@pytest.mark.parametrize("who", ["supervisor_a", "admin", "handler_b1"])
def test_only_the_owner_asks(client, directory: Directory, engine, clock, report, who):
    clock.set(local(2026, 9, 28, 10, 0))

    response = ask(client, directory, report.id, who=who)

    expected = (404, "report_not_found") if who == "handler_b1" else (403, "owner_unit_required")
    assert (response.status_code, response.json()["code"]) == expected
    assert len(events_of(engine, report.id)) == 1


def test_one_pending_request_at_a_time_and_ten_working_days_per_clock(
    client, directory: Directory, clock, report
):
    clock.set(local(2026, 9, 21, 10, 0))
    assert ask(client, directory, report.id, workdays=11).json()["code"] == (
        "extension_limit_exceeded"
    )
    first = ask(client, directory, report.id, workdays=6)
    assert first.status_code == 201, first.text

    again = ask(client, directory, report.id, workdays=2)
    assert again.status_code == 409
    assert again.json()["code"] == "extension_pending"
    assert again.json()["detail"] == (
        f"这条留言已有一份待审批的延期申请（编号{first.json()['id']}），请等待上级单位审批"
    )
    assert decide(client, directory, first.json()["id"], "approve").status_code == 200

    too_many = ask(client, directory, report.id, workdays=5)
    assert too_many.status_code == 409
    assert too_many.json()["detail"] == (
        "每次办理期限内累计延期不得超过10个工作日，已批准6个工作日，最多还可申请4个工作日"
    )
    fourth = ask(client, directory, report.id, workdays=4)
    assert fourth.status_code == 201, fourth.text
    assert decide(client, directory, fourth.json()["id"], "approve").status_code == 200
    # 30 September + 6 (8, 9, Saturday 10, 12, 13, 14 October) + 4 (15, 16, 19, 20 October).
    assert unit_detail(client, directory, report.id)["resolution_due_at"] == (
        "2026-10-20T23:59:59.999+08:00"
    )
    assert ask(client, directory, report.id, workdays=1).json()["code"] == (
        "extension_limit_exceeded"
    )


def test_a_refused_request_leaves_the_dates_and_frees_the_allowance(
    client, directory: Directory, clock, report
):
    clock.set(local(2026, 9, 21, 10, 0))
    extension_id = ask(client, directory, report.id, workdays=10).json()["id"]

    refused = decide(client, directory, extension_id, "refuse")

    assert refused.status_code == 200, refused.text
    assert refused.json()["state"] == "refused"
    assert refused.json()["resolution_due_after"] is None
    detail = unit_detail(client, directory, report.id)
    assert detail["resolution_due_at"] == RESOLUTION_DUE
    assert detail["events"][-1]["kind"] == "extension_refused"
    assert detail["events"][-1]["data"] == {
        "extension_id": extension_id,
        "workdays": 10,
        "note": NOTE,
    }
    # The citizen's timeline shows no refusal.
    public = client.get(f"/api/v1/reports/{report.tracking_code}").json()
    assert [e["kind"] for e in public["events"]] == ["submitted"]
    again = decide(client, directory, extension_id, "approve")
    assert (again.status_code, again.json()["code"]) == (409, "extension_already_decided")
    assert ask(client, directory, report.id, workdays=10).status_code == 201


def test_a_request_after_the_resolution_due_is_refused(client, directory, clock, report):
    clock.set(local(2026, 10, 1, 0, 0))

    response = ask(client, directory, report.id)

    assert response.status_code == 409
    assert response.json()["code"] == "extension_after_due"


def test_a_closed_report_takes_no_request(client, directory: Directory, clock, report):
    client.post(
        f"/api/v1/unit/reports/{report.id}/resolve",
        json={"verdict": "confirmed", "text": "已更正。"},
        headers=directory.auth("handler_a1"),
    )

    response = ask(client, directory, report.id)

    assert (response.status_code, response.json()["code"]) == (409, "extension_report_closed")


def inbox_overdue(client, directory: Directory) -> list[int]:
    response = client.get(
        "/api/v1/unit/reports", params={"overdue": True}, headers=directory.auth("handler_a1")
    )
    return [item["id"] for item in response.json()["items"]]


def test_a_request_pending_past_the_due_date_changes_nothing(
    client, directory: Directory, engine, clock, report
):
    clock.set(local(2026, 9, 30, 15, 0))
    extension_id = ask(client, directory, report.id).json()["id"]
    clock.set(local(2026, 10, 8, 10, 0))

    # Overdue since 30 September ended, pending request or not.
    assert inbox_overdue(client, directory) == [report.id]
    listed = client.get(
        "/api/v1/unit/extensions",
        params={"state": "pending"},
        headers=directory.auth("supervisor_a"),
    ).json()
    assert [(i["id"], i["lapsed"], i["can_decide"]) for i in listed["items"]] == [
        (extension_id, True, True)
    ]
    late = decide(client, directory, extension_id, "approve")
    assert late.status_code == 409
    assert late.json()["code"] == "extension_lapsed"
    assert late.json()["detail"] == (
        "这份延期申请已失效：留言的办结期限已过（或留言已办结、转办、重办），不能再批准，"
        "留言按原期限计为超期；如需结束这份申请，请不予批准"
    )
    assert report_of(engine, report.tracking_code).resolution_due_at == local(
        2026, 9, 30, 23, 59, 59, 999000
    )
    assert inbox_overdue(client, directory) == [report.id]
    # Refusing ends it, and the report stays overdue.
    assert decide(client, directory, extension_id, "refuse").status_code == 200
    assert inbox_overdue(client, directory) == [report.id]


def test_a_transfer_starts_a_new_clock_with_a_fresh_allowance(
    client, directory: Directory, engine, clock, report
):
    clock.set(local(2026, 9, 14, 10, 0))
    granted = ask(client, directory, report.id, workdays=10).json()["id"]
    decide(client, directory, granted, "approve")
    pending = ask(client, directory, report.id, workdays=1)
    assert pending.json()["code"] == "extension_limit_exceeded"
    clock.set(local(2026, 9, 15, 10, 0))
    transferred = client.post(
        f"/api/v1/unit/reports/{report.id}/transfer",
        json={"to_unit_id": directory.dept_b1, "text": "由乙市教育局维护"},
        headers=directory.auth("handler_a1"),
    )
    assert transferred.status_code == 200, transferred.text
    # The new owner's clock: 15 working days from 15 September, without the old extension.
    stored = report_of(engine, report.tracking_code)
    assert stored.clock == 2 and stored.extension_workdays == 0 and stored.extended_at is None
    assert stored.resolution_due_at == local(2026, 10, 12, 23, 59, 59, 999000)

    fresh = ask(client, directory, report.id, workdays=10, who="handler_b1")

    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["clock"] == 2


def test_a_request_of_an_earlier_clock_lapses(client, directory: Directory, clock, report):
    clock.set(local(2026, 9, 14, 10, 0))
    extension_id = ask(client, directory, report.id).json()["id"]
    client.post(
        f"/api/v1/unit/reports/{report.id}/transfer",
        json={"to_unit_id": directory.dept_b1},
        headers=directory.auth("handler_a1"),
    )

    response = decide(client, directory, extension_id, "approve", who="admin")

    assert (response.status_code, response.json()["code"]) == (409, "extension_lapsed")


def test_the_list_shows_the_owner_its_requests_and_supervisors_those_below(
    client, directory: Directory, clock, report
):
    clock.set(local(2026, 9, 21, 10, 0))
    first = ask(client, directory, report.id, workdays=2).json()["id"]
    decide(client, directory, first, "refuse")
    second = ask(client, directory, report.id, workdays=3).json()["id"]

    def listed(who: str, **params) -> dict:
        response = client.get("/api/v1/unit/extensions", params=params, headers=directory.auth(who))
        assert response.status_code == 200, response.text
        return response.json()

    owner = listed("handler_a1")
    assert [(i["id"], i["state"], i["can_decide"]) for i in owner["items"]] == [
        (second, "pending", False),
        (first, "refused", False),
    ]
    assert (owner["total"], owner["limit"], owner["offset"]) == (2, 50, 0)
    waiting = listed("supervisor_a", state="pending")
    assert [(i["id"], i["can_decide"]) for i in waiting["items"]] == [(second, True)]
    assert waiting["total"] == 1
    assert listed("admin", state="pending")["total"] == 1
    assert listed("supervisor_b")["total"] == 0
    assert listed("handler_b1")["total"] == 0
    paged = listed("handler_a1", limit=1, offset=1)
    assert [i["id"] for i in paged["items"]] == [first] and paged["total"] == 2


def test_an_unknown_extension_is_404(client, directory: Directory):
    response = decide(client, directory, 999, "approve")

    assert (response.status_code, response.json()["code"]) == (404, "extension_not_found")


def test_workdays_outside_the_schema_are_422(client, directory: Directory, report):
    for workdays in (0, 61):
        response = ask(client, directory, report.id, workdays=workdays)
        assert response.status_code == 422, response.text


def test_a_calendar_load_keeps_the_extension(client, directory: Directory, engine, clock):
    # Received Tuesday 1 December 2026: resolution due Tuesday 22 December. Eight working days
    # more reach Friday 1 January 2027, a working day by the weekend rule until 2027 is loaded.
    clock.set(local(2026, 12, 1, 10, 0))
    report = report_of(engine, submit(client)["tracking_code"])
    clock.set(local(2026, 12, 10, 10, 0))
    extension_id = ask(client, directory, report.id, workdays=8).json()["id"]
    approved = decide(client, directory, extension_id, "approve")
    assert approved.json()["resolution_due_after"] == "2027-01-01T23:59:59.999+08:00"
    assert unit_detail(client, directory, report.id)["deadlines_provisional"] is True
    clock.set(local(2026, 12, 11, 9, 0))

    loaded = client.put(
        "/api/v1/calendar/2027", json=notice_2027_fields(), headers=directory.auth("admin")
    )

    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["reports_moved"] == 1
    # New Year's Day is a holiday: the eighth working day is Monday 4 January.
    detail = unit_detail(client, directory, report.id)
    assert detail["resolution_due_at"] == "2027-01-04T23:59:59.999+08:00"
    assert detail["first_reply_due_at"] == "2026-12-03T23:59:59.999+08:00"
    assert detail["deadlines_provisional"] is False
    assert detail["extension_workdays"] == 8
