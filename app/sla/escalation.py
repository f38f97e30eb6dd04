"""The escalation ladder: planning each report's next rung, and the sweep that fires due rungs.

Each running clock has a ladder: a reminder to the owner unit when `reminder_workdays_before`
working days are left before first-reply due (fired at the end of the last working day before
them, so the notice goes out as working hours open), 催办 to the owner and its parent at
first-reply overdue, and 督办 to the parent and grandparent at resolution overdue. A report
carries only its next rung (`next_rung`, `next_rung_at`, indexed); the sweep reads the due ones
with `WHERE next_rung_at <= now ORDER BY next_rung_at LIMIT batch`, so its cost follows the
rungs due, not the open reports.

A rung fires by inserting its unique (report, clock, rung) row: the insert that wins is the
claim, and the event, the outbox rows and the next rung are written in the same transaction.
A batch's rungs are claimed by one multi-row INSERT … ON CONFLICT DO NOTHING RETURNING, their
events and outbox rows written in bulk and the reports replanned in one flush, so a batch
costs a handful of statements whatever the number of its rungs.
A second scheduler, a retry or a restart finds the row and fires nothing; a crash before the
commit leaves nothing behind, and the next sweep fires the rung again.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import object_session
from sqlmodel import Session, col, select

from app.config import Settings
from app.db import dialect_insert, session_scope
from app.directory.models import Site, Unit
from app.reports.clocks import end_of_local_day, local_date
from app.reports.models import RUNNING_STATUSES, EventKind, Report, ReportEvent
from app.sla.models import RUNG_LABELS, EscalationRung, NotificationKind, Rung

# One name for writing to the outbox from the sweep (tests stop a sweep right there).
from app.sla.notify import enqueue_many as enqueue
from app.sla.notify import report_summary
from app.workdays.calendar import WorkCalendar
from app.workdays.sources import get_calendar

log = logging.getLogger(__name__)

LADDER: tuple[Rung, ...] = (Rung.reminder, Rung.urge, Rung.supervise)
SCHEDULER_ACTOR = "scheduler"
# Past this many failing reports in one sweep the cause is not one report: stop and let the
# next sweep start over, rather than scan the same failures again and again.
MAX_FAILURES_PER_SWEEP = 1000


def _is_running(report: Report) -> bool:
    return (
        report.status in RUNNING_STATUSES
        and report.closed_at is None
        and report.assigned_at is not None
        and report.first_reply_due_at is not None
        and report.resolution_due_at is not None
    )


def _rung_applies(report: Report, rung: Rung) -> bool:
    """Whether a rung still has a reason to fire: reminders and 催办 stop at the first response."""
    if not _is_running(report):
        return False
    if rung in (Rung.reminder, Rung.urge):
        return report.first_responded_at is None
    return True


def ladder(
    *, report: Report, calendar: WorkCalendar, settings: Settings
) -> list[tuple[Rung, datetime]]:
    """The rungs of the current clock that still apply, in ladder order, with due instants."""
    if not _is_running(report):
        return []
    rungs: list[tuple[Rung, datetime]] = []
    if report.first_responded_at is None:
        if settings.reminder_workdays_before > 0:
            first_due_day = local_date(report.first_reply_due_at, settings.tz)
            reminder_day = calendar.add_workdays(first_due_day, -settings.reminder_workdays_before)
            reminder_at = end_of_local_day(reminder_day, settings.tz)
            # A deadline too short for a reminder gets none, rather than one before receipt.
            if reminder_at > report.assigned_at:
                rungs.append((Rung.reminder, reminder_at))
        rungs.append((Rung.urge, report.first_reply_due_at))
    rungs.append((Rung.supervise, report.resolution_due_at))
    return rungs


def plan_next_rung(
    *,
    report: Report,
    calendar: WorkCalendar,
    settings: Settings,
    after: Rung | None = None,
) -> None:
    """Set a report's next rung from its deadlines: the first that applies (after `after`).

    Planning from the bottom of the ladder again is safe: a rung that already fired on this
    clock has its row, and the sweep skips it.
    """
    rungs = ladder(report=report, calendar=calendar, settings=settings)
    if after is not None:
        rungs = [(rung, at) for rung, at in rungs if LADDER.index(rung) > LADDER.index(after)]
    if rungs:
        report.next_rung, report.next_rung_at = rungs[0][0].value, rungs[0][1]
    else:
        report.next_rung, report.next_rung_at = None, None


def rung_targets(*, session: Session, rung: Rung, owner_unit_id: int) -> list[tuple[int, str]]:
    """Who a rung goes to, as (unit id, relation to the owner unit), nearest first."""
    owner = session.get(Unit, owner_unit_id)
    parent = session.get(Unit, owner.parent_id) if owner and owner.parent_id else None
    grandparent = session.get(Unit, parent.parent_id) if parent and parent.parent_id else None
    match rung:
        case Rung.reminder:
            chain = [(owner, "owner")]
        case Rung.urge:
            chain = [(owner, "owner"), (parent, "parent")]
        case Rung.supervise:
            chain = [(parent, "parent"), (grandparent, "grandparent")]
    return [(unit.id, relation) for unit, relation in chain if unit is not None]


def _rung_text(*, rung: Rung, summary: dict[str, Any], due_day: str) -> str:
    owner = summary["owner_unit_name"]
    where = summary["site_name"] or summary["page_url"]
    match rung:
        case Rung.reminder:
            return (
                f"【提醒】{owner}：留言 #{summary['id']}（{where}）尚未答复，"
                f"首次答复期限为 {due_day}，请按时答复。"
            )
        case Rung.urge:
            return (
                f"【催办】{owner}：留言 #{summary['id']}（{where}）已超过首次答复期限 "
                f"{due_day}，仍未答复，请尽快办理。"
            )
        case Rung.supervise:
            return (
                f"【督办】{owner}：留言 #{summary['id']}（{where}）已超过办结期限 "
                f"{due_day}，仍未办结，请督促办理。"
            )


def _rung_payloads(
    *, report: Report, rung: Rung, due_at: datetime, targets: list[tuple[int, str]], now, settings
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The event and the outbox rows of a rung that fired (written only once it is claimed)."""
    target_ids = [unit_id for unit_id, _ in targets]
    deadline = report.first_reply_due_at if rung != Rung.supervise else report.resolution_due_at
    event = {
        "report_id": report.id,
        "kind": EventKind(rung.value).value,
        "actor": SCHEDULER_ACTOR,
        "actor_unit_id": None,
        "at": now,
        "data": {
            "clock": report.clock,
            "due_at": due_at.isoformat(),
            "deadline": deadline.isoformat(),
            "target_unit_ids": target_ids,
        },
    }
    summary = report_summary(session=object_session(report), report=report)
    due_day = local_date(deadline, settings.tz).isoformat()
    text = _rung_text(rung=rung, summary=summary, due_day=due_day)
    notifications = [
        {
            "unit_id": unit_id,
            "kind": NotificationKind(rung.value),
            "payload": {
                "text": text,
                "rung": {
                    "name": rung.value,
                    "label": RUNG_LABELS[rung],
                    "clock": report.clock,
                    "due_at": due_at.isoformat(),
                    "fired_at": now.isoformat(),
                    "deadline": deadline.isoformat(),
                    "recipient": relation,
                },
                "report": summary,
            },
            "key": f"{rung.value}:{report.id}:{report.clock}:{unit_id}",
            "report_id": report.id,
        }
        for unit_id, relation in targets
    ]
    return event, notifications


@dataclass
class SweepResult:
    reports: int = 0  # reports with a rung due that this sweep took
    fired: int = 0  # rungs claimed and fired
    skipped: int = 0  # rungs already fired on this clock, or no longer applying
    notifications: int = 0
    failed_report_ids: list[int] = field(default_factory=list)  # retried on the next sweep

    def add(self, other: "SweepResult") -> None:
        self.reports += other.reports
        self.fired += other.fired
        self.skipped += other.skipped
        self.notifications += other.notifications
        self.failed_report_ids.extend(other.failed_report_ids)


def _fire_due_rungs(
    *,
    session: Session,
    reports: list[Report],
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
) -> SweepResult:
    """Fire the due rungs of some reports in a few statements, whatever their number.

    After downtime several rungs of one report may be due: each is tried once, in order, and
    the report is replanned past it. Every rung tried is claimed by one multi-row INSERT … ON
    CONFLICT DO NOTHING RETURNING: the rows it returns are the claims this sweep won, and only
    those get their event and outbox rows, in bulk; the others had fired already.
    """
    done = SweepResult(reports=len(reports))
    attempts: list[tuple[Report, Rung, datetime, list[tuple[int, str]]]] = []
    # A batch's reports share a few owners: each owner's chain is looked up once per rung.
    targets_of: dict[tuple[Rung, int], list[tuple[int, str]]] = {}
    for report in reports:
        while report.next_rung is not None and report.next_rung_at <= now:
            rung, due_at = Rung(report.next_rung), report.next_rung_at
            if _rung_applies(report, rung):
                key = (rung, report.owner_unit_id)
                if key not in targets_of:
                    targets_of[key] = rung_targets(
                        session=session, rung=rung, owner_unit_id=report.owner_unit_id
                    )
                targets = targets_of[key]
                attempts.append((report, rung, due_at, targets))
            else:
                done.skipped += 1
            plan_next_rung(report=report, calendar=calendar, settings=settings, after=rung)
        session.add(report)
    if attempts:
        connection = session.connection()
        table = EscalationRung.__table__
        claim = (
            dialect_insert(connection, table)
            .on_conflict_do_nothing()
            .returning(table.c.report_id, table.c.clock, table.c.rung)
        )
        claimed = {
            (row.report_id, row.clock, row.rung)
            for row in connection.execute(
                claim,
                [
                    {
                        "report_id": report.id,
                        "clock": report.clock,
                        "rung": rung.value,
                        "due_at": due_at,
                        "fired_at": now,
                        "target_unit_ids": [unit_id for unit_id, _ in targets],
                    }
                    for report, rung, due_at, targets in attempts
                ],
            )
        }
        events: list[dict[str, Any]] = []
        notifications: list[dict[str, Any]] = []
        for report, rung, due_at, targets in attempts:
            if (report.id, report.clock, rung.value) not in claimed:
                done.skipped += 1
                continue
            event, outbox = _rung_payloads(
                report=report, rung=rung, due_at=due_at, targets=targets, now=now, settings=settings
            )
            events.append(event)
            notifications.extend(outbox)
            done.fired += 1
            done.notifications += len(outbox)
        if events:
            connection.execute(ReportEvent.__table__.insert(), events)
        enqueue(
            session=session,
            notifications=notifications,
            now=now,
            calendar=calendar,
            settings=settings,
        )
    return done


def _hold_directory(*, session: Session, reports: list[Report]) -> list[Unit | Site]:
    """Load the units and sites a batch's rungs name, in a few queries, and keep them.

    The identity map holds objects weakly: without these references every rung would load its
    owner, parent, grandparent and site again.
    """
    held: list[Unit | Site] = []
    wanted = {report.owner_unit_id for report in reports if report.owner_unit_id is not None}
    for _generation in ("owner", "parent", "grandparent"):
        if not wanted:
            break
        units = session.exec(select(Unit).where(col(Unit.id).in_(wanted))).all()
        held.extend(units)
        known = {unit.id for unit in held}
        wanted = {unit.parent_id for unit in units if unit.parent_id is not None} - known
    site_ids = {report.site_id for report in reports if report.site_id is not None}
    if site_ids:
        held.extend(session.exec(select(Site).where(col(Site.id).in_(site_ids))).all())
    return held


def due_reports_query(
    *, now: datetime, limit: int, excluded_ids: list[int], since: datetime | None = None
):
    """The reports whose next rung is due, earliest first, on the next_rung_at index.

    `since` is where the previous batch ended: starting the index range there skips the
    entries that batch left behind, which PostgreSQL keeps as dead tuples until VACUUM.
    """
    query = select(Report).where(col(Report.next_rung_at) <= now)
    if since is not None:
        query = query.where(col(Report.next_rung_at) >= since)
    if excluded_ids:
        query = query.where(col(Report.id).not_in(excluded_ids))
    return query.order_by(col(Report.next_rung_at)).limit(limit).with_for_update(skip_locked=True)


def _fire_batch(
    *,
    session: Session,
    reports: list[Report],
    now: datetime,
    calendar: WorkCalendar,
    settings: Settings,
    isolated: bool,
) -> SweepResult:
    """Fire a batch's due rungs: all at once, or (isolated) each report in its own savepoint."""
    arguments = {"now": now, "calendar": calendar, "settings": settings}
    if not isolated:
        result = _fire_due_rungs(session=session, reports=reports, **arguments)
        # In the fast path a failure surfaces here, inside the caller's try.
        session.flush()
        return result
    result = SweepResult()
    for report in reports:
        report_id = report.id
        try:
            with session.begin_nested():
                done = _fire_due_rungs(session=session, reports=[report], **arguments)
                session.flush()
            result.add(done)
        except Exception:
            log.exception(
                "escalation sweep: report %s failed; it is retried on the next sweep", report_id
            )
            result.reports += 1
            result.failed_report_ids.append(report_id)
    session.flush()
    return result


def sweep(
    *,
    engine: Engine,
    now: datetime,
    settings: Settings,
    calendar: WorkCalendar | None = None,
    batch_size: int | None = None,
) -> SweepResult:
    """Fire every rung due at `now`, in batches; a failing report is logged and left for later.

    Each batch is one transaction. It first runs whole; if anything in it fails, it is rolled
    back and run again with each report in a savepoint, so that one report's failure undoes
    only its own rungs and the others fire. On PostgreSQL the batch's rows are locked with
    SKIP LOCKED, so concurrent sweeps take different reports; the unique rung rows keep it
    correct anyway.
    """
    batch_size = batch_size or settings.sweep_batch_size
    result = SweepResult()
    since: datetime | None = None
    while len(result.failed_report_ids) < MAX_FAILURES_PER_SWEEP:
        with session_scope(engine) as session:
            if calendar is None:
                calendar = get_calendar(session)
            query = due_reports_query(
                now=now, limit=batch_size, excluded_ids=result.failed_report_ids, since=since
            )
            reports = session.exec(query).all()
            if reports:
                since = reports[-1].next_rung_at
            directory = _hold_directory(session=session, reports=reports)
            arguments = {"now": now, "calendar": calendar, "settings": settings}
            try:
                done = _fire_batch(session=session, reports=reports, isolated=False, **arguments)
            except Exception:
                session.rollback()
                reports = session.exec(query).all()
                directory = _hold_directory(session=session, reports=reports)
                done = _fire_batch(session=session, reports=reports, isolated=True, **arguments)
            result.add(done)
            del directory
        if len(reports) < batch_size:
            break
    else:
        log.error(
            "escalation sweep stopped after %d failing reports; the next sweep starts over",
            len(result.failed_report_ids),
        )
    return result
