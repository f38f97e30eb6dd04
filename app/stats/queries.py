"""The SQL aggregates behind statistics and the nightly SLA report.

Everything is counted by the database: one GROUP BY over the reports per unit, joined to a
recursive closure of the unit tree for the subtree roll-up. The same statements run on
SQLite and PostgreSQL. Every condition is written so that it is never NULL (an unset instant
is tested with IS NULL first), because NOT NULL would silently drop a report from a count.
"""

from datetime import date, datetime
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    cast,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.sql.selectable import CTE
from sqlmodel import Session

from app.directory.models import Unit
from app.reports.models import (
    SATISFIED_RATINGS,
    DeclineReason,
    EventKind,
    Report,
    ReportEvent,
    ReportStatus,
    Verdict,
)
from app.stats.models import SettledFigures, SlaReport
from app.stats.schemas import COUNT_FIELDS

if TYPE_CHECKING:
    from app.stats.settle import SettledMonths

report = Report.__table__
unit = Unit.__table__
report_event = ReportEvent.__table__
settled_figures = SettledFigures.__table__

RUNG_KINDS = {
    EventKind.reminder.value: "reminders",
    EventKind.urge.value: "urges",
    EventKind.supervise.value: "supervisions",
}


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    # FILTER rather than SUM(CASE …): rows that do not match skip the aggregate altogether.
    return func.count().filter(condition)


def _at_or_before(column, instant: datetime) -> ColumnElement[bool]:
    return and_(column.is_not(None), column <= instant)


def _before(column, instant: datetime) -> ColumnElement[bool]:
    return and_(column.is_not(None), column < instant)


def figure_columns(as_of: datetime) -> list[ColumnElement]:
    """The per-report counts of a statistics row, as they stood at the cut-off instant."""
    closed = _at_or_before(report.c.closed_at, as_of)
    declined = and_(report.c.status == ReportStatus.declined.value, closed)
    valid = not_(declined)
    resolved = and_(report.c.status == ReportStatus.resolved.value, closed)
    responded = _at_or_before(report.c.first_responded_at, as_of)
    reply_due_passed = _before(report.c.first_reply_due_at, as_of)
    # A report waiting for the citizen has its clocks stopped: not late while paused, unless
    # the pause began once its first reply was already late, which pausing never clears.
    paused = and_(
        report.c.status == ReportStatus.awaiting_citizen.value,
        _at_or_before(report.c.paused_at, as_of),
    )
    paused_in_time = and_(paused, report.c.paused_at <= report.c.first_reply_due_at)
    unanswered_past_due = and_(not_(responded), reply_due_passed, not_(paused_in_time))
    answered_in_time = and_(
        responded,
        report.c.first_reply_due_at.is_not(None),
        report.c.first_responded_at <= report.c.first_reply_due_at,
    )
    answered_late = and_(
        responded,
        report.c.first_reply_due_at.is_not(None),
        report.c.first_responded_at > report.c.first_reply_due_at,
    )
    resolution_past_due = _before(report.c.resolution_due_at, as_of)
    return [
        func.count().label("received"),
        _count(declined).label("declined"),
        _count(resolved).label("resolved"),
        _count(and_(resolved, report.c.verdict == Verdict.confirmed.value)).label("confirmed"),
        _count(and_(valid, or_(responded, unanswered_past_due))).label("first_replies_due"),
        _count(and_(valid, answered_in_time)).label("first_replies_in_time"),
        _count(and_(valid, or_(answered_late, unanswered_past_due))).label("late_first_replies"),
        func.coalesce(func.sum(report.c.handling_workdays).filter(resolved), 0).label(
            "handling_workdays_total"
        ),
        _count(
            and_(
                not_(closed),
                not_(paused),
                or_(resolution_past_due, and_(not_(responded), reply_due_passed)),
            )
        ).label("overdue_open"),
        _count(
            and_(
                not_(closed),
                not_(paused),
                not_(resolution_past_due),
                not_(responded),
                reply_due_passed,
            )
        ).label("overdue_unanswered"),
        # A unit is not held to a resolution whose due date is still ahead (a period not over).
        _count(and_(not_(closed), not_(resolution_past_due))).label("resolutions_not_due"),
        # Approved before the cut-off (app.reports.extensions): resolution_due_at is already the
        # extended date, and an approval only ever comes before the old date passed, so every
        # cut-off judges lateness against the date in force at it.
        _count(_at_or_before(report.c.extended_at, as_of)).label("extended"),
        *_loop_columns(as_of, declined),
    ]


def _loop_columns(as_of: datetime, declined: ColumnElement[bool]) -> list[ColumnElement]:
    """Ratings, satisfied ratings (满意率's numerator), reopenings and declined duplicates."""
    rated = _at_or_before(report.c.rated_at, as_of)
    satisfied = report.c.rating.in_([rating.value for rating in SATISFIED_RATINGS])
    return [
        _count(rated).label("ratings"),
        _count(and_(rated, satisfied)).label("satisfied_ratings"),
        _count(_at_or_before(report.c.reopened_at, as_of)).label("reopened"),
        _count(and_(declined, report.c.decline_reason == DeclineReason.duplicate.value)).label(
            "duplicates_declined"
        ),
    ]


def _received_within(
    start: datetime, end: datetime, as_of: datetime, received_at=report.c.received_at
) -> ColumnElement[bool]:
    return and_(received_at >= start, received_at < end, received_at <= as_of)


def _scan_columns(session: Session, *, narrowed: bool):
    """owner_unit_id and received_at to filter on, written so SQLite scans when it should.

    SQLite keeps no histogram, so it reads any range of received_at (or of owner_unit_id, for
    "IS NOT NULL") through the index, and a period often spans much of the table: reading a
    year of 1,000,000 reports in index order fetches each row at random (4 s where a plain
    scan takes 0.5 s), and it would walk the owner index just to group in its order. A unary
    plus keeps the value and hides the index; a narrowed scope (a list of owners) still goes
    through the owner index.
    """
    if session.get_bind().dialect.name != "sqlite":
        return report.c.owner_unit_id, report.c.received_at

    def unindexed(column):
        return literal_column(f"+{report.name}.{column.name}", type_=column.type)

    owner = report.c.owner_unit_id if narrowed else unindexed(report.c.owner_unit_id)
    return owner, unindexed(report.c.received_at)


def scope_cte(scope_root_id: int | None) -> CTE:
    """The ids of the units in scope: one unit's subtree, or every unit when the root is None."""
    if scope_root_id is None:
        return select(unit.c.id).cte("scope")
    tree = select(unit.c.id).where(unit.c.id == scope_root_id).cte("scope", recursive=True)
    return tree.union_all(select(unit.c.id).where(unit.c.parent_id == tree.c.id))


# A small subtree is read through the owner index; past this many units the whole window is
# aggregated (in parallel on PostgreSQL, which a filter on the recursive scope would prevent)
# and the join with the scope's closure keeps only its units.
SCOPE_FILTER_MAX_UNITS = 2000


class UnitRow(NamedTuple):
    unit_id: int
    name: str
    parent_id: int | None


def units_in_scope(*, session: Session, scope_root_id: int | None) -> list[UnitRow]:
    """The units a statistics request covers, with their parents."""
    scope = scope_cte(scope_root_id)
    query = select(unit.c.id, unit.c.name, unit.c.parent_id).where(
        unit.c.id.in_(select(scope.c.id))
    )
    return list(map(UnitRow._make, session.execute(query).all()))


def unit_figure_counts(
    *,
    session: Session,
    scope_root_id: int | None,
    scope_unit_ids: list[int] | None,
    start: datetime,
    end: datetime,
    as_of: datetime,
    settled: "SettledMonths | None" = None,
) -> dict[int, tuple[dict[str, int], dict[str, int]]]:
    """Per unit in scope: (its own counts, its subtree's summed counts); units without reports
    anywhere in their subtree are absent.

    Reports count when received in [start, end) and no later than as_of, by current owner.
    `scope_unit_ids` (the scope's units, when known) narrows the scan to them when they are few.
    With `settled` months, settled reports received in them are read from their rows instead.
    """
    scope = scope_cte(scope_root_id)
    narrowed = scope_unit_ids is not None and len(scope_unit_ids) <= SCOPE_FILTER_MAX_UNITS
    owner, received_at = _scan_columns(session, narrowed=narrowed)

    def per_owner(*conditions: ColumnElement[bool]):
        filters = [owner.is_not(None), *conditions]
        if narrowed:
            filters.append(owner.in_(scope_unit_ids))
        return (
            select(owner.label("unit_id"), *figure_columns(as_of))
            .select_from(report)
            .where(*filters)
            .group_by(owner)
        )

    if settled is None:
        per_unit = per_owner(_received_within(start, end, as_of, received_at))
    else:
        parts = [
            _settled_rows(settled, scope_unit_ids if narrowed else None),
            # The reports of the whole months not settled yet: ix_report_unsettled holds them
            # and every column counted, so they are read without the settled ones.
            per_owner(
                report.c.settled == false(),
                _received_within(settled.start_at, settled.end_at, as_of, received_at),
            ),
        ]
        # Every report of the days before and after the whole months.
        for edge_start, edge_end in ((start, settled.start_at), (settled.end_at, end)):
            if edge_start < edge_end:
                parts.append(per_owner(_received_within(edge_start, edge_end, as_of)))
        rows = union_all(*parts).subquery("unit_rows")
        # One row per unit before the roll-up joins each to its supervisors.
        per_unit = select(
            rows.c.unit_id, *[_total(rows.c[name]).label(name) for name in COUNT_FIELDS]
        ).group_by(rows.c.unit_id)
    per_unit = per_unit.cte("per_unit")
    # Every (supervising unit, unit below it or itself) pair within the scope. A unit that
    # supervises no one has its own figures for its subtree's, and needs no pairs.
    in_scope = select(scope.c.id)
    supervising = select(unit.c.parent_id).where(unit.c.parent_id.is_not(None))
    closure = select(unit.c.id.label("ancestor_id"), unit.c.id.label("unit_id")).where(
        unit.c.id.in_(in_scope), unit.c.id.in_(supervising)
    )
    closure = closure.cte("closure", recursive=True)
    closure = closure.union_all(
        select(closure.c.ancestor_id, unit.c.id).where(unit.c.parent_id == closure.c.unit_id)
    )
    own = select(
        per_unit.c.unit_id,
        literal(False).label("is_subtree"),
        *[per_unit.c[name] for name in COUNT_FIELDS],
    ).where(per_unit.c.unit_id.in_(in_scope))
    subtree = (
        select(
            closure.c.ancestor_id,
            literal(True),
            *[_total(per_unit.c[name]) for name in COUNT_FIELDS],
        )
        .select_from(closure.join(per_unit, per_unit.c.unit_id == closure.c.unit_id))
        .group_by(closure.c.ancestor_id)
    )
    if session.get_bind().dialect.name == "postgresql":
        # The recursive closure makes the planner expect millions of rows, which switches on
        # JIT compilation: it costs more (about half a second) than this one scan ever saves.
        session.execute(text("SET LOCAL jit = off"))
    owns: dict[int, dict[str, int]] = {}
    subtrees: dict[int, dict[str, int]] = {}
    for unit_id, is_subtree, *counts in session.execute(union_all(own, subtree)).all():
        (subtrees if is_subtree else owns)[unit_id] = dict(zip(COUNT_FIELDS, counts, strict=True))
    nothing = dict.fromkeys(COUNT_FIELDS, 0)
    return {
        unit_id: (owns.get(unit_id, nothing), subtrees.get(unit_id) or owns[unit_id])
        for unit_id in owns.keys() | subtrees.keys()
    }


def _total(expression) -> ColumnElement[int]:
    # PostgreSQL sums bigints into numeric, which arrives as Decimal: 190,000 of them for
    # 10,000 units. The counts fit a bigint, so they come back as plain integers.
    return cast(func.sum(expression), BigInteger)


def _settled_rows(settled: "SettledMonths", unit_ids: list[int] | None):
    """The settled figures of the months, shaped like the per-unit aggregate of reports: the
    whole years from the years' rows, the months before and after them from the months'."""
    columns = settled_figures.c

    def spans(months: int, first: date, end: date) -> ColumnElement[bool]:
        return and_(columns.months == months, columns.starts_on >= first, columns.starts_on < end)

    query = select(
        columns.unit_id,
        *[
            columns[name] if name in columns else literal(0, BigInteger).label(name)
            for name in COUNT_FIELDS
        ],
    ).where(
        or_(
            spans(12, settled.years_first, settled.years_end),
            spans(1, settled.first, settled.years_first),
            spans(1, settled.years_end, settled.end),
        )
    )
    if unit_ids is not None:
        query = query.where(columns.unit_id.in_(unit_ids))
    return query


def unrouted_count(*, session: Session, start: datetime, end: datetime, as_of: datetime) -> int:
    """Reports received in the window that no unit owns yet."""
    query = select(func.count()).where(
        report.c.owner_unit_id.is_(None), _received_within(start, end, as_of)
    )
    return int(session.execute(query).scalar_one())


def first_receipt_at(*, session: Session) -> datetime | None:
    """When the first report of all was received."""
    return session.execute(select(func.min(Report.received_at))).scalar_one()


SLA_FIELDS = (
    "open_reports",
    "due_today",
    "overdue_first_replies",
    "overdue_resolutions",
    "reminders",
    "urges",
    "supervisions",
)


def sla_counts(
    *, session: Session, day_start: datetime, day_end: datetime
) -> dict[int, dict[str, int]]:
    """Per owner unit, the nightly figures of the local day [day_start, day_end).

    The snapshot is taken at day_end (midnight ending the day); `due_today` counts reports
    that were open and running at the start of the day with a deadline falling within it.
    """
    closed = _before(report.c.closed_at, day_end)
    paused_at_end = and_(
        report.c.status == ReportStatus.awaiting_citizen.value,
        _before(report.c.paused_at, day_end),
    )
    paused_at_start = and_(
        report.c.status == ReportStatus.awaiting_citizen.value,
        _before(report.c.paused_at, day_start),
    )
    running = and_(not_(closed), not_(paused_at_end))

    def falls_today(column) -> ColumnElement[bool]:
        return and_(column.is_not(None), column >= day_start, column < day_end)

    due_today = and_(
        report.c.received_at < day_start,
        not_(paused_at_start),
        or_(
            and_(
                falls_today(report.c.first_reply_due_at),
                not_(_before(report.c.first_responded_at, day_start)),
            ),
            and_(
                falls_today(report.c.resolution_due_at),
                not_(_before(report.c.closed_at, day_start)),
            ),
        ),
    )
    reports_query = (
        select(
            report.c.owner_unit_id,
            _count(not_(closed)).label("open_reports"),
            _count(due_today).label("due_today"),
            _count(
                and_(
                    running,
                    not_(_before(report.c.first_responded_at, day_end)),
                    _before(report.c.first_reply_due_at, day_end),
                )
            ),
            _count(and_(running, _before(report.c.resolution_due_at, day_end))),
        )
        .where(
            report.c.owner_unit_id.is_not(None),
            report.c.received_at < day_end,
            # Whatever closed before the day began counts nowhere in it.
            not_(_before(report.c.closed_at, day_start)),
        )
        .group_by(report.c.owner_unit_id)
    )
    counts: dict[int, dict[str, int]] = {}
    for unit_id, open_reports, due, overdue_first, overdue_resolution in session.execute(
        reports_query
    ).all():
        counts[unit_id] = dict.fromkeys(SLA_FIELDS, 0) | {
            "open_reports": int(open_reports or 0),
            "due_today": int(due or 0),
            "overdue_first_replies": int(overdue_first or 0),
            "overdue_resolutions": int(overdue_resolution or 0),
        }
    # Escalation rungs are events in the reports' history, attributed to the owner unit.
    rungs_query = (
        select(report.c.owner_unit_id, report_event.c.kind, func.count())
        .select_from(report_event.join(report, report.c.id == report_event.c.report_id))
        .where(
            report_event.c.kind.in_(list(RUNG_KINDS)),
            report_event.c.at >= day_start,
            report_event.c.at < day_end,
            report.c.owner_unit_id.is_not(None),
        )
        .group_by(report.c.owner_unit_id, report_event.c.kind)
    )
    for unit_id, kind, fired in session.execute(rungs_query).all():
        row = counts.setdefault(unit_id, dict.fromkeys(SLA_FIELDS, 0))
        row[RUNG_KINDS[kind]] += int(fired)
    return counts


def sla_subtree_totals(*, session: Session, report_date: date) -> dict[int, dict[str, int]]:
    """Per supervising unit (one with units below it), the day's SLA figures of its subtree."""
    sla_report = SlaReport.__table__
    closure = select(unit.c.id.label("ancestor_id"), unit.c.id.label("unit_id")).cte(
        "closure", recursive=True
    )
    closure = closure.union_all(
        select(closure.c.ancestor_id, unit.c.id).where(unit.c.parent_id == closure.c.unit_id)
    )
    supervising = select(unit.c.parent_id).where(unit.c.parent_id.is_not(None))
    query = (
        select(
            closure.c.ancestor_id,
            func.count().label("units_reporting"),
            *[func.sum(sla_report.c[name]).label(name) for name in SLA_FIELDS],
        )
        .select_from(closure.join(sla_report, sla_report.c.unit_id == closure.c.unit_id))
        .where(sla_report.c.report_date == report_date, closure.c.ancestor_id.in_(supervising))
        .group_by(closure.c.ancestor_id)
    )
    return {
        row.ancestor_id: {
            name: int(getattr(row, name)) for name in ("units_reporting", *SLA_FIELDS)
        }
        for row in session.execute(query).all()
    }
