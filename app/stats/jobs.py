"""The nightly SLA report: one per local day, stored, written as files, queued for supervisors."""

import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app import heartbeat
from app.config import Settings
from app.db import session_scope
from app.reports.clocks import local_date
from app.sla import notify
from app.sla.models import NotificationKind
from app.stats import queries, service, settle
from app.stats.exports import SlaFormat, render_sla_report
from app.stats.models import SlaReportRun
from app.stats.schemas import SlaReportOut
from app.workdays.calendar import WorkCalendar
from app.workdays.sources import get_calendar

log = logging.getLogger("zhaocuo.stats")

NIGHTLY_JOB = "nightly_sla_report"


@dataclass
class NightlyResult:
    """What one run of the nightly report did; a run with any failed day is a failed run."""

    produced: list[date] = field(default_factory=list)
    by_another_scheduler: list[date] = field(default_factory=list)
    failed: dict[date, str] = field(default_factory=dict)  # day -> why

    @property
    def ok(self) -> bool:
        return not self.failed

    def failure_reason(self) -> str:
        """Why, one clause per distinct cause: "2026-09-01 to 2026-10-12 (42 days): OSError…"."""
        days_by_cause: dict[str, list[date]] = {}
        for day, why in sorted(self.failed.items()):
            days_by_cause.setdefault(why, []).append(day)
        clauses = []
        for why, days in days_by_cause.items():
            when = days[0].isoformat()
            if len(days) > 1:
                when += f" to {days[-1].isoformat()} ({len(days)} days)"
            clauses.append(f"{when}: {why}")
        return "; ".join(clauses)


def pending_report_dates(*, session: Session, now: datetime, settings: Settings) -> list[date]:
    """Days from the first report's receipt up to yesterday whose report is not stored yet."""
    first = queries.first_receipt_at(session=session)
    if first is None:
        return []
    start = local_date(first, settings.tz)
    yesterday = local_date(now, settings.tz) - timedelta(days=1)
    stored = set(
        session.exec(select(SlaReportRun.report_date).where(SlaReportRun.report_date >= start))
    )
    days = (start + timedelta(days=offset) for offset in range((yesterday - start).days + 1))
    return [day for day in days if day not in stored]


def _write_atomically(path: Path, content: bytes) -> None:
    # Readers never see half a file: write beside it, then rename over it.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_sla_files(*, report: SlaReportOut, directory: Path) -> list[Path]:
    """Write a report as JSON, CSV and XLSX into a directory; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for sla_format in SlaFormat:
        rendered = render_sla_report(report, sla_format)
        path = directory / rendered.filename
        _write_atomically(path, rendered.content)
        paths.append(path)
    return paths


def deliver_sla_report(
    *,
    session: Session,
    report_date: date,
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> int:
    """Queue each supervising unit's subtree summary in the notification outbox; return how many."""
    as_of = service.sla_snapshot_at(report_date, settings).astimezone(settings.tz)
    queued = 0
    for unit_id, figures in queries.sla_subtree_totals(
        session=session, report_date=report_date
    ).items():
        totals = {name: figures[name] for name in queries.SLA_FIELDS}
        notify.enqueue(
            session=session,
            unit_id=unit_id,
            kind=NotificationKind.nightly_report,
            payload={
                "report_date": report_date.isoformat(),
                "as_of": as_of.isoformat(),
                "unit_id": unit_id,
                "units_reporting": figures["units_reporting"],
                "totals": totals,
                "details": f"/api/v1/sla-reports/{report_date.isoformat()}?unit_id={unit_id}",
            },
            key=f"sla-report:{report_date.isoformat()}:{unit_id}",
            now=now,
            calendar=calendar,
            settings=settings,
        )
        queued += 1
    return queued


def produce_day(*, engine: Engine, report_date: date, now: datetime, settings: Settings) -> bool:
    """Produce, write and queue one day's report in one transaction; False if it existed."""
    with session_scope(engine) as session:
        run = service.produce_sla_report(
            session=session, report_date=report_date, now=now, settings=settings
        )
        if run is None:
            return False
        report = service.sla_report(
            session=session, report_date=report_date, scope=None, settings=settings
        )
        # Files first: if writing fails the transaction rolls back and the day stays pending.
        write_sla_files(report=report, directory=Path(settings.sla_report_dir))
        deliver_sla_report(
            session=session,
            report_date=report_date,
            now=now,
            calendar=get_calendar(session),
            settings=settings,
        )
    log.info("SLA report for %s: %d units", report_date, run.units)
    return True


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def record_nightly_outcome(
    *, engine: Engine, result: NightlyResult, now: datetime, duration_seconds: float
) -> None:
    """Store the run's success or failure, which /readyz and /metrics show."""
    with session_scope(engine) as session:
        if result.ok:
            heartbeat.record_success(
                session=session, job=NIGHTLY_JOB, at=now, duration_seconds=duration_seconds
            )
        else:
            heartbeat.record_failure(
                session=session, job=NIGHTLY_JOB, at=now, reason=result.failure_reason()
            )


def run_nightly_report(*, engine: Engine, now: datetime, settings: Settings) -> NightlyResult:
    """Produce every missing daily SLA report up to yesterday; each day succeeds or fails alone.

    A failed day stays pending and is retried on the next run; the run counts as failed.
    """
    started = time.monotonic()
    result = NightlyResult()
    with session_scope(engine) as session:
        days = pending_report_dates(session=session, now=now, settings=settings)
    for day in days:
        try:
            produce_day(engine=engine, report_date=day, now=now, settings=settings)
            result.produced.append(day)
        except IntegrityError:
            log.info("SLA report for %s was produced by another scheduler", day)
            result.by_another_scheduler.append(day)
        except Exception as exc:
            # Later days go ahead; this one is retried on the next run.
            log.exception("SLA report for %s failed; it will be retried on the next run", day)
            result.failed[day] = _why(exc)
    if not result.ok:
        log.error(
            "nightly SLA report failed for %d of %d day(s): %s",
            len(result.failed),
            len(days),
            result.failure_reason(),
        )
    record_nightly_outcome(
        engine=engine, result=result, now=now, duration_seconds=time.monotonic() - started
    )
    return result


def produce_one_day(
    *, engine: Engine, report_date: date, now: datetime, settings: Settings
) -> bool:
    """produce_day for an operator's `--date`, its outcome recorded like the nightly run's."""
    started = time.monotonic()
    try:
        produced = produce_day(engine=engine, report_date=report_date, now=now, settings=settings)
    except Exception as exc:
        log.exception("SLA report for %s failed", report_date)
        record_nightly_outcome(
            engine=engine,
            result=NightlyResult(failed={report_date: _why(exc)}),
            now=now,
            duration_seconds=time.monotonic() - started,
        )
        raise
    record_nightly_outcome(
        engine=engine,
        result=NightlyResult(produced=[report_date] if produced else []),
        now=now,
        duration_seconds=time.monotonic() - started,
    )
    return produced


def run_settle(*, engine: Engine, now: datetime, settings: Settings) -> settle.SettleResult:
    """Add the reports closed since the last run into the settled figures, in one transaction."""
    with session_scope(engine) as session:
        if engine.dialect.name == "postgresql":
            # One snapshot for adding and marking: a report closed meanwhile is left for later.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        result = settle.settle(session=session, now=now, settings=settings)
    if not result.reports and not result.rebuilt:
        return result
    log.info(
        "settled %d closed reports, received in %d months%s",
        result.reports,
        result.months,
        " (rebuilt for a new time zone)" if result.rebuilt else "",
    )
    return result
