"""The calendar over HTTP, on the test database: coverage, reading a year, loading a year."""

from datetime import date, datetime

import pytest
from sqlmodel import Session, select

from app.workdays.models import CalendarDay, CalendarYear
from app.workdays.schemas import NOTICE_EXAMPLE
from app.workdays.sources import get_calendar
from tests.conftest import local
from tests.workdays.notices import notice_2027_fields

NOTICE_2027_PERIODS = [
    {"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"},
    {"name": "春节", "start": "2027-02-06", "end": "2027-02-12"},
    {"name": "国庆节", "start": "2027-10-01", "end": "2027-10-07"},
]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def put_2027(client, admin_token, language: str | None = None, **changes):
    headers = bearer(admin_token) | ({"Accept-Language": language} if language else {})
    return client.put("/api/v1/calendar/2027", json=notice_2027_fields(**changes), headers=headers)


def stored_years(engine) -> list[int]:
    with Session(engine) as session:
        return list(session.exec(select(CalendarYear.year)).all())


def test_coverage_warns_when_the_calendar_ends_within_the_warning_period(client):
    # The clock stands at Monday 2026-11-23: 38 days before the package's last day.
    response = client.get("/api/v1/calendar/coverage")
    assert response.status_code == 200
    assert response.json() == {
        "covered_until": "2026-12-31",
        "days_left": 38,
        "warning": True,
        "message": "the official calendar ends on 2026-12-31, in 38 days: load 2027 from the "
        "State Council notice (PUT /api/v1/calendar/2027 or `zhaocuo calendar load FILE`)",
    }


@pytest.mark.parametrize(
    ("now", "days_left", "warning"),
    [
        (local(2026, 10, 31, 12, 0), 61, False),
        (local(2026, 11, 1, 0, 30), 60, True),  # 2026-10-31 16:30 UTC, already Nov 1 in Shanghai
        (local(2027, 1, 5, 9, 0), -5, True),
    ],
)
def test_coverage_counts_days_from_the_local_date(client, clock, now, days_left, warning):
    clock.set(now)
    body = client.get("/api/v1/calendar/coverage").json()
    assert (body["days_left"], body["warning"]) == (days_left, warning)


def test_coverage_after_the_end_says_the_weekend_rule_is_in_use(client, clock):
    clock.set(local(2027, 1, 5, 9, 0))
    assert client.get("/api/v1/calendar/coverage").json()["message"] == (
        "the official calendar ended on 2026-12-31, 5 days ago: deadlines follow the weekend "
        "rule (Monday to Friday) and are marked provisional; load 2027 from the State Council "
        "notice (PUT /api/v1/calendar/2027 or `zhaocuo calendar load FILE`)"
    )


def test_a_packaged_year_lists_the_notice_days(client):
    body = client.get("/api/v1/calendar/2026").json()
    assert body["basis"] == "package"
    assert body["official"] is True
    assert body["source"] == "chinesecalendar 1.11.0"
    assert body["working_days"] == 248
    assert {"name": "国庆节", "start": "2026-10-01", "end": "2026-10-07"} in body["holidays"]
    assert {"name": "中秋", "start": "2026-09-25", "end": "2026-09-27"} in body["holidays"]
    assert len(body["holidays"]) == 7
    assert [m["date"] for m in body["makeup_workdays"]] == [
        m["date"] for m in NOTICE_EXAMPLE["makeup_workdays"]
    ]


@pytest.mark.parametrize(("year", "working_days"), [(2027, 261), (2003, 261), (1999, 261)])
def test_a_year_without_data_follows_the_weekend_rule(client, year, working_days):
    body = client.get(f"/api/v1/calendar/{year}").json()
    assert body["basis"] == "weekend_rule"
    assert body["official"] is False
    assert (body["holidays"], body["makeup_workdays"]) == ([], [])
    assert body["working_days"] == working_days


def test_loading_the_next_year_extends_coverage(client, admin_token, directory, engine, clock):
    response = put_2027(client, admin_token)
    assert response.status_code == 200
    assert response.json() == {
        "year": 2027,
        "holidays": 17,
        "makeup_workdays": 3,
        "reports_moved": 0,
    }

    body = client.get("/api/v1/calendar/2027").json()
    assert body["basis"] == "loaded"
    assert body["official"] is True
    assert body["source"] == "国务院办公厅关于2027年部分节假日安排的通知"
    assert body["loaded_by"] == f"unit:{directory.province}:admin"
    assert datetime.fromisoformat(body["loaded_at"]) == clock.now()
    assert body["working_days"] == 253
    assert body["holidays"] == NOTICE_2027_PERIODS
    assert [m["date"] for m in body["makeup_workdays"]] == [
        "2027-02-14",
        "2027-09-26",
        "2027-10-09",
    ]

    coverage = client.get("/api/v1/calendar/coverage").json()
    assert (coverage["covered_until"], coverage["days_left"], coverage["warning"]) == (
        "2027-12-31",
        403,
        False,
    )
    with Session(engine) as session:
        calendar = get_calendar(session)
    assert calendar.add_workdays(date(2026, 12, 30), 2) == date(2027, 1, 4)
    assert calendar.is_official(date(2027, 1, 4))


def test_reloading_a_year_replaces_its_days(client, admin_token, engine):
    assert put_2027(client, admin_token).status_code == 200
    # Same instant, same number of days: only the content differs, and that must be noticed.
    corrected = [
        *NOTICE_2027_PERIODS[:2],
        {"name": "国庆节", "start": "2027-10-02", "end": "2027-10-08"},
    ]
    response = put_2027(client, admin_token, holidays=corrected)
    assert response.status_code == 200
    assert response.json()["holidays"] == 17

    assert client.get("/api/v1/calendar/2027").json()["holidays"] == corrected
    with Session(engine) as session:
        calendar = get_calendar(session)
        days = session.exec(select(CalendarDay.day).where(CalendarDay.year == 2027)).all()
    assert calendar.is_workday(date(2027, 10, 1))
    assert not calendar.is_workday(date(2027, 10, 8))
    assert len(days) == 20


def test_a_packaged_year_can_be_corrected(client, admin_token, engine):
    without_october_10 = [m for m in NOTICE_EXAMPLE["makeup_workdays"] if m["date"] != "2026-10-10"]
    response = client.put(
        "/api/v1/calendar/2026",
        json=NOTICE_EXAMPLE | {"makeup_workdays": without_october_10},
        headers=bearer(admin_token),
    )
    assert response.status_code == 200
    assert response.json()["makeup_workdays"] == 5
    assert client.get("/api/v1/calendar/2026").json()["basis"] == "loaded"
    with Session(engine) as session:
        calendar = get_calendar(session)
    assert calendar.add_workdays(date(2026, 10, 9), 1) == date(2026, 10, 12)
    assert calendar.covered_until == date(2026, 12, 31)


def test_loading_needs_an_admin_token(client, directory, engine):
    body = notice_2027_fields()
    assert client.put("/api/v1/calendar/2027", json=body).status_code == 401
    response = client.put(
        "/api/v1/calendar/2027", json=body, headers=directory.auth("supervisor_a")
    )
    assert response.status_code == 403
    assert stored_years(engine) == []


def test_an_invalid_notice_is_refused_with_its_problems_and_changes_nothing(
    client, admin_token, engine
):
    response = put_2027(
        client,
        admin_token,
        holidays=[{"name": "元旦", "start": "2027-01-01", "end": "2028-01-02"}],
        makeup_workdays=[{"name": "春节", "date": "2027-02-15"}],
    )
    assert response.status_code == 422
    assert response.json()["code"] == "calendar_notice_invalid"
    assert response.json()["detail"].startswith("2027年日历未载入，请按国务院通知改正后重新提交：")
    english = put_2027(
        client,
        admin_token,
        holidays=[{"name": "元旦", "start": "2027-01-01", "end": "2028-01-02"}],
        makeup_workdays=[{"name": "春节", "date": "2027-02-15"}],
        language="en",
    )
    assert english.json()["detail"] == (
        "calendar 2027 not loaded: holiday 元旦 2027-01-01–2028-01-02 is not inside 2027; a "
        "notice's days in 2028 go into the calendar of 2028: load them there; make-up working "
        "day 春节 2027-02-15 is a Monday, already a working day: make-up working days fall on a "
        "Saturday or Sunday"
    )
    assert stored_years(engine) == []
    assert client.get("/api/v1/calendar/2027").json()["basis"] == "weekend_rule"


def test_a_failed_reload_keeps_the_previous_days(client, admin_token):
    assert put_2027(client, admin_token).status_code == 200
    bad = [{"name": "春节", "date": "2027-02-07"}]
    response = put_2027(client, admin_token, makeup_workdays=bad)
    assert response.status_code == 422
    assert (
        "2027-02-07 is both a holiday (春节) and a make-up working day (春节)"
        in (response.json()["detail"])
    )
    assert client.get("/api/v1/calendar/2027").json()["holidays"] == NOTICE_2027_PERIODS


def test_a_year_past_the_next_one_is_refused(client, admin_token):
    response = client.put(
        "/api/v1/calendar/2028",
        json=notice_2027_fields(
            holidays=[{"name": "元旦", "start": "2028-01-01", "end": "2028-01-03"}],
            makeup_workdays=[],
        ),
        headers=bearer(admin_token),
    )
    assert response.status_code == 422
    assert "load 2027 before 2028" in response.json()["detail"]


def test_a_misspelt_key_is_refused(client, admin_token):
    body = notice_2027_fields()
    body["makeup_days"] = body.pop("makeup_workdays")
    response = client.put("/api/v1/calendar/2027", json=body, headers=bearer(admin_token))
    assert response.status_code == 422
    assert {tuple(e["loc"]) for e in response.json()["errors"]} == {
        ("body", "makeup_workdays"),
        ("body", "makeup_days"),
    }


def test_loading_moves_the_due_dates_of_open_reports(client, admin_token, directory, clock):
    # Received Monday 2026-12-28: 15 working days run into 2027, on the weekend rule until the
    # notice says 2027-01-01 is a holiday.
    clock.set(local(2026, 12, 28, 10, 0))
    receipt = client.post(
        "/api/v1/reports",
        json={
            "site_code": directory.site_a1,
            "page_url": f"https://{directory.host_a1}/news/1.html",
            "category": 4,
            "description": "第三段“截止日期”写成了“截至日期”。",
        },
    ).json()
    assert datetime.fromisoformat(receipt["resolution_due_at"]) == local(
        2027, 1, 18, 23, 59, 59, 999000
    )

    assert put_2027(client, admin_token).json()["reports_moved"] == 1

    report = client.get(f"/api/v1/reports/{receipt['tracking_code']}").json()
    assert datetime.fromisoformat(report["first_reply_due_at"]) == local(
        2026, 12, 30, 23, 59, 59, 999000
    )
    assert datetime.fromisoformat(report["resolution_due_at"]) == local(
        2027, 1, 19, 23, 59, 59, 999000
    )
