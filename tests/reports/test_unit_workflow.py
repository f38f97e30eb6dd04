"""The owner unit's workflow: reply, resolve, decline, transfer, ask the citizen; the history."""

from datetime import datetime

import pytest

from app.errors import Conflict
from app.reports import service
from app.reports.models import Report
from tests.conftest import Directory, local, submit_report
from tests.reports.helpers import events_of
from tests.reports.helpers import stored as report_of
from tests.reports.workflow import HANDLER_A1, act, submit


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


REPLY = ("reply", {"text": "已收到，我们正在核实。"})
RESOLVE = ("resolve", {"verdict": "confirmed", "text": "栏目已更新，感谢您的监督。"})
DECLINE = ("decline", {"reason": "duplicate", "text": "与此前留言重复，已在原留言中答复。"})
ASK = ("request-info", {"text": "请说明具体是哪个栏目。"})


@pytest.fixture
def report(client, directory: Directory, engine) -> Report:
    """A fresh report of dept A1, received Monday 2026-11-23 10:00."""
    return report_of(engine, submit(client))


# --- each action ------------------------------------------------------------------------


def test_submission_writes_one_submitted_event(client, directory: Directory, engine, report):
    events = events_of(engine, report.id)

    assert [(e.kind, e.actor, e.at) for e in events] == [
        ("submitted", "citizen", local(2026, 11, 23, 10, 0))
    ]
    assert report.clock == 1
    assert report.assigned_at == report.received_at == local(2026, 11, 23, 10, 0)


def test_reply_is_the_first_response_and_keeps_the_report_open(
    client, directory: Directory, engine, clock, report
):
    clock.set(local(2026, 11, 24, 9, 30))

    response = act(client, directory, report.id, *REPLY)

    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["status"] == "replied"
    assert detail["first_reply"] == "已收到，我们正在核实。"
    assert instant(detail["first_replied_at"]) == local(2026, 11, 24, 9, 30)
    assert instant(detail["first_responded_at"]) == local(2026, 11, 24, 9, 30)
    assert detail["closed_at"] is None
    assert [e["kind"] for e in detail["events"]] == ["submitted", "replied"]
    event = detail["events"][-1]
    assert event["actor"] == f"unit:{directory.dept_a1}:handler"
    assert event["actor_unit_id"] == directory.dept_a1
    assert event["data"] == {"text": "已收到，我们正在核实。"}


@pytest.mark.parametrize("verdict", ["confirmed", "not_confirmed"])
def test_resolve_closes_with_a_verdict(client, directory: Directory, clock, report, verdict):
    act(client, directory, report.id, *REPLY)
    clock.set(local(2026, 11, 27, 16, 0))

    response = act(
        client, directory, report.id, "resolve", {"verdict": verdict, "text": "经核实处理完毕。"}
    )

    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["status"] == "resolved"
    assert detail["verdict"] == verdict
    assert detail["final_answer"] == "经核实处理完毕。"
    assert instant(detail["closed_at"]) == local(2026, 11, 27, 16, 0)
    # The first response stays the reply's.
    assert instant(detail["first_responded_at"]) == local(2026, 11, 23, 10, 0)
    # Tuesday to Friday.
    assert detail["handling_workdays"] == 4
    assert [e["kind"] for e in detail["events"]] == ["submitted", "replied", "resolved"]
    assert detail["events"][-1]["data"] == {"verdict": verdict, "text": "经核实处理完毕。"}


def test_resolving_without_a_reply_is_the_first_response(client, directory, clock, report):
    clock.set(local(2026, 11, 23, 17, 0))

    detail = act(client, directory, report.id, *RESOLVE).json()

    assert detail["status"] == "resolved"
    assert instant(detail["first_responded_at"]) == local(2026, 11, 23, 17, 0)
    assert detail["first_replied_at"] is None
    assert detail["handling_workdays"] == 0


@pytest.mark.parametrize("reason", ["duplicate", "out_of_scope", "insufficient_info", "other"])
def test_decline_for_each_reason(client, directory: Directory, clock, report, reason):
    clock.set(local(2026, 11, 24, 11, 0))

    response = act(
        client,
        directory,
        report.id,
        "decline",
        {"reason": reason, "text": "不予受理，理由见上。"},
    )

    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["status"] == "declined"
    assert detail["decline_reason"] == reason
    assert detail["verdict"] is None
    assert detail["final_answer"] == "不予受理，理由见上。"
    assert instant(detail["closed_at"]) == local(2026, 11, 24, 11, 0)
    assert instant(detail["first_responded_at"]) == local(2026, 11, 24, 11, 0)
    assert detail["handling_workdays"] == 1
    assert detail["events"][-1]["kind"] == "declined"
    assert detail["events"][-1]["data"] == {"reason": reason, "text": "不予受理，理由见上。"}
    public = client.get(f"/api/v1/reports/{report.tracking_code}").json()
    assert public["decline_reason"] == reason
    assert public["events"][-1]["data"] == {"reason": reason}


def test_unknown_decline_reason_is_422(client, directory: Directory, engine, report):
    response = act(
        client, directory, report.id, "decline", {"reason": "too_busy", "text": "无法处理。"}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "reason"]
    assert len(events_of(engine, report.id)) == 1


def test_transfer_restarts_the_clock_and_history_keeps_every_hop(
    client, directory: Directory, engine, clock, report
):
    clock.set(local(2026, 11, 24, 15, 0))
    first = act(
        client,
        directory,
        report.id,
        "transfer",
        {"to_unit_id": directory.dept_b1, "text": "该栏目由乙市教育局维护"},
    )
    assert first.status_code == 200, first.text
    clock.set(local(2026, 11, 25, 9, 0))
    second = act(
        client,
        directory,
        report.id,
        "transfer",
        {"to_unit_id": directory.city_b, "text": "属市政府门户网站"},
        who="handler_b1",
    )
    assert second.status_code == 200, second.text

    detail = second.json()
    assert detail["owner_unit_id"] == directory.city_b
    assert detail["status"] == "assigned"
    assert detail["clock"] == 3
    assert instant(detail["assigned_at"]) == local(2026, 11, 25, 9, 0)
    assert instant(detail["received_at"]) == local(2026, 11, 23, 10, 0)
    assert detail["first_responded_at"] is None
    # Received by city B on Wednesday: due Friday, and 15 working days on, Wednesday 16 Dec.
    assert instant(detail["first_reply_due_at"]) == local(2026, 11, 27, 23, 59, 59, 999000)
    assert instant(detail["resolution_due_at"]) == local(2026, 12, 16, 23, 59, 59, 999000)
    hops = [
        (e.kind, e.actor_unit_id, e.data.get("from_unit_id"), e.data.get("to_unit_id"), e.at)
        for e in events_of(engine, report.id)
    ]
    assert hops == [
        ("submitted", None, None, None, local(2026, 11, 23, 10, 0)),
        (
            "transferred",
            directory.dept_a1,
            directory.dept_a1,
            directory.dept_b1,
            local(2026, 11, 24, 15, 0),
        ),
        (
            "transferred",
            directory.dept_b1,
            directory.dept_b1,
            directory.city_b,
            local(2026, 11, 25, 9, 0),
        ),
    ]
    # The report left both departments' inboxes.
    for who in (HANDLER_A1, "handler_b1"):
        assert (
            client.get(f"/api/v1/unit/reports/{report.id}", headers=directory.auth(who)).status_code
            == 404
        )


def test_transfer_of_a_replied_report_starts_from_assigned(client, directory, clock, report):
    act(client, directory, report.id, *REPLY)

    detail = act(client, directory, report.id, "transfer", {"to_unit_id": directory.dept_b1}).json()

    assert detail["status"] == "assigned"
    assert detail["first_reply"] is None
    assert detail["first_replied_at"] is None
    assert detail["clock"] == 2
    reply_again = act(client, directory, report.id, *REPLY, who="handler_b1")
    assert reply_again.status_code == 200


def test_transfer_to_an_unknown_unit_is_404(client, directory: Directory, engine, report):
    response = act(client, directory, report.id, "transfer", {"to_unit_id": 999_999})

    assert response.status_code == 404
    assert len(events_of(engine, report.id)) == 1


def test_ask_the_citizen_then_supplement(client, directory: Directory, engine, clock, report):
    act(client, directory, report.id, *REPLY)
    clock.set(local(2026, 11, 24, 10, 0))

    asked = act(client, directory, report.id, *ASK)

    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "awaiting_citizen"
    assert instant(asked.json()["paused_at"]) == local(2026, 11, 24, 10, 0)
    clock.set(local(2026, 11, 25, 10, 0))
    supplemented = client.post(
        f"/api/v1/reports/{report.tracking_code}/supplement", json={"text": "是“通知公告”栏目。"}
    )
    assert supplemented.status_code == 200, supplemented.text
    stored = report_of(engine, report.tracking_code)
    # A replied report goes back to replied, not to assigned.
    assert stored.status == "replied"
    assert stored.paused_at is None
    assert stored.paused_workdays == 1
    events = events_of(engine, report.id)
    assert [e.kind for e in events] == ["submitted", "replied", "info_requested", "supplemented"]
    assert events[2].data == {"text": "请说明具体是哪个栏目。", "clock": 1}
    assert events[3].actor == "citizen"
    assert events[3].data == {"text": "是“通知公告”栏目。", "paused_workdays": 1}


def test_a_report_awaiting_the_citizen_can_still_be_closed(client, directory, clock, report):
    clock.set(local(2026, 11, 23, 11, 0))
    act(client, directory, report.id, *ASK)
    clock.set(local(2026, 11, 30, 10, 0))

    detail = act(client, directory, report.id, *RESOLVE).json()

    assert detail["status"] == "resolved"
    assert detail["paused_at"] is None
    # Paused Tuesday 24 to Monday 30 November: 5 working days, none handled.
    assert detail["paused_workdays"] == 5
    assert detail["handling_workdays"] == 0


def test_admin_routes_an_unrouted_report(client, directory: Directory, engine, clock):
    code = submit_report(client, site_code=None, page_url="http://www.unknown.example.gov.cn/")[
        "tracking_code"
    ]
    report = report_of(engine, code)
    assert report.status == "unrouted"
    clock.set(local(2026, 11, 24, 9, 0))

    response = act(
        client, directory, report.id, "route", {"unit_id": directory.dept_b1}, who="admin"
    )

    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["status"] == "assigned"
    assert detail["owner_unit_id"] == directory.dept_b1
    assert detail["clock"] == 1
    assert instant(detail["assigned_at"]) == local(2026, 11, 24, 9, 0)
    assert instant(detail["first_reply_due_at"]) == local(2026, 11, 26, 23, 59, 59, 999000)
    assert [e["kind"] for e in detail["events"]] == ["submitted", "routed"]
    public = client.get(f"/api/v1/reports/{code}").json()
    assert public["owner_unit_name"] == "乙市教育局"
    assert public["events"][-1]["data"] == {"unit": "乙市教育局"}


def test_admin_routes_to_a_site_which_fills_in_the_site_code(client, directory, engine):
    code = submit_report(client, site_code=None, page_url="http://www.unknown.example.gov.cn/")[
        "tracking_code"
    ]
    report = report_of(engine, code)
    sites = client.get("/api/v1/sites", headers=directory.auth("admin")).json()["items"]
    site_b1 = next(s for s in sites if s["site_code"] == directory.site_b1)

    detail = act(
        client, directory, report.id, "route", {"site_id": site_b1["id"]}, who="admin"
    ).json()

    assert detail["owner_unit_id"] == directory.dept_b1
    assert detail["site_id"] == site_b1["id"]
    assert detail["site_code"] == directory.site_b1


@pytest.mark.parametrize("body", [{}, {"unit_id": 1, "site_id": 1}], ids=["neither", "both"])
def test_route_needs_exactly_one_target(client, directory: Directory, engine, body):
    code = submit_report(client, site_code=None, page_url="http://www.unknown.example.gov.cn/")[
        "tracking_code"
    ]
    report = report_of(engine, code)

    response = act(client, directory, report.id, "route", body, who="admin")

    assert response.status_code == 422
    assert response.json() == {
        "detail": "请给出 site_id 或 unit_id 二者之一（不能都给，也不能都不给）",
        "code": "route_target_invalid",
    }
    english = act(client, directory, report.id, "route", body, who="admin", language="en")
    assert english.json()["detail"] == "give either site_id or unit_id"
    assert len(events_of(engine, report.id)) == 1


def test_a_bad_route_payload_is_422_even_for_a_report_already_routed(
    client, directory: Directory, engine, report
):
    stored_before = report_of(engine, report.tracking_code).model_dump()

    response = act(client, directory, report.id, "route", {}, who="admin")

    assert response.status_code == 422
    assert response.json()["code"] == "route_target_invalid"
    assert len(events_of(engine, report.id)) == 1
    assert report_of(engine, report.tracking_code).model_dump() == stored_before


# --- illegal transitions ----------------------------------------------------------------

TRANSFER_B1 = "transfer_b1"


def _steps(client, directory: Directory, report_id: int, steps: list[tuple[str, dict]]) -> None:
    for action, body in steps:
        if action == TRANSFER_B1:
            action, body = "transfer", {"to_unit_id": directory.dept_b1}
        assert act(client, directory, report_id, action, body).status_code == 200


@pytest.mark.parametrize(
    ("before", "action", "who", "message"),
    [
        ([REPLY], REPLY, HANDLER_A1, "cannot reply to a report that is replied"),
        ([RESOLVE], REPLY, HANDLER_A1, "cannot reply to a report that is resolved"),
        ([DECLINE], REPLY, HANDLER_A1, "cannot reply to a report that is declined"),
        ([ASK], REPLY, HANDLER_A1, "cannot reply to a report that is awaiting_citizen"),
        ([DECLINE], RESOLVE, HANDLER_A1, "cannot resolve a report that is declined"),
        ([RESOLVE], RESOLVE, HANDLER_A1, "cannot resolve a report that is resolved"),
        ([RESOLVE], DECLINE, HANDLER_A1, "cannot decline a report that is resolved"),
        ([DECLINE], DECLINE, HANDLER_A1, "cannot decline a report that is declined"),
        (
            [RESOLVE],
            ("transfer", {"to_unit_id": 0}),
            HANDLER_A1,
            "cannot transfer a report that is resolved",
        ),
        ([RESOLVE], ASK, HANDLER_A1, "cannot ask about a report that is resolved"),
        ([ASK], ASK, HANDLER_A1, "cannot ask about a report that is awaiting_citizen"),
        ([], ("route", {"unit_id": 0}), "admin", "cannot route a report that is assigned"),
        ([REPLY], ("route", {"unit_id": 0}), "admin", "cannot route a report that is replied"),
        ([], ("transfer", {"to_unit_id": 0}), HANDLER_A1, "the report is already with this unit"),
    ],
    ids=[
        "reply twice",
        "reply to resolved",
        "reply to declined",
        "reply while awaiting citizen",
        "resolve declined",
        "resolve twice",
        "decline resolved",
        "decline twice",
        "transfer resolved",
        "ask about resolved",
        "ask twice",
        "route assigned",
        "route replied",
        "transfer to own unit",
    ],
)
def test_illegal_transition_is_409_and_writes_nothing(
    client, directory: Directory, engine, clock, report, before, action, who, message
):
    _steps(client, directory, report.id, before)
    name, body = action
    if body.get("to_unit_id") == 0:
        body = {"to_unit_id": directory.dept_a1}
    if body.get("unit_id") == 0:
        body = {"unit_id": directory.dept_b1}
    stored_before = report_of(engine, report.tracking_code).model_dump()
    events_before = [e.model_dump() for e in events_of(engine, report.id)]
    clock.set(local(2026, 11, 25, 10, 0))

    response = act(client, directory, report.id, name, body, who=who)
    english = act(client, directory, report.id, name, body, who=who, language="en")

    assert response.status_code == 409
    same_unit = message == "the report is already with this unit"
    assert response.json()["code"] == (
        "transfer_to_same_unit" if same_unit else "report_state_conflict"
    )
    assert english.json() == {"detail": message, "code": response.json()["code"]}
    assert [e.model_dump() for e in events_of(engine, report.id)] == events_before
    assert report_of(engine, report.tracking_code).model_dump() == stored_before


@pytest.mark.parametrize(
    ("before", "action", "message"),
    [
        ([REPLY], REPLY, "这条留言当前状态为“已答复”，不能答复"),
        ([RESOLVE], DECLINE, "这条留言当前状态为“已办结”，不能不予受理"),
        ([ASK], ASK, "这条留言当前状态为“待网民补充”，不能请网民补充信息"),
        ([], ("transfer", {"to_unit_id": 0}), "留言已在该单位，请选择其他单位转办"),
    ],
    ids=["reply twice", "decline resolved", "ask twice", "transfer to own unit"],
)
def test_an_illegal_transition_says_why_in_chinese(
    client, directory: Directory, report, before, action, message
):
    _steps(client, directory, report.id, before)
    name, body = action
    if body.get("to_unit_id") == 0:
        body = {"to_unit_id": directory.dept_a1}

    response = act(client, directory, report.id, name, body)

    assert response.status_code == 409
    assert response.json()["detail"] == message


# --- the event history ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "action", "kind"),
    [
        ([], REPLY, "replied"),
        ([REPLY], RESOLVE, "resolved"),
        ([], ("resolve", {"verdict": "not_confirmed", "text": "经核实，信息无误。"}), "resolved"),
        ([REPLY], DECLINE, "declined"),
        ([], ASK, "info_requested"),
        ([REPLY], ASK, "info_requested"),
        ([ASK], RESOLVE, "resolved"),
        ([ASK], DECLINE, "declined"),
        ([], (TRANSFER_B1, {}), "transferred"),
        ([ASK], (TRANSFER_B1, {}), "transferred"),
    ],
)
def test_every_change_writes_exactly_one_event(
    client, directory: Directory, engine, clock, report, before, action, kind
):
    _steps(client, directory, report.id, before)
    count_before = len(events_of(engine, report.id))
    clock.set(local(2026, 11, 24, 14, 0))

    _steps(client, directory, report.id, [action])

    events = events_of(engine, report.id)
    assert len(events) == count_before + 1
    assert (events[-1].kind, events[-1].actor, events[-1].at) == (
        kind,
        f"unit:{directory.dept_a1}:handler",
        local(2026, 11, 24, 14, 0),
    )
    stored = report_of(engine, report.tracking_code)
    assert stored.updated_at == local(2026, 11, 24, 14, 0)


def test_a_change_and_its_event_commit_together_or_not_at_all(
    client, directory: Directory, engine, report, monkeypatch
):
    def fail_after_recording(**_):
        raise Conflict("simulated failure after the event was recorded")

    monkeypatch.setattr(service, "_touch", fail_after_recording)

    response = act(client, directory, report.id, *REPLY)

    assert response.status_code == 409
    assert [e.kind for e in events_of(engine, report.id)] == ["submitted"]
    stored = report_of(engine, report.tracking_code)
    assert (stored.status, stored.first_reply, stored.first_responded_at) == (
        "assigned",
        None,
        None,
    )
