"""Statistics on hand-built September 2026 data: exact figures, cut-offs, scope and access."""

import gc
from datetime import UTC

import pytest
from sqlmodel import Session

from app.config import Settings
from app.stats.queries import UnitRow
from app.stats.schemas import Flag, StatsOut
from app.stats.service import _collector_paused, tree_order
from tests.conftest import local
from tests.stats.conftest import AS_OF, September, compute, figures


def by_name(stats: StatsOut) -> dict[str, object]:
    return {unit.unit_name: unit for unit in stats.units}


DEPT_A1 = figures(
    received=6,  # R1 R2 R3 R4 R5 R6 (R6 counted by its current owner; R7 is October)
    declined=1,  # R3
    resolved=3,  # R1 R2 R6
    confirmed=2,  # R1 R6
    first_replies_due=4,  # R1 R2 R4 R6 (R5 is paused; R3 declined)
    first_replies_in_time=2,  # R1 R6
    late_first_replies=2,  # R2 answered late, R4 never answered
    handling_workdays_total=9,  # R1 4 + R2 4 + R6 1
    overdue_open=1,  # R4
    overdue_unanswered=1,  # R4: past its first-reply due, its resolution still ahead
    resolutions_not_due=2,  # R4 and R5, open with their resolution due after the cut-off
    duplicates_declined=1,  # R3
)
CITY_A_OWN = figures(
    received=1,
    resolved=1,
    first_replies_due=1,
    first_replies_in_time=1,
    handling_workdays_total=3,  # R9: 6 working days less 3 paused
)
DEPT_B1 = figures(
    received=1,
    resolved=1,
    confirmed=1,
    first_replies_due=1,
    first_replies_in_time=1,
    handling_workdays_total=25,
)


def test_each_unit_has_its_exact_figures_across_the_holidays(
    session: Session, settings: Settings, september: September
) -> None:
    stats = compute(session, settings, "2026-09", AS_OF, september.directory.province)
    units = by_name(stats)

    assert units["甲市教育局"].own == DEPT_A1
    assert DEPT_A1.valid == 5 and DEPT_A1.completion_rate == 0.6
    assert DEPT_A1.on_time_first_reply_rate == 0.5 and DEPT_A1.average_handling_workdays == 3.0
    assert units["甲市人民政府办公室"].own == CITY_A_OWN
    assert units["乙市教育局"].own == DEPT_B1
    assert units["乙市人民政府办公室"].own == figures()
    assert units["测试省人民政府办公厅"].own == figures()


def test_subtrees_sum_counts_and_recompute_rates(
    session: Session, settings: Settings, september: September
) -> None:
    stats = compute(session, settings, "2026-09", AS_OF, september.directory.province)
    units = by_name(stats)

    city_a = units["甲市人民政府办公室"].subtree
    assert city_a == figures(  # 甲市教育局 and 甲市人民政府办公室's own
        received=7,
        declined=1,
        resolved=4,
        confirmed=2,
        first_replies_due=5,
        first_replies_in_time=3,
        late_first_replies=2,
        handling_workdays_total=12,
        overdue_open=1,
        overdue_unanswered=1,
        resolutions_not_due=2,
        duplicates_declined=1,
    )
    assert city_a.valid == 6 and city_a.completion_rate == 4 / 6
    assert city_a.on_time_first_reply_rate == 3 / 5 and city_a.average_handling_workdays == 3.0
    assert units["乙市人民政府办公室"].subtree == DEPT_B1
    province = units["测试省人民政府办公厅"].subtree
    assert province == figures(
        received=8,
        declined=1,
        resolved=5,
        confirmed=3,
        first_replies_due=6,
        first_replies_in_time=4,
        late_first_replies=2,
        handling_workdays_total=37,
        overdue_open=1,
        overdue_unanswered=1,
        resolutions_not_due=2,
        duplicates_declined=1,
    )
    assert province.completion_rate == 5 / 7
    assert province.average_handling_workdays == 37 / 5  # not the mean of the units' means
    assert stats.totals == province
    assert stats.unrouted is None  # a subtree has no unrouted reports


def test_units_come_in_tree_order_with_levels(
    session: Session, settings: Settings, september: September
) -> None:
    stats = compute(session, settings, "2026-09", AS_OF, september.directory.province)
    assert [(unit.unit_name, unit.level) for unit in stats.units] == [
        ("测试省人民政府办公厅", 0),
        # Siblings in pinyin order: 甲 (jiǎ) before 乙 (yǐ), which code points would reverse.
        ("甲市人民政府办公室", 1),
        ("甲市教育局", 2),
        ("乙市人民政府办公室", 1),
        ("乙市教育局", 2),
    ]


def test_siblings_go_by_pinyin_then_id_and_units_cut_off_from_the_root_start_trees() -> None:
    units = [
        UnitRow(5, "乙", 1),
        UnitRow(1, "省", None),
        UnitRow(4, "甲", 1),
        UnitRow(3, "甲", 1),
        UnitRow(7, "丙", 3),
        UnitRow(6, "乙", 3),
        UnitRow(9, "丁", 42),  # its parent is outside the scope
    ]
    assert [(unit.unit_id, level) for unit, level in tree_order(units, 1)] == [
        (9, 0),
        (1, 0),
        (3, 1),  # 甲 (jiǎ), then by id
        (7, 2),
        (6, 2),
        (4, 1),
        (5, 1),  # 乙 (yǐ)
    ]


def test_the_collector_resumes_after_a_build_unless_paused_elsewhere() -> None:
    with pytest.raises(RuntimeError), _collector_paused():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with _collector_paused():
            pass
        assert not gc.isenabled()  # whoever paused it resumes it
    finally:
        gc.enable()


def test_flags_follow_the_thresholds(
    session: Session, settings: Settings, september: September
) -> None:
    stats = compute(session, settings, "2026-09", AS_OF, september.directory.province)
    flags = {unit.unit_name: unit.flags for unit in stats.units}
    assert flags == {
        "测试省人民政府办公厅": [],
        "甲市人民政府办公室": [],
        # 3 of 5 resolved (60%), but R4 and R5 are not due until after the cut-off: 3 of the 3
        # due are resolved, so no low completion yet; 2 late first replies.
        "甲市教育局": [Flag.late_first_replies],
        "乙市人民政府办公室": [],
        "乙市教育局": [Flag.slow_handling],  # 25 working days on average
    }

    lenient = settings.model_copy(
        update={"completion_rate_threshold": 0.6, "average_handling_threshold": 25.0}
    )
    stats = compute(session, lenient, "2026-09", AS_OF, september.directory.province)
    flags = {unit.unit_name: unit.flags for unit in stats.units}
    # 60% is not below 60%, and 25 days is not over 25.
    assert flags["甲市教育局"] == [Flag.late_first_replies]
    assert flags["乙市教育局"] == []


def test_rankings_leave_out_units_with_few_valid_reports(
    session: Session, settings: Settings, september: September
) -> None:
    stats = compute(session, settings, "2026-09", AS_OF, september.directory.province)
    # Only 甲市教育局 has 5 valid reports of its own.
    assert [(e.rank, e.unit_name, e.value) for e in stats.rankings.completion_rate] == [
        (1, "甲市教育局", 0.6)
    ]

    everyone = settings.model_copy(update={"ranking_min_valid": 1})
    stats = compute(session, everyone, "2026-09", AS_OF, september.directory.province)
    assert [(e.rank, e.unit_name, e.value) for e in stats.rankings.completion_rate] == [
        (1, "乙市教育局", 1.0),
        (1, "甲市人民政府办公室", 1.0),
        (3, "甲市教育局", 0.6),
    ]
    assert [(e.rank, e.unit_name, e.value) for e in stats.rankings.average_handling_workdays] == [
        (1, "甲市人民政府办公室", 3.0),
        (1, "甲市教育局", 3.0),
        (3, "乙市教育局", 25.0),
    ]


def test_a_cut_off_ignores_what_happened_after_it(
    session: Session, settings: Settings, september: September
) -> None:
    # Friday 9 October at noon: R1 and R2 are not answered yet, B1 is not resolved.
    stats = compute(
        session, settings, "2026-09", local(2026, 10, 9, 12, 0), september.directory.province
    )
    units = by_name(stats)
    assert units["甲市教育局"].own == figures(
        received=6,
        declined=1,
        resolved=1,
        confirmed=1,
        first_replies_due=3,  # R2 and R4 past due unanswered, R6 answered; R1 due tonight
        first_replies_in_time=1,
        late_first_replies=2,
        handling_workdays_total=1,
        overdue_open=2,  # R2 and R4: first reply overdue
        overdue_unanswered=2,  # … and neither past its resolution due
        resolutions_not_due=4,  # R2 R4 R5 R6
        duplicates_declined=1,  # R3
    )
    assert units["乙市教育局"].own == figures(
        received=1,
        first_replies_due=1,
        first_replies_in_time=1,
        overdue_open=1,  # resolution was due on 21 September
    )

    # Tuesday 29 September at 08:00: R1 and R2 are not received yet; R4 is due tonight.
    stats = compute(
        session, settings, "2026-09", local(2026, 9, 29, 8, 0), september.directory.province
    )
    assert by_name(stats)["甲市教育局"].own == figures(
        received=4,
        declined=1,
        resolved=1,
        confirmed=1,
        first_replies_due=1,
        first_replies_in_time=1,
        handling_workdays_total=1,
        resolutions_not_due=2,
        duplicates_declined=1,  # R3, declined on 21 September
    )


def test_periods_select_by_local_receipt_date(
    session: Session, settings: Settings, september: September
) -> None:
    province = september.directory.province
    october = compute(session, settings, "2026-10", AS_OF, province)
    # R7, received Thursday 8 October: its first reply was due on the make-up working day,
    # Saturday 10 October, so by Monday it is late and overdue.
    assert october.totals == figures(
        received=1,
        first_replies_due=1,
        late_first_replies=1,
        overdue_open=1,
        overdue_unanswered=1,
        resolutions_not_due=1,
    )
    quarter = compute(session, settings, "2026-Q3", AS_OF, province)
    assert quarter.totals == compute(session, settings, "2026-09", AS_OF, province).totals
    both = compute(session, settings, "2026-09-30..2026-10-08", AS_OF, province)
    assert both.totals.received == 2  # R1 and R7
    year = compute(session, settings, "2026", AS_OF, province)
    assert year.totals.received == 9


def test_every_unit_scope_counts_unrouted_reports_apart(
    session: Session, settings: Settings, september: September
) -> None:
    stats = compute(session, settings, "2026-09", AS_OF, None)
    assert stats.scope_unit_id is None
    assert stats.unrouted == 1  # U1
    assert stats.totals.received == 8


def test_a_supervisor_sees_its_own_subtree(client, september: September) -> None:
    d = september.directory
    response = client.get(
        "/api/v1/stats",
        params={"period": "2026-09", "as_of": AS_OF.isoformat()},
        headers=d.auth("supervisor_a"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope_unit_name"] == "甲市人民政府办公室"
    assert [unit["unit_name"] for unit in body["units"]["items"]] == [
        "甲市人民政府办公室",
        "甲市教育局",
    ]
    assert body["totals"]["received"] == 7
    assert body["totals"]["valid"] == 6
    assert body["totals"]["completion_rate"] == pytest.approx(4 / 6)
    assert body["as_of"] == "2026-10-12T18:00:00.000+08:00"

    inside = client.get(
        "/api/v1/stats",
        params={"period": "2026-09", "unit_id": d.dept_a1, "as_of": AS_OF.isoformat()},
        headers=d.auth("supervisor_a"),
    )
    assert [unit["unit_name"] for unit in inside.json()["units"]["items"]] == ["甲市教育局"]


def test_another_subtree_is_not_found_and_handlers_are_refused(
    client, september: September
) -> None:
    d = september.directory
    other = client.get(
        "/api/v1/stats",
        params={"period": "2026-09", "unit_id": d.dept_b1},
        headers=d.auth("supervisor_a"),
    )
    assert other.status_code == 404
    missing = client.get(
        "/api/v1/stats",
        params={"period": "2026-09", "unit_id": 999999},
        headers=d.auth("supervisor_a"),
    )
    assert missing.status_code == 404
    assert missing.json()["detail"] == other.json()["detail"].replace(str(d.dept_b1), "999999")
    assert client.get("/api/v1/stats", params={"period": "2026-09"}).status_code == 401
    refused = client.get(
        "/api/v1/stats", params={"period": "2026-09"}, headers=d.auth("handler_a1")
    )
    assert refused.status_code == 403


def test_an_admin_sees_every_unit_and_the_unrouted(client, september: September) -> None:
    d = september.directory
    response = client.get(
        "/api/v1/stats",
        params={"period": "2026-09", "as_of": AS_OF.isoformat()},
        headers=d.auth("admin"),
    )
    body = response.json()
    assert body["scope_unit_id"] is None
    assert body["unrouted"] == 1
    assert len(body["units"]["items"]) == 5
    assert (body["units"]["total"], body["units"]["limit"], body["units"]["offset"]) == (5, 50, 0)
    second = client.get(
        "/api/v1/stats",
        params={"period": "2026-09", "as_of": AS_OF.isoformat(), "limit": 2, "offset": 2},
        headers=d.auth("admin"),
    ).json()
    assert second["units"]["items"] == body["units"]["items"][2:4]
    assert second["totals"] == body["totals"]


def test_bad_periods_and_future_cut_offs_are_explained(client, september: September) -> None:
    headers = september.directory.auth("admin")
    bad = client.get("/api/v1/stats", params={"period": "2026-13"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["code"] == "period_invalid"
    assert "2026-Q3（季度）" in bad.json()["detail"]
    # The app's clock stands at Monday 23 November 2026.
    future = client.get(
        "/api/v1/stats",
        params={"period": "2026-09", "as_of": local(2026, 12, 1, 0, 0).astimezone(UTC).isoformat()},
        headers=headers,
    )
    assert future.status_code == 422
    assert future.json() == {
        "detail": "截止时间 as_of 晚于当前时间：统计只能截至现在（2026-11-23T10:00:00.000+08:00），"
        "请改早一些",
        "code": "as_of_in_future",
    }


def test_statistics_default_to_now(client, september: September) -> None:
    response = client.get(
        "/api/v1/stats", params={"period": "2026-09"}, headers=september.directory.auth("admin")
    )
    assert response.json()["as_of"] == "2026-11-23T10:00:00.000+08:00"
