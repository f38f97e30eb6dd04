from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Any, Self

from pydantic import BaseModel, Field

from app.contract import LocalDateTime, Page, describe_enum

# Plain pydantic models rather than SQLModel: these are built by the ten thousand for a
# notice over a large directory, and pydantic builds them several times faster.

# The counts the SQL aggregates return; every rate is derived from them, so rolled-up figures
# are recomputed from summed counts, never averaged from rates.
COUNT_FIELDS = (
    "received",
    "declined",
    "resolved",
    "confirmed",
    "first_replies_due",
    "first_replies_in_time",
    "late_first_replies",
    "handling_workdays_total",
    "overdue_open",
    "overdue_unanswered",
    "resolutions_not_due",
    "extended",
    # The citizen loop (app/reports/ratings.py, app/reports/duplicates.py).
    "ratings",
    "satisfied_ratings",
    "reopened",
    "duplicates_declined",
)


_set_slot = object.__setattr__


class Record(BaseModel):
    """A response model the service also builds itself, from values of the declared types."""

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """A record of every field's value, unchecked: each must already have its field's type.

        What model_construct does for models without aliases, defaults or private attributes,
        without its loop over the fields in Python (which makes it slower than validating).
        The 20,000 records of a notice over 10,000 units take 50 ms this way, 85 ms validated.
        tests/stats/test_schemas.py holds the result to validation's.
        """
        record = object.__new__(cls)
        _set_slot(record, "__dict__", values)
        _set_slot(record, "__pydantic_fields_set__", _every_field(cls))
        _set_slot(record, "__pydantic_extra__", None)
        _set_slot(record, "__pydantic_private__", None)
        return record


@cache
def _every_field(model: type[BaseModel]) -> set[str]:
    # One set per class, shared by its records: a set of a dozen names for each record made
    # building them a fifth slower. Nothing adds to it but assigning a field, which adds a name
    # it holds already.
    return set(model.model_fields)


class Figures(Record):
    """The statistics of one unit, or of a subtree, for a period as of a cut-off instant."""

    received: int = Field(description="reports received in the period")
    declined: int = Field(description="not taken up (不予受理) by the cut-off")
    valid: int = Field(description="received − declined")
    resolved: int = Field(description="resolved (办结) by the cut-off")
    confirmed: int = Field(description="resolved as 属实")
    completion_rate: float | None = Field(description="resolved / valid (办结率)")
    first_replies_due: int = Field(
        description="valid reports answered by the cut-off or whose first-reply due has passed"
    )
    first_replies_in_time: int = Field(description="first responses given by their due")
    on_time_first_reply_rate: float | None = Field(
        description="first_replies_in_time / first_replies_due"
    )
    late_first_replies: int = Field(description="answered late, or unanswered past due")
    handling_workdays_total: int = Field(description="working days taken over resolved reports")
    average_handling_workdays: float | None = Field(description="per resolved report")
    overdue_open: int = Field(description="open at the cut-off and past a due date")
    overdue_unanswered: int = Field(
        description="of overdue_open, past only the first-reply due (超期未答复)"
    )
    overdue_unresolved: int = Field(
        description="of overdue_open, past the resolution due (超期未办结)"
    )
    resolutions_not_due: int = Field(
        description="valid, open, and their resolution due not passed at the cut-off"
    )
    extended: int = Field(
        description="given more time (延期) by an approved extension by the cut-off, on the "
        "current clock; their lateness is judged against the extended date"
    )
    ratings: int = Field(default=0, description="reports the citizen rated by the cut-off (评价)")
    satisfied_ratings: int = Field(
        default=0, description="of the ratings, satisfied or basically satisfied"
    )
    satisfaction_rate: float | None = Field(
        default=None, description="satisfied_ratings / ratings (满意率)"
    )
    reopened: int = Field(
        default=0, description="reopened by a dissatisfied rating by the cut-off (重办)"
    )
    duplicates_declined: int = Field(
        default=0, description="declined as duplicates of another report by the cut-off"
    )

    @classmethod
    def from_counts(cls, counts: Mapping[str, int | None]) -> "Figures":
        """Figures with the rates derived from the counts (missing counts are zero)."""
        # Called for every unit of a notice: the counts are made plain ints here, so the record
        # needs no validation.
        get = counts.get
        received = int(get("received") or 0)
        declined = int(get("declined") or 0)
        resolved = int(get("resolved") or 0)
        first_replies_due = int(get("first_replies_due") or 0)
        first_replies_in_time = int(get("first_replies_in_time") or 0)
        handling_workdays_total = int(get("handling_workdays_total") or 0)
        valid = received - declined
        overdue_open = int(get("overdue_open") or 0)
        overdue_unanswered = int(get("overdue_unanswered") or 0)
        return cls.trusted(
            received=received,
            declined=declined,
            valid=valid,
            resolved=resolved,
            confirmed=int(get("confirmed") or 0),
            completion_rate=resolved / valid if valid else None,
            first_replies_due=first_replies_due,
            first_replies_in_time=first_replies_in_time,
            on_time_first_reply_rate=(
                first_replies_in_time / first_replies_due if first_replies_due else None
            ),
            late_first_replies=int(get("late_first_replies") or 0),
            handling_workdays_total=handling_workdays_total,
            average_handling_workdays=handling_workdays_total / resolved if resolved else None,
            overdue_open=overdue_open,
            overdue_unanswered=overdue_unanswered,
            overdue_unresolved=overdue_open - overdue_unanswered,
            resolutions_not_due=int(get("resolutions_not_due") or 0),
            extended=int(get("extended") or 0),
            **_loop_figures(get),
        )

    @classmethod
    def total(cls, parts: Iterable["Figures"]) -> "Figures":
        """The figures of several units together: counts summed, rates recomputed."""
        sums = dict.fromkeys(COUNT_FIELDS, 0)
        for part in parts:
            for name in COUNT_FIELDS:
                sums[name] += getattr(part, name)
        return cls.from_counts(sums)


def _loop_figures(get) -> dict[str, Any]:
    """The ratings, reopenings and duplicates of a statistics row, with the 满意率."""
    ratings = int(get("ratings") or 0)
    satisfied = int(get("satisfied_ratings") or 0)
    return {
        "ratings": ratings,
        "satisfied_ratings": satisfied,
        "satisfaction_rate": satisfied / ratings if ratings else None,
        "reopened": int(get("reopened") or 0),
        "duplicates_declined": int(get("duplicates_declined") or 0),
    }


class Flag(StrEnum):
    low_completion = "low_completion"  # 办结率低于阈值
    slow_handling = "slow_handling"  # 平均办理时间超过阈值
    late_first_replies = "late_first_replies"  # 有留言未按时首次答复
    low_satisfaction = "low_satisfaction"  # 满意率低于阈值


describe_enum(
    Flag,
    {
        Flag.low_completion: "办结率低于阈值",
        Flag.slow_handling: "平均办理时间超过阈值",
        Flag.late_first_replies: "有留言未按时首次答复",
        Flag.low_satisfaction: "网民满意率低于阈值",
    },
)


class UnitStats(Record):
    """One unit's figures, its own and those of its whole subtree."""

    unit_id: int = Field(description="the unit's id")
    unit_name: str = Field(description="the unit's name")
    parent_id: int | None = Field(description="the unit that supervises it")
    level: int = Field(description="0 for the unit the statistics are scoped to, 1 below it…")
    own: Figures = Field(description="reports the unit itself owns")
    subtree: Figures = Field(description="the unit and every unit it supervises, summed")
    flags: list[Flag] = Field(description="shortfalls of the unit's own figures")


class RankingEntry(Record):
    """A place in a league table; equal values share a rank (1, 2, 2, 4)."""

    rank: int = Field(description="1 for the best")
    unit_id: int = Field(description="the unit's id")
    unit_name: str = Field(description="the unit's name")
    value: float = Field(description="the figure ranked on")
    valid: int = Field(description="the unit's own valid reports")


class Rankings(BaseModel):
    """League tables of units with at least `ranking_min_valid` valid reports of their own."""

    completion_rate: list[RankingEntry] = Field(description="办结率, highest first")
    on_time_first_reply_rate: list[RankingEntry] = Field(
        description="按时首次答复率, highest first"
    )
    average_handling_workdays: list[RankingEntry] = Field(
        description="平均办理工作日, fewest first"
    )


class Thresholds(BaseModel):
    """The settings the flags and rankings apply."""

    completion_rate: float = Field(description="flagged below this completion rate")
    average_handling_workdays: float = Field(description="flagged above this average")
    ranking_min_valid: int = Field(description="ranked only with this many valid reports")
    first_reply_workdays: int = Field(description="first reply due within this many days")
    satisfaction_rate: float = Field(
        default=0.8,
        description="flagged below this 满意率 with at least ranking_min_valid ratings",
    )


class PeriodOut(BaseModel):
    """The period counted, by local date of receipt."""

    key: str = Field(description="the period as written in requests, e.g. 2026-Q3")
    label: str = Field(description="the period in Chinese, e.g. 2026年第三季度")
    start: date = Field(description="its first day")
    end: date = Field(description="its last day, inclusive")


class StatsOut(BaseModel):
    period: PeriodOut
    as_of: datetime = Field(description="the cut-off instant, in local time")
    scope_unit_id: int | None = Field(description="null when the scope is every unit")
    scope_unit_name: str | None
    thresholds: Thresholds
    totals: Figures
    unrouted: int | None = Field(
        description="reports received in the period still without an owner unit "
        "(only when the scope is every unit: they belong to no subtree)"
    )
    units: list[UnitStats] = Field(description="every unit in scope, supervising units first")
    rankings: Rankings | None = Field(description="absent where unused (in notices)")


class RankingsPage(BaseModel):
    """League tables of units with at least `ranking_min_valid` valid reports, one page each."""

    completion_rate: Page[RankingEntry] = Field(description="办结率, highest first")
    on_time_first_reply_rate: Page[RankingEntry] = Field(
        description="按时首次答复率, highest first"
    )
    average_handling_workdays: Page[RankingEntry] = Field(
        description="平均办理工作日, fewest first"
    )


def _page_of(items: list, *, limit: int, offset: int) -> Page:
    return Page(items=items[offset : offset + limit], total=len(items), limit=limit, offset=offset)


class StatsPage(BaseModel):
    """Statistics of a period as the API returns them: the units and rankings paged."""

    period: PeriodOut = Field(description="the period counted")
    as_of: LocalDateTime = Field(description="the cut-off instant")
    scope_unit_id: int | None = Field(description="null when the scope is every unit")
    scope_unit_name: str | None = Field(description="the scope unit's name")
    thresholds: Thresholds = Field(description="the thresholds applied")
    totals: Figures = Field(description="the figures of the whole scope")
    unrouted: int | None = Field(
        description="reports received in the period still without an owner unit "
        "(only when the scope is every unit: they belong to no subtree)"
    )
    units: Page[UnitStats] = Field(description="units in scope, supervising units first")
    rankings: RankingsPage = Field(description="league tables of the scope's units")

    @classmethod
    def of(cls, stats: "StatsOut", *, limit: int, offset: int) -> "StatsPage":
        """One page of a scope's statistics: units and each ranking cut to limit and offset."""
        rankings = stats.rankings
        return cls(
            period=stats.period,
            as_of=stats.as_of,
            scope_unit_id=stats.scope_unit_id,
            scope_unit_name=stats.scope_unit_name,
            thresholds=stats.thresholds,
            totals=stats.totals,
            unrouted=stats.unrouted,
            units=_page_of(stats.units, limit=limit, offset=offset),
            rankings=RankingsPage(
                completion_rate=_page_of(rankings.completion_rate, limit=limit, offset=offset),
                on_time_first_reply_rate=_page_of(
                    rankings.on_time_first_reply_rate, limit=limit, offset=offset
                ),
                average_handling_workdays=_page_of(
                    rankings.average_handling_workdays, limit=limit, offset=offset
                ),
            ),
        )


class SlaLine(BaseModel):
    unit_id: int
    unit_name: str
    parent_id: int | None
    open_reports: int
    due_today: int
    overdue_first_replies: int
    overdue_resolutions: int
    reminders: int
    urges: int
    supervisions: int
    rungs_fired: int = Field(description="reminders + urges + supervisions")


class SlaReportOut(BaseModel):
    report_date: date
    as_of: LocalDateTime = Field(description="the snapshot instant: the end of report_date")
    produced_at: LocalDateTime
    scope_unit_id: int | None
    lines: list[SlaLine]
    totals: dict[str, int]
