"""Statistics made up by hand, for the notice's text and documents without a database."""

from datetime import date

from app.stats.schemas import Figures, PeriodOut, Rankings, StatsOut, Thresholds, UnitStats
from app.stats.service import unit_flags
from tests.conftest import local

THRESHOLDS = Thresholds(
    completion_rate=0.7,
    average_handling_workdays=15.0,
    ranking_min_valid=5,
    first_reply_workdays=2,
)


def made_up_stats(units: list[tuple[str, Figures]], unrouted: int | None = None) -> StatsOut:
    """Statistics of a flat list of units under a city office, without a database."""
    rows = [
        UnitStats(
            unit_id=index,
            unit_name=name,
            parent_id=0,
            level=1,
            own=own,
            subtree=own,
            flags=unit_flags(own, THRESHOLDS),
        )
        for index, (name, own) in enumerate(units, start=1)
    ]
    totals = Figures.total(own for _, own in units)
    root = UnitStats(
        unit_id=0,
        unit_name="丙市人民政府办公室",
        parent_id=None,
        level=0,
        own=Figures.from_counts({}),
        subtree=totals,
        flags=[],
    )
    return StatsOut(
        period=PeriodOut(
            key="2019-04", label="2019年4月", start=date(2019, 4, 1), end=date(2019, 4, 30)
        ),
        as_of=local(2019, 5, 6, 10, 0),
        scope_unit_id=0,
        scope_unit_name="丙市人民政府办公室",
        thresholds=THRESHOLDS,
        totals=totals,
        unrouted=unrouted,
        units=[root, *rows],
        rankings=Rankings(
            completion_rate=[], on_time_first_reply_rate=[], average_handling_workdays=[]
        ),
    )


def answered(received: int, late: int = 0, **counts: int) -> Figures:
    """A unit whose reports were all resolved, `late` of them answered after the due."""
    return Figures.from_counts(
        {
            "received": received,
            "resolved": received,
            "first_replies_due": received,
            "first_replies_in_time": received - late,
            "late_first_replies": late,
            "handling_workdays_total": received,
            **counts,
        }
    )
