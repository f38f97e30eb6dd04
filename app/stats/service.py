"""Statistics, notices and nightly SLA reports: scope, cut-off, flags and rankings."""

import gc
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from operator import attrgetter, itemgetter

from sqlmodel import Session, col, select

from app.auth import Principal, Role
from app.config import Settings
from app.directory import service as directory
from app.directory.models import Unit
from app.errors import Forbidden, NotFound, Unprocessable
from app.reports.clocks import start_of_local_day
from app.stats import queries
from app.stats.exports import render_notice
from app.stats.models import SlaReport, SlaReportRun
from app.stats.notice import NoticeFormat, RenderedFile
from app.stats.periods import Period, parse_period, previous_period
from app.stats.schemas import (
    Figures,
    Flag,
    PeriodOut,
    RankingEntry,
    Rankings,
    SlaLine,
    SlaReportOut,
    StatsOut,
    Thresholds,
    UnitStats,
)
from app.stats.settle import settled_months
from app.stats.templates import notice_setup
from app.stats.text import pinyin_key
from app.workdays.sources import get_calendar

SLA_TOTAL_FIELDS = (*queries.SLA_FIELDS, "rungs_fired")


def parse_period_or_422(text: str) -> Period:
    """A period from its text, or a 422 that says which shapes are understood."""
    try:
        return parse_period(text)
    except ValueError as exc:
        raise Unprocessable(
            f"统计期间 {text!r} 无法识别：请写成 2026-04（月）、2026-Q3（季度）、2026（年）"
            "或 2026-04-01..2026-04-30（日期范围）",
            en=str(exc),
            code="period_invalid",
        ) from exc


def parse_cutoff(text: str | None) -> date | datetime | None:
    """`as_of` as given: a date alone (2026-05-06) or an instant (2026-05-06T10:00:00)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError as exc:
        raise Unprocessable(
            f"统计截止时间{text!r}无法识别：请给出日期（2026-05-06，指当日结束）或时间"
            "（2026-05-06T10:00:00）",
            en=f"as_of {text!r} is neither a date (2026-05-06, the end of that day) nor an "
            "instant (2026-05-06T10:00:00)",
            code="invalid_as_of",
        ) from exc


def cutoff(*, as_of: datetime | date | None, now: datetime, settings: Settings) -> datetime:
    """The cut-off instant: now by default; a naive time is local; a date is the end of that
    day, local time (today: now); never later than now."""
    if as_of is None:
        return now
    if not isinstance(as_of, datetime):
        end_of_day = start_of_local_day(as_of + timedelta(days=1), settings.tz) - timedelta(
            microseconds=1
        )
        if as_of == now.astimezone(settings.tz).date():
            return now  # today is not over: its figures so far
        return _not_in_future(end_of_day, now, settings)
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=settings.tz)
    return _not_in_future(as_of, now, settings)


def _not_in_future(as_of: datetime, now: datetime, settings: Settings) -> datetime:
    if as_of > now:
        local_now = now.astimezone(settings.tz).isoformat(timespec="milliseconds")
        raise Unprocessable(
            f"截止时间 as_of 晚于当前时间：统计只能截至现在（{local_now}），请改早一些",
            en=f"as_of lies in the future: statistics can only be taken up to now ({local_now})",
            code="as_of_in_future",
        )
    return as_of


def resolve_scope(*, session: Session, principal: Principal, unit_id: int | None) -> Unit | None:
    """The unit whose subtree a caller asks about; None means every unit (admins only)."""
    if principal.role == Role.handler:
        raise Forbidden(
            "统计数据需要上级单位（supervisor）或管理员（admin）令牌，请换用这样的令牌",
            en="statistics need a supervisor or admin token",
            code="supervisor_token_required",
        )
    if unit_id is None:
        if principal.role == Role.admin:
            return None
        return directory.get_unit(session=session, unit_id=principal.unit_id)
    within = None if principal.role == Role.admin else principal.unit_id
    return directory.get_unit_within(session=session, unit_id=unit_id, root_unit_id=within)


def unit_flags(figures: Figures, thresholds: Thresholds) -> list[Flag]:
    """The shortfalls of a unit's own figures."""
    flags = []
    # Held to the reports whose resolution was due by the cut-off: in a period not over yet,
    # a report received yesterday does not make its unit's completion rate a shortfall.
    due = figures.valid - figures.resolutions_not_due
    if due > 0 and figures.resolved / due < thresholds.completion_rate:
        flags.append(Flag.low_completion)
    if (
        figures.average_handling_workdays is not None
        and figures.average_handling_workdays > thresholds.average_handling_workdays
    ):
        flags.append(Flag.slow_handling)
    if figures.late_first_replies:
        flags.append(Flag.late_first_replies)
    if (
        figures.ratings >= thresholds.ranking_min_valid
        and figures.satisfied_ratings < thresholds.satisfaction_rate * figures.ratings
    ):
        flags.append(Flag.low_satisfaction)
    return flags


def _ranking(
    units_by_name: list[UnitStats],
    value_of: Callable[[Figures], float | None],
    *,
    higher_is_better: bool,
) -> list[RankingEntry]:
    scored = [(unit, value_of(unit.own)) for unit in units_by_name]
    scored = [(unit, value) for unit, value in scored if value is not None]
    # The sort is stable, reversed too: units of equal value stay in name order. Sorted on
    # bare values, floats are compared directly, without a tuple built per unit.
    scored.sort(key=itemgetter(1), reverse=higher_is_better)
    entries: list[RankingEntry] = []
    rank, previous = 0, None
    for position, (unit, value) in enumerate(scored, start=1):
        # Equal values share a rank (1, 2, 2, 4).
        if value != previous:
            rank, previous = position, value
        entries.append(
            RankingEntry.trusted(
                rank=rank,
                unit_id=unit.unit_id,
                unit_name=unit.unit_name,
                value=value,
                valid=unit.own.valid,
            )
        )
    return entries


def rankings(units: list[UnitStats], thresholds: Thresholds) -> Rankings:
    """League tables over units with enough valid reports of their own."""
    eligible = sorted(
        (unit for unit in units if unit.own.valid >= thresholds.ranking_min_valid),
        key=attrgetter("unit_name", "unit_id"),
    )
    return Rankings(
        completion_rate=_ranking(eligible, lambda f: f.completion_rate, higher_is_better=True),
        on_time_first_reply_rate=_ranking(
            eligible, lambda f: f.on_time_first_reply_rate, higher_is_better=True
        ),
        average_handling_workdays=_ranking(
            eligible, lambda f: f.average_handling_workdays, higher_is_better=False
        ),
    )


def tree_order(
    units: list[queries.UnitRow], root_id: int | None
) -> list[tuple[queries.UnitRow, int]]:
    """Units depth first from the scope's root(s), siblings in pinyin order, each with its level."""
    in_scope = {unit.unit_id for unit in units}
    children: dict[int | None, list[queries.UnitRow]] = defaultdict(list)
    # One sort of every unit rather than one per parent: filled in this order, each list of
    # siblings comes out sorted as well.
    for unit in sorted(units, key=lambda unit: (pinyin_key(unit.name), unit.unit_id)):
        is_root = unit.unit_id == root_id or unit.parent_id not in in_scope
        children[None if is_root else unit.parent_id].append(unit)
    ordered: list[tuple[queries.UnitRow, int]] = []
    stack = [(unit, 0) for unit in reversed(children[None])]
    while stack:
        unit, level = stack.pop()
        ordered.append((unit, level))
        if unit.unit_id in children:
            stack.extend((child, level + 1) for child in reversed(children[unit.unit_id]))
    return ordered


def unit_stats(
    ordered: list[tuple[queries.UnitRow, int]],
    counts: dict[int, tuple[dict[str, int], dict[str, int]]],
    thresholds: Thresholds,
) -> list[UnitStats]:
    """A record per unit, in the given order, from its own and its subtree's counts."""
    empty = Figures.from_counts({})
    no_counts: tuple[dict[str, int], dict[str, int]] = ({}, {})
    units: list[UnitStats] = []
    for row, level in ordered:
        own_counts, subtree_counts = counts.get(row.unit_id, no_counts)
        own = Figures.from_counts(own_counts) if own_counts else empty
        # A unit that supervises no one with reports has the same figures both ways.
        subtree = own if subtree_counts == own_counts else Figures.from_counts(subtree_counts)
        units.append(
            UnitStats.trusted(
                unit_id=row.unit_id,
                unit_name=row.name,
                parent_id=row.parent_id,
                level=level,
                own=own,
                subtree=subtree,
                flags=unit_flags(own, thresholds),
            )
        )
    return units


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector held off while the records of a large scope are built.

    The records of 10,000 units are tens of thousands of objects: enough to set off a
    collection of every object in the process, 60 ms of what was a 170 ms build. They hold
    no reference cycles, so reference counting frees them as ever.
    """
    if not gc.isenabled():
        # Paused already: by the caller, or by a request on another thread, which resumes it.
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def thresholds_of(settings: Settings) -> Thresholds:
    return Thresholds(
        completion_rate=settings.completion_rate_threshold,
        average_handling_workdays=settings.average_handling_threshold,
        ranking_min_valid=settings.ranking_min_valid,
        first_reply_workdays=settings.first_reply_workdays,
        satisfaction_rate=settings.min_satisfaction_rate,
    )


def statistics(
    *,
    session: Session,
    period: Period,
    as_of: datetime,
    scope: Unit | None,
    settings: Settings,
    with_rankings: bool = True,
) -> StatsOut:
    """The figures of every unit in scope, own and rolled up, with flags and rankings."""
    tz = settings.tz
    scope_id = scope.id if scope is not None else None
    start, end = start_of_local_day(period.start, tz), start_of_local_day(period.next_day, tz)
    scope_units = queries.units_in_scope(session=session, scope_root_id=scope_id)
    counts = queries.unit_figure_counts(
        session=session,
        scope_root_id=scope_id,
        scope_unit_ids=[unit.unit_id for unit in scope_units] if scope is not None else None,
        start=start,
        end=end,
        as_of=as_of,
        settled=settled_months(
            session=session,
            start=period.start,
            next_day=period.next_day,
            as_of=as_of,
            settings=settings,
        ),
    )
    thresholds = thresholds_of(settings)
    unrouted = (
        queries.unrouted_count(session=session, start=start, end=end, as_of=as_of)
        if scope is None
        else None
    )
    with _collector_paused():
        units = unit_stats(tree_order(scope_units, scope_id), counts, thresholds)
        if scope is not None:
            totals = next(unit.subtree for unit in units if unit.unit_id == scope_id)
        else:
            totals = Figures.total(unit.subtree for unit in units if unit.level == 0)
        return StatsOut(
            period=PeriodOut(
                key=period.key, label=period.label, start=period.start, end=period.end
            ),
            as_of=as_of.astimezone(tz),
            scope_unit_id=scope_id,
            scope_unit_name=scope.name if scope is not None else None,
            thresholds=thresholds,
            totals=totals,
            unrouted=unrouted,
            units=units,
            # A notice prints no league table: it is spared sorting every unit three times.
            rankings=rankings(units, thresholds) if with_rankings else None,
        )


def stats_for(
    *,
    session: Session,
    principal: Principal,
    period: str,
    now: datetime,
    settings: Settings,
    as_of: datetime | None = None,
    unit_id: int | None = None,
) -> StatsOut:
    """Statistics for a period as of a cut-off, within the caller's subtree."""
    parsed = parse_period_or_422(period)
    cut = cutoff(as_of=as_of, now=now, settings=settings)
    scope = resolve_scope(session=session, principal=principal, unit_id=unit_id)
    return statistics(session=session, period=parsed, as_of=cut, scope=scope, settings=settings)


def notice_for(
    *,
    session: Session,
    principal: Principal,
    period: str,
    notice_format: NoticeFormat,
    now: datetime,
    settings: Settings,
    as_of: datetime | date | None = None,
    unit_id: int | None = None,
    issued_on: date | None = None,
    document_number: int | None = None,
    stream: bool = False,
) -> RenderedFile:
    """The draft notice (通报) of a period for the caller's subtree, in one format."""
    parsed = parse_period_or_422(period)
    cut = cutoff(as_of=as_of, now=now, settings=settings)
    scope = resolve_scope(session=session, principal=principal, unit_id=unit_id)
    return period_notice(
        session=session,
        period=parsed,
        as_of=cut,
        scope=scope,
        settings=settings,
        notice_format=notice_format,
        issued_on=issued_on or now.astimezone(settings.tz).date(),
        document_number=document_number,
        stream=stream,
    )


def _previous_totals(
    *, session: Session, period: Period, as_of: datetime, scope: Unit | None, settings: Settings
) -> tuple[Figures | None, str]:
    """The overall figures of the previous period of the same length, as of the same cut-off."""
    try:
        previous = previous_period(period)
    except (ValueError, OverflowError):
        return None, ""
    if start_of_local_day(previous.start, settings.tz) > as_of:
        return None, ""
    stats = statistics(
        session=session,
        period=previous,
        as_of=as_of,
        scope=scope,
        settings=settings,
        with_rankings=False,
    )
    if not stats.totals.received:
        return None, ""
    return stats.totals, f"上期（{previous.label}）"


def period_notice(
    *,
    session: Session,
    period: Period,
    as_of: datetime,
    scope: Unit | None,
    settings: Settings,
    notice_format: NoticeFormat,
    issued_on: date | None = None,
    document_number: int | None = None,
    stream: bool = False,
) -> RenderedFile:
    """The draft notice of a period for a scope (None: every unit), in one format."""
    issued_on = issued_on or as_of.astimezone(settings.tz).date()
    try:
        calendar = get_calendar(session)
        setup = notice_setup(
            session=session,
            unit=scope,
            issued_on=issued_on,
            calendar=calendar,
            document_number=document_number,
            max_names=settings.notice_max_names,
        )
    except (ValueError, OverflowError) as exc:
        raise Unprocessable(
            f"成文日期{issued_on.isoformat()}无法计算整改期限，请给出近年的日期",
            en=f"no rectification deadline can be counted from {issued_on.isoformat()}: "
            "give a date of recent years",
            code="notice_issue_date_out_of_range",
        ) from exc
    previous, previous_label = _previous_totals(
        session=session, period=period, as_of=as_of, scope=scope, settings=settings
    )
    setup = replace(setup, previous=previous, previous_label=previous_label)
    # Held off until the file is made, the collector never walks the records at all (they are
    # freed first), nor the workbook's cells again and again.
    with _collector_paused():
        stats = statistics(
            session=session,
            period=period,
            as_of=as_of,
            scope=scope,
            settings=settings,
            with_rankings=False,
        )
        return render_notice(stats, notice_format, setup, stream=stream)


# --- the nightly SLA report ---------------------------------------------------------------


def sla_snapshot_at(report_date: date, settings: Settings) -> datetime:
    """The nightly report of a day is its state at the midnight that ends it."""
    return start_of_local_day(report_date + timedelta(days=1), settings.tz)


def produce_sla_report(
    *, session: Session, report_date: date, now: datetime, settings: Settings
) -> SlaReportRun | None:
    """Compute and store one day's SLA report; None when that day is stored already."""
    if session.get(SlaReportRun, report_date) is not None:
        return None
    day_start = start_of_local_day(report_date, settings.tz)
    run = SlaReportRun(
        report_date=report_date,
        as_of=sla_snapshot_at(report_date, settings),
        produced_at=now,
    )
    # Claim the date first: a second producer blocks on this key and then fails, not duplicates.
    session.add(run)
    session.flush()
    counts = queries.sla_counts(session=session, day_start=day_start, day_end=run.as_of)
    lines = [
        SlaReport(report_date=report_date, unit_id=unit_id, **figures)
        for unit_id, figures in sorted(counts.items())
        if any(figures.values())
    ]
    session.add_all(lines)
    run.units = len(lines)
    session.add(run)
    session.flush()
    return run


def sla_report(
    *, session: Session, report_date: date, scope: Unit | None, settings: Settings
) -> SlaReportOut:
    """A stored SLA report, limited to one subtree when a scope is given; 404 if not produced."""
    run = session.get(SlaReportRun, report_date)
    if run is None:
        raise NotFound(
            f"{report_date.isoformat()} 没有时限报告：报告每晚为前一天生成，"
            "可用 `zhaocuo sla-report --date` 手工生成",
            en=f"no SLA report for {report_date.isoformat()}: reports are produced each night for "
            "the day before (`zhaocuo sla-report --date` produces one by hand)",
            code="sla_report_not_found",
        )
    query = (
        select(SlaReport, Unit.name, Unit.parent_id)
        .join(Unit, col(Unit.id) == SlaReport.unit_id)
        .where(SlaReport.report_date == report_date)
        .order_by(col(Unit.name), col(Unit.id))
    )
    if scope is not None:
        query = query.where(col(SlaReport.unit_id).in_(directory.subtree_ids_query(scope.id)))
    lines = [
        SlaLine(
            unit_id=line.unit_id,
            unit_name=name,
            parent_id=parent_id,
            **{field: getattr(line, field) for field in queries.SLA_FIELDS},
            rungs_fired=line.reminders + line.urges + line.supervisions,
        )
        for line, name, parent_id in session.exec(query).all()
    ]
    totals = {field: sum(getattr(line, field) for line in lines) for field in SLA_TOTAL_FIELDS}
    return SlaReportOut(
        report_date=report_date,
        as_of=run.as_of.astimezone(settings.tz),
        produced_at=run.produced_at.astimezone(settings.tz),
        scope_unit_id=scope.id if scope is not None else None,
        lines=lines,
        totals=totals,
    )


def sla_report_for(
    *,
    session: Session,
    principal: Principal,
    report_date: date,
    settings: Settings,
    unit_id: int | None = None,
) -> SlaReportOut:
    """A stored SLA report within the caller's subtree."""
    scope = resolve_scope(session=session, principal=principal, unit_id=unit_id)
    return sla_report(session=session, report_date=report_date, scope=scope, settings=settings)
