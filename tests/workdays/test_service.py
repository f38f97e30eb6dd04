"""The cached calendar must follow loads made by any process, and never keep a rolled-back one."""

import threading
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from app.config import get_settings
from app.db import session_scope
from app.errors import Unprocessable
from app.workdays.models import CalendarDay, CalendarYear
from app.workdays.service import coverage_status, load_year
from app.workdays.sources import get_calendar, held_calendar
from tests.conftest import local
from tests.workdays.notices import notice_2027

NOW = local(2026, 11, 23, 10, 0)


def load_2027_elsewhere(engine, **changes) -> None:
    """What another API process does: load 2027 in its own committed transaction."""
    with session_scope(engine) as other:
        load_year(
            session=other,
            year=2027,
            notice=notice_2027(**changes),
            now=NOW,
            actor="test",
            settings=get_settings(),
        )


def test_a_load_committed_elsewhere_is_seen_at_the_next_call(engine, session):
    assert get_calendar(session).covered_until == date(2026, 12, 31)
    session.rollback()  # end the read transaction, as a request would

    load_2027_elsewhere(engine)
    assert get_calendar(session).covered_until == date(2027, 12, 31)
    assert not get_calendar(session).is_workday(date(2027, 1, 1))
    session.rollback()

    # A second load at the same instant with as many days: only its content tells it apart.
    load_2027_elsewhere(
        engine, holidays=[{"name": "元旦", "start": "2027-01-02", "end": "2027-01-04"}]
    )
    calendar = get_calendar(session)
    assert calendar.is_workday(date(2027, 1, 1))
    assert not calendar.is_workday(date(2027, 1, 4))


def test_an_unchanged_database_gives_the_same_calendar_object(session):
    assert get_calendar(session) is get_calendar(session)


def test_a_rolled_back_load_leaves_no_trace(session):
    # A load commits the calendar before it moves the reports (in batches), so what can roll
    # back is the calendar's own rows, written and read in one transaction.
    session.add(CalendarYear(year=2027, source="test", version="rolled-back", loaded_by="test"))
    session.flush()
    session.add(CalendarDay(day=date(2027, 1, 1), year=2027, is_workday=False, name="元旦"))
    session.flush()
    assert get_calendar(session).covered_until == date(2027, 12, 31)
    session.rollback()

    assert get_calendar(session).covered_until == date(2026, 12, 31)
    assert session.exec(select(CalendarYear)).all() == []
    assert session.exec(select(CalendarDay)).all() == []


def test_load_records_who_loaded_what(session):
    result = load_year(
        session=session,
        year=2027,
        notice=notice_2027(),
        now=NOW,
        actor="cli:ops",
        settings=get_settings(),
    )
    assert (result.year, result.holidays, result.makeup_workdays) == (2027, 17, 3)
    record = session.get(CalendarYear, 2027)
    assert (record.source, record.loaded_by, record.loaded_at) == (
        "国务院办公厅关于2027年部分节假日安排的通知",
        "cli:ops",
        NOW,
    )
    day = session.get(CalendarDay, date(2027, 2, 14))
    assert (day.year, day.is_workday, day.name) == (2027, True, "春节")


def test_load_refuses_an_invalid_notice_before_writing(session):
    with pytest.raises(Unprocessable, match="2029年日历未载入"):
        load_year(
            session=session,
            year=2029,
            notice=notice_2027(),
            now=NOW,
            actor="test",
            settings=get_settings(),
        )
    assert session.exec(select(CalendarYear)).all() == []


@pytest.mark.parametrize(
    ("today", "days_left", "warning"),
    [(date(2026, 10, 31), 61, False), (date(2026, 11, 1), 60, True), (date(2027, 2, 1), -32, True)],
)
def test_coverage_status(session, settings, today, days_left, warning):
    now = local(today.year, today.month, today.day, 10, 0)
    status = coverage_status(session=session, now=now, settings=settings)
    assert (status.covered_until, status.days_left, status.warning) == (
        date(2026, 12, 31),
        days_left,
        warning,
    )


def test_coverage_status_counts_from_the_local_date(session, settings):
    # 16:30 UTC on 31 October is already 1 November in Shanghai.
    now = datetime(2026, 10, 31, 16, 30, tzinfo=UTC)
    status = coverage_status(session=session, now=now, settings=settings)
    assert (status.days_left, status.warning) == (60, True)


def test_coverage_status_uses_the_given_warning_period(session, settings):
    settings = settings.model_copy(update={"calendar_warning_days": 30})
    status = coverage_status(session=session, now=local(2026, 11, 1, 10, 0), settings=settings)
    assert (status.days_left, status.warning) == (60, False)
    assert status.message == "the official calendar covers up to 2026-12-31, 60 days away"


def test_a_load_waits_for_the_transaction_holding_the_calendar(engine):
    # A request computing due dates holds the calendar (shared, PostgreSQL) or the write lock
    # (SQLite) until it commits; a load waits for it, then loads: no 409, no server error.
    first, second = Session(engine), Session(engine)
    outcome: list[str] = []

    def load_second() -> None:
        load_year(
            session=second,
            year=2027,
            notice=notice_2027(),
            now=NOW,
            actor="second",
            settings=get_settings(),
        )
        second.commit()
        outcome.append("loaded")

    try:
        held_calendar(first)
        thread = threading.Thread(target=load_second)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the load must wait for the transaction holding the calendar"
        first.commit()
        thread.join()
    finally:
        first.close()
        second.close()

    with Session(engine) as session:
        loaded_by = session.get(CalendarYear, 2027).loaded_by
        days = session.exec(select(CalendarDay.day)).all()
    assert len(days) == 20
    assert (outcome, loaded_by) == (["loaded"], "second")
