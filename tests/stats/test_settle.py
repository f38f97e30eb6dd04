"""Settled figures: closed reports added once per unit and month, and statistics unchanged."""

import os
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, func
from sqlmodel import Session, select

from app.config import Settings
from app.directory.models import Unit
from app.reports import service as reports
from app.reports.clocks import start_of_local_day
from app.reports.models import Category, Report, Verdict
from app.reports.schemas import ResolveIn
from app.stats.jobs import run_settle
from app.stats.models import SettledFigures, SettledState
from app.stats.periods import Period, parse_period
from app.stats.queries import unit_figure_counts
from app.stats.settle import settle, settled_months, whole_months, whole_years
from app.workdays.sources import get_calendar
from tests.conftest import local
from tests.stats.conftest import AFTER_RATING, AS_OF, September, compute, figures, handler

PERIODS = [
    "2026-09",
    "2026-10",
    "2026-Q3",
    "2026",
    "2026-09-15..2026-10-08",
    "2026-08-02..2026-10-31",
]


def every_scope(september: September) -> list[int | None]:
    d = september.directory
    return [None, d.province, d.city_a, d.dept_a1, d.dept_b1]


def snapshot(session: Session, settings: Settings, september: September, as_of) -> dict:
    """Every period's statistics for every scope, as JSON-ready data."""
    return {
        (period, scope): compute(session, settings, period, as_of, scope).model_dump()
        for period in PERIODS
        for scope in every_scope(september)
    }


def settled_rows(session: Session, months: int = 1) -> dict[tuple[str, date], dict[str, int]]:
    """The month's (or year's) rows by unit name and first day, without their zero counts."""
    rows = session.exec(
        select(SettledFigures, Unit.name).join(Unit).where(SettledFigures.months == months)
    ).all()
    return {
        (name, row.starts_on): {
            key: value
            for key, value in row.model_dump().items()
            if key not in ("unit_id", "starts_on", "months") and value
        }
        for row, name in rows
    }


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 9, 1), date(2026, 10, 1), (date(2026, 9, 1), date(2026, 10, 1))),
        (date(2026, 1, 1), date(2027, 1, 1), (date(2026, 1, 1), date(2027, 1, 1))),
        (date(2026, 9, 15), date(2026, 10, 9), None),
        (date(2026, 8, 2), date(2026, 11, 1), (date(2026, 9, 1), date(2026, 11, 1))),
        (date(2026, 12, 1), date(2027, 1, 1), (date(2026, 12, 1), date(2027, 1, 1))),
    ],
)
def test_whole_months_are_those_inside_the_dates(start, end, months) -> None:
    assert whole_months(start, end) == months


@pytest.mark.parametrize(
    ("first", "end", "years"),
    [
        (date(2026, 1, 1), date(2027, 1, 1), (date(2026, 1, 1), date(2027, 1, 1))),
        (date(2025, 12, 1), date(2027, 2, 1), (date(2026, 1, 1), date(2027, 1, 1))),
        (date(2025, 2, 1), date(2027, 1, 1), (date(2026, 1, 1), date(2027, 1, 1))),
        (date(2026, 2, 1), date(2026, 12, 1), (date(2026, 12, 1), date(2026, 12, 1))),
        (date(2025, 12, 1), date(2026, 3, 1), (date(2026, 3, 1), date(2026, 3, 1))),
    ],
)
def test_whole_years_are_those_inside_the_months(first, end, years) -> None:
    assert whole_years(first, end) == years


def test_each_closed_report_is_added_once_to_its_owner_and_month(
    session: Session, settings: Settings, september: September
) -> None:
    result = settle(session=session, now=AFTER_RATING, settings=settings)
    # R1 R2 R3 R6 of 甲市教育局, R9 of 甲市人民政府办公室, B1 of 乙市教育局; R4, R5 and R7
    # are open and U1 has no owner.
    assert (result.reports, result.months, result.rebuilt) == (6, 1, False)
    september_2026 = date(2026, 9, 1)
    assert settled_rows(session) == {
        ("甲市教育局", september_2026): {
            "received": 4,
            "declined": 1,  # R3
            "resolved": 3,
            "confirmed": 2,
            "first_replies_due": 3,
            "first_replies_in_time": 2,
            "late_first_replies": 1,  # R2
            "handling_workdays_total": 9,
            "duplicates_declined": 1,  # R3
        },
        ("甲市人民政府办公室", september_2026): {
            "received": 1,
            "resolved": 1,
            "first_replies_due": 1,
            "first_replies_in_time": 1,
            "handling_workdays_total": 3,
        },
        ("乙市教育局", september_2026): {
            "received": 1,
            "resolved": 1,
            "confirmed": 1,
            "first_replies_due": 1,
            "first_replies_in_time": 1,
            "handling_workdays_total": 25,
        },
    }
    # Each year's row holds the sum of its months'.
    assert settled_rows(session, months=12) == {
        (name, date(2026, 1, 1)): counts for (name, _), counts in settled_rows(session).items()
    }
    state = session.get(SettledState, 1)
    assert state.settled_through == local(2026, 10, 12, 11, 0)  # R1 and B1, the last closings
    assert state.settled_reports == 6 and state.timezone == "Asia/Shanghai"

    again = settle(session=session, now=AFTER_RATING, settings=settings)
    assert (again.reports, again.months) == (0, 0)
    assert sum(row["received"] for row in settled_rows(session).values()) == 6


def test_reports_closed_after_now_or_still_rateable_wait_for_a_later_run(
    session: Session, settings: Settings, september: September
) -> None:
    # R9 (resolved 15 September) and R6 (16 September) can no longer be rated: their windows
    # ended on 29 and 30 September. R3, declined on 21 September, can be rated until the end
    # of Monday 12 October (National Day in between); R2 (10 October) longer still; R1 and B1
    # are resolved on Monday 12 October at 11:00.
    assert settle(session=session, now=local(2026, 10, 12, 10, 0), settings=settings).reports == 2
    assert settle(session=session, now=AS_OF, settings=settings).reports == 0
    assert settle(session=session, now=local(2026, 10, 13, 0, 0), settings=settings).reports == 1
    assert settle(session=session, now=AFTER_RATING, settings=settings).reports == 3


def test_statistics_are_the_same_read_from_settled_figures(
    session: Session, settings: Settings, september: September
) -> None:
    before = snapshot(session, settings, september, AS_OF)
    settle(session=session, now=AFTER_RATING, settings=settings)
    september_2026 = parse_period("2026-09")
    used = settled_months(
        session=session,
        start=september_2026.start,
        next_day=september_2026.next_day,
        as_of=AS_OF,
        settings=settings,
    )
    assert used is not None and (used.first, used.end) == (date(2026, 9, 1), date(2026, 10, 1))
    assert snapshot(session, settings, september, AS_OF) == before


def test_a_cut_off_before_the_latest_settled_closing_reads_every_report(
    session: Session, settings: Settings, september: September
) -> None:
    friday_noon = local(2026, 10, 9, 12, 0)
    before = snapshot(session, settings, september, friday_noon)
    settle(session=session, now=AFTER_RATING, settings=settings)
    period = parse_period("2026-09")
    assert (
        settled_months(
            session=session,
            start=period.start,
            next_day=period.next_day,
            as_of=friday_noon,
            settings=settings,
        )
        is None
    )
    after = snapshot(session, settings, september, friday_noon)
    assert after == before
    # As test_stats has it: on Friday at noon R1 and R2 are not answered, B1 not resolved.
    dept_a1 = after[("2026-09", september.directory.dept_a1)]["totals"]
    assert (dept_a1["resolved"], dept_a1["late_first_replies"]) == (1, 2)


def test_a_report_closed_after_settling_counts_before_the_next_run(
    session: Session, settings: Settings, september: September
) -> None:
    settle(session=session, now=AS_OF, settings=settings)
    tuesday = local(2026, 10, 13, 10, 0)
    # R4, never answered, is resolved on Tuesday 13 October: late, and no longer overdue.
    reports.resolve(
        session=session,
        principal=handler(september.directory.dept_a1),
        report_id=september.ids["R4"],
        resolve_in=ResolveIn(verdict=Verdict.not_confirmed, text="已处理。"),
        now=tuesday,
        calendar=get_calendar(session),
        settings=settings,
    )
    dept_a1 = september.directory.dept_a1
    expected = figures(
        received=6,
        declined=1,
        resolved=4,
        confirmed=2,
        first_replies_due=4,
        first_replies_in_time=2,
        late_first_replies=2,
        handling_workdays_total=9 + 8,  # R4: received on the Mid-autumn holiday, 8 working days
        resolutions_not_due=1,  # R5, waiting for the citizen
        duplicates_declined=1,  # R3
    )
    assert compute(session, settings, "2026-09", tuesday, dept_a1).totals == expected
    # R1, R2, R3 and B1 settled now, and R4, whose rating window has passed too.
    assert settle(session=session, now=AFTER_RATING, settings=settings).reports == 5
    assert compute(session, settings, "2026-09", tuesday, dept_a1).totals == expected


def test_another_time_zone_rebuilds_the_months(
    session: Session, settings: Settings, september: September
) -> None:
    settle(session=session, now=AFTER_RATING, settings=settings)
    utc = settings.model_copy(update={"timezone": "UTC"})
    # Until rebuilt, the Shanghai months are not used for UTC statistics.
    period = parse_period("2026-09")
    arguments = {"start": period.start, "next_day": period.next_day, "as_of": AS_OF}
    assert settled_months(session=session, settings=utc, **arguments) is None
    before = snapshot(session, utc, september, AS_OF)
    result = settle(session=session, now=AFTER_RATING, settings=utc)
    assert (result.reports, result.rebuilt) == (6, True)
    assert session.get(SettledState, 1).timezone == "UTC"
    assert settled_months(session=session, settings=utc, **arguments) is not None
    assert snapshot(session, utc, september, AS_OF) == before


def test_the_job_commits_and_settles_nothing_twice(
    engine: Engine, settings: Settings, session: Session, september: September
) -> None:
    session.commit()
    assert run_settle(engine=engine, now=AFTER_RATING, settings=settings).reports == 6
    assert run_settle(engine=engine, now=AFTER_RATING, settings=settings).reports == 0
    with Session(engine) as fresh:
        settled = fresh.exec(select(func.count()).where(Report.settled)).one()
        assert settled == 6


# --- any reports, any settling time, any period and cut-off -------------------------------

AUGUST = local(2026, 8, 1, 0, 0)
OUTCOMES = ("assigned", "replied", "awaiting_citizen", "resolved", "declined")


def hours(draw, low: int, high: int) -> timedelta:
    return timedelta(hours=draw(st.integers(low, high)))


@st.composite
def random_report(draw, unit_ids: list[int]) -> dict:
    """A report as the lifecycle leaves it: a response before any closing, and so on."""
    if draw(st.integers(0, 4)):
        received = AUGUST + hours(draw, 0, 240 * 24)
    else:  # on the stroke of a month's first midnight, where the settled months begin
        received = local(*draw(st.sampled_from([(2026, 9), (2026, 12), (2027, 1), (2027, 3)])), 1)
    status = draw(st.sampled_from(OUTCOMES))
    responded = received + hours(draw, 1, 200)
    closed = responded + hours(draw, 0, 600)
    row = {
        "owner_unit_id": draw(st.sampled_from(unit_ids)),
        "status": status,
        "received_at": received,
        "assigned_at": received,
        "first_reply_due_at": received + hours(draw, 24, 96),
        "resolution_due_at": received + hours(draw, 15 * 24, 25 * 24),
    }
    if status == "replied":
        row |= {"first_responded_at": responded, "first_replied_at": responded}
    if status == "awaiting_citizen":
        row["paused_at"] = received + hours(draw, 1, 300)
    if status in ("resolved", "declined"):
        row |= {
            "first_responded_at": responded,
            "closed_at": closed,
            "handling_workdays": draw(st.integers(0, 30)),
        }
    if status == "resolved":
        row["verdict"] = draw(st.sampled_from(list(Verdict)))
    return row


@st.composite
def random_period(draw) -> Period:
    kind = draw(st.sampled_from(["month", "year", "range", "year and months"]))
    if kind == "month":
        month = date(2026, 8, 1) + timedelta(days=31 * draw(st.integers(0, 8)))
        return parse_period(f"{month:%Y-%m}")
    if kind == "year":
        return parse_period(draw(st.sampled_from(["2026", "2027"])))
    if kind == "range":
        start = date(2026, 7, 20) + timedelta(days=draw(st.integers(0, 250)))
        end = start + timedelta(days=draw(st.integers(0, 300)))
    else:  # the whole year 2026 with months, or parts of months, on either side
        start = date(2025, 12, 1) + timedelta(days=draw(st.integers(0, 31)))
        end = date(2026, 12, 31) + timedelta(days=draw(st.integers(0, 100)))
    return parse_period(f"{start.isoformat()}..{end.isoformat()}")


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_settled_figures_never_change_a_statistic(
    session: Session, settings: Settings, directory, data
) -> None:
    session.commit()
    units = [directory.province, directory.city_a, directory.dept_a1, directory.dept_b1]
    try:
        rows = data.draw(st.lists(random_report(units), min_size=10, max_size=60))
        for number, row in enumerate(rows):
            session.add(
                Report(
                    tracking_code=f"P{number}",
                    category=Category.typo,
                    page_url="https://www.example.gov.cn/",
                    description="随机留言",
                    **row,
                )
            )
        session.flush()
        settled_at = AUGUST + hours(data.draw, 60 * 24, 300 * 24)
        settle(session=session, now=settled_at, settings=settings)
        period = data.draw(random_period())
        # Mostly after the latest settled closing, when the settled figures are read.
        as_of = settled_at + hours(data.draw, -200, 2000)
        start = start_of_local_day(period.start, settings.tz)
        end = start_of_local_day(period.next_day, settings.tz)
        months = settled_months(
            session=session,
            start=period.start,
            next_day=period.next_day,
            as_of=as_of,
            settings=settings,
        )
        for scope_root_id, scope_unit_ids in (
            (None, None),
            (directory.city_a, [directory.city_a, directory.dept_a1]),
        ):
            arguments = {
                "session": session,
                "scope_root_id": scope_root_id,
                "scope_unit_ids": scope_unit_ids,
                "start": start,
                "end": end,
                "as_of": as_of,
            }
            expected = unit_figure_counts(**arguments, settled=None)
            assert unit_figure_counts(**arguments, settled=months) == expected
    finally:
        session.rollback()


@pytest.mark.skipif(
    "postgresql" not in os.environ.get("ZHAOCUO_TEST_DATABASE_URL", ""),
    reason="needs PostgreSQL (set ZHAOCUO_TEST_DATABASE_URL): on SQLite a settle holds the "
    "write lock, so no report can close while it runs",
)
def test_a_report_closed_while_settling_is_left_for_the_next_run(
    engine: Engine, settings: Settings, session: Session, september: September
) -> None:
    session.commit()
    tuesday = local(2026, 10, 13, 10, 0)

    def resolve_r4_elsewhere(connection, cursor, statement, parameters, context, executemany):
        # Between adding the month's figures and marking its reports: the worst moment.
        if statement.startswith("UPDATE report SET settled") and not resolved:
            resolved.append(True)
            with Session(engine) as other:
                reports.resolve(
                    session=other,
                    principal=handler(september.directory.dept_a1),
                    report_id=september.ids["R4"],
                    resolve_in=ResolveIn(verdict=Verdict.not_confirmed, text="已处理。"),
                    now=tuesday,
                    calendar=get_calendar(other),
                    settings=settings,
                )
                other.commit()

    resolved: list[bool] = []
    event.listen(engine, "before_cursor_execute", resolve_r4_elsewhere)
    try:
        assert run_settle(engine=engine, now=AFTER_RATING, settings=settings).reports == 6
    finally:
        event.remove(engine, "before_cursor_execute", resolve_r4_elsewhere)
    assert resolved

    with Session(engine) as fresh:
        assert not fresh.get(Report, september.ids["R4"]).settled
        dept_a1 = september.directory.dept_a1
        # R4 counts, from the reports, until the next run adds it to the settled figures.
        totals = compute(fresh, settings, "2026-09", tuesday, dept_a1).totals
        assert (totals.received, totals.resolved) == (6, 4)
    assert run_settle(engine=engine, now=AFTER_RATING, settings=settings).reports == 1
    with Session(engine) as fresh:
        assert compute(fresh, settings, "2026-09", tuesday, dept_a1).totals == totals
