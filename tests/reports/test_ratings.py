"""Satisfaction and reopening (评价 / 重办): exact windows across National Day 2026."""

from sqlalchemy import Engine
from sqlmodel import Session, select

from app.reports.models import Report
from app.sla.models import EscalationRung, Notification
from tests.conftest import Directory, local
from tests.reports.helpers import events_of
from tests.reports.helpers import stored as report_of
from tests.reports.workflow import act, submit

RESOLVE = {"verdict": "not_confirmed", "text": "经核实，页面内容无误。"}


def rate(client, code: str, rating: str, comment: str | None = None):
    body = {"rating": rating} | ({"comment": comment} if comment is not None else {})
    return client.post(f"/api/v1/reports/{code}/rating", json=body)


def closed_on_29_september(client, clock, engine, directory) -> tuple[str, int]:
    """A report received Monday 28 September 2026 and resolved Tuesday 29 at 15:00."""
    clock.set(local(2026, 9, 28, 10, 0))
    code = submit(client)
    report_id = report_of(engine, code).id
    clock.set(local(2026, 9, 29, 15, 0))
    assert act(client, directory, report_id, "resolve", RESOLVE).status_code == 200
    return code, report_id


def test_the_window_runs_ten_working_days_across_national_day(
    client, clock, engine: Engine, directory: Directory
) -> None:
    code, _ = closed_on_29_september(client, clock, engine, directory)
    view = client.get(f"/api/v1/reports/{code}").json()
    # 30 September, then (after National Day, 1–7 October) 8, 9, 10 (the make-up Saturday),
    # 12–16 and 19 October.
    assert view["rating_open"] is True
    assert view["rating_open_until"] == "2026-10-19T23:59:59.999+08:00"
    assert view["rating"] is None

    clock.set(local(2026, 10, 20, 0, 0))
    view = client.get(f"/api/v1/reports/{code}").json()
    assert (view["rating_open"], view["rating_open_until"]) == (False, None)
    response = rate(client, code, "satisfied")
    assert (response.status_code, response.json()["code"]) == (409, "rating_window_closed")


def test_a_closing_is_rated_once(client, clock, engine: Engine, directory: Directory) -> None:
    open_code = submit(client)
    response = rate(client, open_code, "satisfied")
    assert (response.status_code, response.json()["code"]) == (409, "report_not_closed")

    code, report_id = closed_on_29_september(client, clock, engine, directory)
    clock.set(local(2026, 10, 19, 23, 59))
    response = rate(client, code, "basically_satisfied", "回复及时。")
    assert response.status_code == 200, response.text
    view = response.json()
    assert (view["rating"], view["rating_comment"]) == ("basically_satisfied", "回复及时。")
    assert view["rated_at"] == "2026-10-19T23:59:00.000+08:00"
    assert (view["rating_open"], view["status"]) == (False, "resolved")
    assert view["events"][-1] == {
        "kind": "rated",
        "at": "2026-10-19T23:59:00.000+08:00",
        "text": "回复及时。",
        "data": {"rating": "basically_satisfied"},
    }
    response = rate(client, code, "dissatisfied", "还是不对。")
    assert (response.status_code, response.json()["code"]) == (409, "report_already_rated")
    assert report_of(engine, code).status == "resolved"
    detail = client.get(f"/api/v1/unit/reports/{report_id}", headers=directory.auth("handler_a1"))
    assert detail.json()["rating"] == "basically_satisfied"
    assert detail.json()["rating_due_at"] == "2026-10-19T23:59:59.999+08:00"


def test_dissatisfied_without_a_reason_does_not_reopen(
    client, clock, engine: Engine, directory: Directory
) -> None:
    code, _ = closed_on_29_september(client, clock, engine, directory)
    clock.set(local(2026, 10, 9, 10, 0))
    view = rate(client, code, "dissatisfied", "  ").json()
    assert (view["status"], view["rating"], view["reopened_at"]) == (
        "resolved",
        "dissatisfied",
        None,
    )


def test_dissatisfied_with_a_reason_reopens_once_on_a_new_clock(
    client, clock, engine: Engine, directory: Directory
) -> None:
    code, report_id = closed_on_29_september(client, clock, engine, directory)
    before = report_of(engine, code)
    # Friday 9 October, the second working day after National Day.
    clock.set(local(2026, 10, 9, 10, 0))
    response = rate(client, code, "dissatisfied", "错别字仍未改正。")
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["status"] == "assigned" and view["reopened_at"] == "2026-10-09T10:00:00.000+08:00"
    assert (view["verdict"], view["final_answer"], view["rating_open"]) == (None, None, False)
    # Both clocks from the reopening: the make-up Saturday 10 October is the first working day.
    assert view["first_reply_due_at"] == "2026-10-12T23:59:59.999+08:00"
    assert view["resolution_due_at"] == "2026-10-29T23:59:59.999+08:00"
    assert [event["kind"] for event in view["events"][-2:]] == ["rated", "reopened"]
    assert view["events"][-1]["text"] == "错别字仍未改正。"
    assert view["events"][-1]["data"] == {"unit": "甲市教育局"}

    report = report_of(engine, code)
    assert report.owner_unit_id == directory.dept_a1 and report.clock == before.clock + 1
    assert (report.closed_at, report.handling_workdays, report.first_responded_at) == (
        None,
        None,
        None,
    )
    assert report.next_rung == "reminder"  # the escalation ladder replanned for the new clock
    kinds = [event.kind for event in events_of(engine, report_id)]
    assert kinds[-2:] == ["rated", "reopened"]
    reopened = events_of(engine, report_id)[-1]
    assert reopened.actor == "citizen"
    assert reopened.data["closed_as"]["verdict"] == "not_confirmed"

    with Session(engine) as session:
        notes = session.exec(select(Notification).order_by(Notification.id)).all()
        rungs = session.exec(select(EscalationRung)).all()
    supervisor = [n for n in notes if n.kind == "reopened"]
    assert [(n.unit_id, n.key) for n in supervisor] == [
        (directory.city_a, f"reopened:{report_id}:{report.clock}:{directory.city_a}")
    ]
    assert supervisor[0].payload["reason"] == "错别字仍未改正。"
    assert "13800138000" not in str(supervisor[0].payload) and "林晓" not in str(
        supervisor[0].payload
    )
    assert supervisor[0].payload["text"] == (
        f"【重办】甲市教育局办结的留言 #{report_id}，网民评价不满意，已退回该单位重新办理，"
        "应于 2026-10-29 前办结。"
    )
    assert [n.unit_id for n in notes if n.kind == "new_report"] == [directory.dept_a1] * 2
    assert rungs == []

    # Closed again: not rateable again, not reopened again.
    clock.set(local(2026, 10, 12, 11, 0))
    again = {"verdict": "confirmed", "text": "已改正。"}
    assert act(client, directory, report_id, "resolve", again).status_code == 200
    view = client.get(f"/api/v1/reports/{code}").json()
    assert (view["status"], view["rating_open"], view["rating"]) == (
        "resolved",
        False,
        "dissatisfied",
    )
    assert report_of(engine, code).handling_workdays == 2  # 10 and 12 October
    response = rate(client, code, "dissatisfied", "仍不满意。")
    assert (response.status_code, response.json()["code"]) == (409, "report_already_rated")


def test_a_declined_report_is_rated_and_reopened_too(
    client, clock, engine: Engine, directory: Directory
) -> None:
    clock.set(local(2026, 9, 28, 10, 0))
    code = submit(client)
    report_id = report_of(engine, code).id
    body = {"reason": "out_of_scope", "text": "不属于本单位受理范围。"}
    assert act(client, directory, report_id, "decline", body).status_code == 200
    view = rate(client, code, "dissatisfied", "该网站确由贵单位主办。").json()
    assert (view["status"], view["decline_reason"]) == ("assigned", None)
    with Session(engine) as session:
        assert session.get(Report, report_id).owner_unit_id == directory.dept_a1


def test_rating_is_rate_limited_like_the_other_public_endpoints(
    settings, engine: Engine, clock, directory: Directory
) -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app

    limited = settings.model_copy(update={"public_rate_limit": "2/minute"})
    with TestClient(create_app(settings=limited, engine=engine, clock=clock)) as client:
        code = submit(client)
        assert rate(client, code, "satisfied").status_code == 409
        response = rate(client, code, "satisfied")
        assert response.status_code == 429 and response.headers["Retry-After"]
