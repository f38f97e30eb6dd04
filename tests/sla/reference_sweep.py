"""The sweep's fire path as it was on ORM objects (0.2.0), kept to compare the Core one with.

One batch: the due reports loaded as `Report` objects, their rungs claimed, their events and
outbox rows built from the objects (app.sla.notify.report_summary, enqueue_many) and the
reports replanned with plan_next_rung and a flush. Only tests use it.
"""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import object_session
from sqlmodel import Session, col, select

from app.config import Settings
from app.db import dialect_insert
from app.directory.models import Site, Unit
from app.reports.clocks import local_date
from app.reports.models import EventKind, Report, ReportEvent
from app.sla.escalation import (
    SCHEDULER_ACTOR,
    _rung_applies,
    _rung_text,
    plan_next_rung,
    rung_targets,
)
from app.sla.models import RUNG_LABELS, EscalationRung, NotificationKind, Rung
from app.sla.notify import enqueue_many, report_summary
from app.workdays.calendar import WorkCalendar


def _payloads(*, report: Report, rung: Rung, due_at: datetime, targets, now, settings):
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


def reference_fire(
    *, session: Session, now: datetime, calendar: WorkCalendar, settings: Settings
) -> tuple[int, int]:
    """Fire every due rung as 0.2.0 did, in the session's transaction; (fired, skipped)."""
    reports = session.exec(
        select(Report).where(col(Report.next_rung_at) <= now).order_by(col(Report.next_rung_at))
    ).all()
    held: list[Any] = list(session.exec(select(Unit)).all()) + list(
        session.exec(select(Site)).all()
    )
    fired = skipped = 0
    attempts = []
    for report in reports:
        while report.next_rung is not None and report.next_rung_at <= now:
            rung, due_at = Rung(report.next_rung), report.next_rung_at
            if _rung_applies(report, rung):
                targets = rung_targets(
                    session=session, rung=rung, owner_unit_id=report.owner_unit_id
                )
                attempts.append((report, rung, due_at, targets))
            else:
                skipped += 1
            plan_next_rung(report=report, calendar=calendar, settings=settings, after=rung)
        session.add(report)
    connection = session.connection()
    table = EscalationRung.__table__
    claimed = {
        (row.report_id, row.clock, row.rung)
        for row in connection.execute(
            dialect_insert(connection, table)
            .on_conflict_do_nothing()
            .returning(table.c.report_id, table.c.clock, table.c.rung),
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
    events, notifications = [], []
    for report, rung, due_at, targets in attempts:
        if (report.id, report.clock, rung.value) not in claimed:
            skipped += 1
            continue
        event, outbox = _payloads(
            report=report, rung=rung, due_at=due_at, targets=targets, now=now, settings=settings
        )
        events.append(event)
        notifications.extend(outbox)
        fired += 1
    if events:
        connection.execute(ReportEvent.__table__.insert(), events)
    enqueue_many(
        session=session, notifications=notifications, now=now, calendar=calendar, settings=settings
    )
    session.flush()
    del held
    return fired, skipped
