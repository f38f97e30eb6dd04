"""The one place that schedules every domain's jobs: the escalation sweep, outbox delivery to
units and to citizens, and pause expiry (sla), settling and the nightly SLA report (stats).

It sits above every domain. The jobs run in one `zhaocuo scheduler` process, or inside a
single-node server when ZHAOCUO_SCHEDULER=embedded. Each run leaves a heartbeat row (which
/readyz and /metrics read) saying what it did.

On PostgreSQL a session advisory lock, held on a dedicated connection, makes one scheduler the
leader and the others wait; correctness does not depend on it (rungs are unique rows, outbox
rows are claimed atomically), it only saves duplicate work.
"""

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Connection, Engine, text

from app import heartbeat
from app.clock import Clock
from app.config import Settings
from app.db import session_scope
from app.reports.deadlines import recompute_open_deadlines
from app.sla.citizen import CitizenDeliveryResult, deliver_citizen_messages
from app.sla.escalation import SweepResult, sweep
from app.sla.notify import DeliveryResult, deliver_due
from app.sla.pauses import PauseExpiryResult, expire_pauses
from app.stats.jobs import NightlyResult, run_nightly_report, run_settle

log = logging.getLogger(__name__)

# pg_try_advisory_lock key shared by every zhaocuo scheduler on a database ("zhaocuo" in ASCII).
LEADER_LOCK_KEY = int.from_bytes(b"zhaocuo", "big")
SWEEP_JOB_ID = "escalation_sweep"
DELIVERY_JOB_ID = "outbox_delivery"
NIGHTLY_JOB_ID = "nightly_sla_report"
CITIZEN_DELIVERY_JOB_ID = "citizen_delivery"
PAUSE_EXPIRY_JOB_ID = "pause_expiry"


class Leadership:
    """Whether this process is the scheduler that runs the jobs; always so on SQLite."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._connection: Connection | None = None

    @property
    def uses_lock(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    def is_leader(self) -> bool:
        """Hold or take the advisory lock; False while another scheduler holds it."""
        if not self.uses_lock:
            # One node on SQLite; two schedulers there are still correct, only redundant.
            return True
        with self._lock:
            if self._connection is not None:
                try:
                    self._connection.execute(text("SELECT 1"))
                    return True
                except Exception:
                    # The lock died with its connection; someone else may hold it now.
                    log.warning("scheduler lost the leader lock's connection", exc_info=True)
                    self._close()
            # AUTOCOMMIT: the lock belongs to the session, and the connection must not sit
            # idle inside a transaction for as long as this process leads.
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                acquired = connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_KEY}
                ).scalar_one()
            except Exception:
                connection.close()
                raise
            if not acquired:
                connection.close()
                return False
            self._connection = connection
            log.info("this scheduler is now the leader")
            return True

    def release(self) -> None:
        """Give up leadership, so that another scheduler takes over at once."""
        with self._lock:
            if self._connection is None:
                return
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK_KEY}
                )
            except Exception:
                log.warning("could not release the leader lock; closing its connection")
            self._close()

    def _close(self) -> None:
        try:
            if self._connection is not None:
                # The connection carries a session lock: never hand it back to the pool.
                self._connection.invalidate()
                self._connection.close()
        finally:
            self._connection = None


def finish_calendar_recompute(*, engine: Engine, clock: Clock, settings: Settings) -> int | None:
    """Move open reports to a calendar whose load committed but whose recompute never ran.

    A crash between a load's commit and its recompute leaves the year pending; this finds it
    (one small query when nothing is pending) before each sweep, so no report keeps the old
    calendar's dates and the sweep fires on the new ones. Skipped while a load recomputes.
    """
    try:
        moved = recompute_open_deadlines(engine=engine, now=clock.now(), settings=settings)
    except Exception:
        log.exception("the pending calendar recompute failed; it is retried before the next sweep")
        return None
    if moved is not None:
        log.warning("finished a pending calendar recompute: %d open reports moved", moved)
    return moved


def run_sweep(
    *, engine: Engine, clock: Clock, settings: Settings, leadership: Leadership
) -> SweepResult | None:
    """The escalation sweep, if this scheduler leads."""
    if not leadership.is_leader():
        return None
    finish_calendar_recompute(engine=engine, clock=clock, settings=settings)
    result = sweep(engine=engine, now=clock.now(), settings=settings)
    if result.reports:
        log.info(
            "escalation sweep: %d reports, %d rungs fired, %d skipped, %d notifications, "
            "%d reports failed",
            result.reports,
            result.fired,
            result.skipped,
            result.notifications,
            len(result.failed_report_ids),
        )
    return result


def run_delivery(
    *, engine: Engine, clock: Clock, settings: Settings, leadership: Leadership
) -> DeliveryResult | None:
    """Push due outbox rows to webhooks, if this scheduler leads."""
    if not leadership.is_leader():
        return None
    result = deliver_due(engine=engine, now=clock.now(), settings=settings)
    if result.claimed:
        log.info(
            "outbox delivery: %d delivered, %d to retry, %d failed",
            result.delivered,
            result.retrying,
            result.failed,
        )
    return result


def run_citizen_delivery(
    *, engine: Engine, clock: Clock, settings: Settings, leadership: Leadership
) -> CitizenDeliveryResult | None:
    """Send due e-mail and SMS to citizens, if this scheduler leads (any hour; SMS rows wait
    out the quiet hours themselves)."""
    if not leadership.is_leader():
        return None
    result = deliver_citizen_messages(engine=engine, now=clock.now(), settings=settings)
    if result.claimed:
        log.info(
            "citizen messages: %d delivered, %d to retry, %d failed",
            result.delivered,
            result.retrying,
            result.failed,
        )
    return result


def run_pause_expiry(
    *, engine: Engine, clock: Clock, settings: Settings, leadership: Leadership
) -> PauseExpiryResult | None:
    """End the pauses that ran out and tell their units, if this scheduler leads."""
    if not leadership.is_leader():
        return None
    result = expire_pauses(engine=engine, now=clock.now(), settings=settings)
    if result.expired or result.failed_report_ids:
        log.info(
            "pause expiry: %d pauses ended, %d reports failed",
            result.expired,
            len(result.failed_report_ids),
        )
    return result


def run_nightly(
    *, engine: Engine, clock: Clock, settings: Settings, leadership: Leadership
) -> NightlyResult | None:
    """The nightly work, if this scheduler leads: settling closed reports, and the SLA report
    with every night missed since the last one (its failures are recorded, see stats.jobs)."""
    if not leadership.is_leader():
        return None
    now = clock.now()
    try:
        run_settle(engine=engine, now=now, settings=settings)
    except Exception:
        # Statistics stay right without it (they read the unsettled reports); retried tonight.
        log.exception("settling closed reports failed; it will be retried on the next run")
    return run_nightly_report(engine=engine, now=now, settings=settings)


def _summary(result: Any) -> dict[str, Any]:
    """What a job did (a result dataclass), as JSON for the heartbeat row; collections as counts."""
    if result is None:
        return {}
    summary: dict[str, Any] = {}
    for key, value in asdict(result).items():
        if isinstance(value, list | tuple | dict):
            value = len(value)
        elif not isinstance(value, int | float | str | bool):
            value = str(value)
        summary[key] = value
    return summary


def with_heartbeat(
    job: Callable[..., Any], *, job_id: str, instance: str, started_at: datetime
) -> Callable[..., Any]:
    """A job that, after each run, stores this scheduler's heartbeat and what the run did."""

    def run(*, engine: Engine, clock: Clock, settings: Settings, leadership: Leadership) -> Any:
        result = job(engine=engine, clock=clock, settings=settings, leadership=leadership)
        try:
            with session_scope(engine) as session:
                heartbeat.beat(
                    session=session,
                    instance=instance,
                    started_at=started_at,
                    job=job_id,
                    # A follower's result is None: it stood by while the leader worked.
                    leader=result is not None,
                    result=_summary(result),
                    now=clock.now(),
                )
        except Exception:
            log.exception("could not store the scheduler heartbeat")
        return result

    run.__name__ = job.__name__
    return run


def instance_name() -> str:
    """This scheduler process, as the heartbeat names it."""
    return f"{socket.gethostname()}:{os.getpid()}"


class ScheduledJobs:
    """The APScheduler jobs of one process, with its leadership."""

    def __init__(self, *, engine: Engine, settings: Settings, clock: Clock | None = None) -> None:
        self.leadership = Leadership(engine)
        clock = clock or Clock()
        arguments = {
            "engine": engine,
            "clock": clock,
            "settings": settings,
            "leadership": self.leadership,
        }
        self.scheduler = BackgroundScheduler(
            timezone=settings.tz,
            # A job still running when its next turn comes is not started twice; turns missed
            # while the process was busy or down collapse into one.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        started = datetime.now(settings.tz)
        self.instance = instance_name()

        def beating(job: Callable[..., Any], job_id: str) -> Callable[..., Any]:
            return with_heartbeat(
                job, job_id=job_id, instance=self.instance, started_at=clock.now()
            )

        # The first sweep runs at start-up: it fires every rung that came due while down.
        self.scheduler.add_job(
            beating(run_sweep, SWEEP_JOB_ID),
            IntervalTrigger(seconds=settings.sweep_interval_seconds, timezone=settings.tz),
            id=SWEEP_JOB_ID,
            kwargs=arguments,
            next_run_time=started,
        )
        self.scheduler.add_job(
            beating(run_delivery, DELIVERY_JOB_ID),
            IntervalTrigger(seconds=settings.outbox_interval_seconds, timezone=settings.tz),
            id=DELIVERY_JOB_ID,
            kwargs=arguments,
            next_run_time=started,
        )
        self.scheduler.add_job(
            beating(run_citizen_delivery, CITIZEN_DELIVERY_JOB_ID),
            IntervalTrigger(seconds=settings.outbox_interval_seconds, timezone=settings.tz),
            id=CITIZEN_DELIVERY_JOB_ID,
            kwargs=arguments,
            next_run_time=started,
        )
        self.scheduler.add_job(
            beating(run_pause_expiry, PAUSE_EXPIRY_JOB_ID),
            IntervalTrigger(seconds=settings.sweep_interval_seconds, timezone=settings.tz),
            id=PAUSE_EXPIRY_JOB_ID,
            kwargs=arguments,
            next_run_time=started,
        )
        self.scheduler.add_job(
            beating(run_nightly, NIGHTLY_JOB_ID),
            CronTrigger(
                hour=settings.nightly_report_time.hour,
                minute=settings.nightly_report_time.minute,
                timezone=settings.tz,
            ),
            id=NIGHTLY_JOB_ID,
            kwargs=arguments,
            # At start-up too: nights missed while the service was down are produced at once.
            next_run_time=started,
        )

    def start(self) -> None:
        # APScheduler says "Running job…" and "executed successfully" on every turn (thousands
        # of lines a day); the jobs log what they did themselves.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        self.scheduler.start()
        log.info("scheduler started: %s", ", ".join(job.id for job in self.scheduler.get_jobs()))

    def shutdown(self) -> None:
        """Let running jobs finish, then give up leadership."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.leadership.release()
        log.info("scheduler stopped")


def run_until_stopped(*, engine: Engine, settings: Settings) -> None:
    """Run the jobs in the foreground until SIGTERM or SIGINT."""
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("scheduler received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    jobs = ScheduledJobs(engine=engine, settings=settings)
    jobs.start()
    try:
        stop.wait()
    finally:
        jobs.shutdown()
