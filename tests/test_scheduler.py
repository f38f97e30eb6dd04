"""Scheduling: concurrent schedulers, leadership, crashes between claim and delivery, wiring."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, text
from sqlmodel import Session, select

from app import heartbeat
from app import scheduler as jobs
from app.auth import Principal, Role
from app.clock import FrozenClock
from app.config import Settings
from app.db import create_db_engine
from app.main import create_app
from app.reports import ratings, service
from app.reports.models import EventKind, Rating, Report, ReportEvent, Verdict
from app.reports.schemas import RatingIn, ReportCreate, ResolveIn
from app.scheduler import Leadership, ScheduledJobs, run_nightly, run_sweep
from app.sla.escalation import sweep
from app.sla.models import EscalationRung, NotificationKind, Rung
from app.sla.notify import deliver_due, insert_ignoring_conflict
from app.stats.jobs import NightlyResult
from app.stats.models import SlaReportRun
from tests.conftest import fetch, local
from tests.sla.helpers import CALENDAR, Receiver, notifications, rungs_of, set_webhook

ROOT = Path(__file__).resolve().parents[2]
postgres_only = pytest.mark.skipif(
    "postgresql" not in os.environ.get("ZHAOCUO_TEST_DATABASE_URL", ""),
    reason="several schedulers at once and the advisory lock need PostgreSQL "
    "(set ZHAOCUO_TEST_DATABASE_URL); SQLite runs one node, serialised by its write lock",
)


def seed_reports(engine: Engine, settings: Settings, site_code: str, count: int, at: datetime):
    """Reports received at one instant, written straight through the service."""
    ids = []
    with Session(engine) as session:
        for number in range(count):
            report = service.submit(
                session=session,
                report_in=ReportCreate(
                    site_code=site_code,
                    page_url=f"https://jyj.jia.example.gov.cn/page/{number}.html",
                    category=4,
                    description=f"第 {number} 页有错别字",
                ),
                now=at,
                calendar=CALENDAR,
                settings=settings,
            )
            ids.append(report.id)
        session.commit()
    return ids


def count(engine: Engine, query) -> int:
    return fetch(engine, query)[0]


def run_together(*calls):
    """Start the calls in threads at the same moment; their results, or their exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@postgres_only
def test_two_schedulers_at_once_fire_each_rung_and_push_each_row_once(
    directory, database_url, engine, settings
):
    receiver = Receiver()
    try:
        set_webhook(engine, directory.dept_a1, receiver.url)
        report_ids = seed_reports(
            engine, settings, directory.site_a1, 150, local(2026, 11, 23, 10, 0)
        )
        # Two scheduler processes: separate engines, no leader lock, small batches to interleave.
        engines = [create_db_engine(database_url) for _ in range(2)]
        now = local(2026, 11, 25, 10, 0)  # the reminders (due Tuesday night) are all due
        results = run_together(
            *[
                lambda e=e: sweep(
                    engine=e, now=now, settings=settings, calendar=CALENDAR, batch_size=10
                )
                for e in engines
            ]
        )
        assert sum(r.fired for r in results) == 150
        assert count(engine, select(func.count()).select_from(EscalationRung)) == 150
        assert (
            count(
                engine,
                select(func.count(func.distinct(EscalationRung.report_id))).where(
                    EscalationRung.rung == Rung.reminder
                ),
            )
            == 150
        )
        reminders = select(func.count()).where(ReportEvent.kind == EventKind.reminder)
        assert count(engine, reminders) == 150
        assert len(notifications(engine, kind=NotificationKind.reminder)) == 150

        small_batches = settings.model_copy(update={"outbox_batch_size": 10})

        def drain(engine: Engine, worker: str) -> int:
            delivered = 0
            while True:
                result = deliver_due(
                    engine=engine, now=now, settings=small_batches, calendar=CALENDAR, worker=worker
                )
                if result.claimed == 0:
                    return delivered
                delivered += result.delivered

        delivered = run_together(
            *[lambda e=e, w=w: drain(e, w) for e, w in zip(engines, "AB", strict=True)]
        )
        # 150 arrivals and 150 reminders, each POSTed exactly once, by one scheduler or the other.
        assert sum(delivered) == 300
        assert len(receiver.requests) == 300
        assert set(receiver.accepted.values()) == {1}
        assert {r.report_id for r in notifications(engine)} == set(report_ids)
        for e in engines:
            e.dispose()
    finally:
        receiver.stop()


def test_a_rung_claimed_twice_at_once_is_won_once(directory, engine, settings, database_url):
    [report_id] = seed_reports(engine, settings, directory.site_a1, 1, local(2026, 11, 23, 10, 0))
    values = {
        "report_id": report_id,
        "clock": 1,
        "rung": "urge",
        "due_at": local(2026, 11, 25, 16, 0),
        "fired_at": local(2026, 11, 26, 9, 0),
        "target_unit_ids": [],
    }
    other_engine = create_db_engine(database_url)
    first = Session(engine)
    assert insert_ignoring_conflict(session=first, model=EscalationRung, values=values) is not None
    outcome = {}

    def second_claim():
        with Session(other_engine) as second:
            # Waits for the first transaction (row lock on PostgreSQL, write lock on SQLite).
            outcome["id"] = insert_ignoring_conflict(
                session=second, model=EscalationRung, values=values
            )
            second.commit()

    thread = threading.Thread(target=second_claim)
    thread.start()
    time.sleep(0.3)  # let the second claim reach the database while the first is open
    first.commit()
    first.close()
    thread.join()
    other_engine.dispose()
    assert outcome == {"id": None}
    assert rungs_of(engine, report_id) == [(1, "urge", local(2026, 11, 25, 16, 0), [])]


@postgres_only
def test_one_scheduler_leads_and_another_takes_over_when_it_goes(
    directory, database_url, engine, settings
):
    engines = [create_db_engine(database_url) for _ in range(2)]
    first, second = (Leadership(e) for e in engines)
    try:
        assert first.is_leader() is True
        assert first.is_leader() is True  # holding, not taking again
        assert second.is_leader() is False
        # A follower does no work.
        seed_reports(engine, settings, directory.site_a1, 1, local(2026, 11, 23, 10, 0))
        clock = FrozenClock(local(2026, 11, 25, 10, 0))
        assert (
            run_sweep(engine=engines[1], clock=clock, settings=settings, leadership=second) is None
        )
        first.release()
        assert second.is_leader() is True
        assert first.is_leader() is False

        # The leader's connection dies (network, server restart): the lock goes with it.
        holders = (
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = :high AND objid = :low AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        key = {"high": jobs.LEADER_LOCK_KEY >> 32, "low": jobs.LEADER_LOCK_KEY & 0xFFFFFFFF}

        def lock_holders() -> list[int]:
            with engine.connect() as connection:
                return list(connection.execute(text(holders), key).scalars())

        [leader_pid] = lock_holders()
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": leader_pid})
        assert wait_for(lambda: lock_holders() == [])
        assert first.is_leader() is True
        assert second.is_leader() is False
    finally:
        first.release()
        second.release()
        for e in engines:
            e.dispose()


def test_on_sqlite_the_single_node_always_leads(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    assert Leadership(engine).is_leader() is True


CRASHING_SCHEDULER = """
import os, signal, sys
from datetime import datetime
from app.config import Settings
from app.db import create_db_engine
from app.sla import escalation, notify

url, now, moment = sys.argv[1], datetime.fromisoformat(sys.argv[2]), sys.argv[3]
settings = Settings(database_url=url, public_rate_limit="", scheduler="off")
engine = create_db_engine(url)

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if moment == "after-claiming-the-rung":
    escalation.enqueue = killed
    escalation.sweep(engine=engine, now=now, settings=settings)
else:
    escalation.sweep(engine=engine, now=now, settings=settings)
    notify._post = killed
    notify.deliver_due(engine=engine, now=now, settings=settings)
print("not killed")
"""


def run_crashing_scheduler(database_url: str, now: datetime, moment: str) -> None:
    process = subprocess.run(
        [sys.executable, "-c", CRASHING_SCHEDULER, database_url, now.isoformat(), moment],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == -signal.SIGKILL, process.stdout + process.stderr


@pytest.mark.parametrize("moment", ["after-claiming-the-rung", "after-claiming-the-push"])
def test_a_scheduler_killed_between_claim_and_delivery_delivers_after_restart(
    directory, database_url, engine, settings, moment
):
    receiver = Receiver()
    try:
        set_webhook(engine, directory.dept_a1, receiver.url)
        [report_id] = seed_reports(
            engine, settings, directory.site_a1, 1, local(2026, 11, 23, 10, 0)
        )
        now = local(2026, 11, 25, 10, 0)  # the reminder is due; working hours
        run_crashing_scheduler(database_url, now, moment)
        reminder_key = f"reminder:{report_id}:1:{directory.dept_a1}"
        if moment == "after-claiming-the-rung":
            # Killed inside the sweep's transaction: the claim died with it.
            assert rungs_of(engine, report_id) == []
            assert notifications(engine, kind=NotificationKind.reminder) == []
            assert sweep(engine=engine, now=now, settings=settings, calendar=CALENDAR).fired == 1
            deliver_due(engine=engine, now=now, settings=settings, calendar=CALENDAR)
        else:
            # Killed after the sweep committed and the push was claimed: the lease holds the
            # rows until it ends, then any scheduler sends them.
            assert len(rungs_of(engine, report_id)) == 1
            [reminder] = notifications(engine, kind=NotificationKind.reminder)
            assert reminder.claimed_by is not None and reminder.delivered_at is None
            assert (
                deliver_due(engine=engine, now=now, settings=settings, calendar=CALENDAR).claimed
                == 0
            )
            after_lease = now + timedelta(seconds=settings.outbox_lease_seconds)
            assert (
                sweep(engine=engine, now=after_lease, settings=settings, calendar=CALENDAR).fired
                == 0
            )
            deliver_due(engine=engine, now=after_lease, settings=settings, calendar=CALENDAR)
        assert receiver.accepted[reminder_key] == 1
        assert set(receiver.accepted.values()) == {1}
        assert len(rungs_of(engine, report_id)) == 1
    finally:
        receiver.stop()


def test_the_jobs_and_their_timetable(engine, settings):
    scheduled = ScheduledJobs(engine=engine, settings=settings)
    sweep_job = scheduled.scheduler.get_job(jobs.SWEEP_JOB_ID)
    delivery_job = scheduled.scheduler.get_job(jobs.DELIVERY_JOB_ID)
    nightly_job = scheduled.scheduler.get_job(jobs.NIGHTLY_JOB_ID)
    assert sweep_job.trigger.interval == timedelta(seconds=60)
    assert delivery_job.trigger.interval == timedelta(seconds=30)
    assert str(nightly_job.trigger) == "cron[hour='1', minute='30']"
    assert str(nightly_job.trigger.timezone) == "Asia/Shanghai"


def test_the_nightly_slot_settles_and_produces_every_night_missed_since_the_first_report(
    engine, settings, directory, tmp_path
):
    settings = settings.model_copy(update={"sla_report_dir": str(tmp_path)})
    first, _ = seed_reports(engine, settings, directory.site_a1, 2, local(2026, 11, 19, 10, 0))
    with Session(engine) as session:
        service.resolve(
            session=session,
            principal=Principal(token_id=0, unit_id=directory.dept_a1, role=Role.handler),
            report_id=first,
            resolve_in=ResolveIn(verdict=Verdict.confirmed, text="已更正。"),
            now=local(2026, 11, 20, 10, 0),
            calendar=CALENDAR,
            settings=settings,
        )
        # Rated, so final: a closing that can still be rated is not settled (its window runs
        # until 4 December).
        ratings.rate(
            session=session,
            tracking_code=session.get(Report, first).tracking_code,
            rating_in=RatingIn(rating=Rating.satisfied),
            now=local(2026, 11, 20, 12, 0),
            calendar=CALENDAR,
            settings=settings,
        )
        session.commit()
    leadership = Leadership(engine)
    try:
        clock = FrozenClock(local(2026, 11, 23, 1, 30))
        assert run_nightly(engine=engine, clock=clock, settings=settings, leadership=leadership)
    finally:
        leadership.release()
    with Session(engine) as session:
        produced = session.exec(select(SlaReportRun.report_date).order_by(SlaReportRun.report_date))
        assert list(produced) == [date(2026, 11, day) for day in (19, 20, 21, 22)]
        assert session.exec(select(Report.id).where(Report.settled)).all() == [first]


def wait_for(condition, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_an_embedded_scheduler_catches_up_at_start_and_stops_with_the_server(
    directory, engine, settings
):
    [report_id] = seed_reports(engine, settings, directory.site_a1, 1, local(2026, 11, 23, 10, 0))
    embedded = settings.model_copy(update={"scheduler": "embedded"})
    app = create_app(
        settings=embedded, engine=engine, clock=FrozenClock(local(2026, 11, 26, 10, 0))
    )
    with TestClient(app):
        scheduled = app.state.scheduled_jobs
        assert scheduled.scheduler.running
        # Down since Monday: the first sweep fires the reminder and the 催办, once each.
        assert wait_for(lambda: len(rungs_of(engine, report_id)) == 2)
    assert not scheduled.scheduler.running
    assert [rung[1] for rung in rungs_of(engine, report_id)] == ["reminder", "urge"]


def test_the_scheduler_command_runs_until_sigterm(directory, database_url, engine, settings):
    # Received a month before now, real time: its reminder and 催办 came due while no
    # scheduler ran. A month, not a week, so that even across the Spring Festival or National
    # Day holidays more than the two working days of the first-reply deadline have passed.
    received = datetime.now(local(2026, 1, 1).tzinfo).replace(microsecond=0) - timedelta(days=30)
    [report_id] = seed_reports(engine, settings, directory.site_a1, 1, received)
    environment = {**os.environ, "ZHAOCUO_DATABASE_URL": database_url, "ZHAOCUO_SCHEDULER": "off"}
    # The console script installed beside the running interpreter, wherever its venv is.
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "zhaocuo"), "scheduler"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for(lambda: len(rungs_of(engine, report_id)) >= 2), "no rung fired"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "scheduler stopped" in output
    assert [rung[1] for rung in rungs_of(engine, report_id)][:2] == ["reminder", "urge"]


def test_each_run_leaves_a_heartbeat_saying_what_it_did(engine, settings, directory):
    seed_reports(engine, settings, directory.site_a1, 2, local(2026, 11, 23, 10, 0))
    clock = FrozenClock(local(2026, 11, 25, 10, 0))  # both reminders are due
    started = local(2026, 11, 25, 9, 0)
    arguments = {
        "engine": engine,
        "clock": clock,
        "settings": settings,
        "leadership": Leadership(engine),
    }
    leading = jobs.with_heartbeat(
        run_sweep, job_id=jobs.SWEEP_JOB_ID, instance="node-a:1", started_at=started
    )
    standing_by = jobs.with_heartbeat(
        lambda **_: None, job_id=jobs.DELIVERY_JOB_ID, instance="node-b:2", started_at=started
    )

    leading(**arguments)
    standing_by(**arguments)

    with Session(engine) as session:
        beats = {
            beat.instance: (beat.last_job, beat.leader, beat.last_result, beat.last_run_at)
            for beat in session.exec(select(heartbeat.SchedulerHeartbeat))
        }
    assert beats == {
        "node-a:1": (
            "escalation_sweep",
            True,
            {"reports": 2, "fired": 2, "skipped": 0, "notifications": 2, "failed_report_ids": 0},
            local(2026, 11, 25, 10, 0),
        ),
        "node-b:2": ("outbox_delivery", False, {}, local(2026, 11, 25, 10, 0)),
    }


def test_a_nightly_run_is_summed_up_in_counts():
    result = NightlyResult(
        produced=[date(2026, 11, 21), date(2026, 11, 22)],
        failed={date(2026, 11, 20): "OSError: disk full"},
    )

    assert jobs._summary(result) == {"produced": 2, "by_another_scheduler": 0, "failed": 1}
    assert jobs._summary(None) == {}
