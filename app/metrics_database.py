"""The /metrics document: this process's series (or every worker's) and the database's."""

import logging
import os
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from app import heartbeat
from app.config import Settings
from app.db import session_scope
from app.metrics import MULTIPROCESS_DIR_VARIABLE
from app.sla.models import EscalationRung, Notification
from app.stats.jobs import NIGHTLY_JOB
from app.workdays.service import coverage_status

log = logging.getLogger("zhaocuo.metrics")


def _timestamp(instant: datetime | None) -> float | None:
    return instant.timestamp() if instant else None


class DatabaseCollector:
    """Gauges (and the rung counter) computed from the database on every scrape."""

    def __init__(self, *, engine: Engine, settings: Settings, now: Callable[[], datetime]):
        self._engine = engine
        self._settings = settings
        self._now = now

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "zhaocuo_database_scrape_ok",
            "1 when the database answered this scrape's queries, 0 when it did not.",
        )
        try:
            with session_scope(self._engine) as session:
                metrics = list(self._from_database(session, self._now()))
        except Exception:
            log.exception("metrics: the database did not answer")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from metrics

    def _from_database(self, session: Session, now: datetime) -> Iterator[Metric]:
        pending = (
            col(Notification.delivered_at).is_(None),
            col(Notification.failed_at).is_(None),
            col(Notification.next_attempt_at).is_not(None),
        )
        depth, oldest = session.exec(
            select(func.count(), func.min(Notification.created_at)).where(*pending)
        ).one()
        failed = session.exec(
            select(func.count()).where(
                col(Notification.delivered_at).is_(None), col(Notification.failed_at).is_not(None)
            )
        ).one()
        outbox = GaugeMetricFamily(
            "zhaocuo_outbox_pending",
            "Notifications waiting to be pushed (queued or being retried), by channel.",
            labels=["channel"],
        )
        outbox.add_metric(["webhook"], depth)
        yield outbox
        age = GaugeMetricFamily(
            "zhaocuo_outbox_oldest_pending_age_seconds",
            "Age of the oldest notification still waiting to be pushed; 0 when none waits.",
            labels=["channel"],
        )
        age.add_metric(["webhook"], (now - oldest).total_seconds() if oldest else 0.0)
        yield age
        gave_up = GaugeMetricFamily(
            "zhaocuo_outbox_failed",
            "Notifications whose retries ran out, waiting for an operator's retry, by channel.",
            labels=["channel"],
        )
        gave_up.add_metric(["webhook"], failed)
        yield gave_up

        rungs = CounterMetricFamily(
            "zhaocuo_rungs_fired",
            "Escalation rungs fired since the start, by kind (reminder 提醒, urge 催办, "
            "supervise 督办).",
            labels=["rung"],
        )
        fired = dict(
            session.exec(
                select(EscalationRung.rung, func.count()).group_by(EscalationRung.rung)
            ).all()
        )
        for rung in ("reminder", "urge", "supervise"):
            rungs.add_metric([rung], fired.get(rung, 0))
        yield rungs

        beat = heartbeat.last_heartbeat_at(session=session)
        last_beat = GaugeMetricFamily(
            "zhaocuo_scheduler_last_heartbeat_timestamp_seconds",
            "When any scheduler last ran a job (Unix time); absent if none ever has.",
        )
        if beat is not None:
            last_beat.add_metric([], beat.timestamp())
        yield last_beat

        outcome = heartbeat.job_outcome(session=session, job=NIGHTLY_JOB)
        success = GaugeMetricFamily(
            "zhaocuo_nightly_report_last_success_timestamp_seconds",
            "When the nightly SLA report last ran without a failed day (Unix time).",
        )
        duration = GaugeMetricFamily(
            "zhaocuo_nightly_report_last_duration_seconds",
            "How long the last successful nightly SLA report run took.",
        )
        failure = GaugeMetricFamily(
            "zhaocuo_nightly_report_last_failure_timestamp_seconds",
            "When a nightly SLA report run last had a failed day (Unix time).",
        )
        failures = CounterMetricFamily(
            "zhaocuo_nightly_report_failures",
            "Nightly SLA report runs (scheduled or `zhaocuo sla-report`) with a failed day.",
        )
        if outcome is not None:
            if outcome.last_success_at is not None:
                success.add_metric([], _timestamp(outcome.last_success_at))
                duration.add_metric([], outcome.last_duration_seconds or 0.0)
            if outcome.last_failure_at is not None:
                failure.add_metric([], _timestamp(outcome.last_failure_at))
        failures.add_metric([], outcome.failures if outcome else 0)
        yield from (success, duration, failure, failures)

        coverage = coverage_status(session=session, now=now, settings=self._settings)
        days_left = GaugeMetricFamily(
            "zhaocuo_calendar_coverage_days_left",
            "Days from today to the last day of the official working-day calendar.",
        )
        days_left.add_metric([], coverage.days_left)
        yield days_left


class _ProcessMetrics:
    """This process's own series, or every worker's when they share a multiprocess directory."""

    def collect(self) -> Iterator[Metric]:
        if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            yield from registry.collect()
        else:
            yield from REGISTRY.collect()


def scrape(*, engine: Engine, settings: Settings, now: Callable[[], datetime]) -> tuple[bytes, str]:
    """The /metrics document and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ProcessMetrics())
    registry.register(DatabaseCollector(engine=engine, settings=settings, now=now))
    return generate_latest(registry), CONTENT_TYPE_LATEST
