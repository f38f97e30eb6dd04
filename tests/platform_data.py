"""The national platform's export (../shared/data) and the figures counted from it by hand.

Shared by the replay through the services and the bulk import: both must arrive at these
figures, which come from the CSV and `tests.oracle` alone, never from the service's code.
"""

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time

from app.reports.models import DeclineReason, Verdict
from app.stats.schemas import Figures
from tests.conftest import DATA_CSV, SHANGHAI
from tests.oracle import OfficialDays

ROWS = 10_169

RESOLVED = {"1": Verdict.confirmed, "22": Verdict.not_confirmed}
DECLINED = {
    "13": DeclineReason.duplicate,
    "20": DeclineReason.out_of_scope,
    "19": DeclineReason.insufficient_info,
    "12": DeclineReason.other,
}


@dataclass
class Expected:
    received: int = 0
    declined: int = 0
    resolved: int = 0
    confirmed: int = 0
    in_time: int = 0
    handling: int = 0
    duplicates: int = 0
    handling_days: list[int] = field(default_factory=list)

    def figures(self) -> Figures:
        valid = self.received - self.declined
        return Figures.from_counts(
            {
                "received": self.received,
                "declined": self.declined,
                "resolved": self.resolved,
                "confirmed": self.confirmed,
                # Every report was answered by the end, so every valid one is due and counted.
                "first_replies_due": valid,
                "first_replies_in_time": self.in_time,
                "late_first_replies": valid - self.in_time,
                "handling_workdays_total": self.handling,
                "overdue_open": 0,
                "duplicates_declined": self.duplicates,
            }
        )


def read_rows() -> list[dict[str, str]]:
    with DATA_CSV.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def at(day: str, clock: time) -> datetime:
    return datetime.combine(date.fromisoformat(day), clock, tzinfo=SHANGHAI)


def expected_figures(rows: list[dict[str, str]], days: OfficialDays) -> dict[str, Expected]:
    """Per month of created_date, per handling unit ("unit:<name>") and overall ("all")."""
    expected: dict[str, Expected] = defaultdict(Expected)
    for row in rows:
        created, replied = (
            date.fromisoformat(row["created_date"]),
            date.fromisoformat(row["replied_date"]),
        )
        for key in ("all", row["created_date"][:7], f"unit:{row['handling_unit']}"):
            tally = expected[key]
            tally.received += 1
            if row["status"] in DECLINED:
                tally.declined += 1
                tally.duplicates += DECLINED[row["status"]] == DeclineReason.duplicate
                continue
            # Within 2 working days: by the end of the 2nd working day after created_date.
            tally.in_time += replied <= days.nth_after(created, 2)
            tally.resolved += 1
            tally.confirmed += row["status"] == "1"
            tally.handling += days.between(created, replied)
    return expected
