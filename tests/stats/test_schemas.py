"""Records the service builds without validation are the records validation would build."""

from decimal import Decimal

import pytest
from pydantic import BaseModel

from app.stats.schemas import Figures, Flag, RankingEntry, UnitStats


def assert_as_validated(record: BaseModel) -> None:
    twin = type(record).model_validate(record.model_dump())
    assert record == twin
    assert [(name, type(value)) for name, value in record] == [
        (name, type(value)) for name, value in twin
    ]
    assert record.model_fields_set == twin.model_fields_set
    # A value of another type than its field's would make the serializer warn.
    assert record.model_dump_json(warnings="error") == twin.model_dump_json()


@pytest.mark.parametrize(
    "counts",
    [
        {},
        {"received": 3, "declined": 3},
        {
            "received": 10,
            "declined": 2,
            "resolved": 5,
            "confirmed": 4,
            "first_replies_due": 8,
            "first_replies_in_time": 6,
            "late_first_replies": 2,
            "handling_workdays_total": 37,
            "overdue_open": 1,
        },
    ],
)
def test_figures_from_counts_are_as_validated(counts: dict[str, int]) -> None:
    assert_as_validated(Figures.from_counts(counts))


def test_counts_of_other_number_types_become_ints() -> None:
    figures = Figures.from_counts(
        {"received": Decimal(4), "resolved": Decimal(1), "declined": None}
    )
    assert figures == Figures.from_counts({"received": 4, "resolved": 1})
    assert_as_validated(figures)


def test_unit_records_and_ranking_entries_are_as_validated() -> None:
    own = Figures.from_counts({"received": 2, "resolved": 1, "late_first_replies": 1})
    assert_as_validated(
        UnitStats.trusted(
            unit_id=7,
            unit_name="甲市教育局",
            parent_id=None,
            level=0,
            own=own,
            subtree=own,
            flags=[Flag.low_completion, Flag.late_first_replies],
        )
    )
    assert_as_validated(
        RankingEntry.trusted(rank=1, unit_id=7, unit_name="甲市教育局", value=0.5, valid=2)
    )


def test_assigning_a_field_changes_one_record_only() -> None:
    first, second = Figures.from_counts({"received": 1}), Figures.from_counts({"received": 2})
    first.received = 5
    assert (first.received, second.received) == (5, 2)
    assert second.model_fields_set == set(Figures.model_fields)
