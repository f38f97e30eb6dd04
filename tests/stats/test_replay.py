"""A replay of the 10,169 real reports through the services, checked against the CSV itself.

Each report is submitted at 10:00 on its `created_date` and answered at 16:00 on its
`replied_date` by the unit that answered it (`handling_unit`): resolved as 属实 (status 1) or
不属实 (22), or declined (12, 13, 19, 20). Where the site's owner in the directory is another
unit, the owner transfers the report to the handling unit at 10:30 the same day, so each
report ends with the unit that answered it and its clocks still start on `created_date`.

The 7 rows without a site code are routed by their handling unit: the CSV says who answered
them, and leaving them unrouted would drop answered reports from every unit's figures. Those
whose page address matches a site's host are routed by the service itself (and then
transferred if that site's owner did not answer); the rest an operator routes at 10:30.
Every 5,000 steps the closed reports are settled, as the nightly job would, so the figures
come from settled monthly rows and from the reports closed since.

The expected figures are computed here from the CSV with the csv module and the
chinesecalendar package, not with the application's calendar or queries.
"""

import csv
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import chinese_calendar
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.auth import Principal, Role
from app.config import Settings
from app.directory.importer import import_sites
from app.directory.models import Site, Unit
from app.reports import service as reports
from app.reports.models import Category, DeclineReason, Verdict
from app.reports.schemas import DeclineIn, ReportCreate, ResolveIn, RouteIn, TransferIn
from app.stats.models import SettledState
from app.stats.notice import problems
from app.stats.periods import parse_period
from app.stats.schemas import Figures
from app.stats.service import statistics
from app.stats.settle import settle
from app.workdays.sources import get_calendar
from tests.conftest import DATA_CSV, SHANGHAI, requires_data

RESOLVED = {"1": Verdict.confirmed, "22": Verdict.not_confirmed}
DECLINED = {
    "13": DeclineReason.duplicate,
    "20": DeclineReason.out_of_scope,
    "19": DeclineReason.insufficient_info,
    "12": DeclineReason.other,
}
SUBMITTED_AT, MOVED_AT, ANSWERED_AT = time(10, 0), time(10, 30), time(16, 0)
BATCH = 1000
SETTLE_EVERY = 5000

# What the data holds, checked rather than assumed (see test_the_data_has_the_expected_odd_rows).
ROWS = 10_169
ROWS_WITHOUT_SITE_CODE = 7
# Rows the public form would now refuse (a description under 5 or over 2,000 characters, or a
# page address that is not http(s)://host): the platform accepted them, so they are replayed
# as they are, bypassing the form's validation only.
ROWS_THE_FORM_WOULD_REFUSE = 190
# Valid rows answered on a non-working day after their first-reply due day: 2 working days in
# (created, replied] yet later than the end of the 2nd working day. DESIGN.md counts them late.
ROWS_ANSWERED_ON_A_DAY_OFF_AFTER_DUE = 11


class OfficialDays:
    """Working days from chinesecalendar alone, for computing the expected figures."""

    def __init__(self, first: date, last: date) -> None:
        self._cumulative: dict[date, int] = {}
        count, day = 0, first
        while day <= last:
            count += chinese_calendar.is_workday(day)
            self._cumulative[day] = count
            day += timedelta(days=1)

    def between(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        return self._cumulative[end] - self._cumulative[start]

    def nth_after(self, start: date, n: int) -> date:
        day, seen = start, 0
        while seen < n:
            day += timedelta(days=1)
            seen += chinese_calendar.is_workday(day)
        return day


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


@requires_data()
def test_the_data_has_the_expected_odd_rows() -> None:
    rows = read_rows()
    assert len(rows) == ROWS
    dates = [row[column] for row in rows for column in ("created_date", "replied_date")]
    parsed = [date.fromisoformat(value) for value in dates]  # every date is an ISO date
    # chinesecalendar covers 2004–2026: no row needs the weekend rule, none is skipped.
    assert all(2004 <= day.year <= 2026 for day in parsed)
    assert all(row["replied_date"] >= row["created_date"] for row in rows)
    assert sum(1 for row in rows if not row["site_code"]) == ROWS_WITHOUT_SITE_CODE
    assert {row["status"] for row in rows} == set(RESOLVED) | set(DECLINED)

    refused = 0
    for row in rows:
        try:
            ReportCreate(
                site_code=row["site_code"] or None,
                page_url=row["error_url"],
                category=int(row["problem_type"]),
                description=row["description"],
            )
        except ValueError:
            refused += 1
    assert refused == ROWS_THE_FORM_WOULD_REFUSE

    days = OfficialDays(date(2019, 1, 1), date(2024, 12, 31))
    disagree = sum(
        1
        for row in rows
        if row["status"] in RESOLVED
        and (
            days.between(
                date.fromisoformat(row["created_date"]), date.fromisoformat(row["replied_date"])
            )
            <= 2
        )
        != (
            date.fromisoformat(row["replied_date"])
            <= days.nth_after(date.fromisoformat(row["created_date"]), 2)
        )
    )
    assert disagree == ROWS_ANSWERED_ON_A_DAY_OFF_AFTER_DUE


def replay(engine: Engine, settings: Settings, rows: list[dict[str, str]]) -> Counter:
    """Submit, move and answer every row through the services; return what routing did."""
    outcome: Counter = Counter()
    with Session(engine, expire_on_commit=False) as session:
        import_sites(session=session, path=DATA_CSV)
        session.commit()
        # Held for the whole replay, so that the services find every unit and site in the
        # session instead of loading them again for each report.
        directory = [*session.exec(select(Unit)).all(), *session.exec(select(Site)).all()]
        units = {unit.name: unit.id for unit in directory if isinstance(unit, Unit)}
        for name in {row["handling_unit"] for row in rows} - set(units):
            unit = Unit(name=name)
            session.add(unit)
            session.flush()
            directory.append(unit)
            units[name] = unit.id
        session.commit()
        calendar = get_calendar(session)
        operator = Principal(token_id=0, unit_id=next(iter(units.values())), role=Role.admin)

        def handler(unit_id: int) -> Principal:
            return Principal(token_id=0, unit_id=unit_id, role=Role.handler)

        actions = sorted(
            [(at(row["created_date"], SUBMITTED_AT), 0, index) for index, row in enumerate(rows)]
            + [(at(row["replied_date"], ANSWERED_AT), 1, index) for index, row in enumerate(rows)]
        )
        report_ids: dict[int, int] = {}
        for done, (instant, step, index) in enumerate(actions, start=1):
            row = rows[index]
            answerer = units[row["handling_unit"]]
            if step == 0:
                report = reports.submit(
                    session=session,
                    # Historical reports the platform accepted: the form's checks do not apply.
                    report_in=ReportCreate.model_construct(
                        site_code=row["site_code"] or None,
                        page_url=row["error_url"],
                        category=Category(int(row["problem_type"])),
                        description=row["description"],
                        name=None,
                        phone=None,
                        email=None,
                    ),
                    now=instant,
                    calendar=calendar,
                    settings=settings,
                )
                report_ids[index] = report.id
                moved_at = at(row["created_date"], MOVED_AT)
                if report.owner_unit_id is None:
                    outcome["routed by an operator"] += 1
                    reports.route(
                        session=session,
                        principal=operator,
                        report_id=report.id,
                        route_in=RouteIn(unit_id=answerer),
                        now=moved_at,
                        calendar=calendar,
                        settings=settings,
                    )
                elif report.owner_unit_id != answerer:
                    outcome["transferred"] += 1
                    reports.transfer(
                        session=session,
                        principal=handler(report.owner_unit_id),
                        report_id=report.id,
                        transfer_in=TransferIn(to_unit_id=answerer),
                        now=moved_at,
                        calendar=calendar,
                        settings=settings,
                    )
                if not row["site_code"] and report.site_id is not None:
                    outcome["routed by host"] += 1
            elif row["status"] in RESOLVED:
                reports.resolve(
                    session=session,
                    principal=handler(answerer),
                    report_id=report_ids[index],
                    resolve_in=ResolveIn(verdict=RESOLVED[row["status"]], text="已办结。"),
                    now=instant,
                    calendar=calendar,
                    settings=settings,
                )
            else:
                reports.decline(
                    session=session,
                    principal=handler(answerer),
                    report_id=report_ids[index],
                    decline_in=DeclineIn(reason=DECLINED[row["status"]], text="不予受理。"),
                    now=instant,
                    calendar=calendar,
                    settings=settings,
                )
            if done % BATCH == 0:
                session.commit()
            if done % SETTLE_EVERY == 0:
                # As the nightly job would: statistics then read these from settled figures.
                settle(session=session, now=instant, settings=settings)
        session.commit()
    return outcome


@requires_data()
def test_replayed_reports_give_the_figures_computed_from_the_csv(
    engine: Engine, settings: Settings
) -> None:
    rows = read_rows()
    outcome = replay(engine, settings, rows)
    assert outcome["routed by an operator"] + outcome["routed by host"] == ROWS_WITHOUT_SITE_CODE
    assert outcome["transferred"] > 0

    expected = expected_figures(rows, OfficialDays(date(2019, 1, 1), date(2024, 12, 31)))
    first = min(row["created_date"] for row in rows)
    last = max(row["created_date"] for row in rows)
    as_of = at(max(row["replied_date"] for row in rows), time(23, 0))
    months = sorted({row["created_date"][:7] for row in rows})
    # One report of May 2019 answered in 2023, a few of April and June 2023, then every month
    # from July 2023 to February 2024.
    assert months[0] == "2019-05" and months[-1] == "2024-02" and len(months) == 11

    with Session(engine) as session:
        assert session.get(SettledState, 1).settled_reports > 9_000

        def totals(period: str):
            return statistics(
                session=session,
                period=parse_period(period),
                as_of=as_of,
                scope=None,
                settings=settings,
            )

        for month in months:
            stats = totals(month)
            assert stats.totals == expected[month].figures(), month
            assert stats.unrouted == 0
            check_the_wording_of_a_real_month(stats)
        whole = totals(f"{first}..{last}")
        assert whole.totals == expected["all"].figures()
        assert whole.totals.received == ROWS
        assert whole.totals.declined == 37
        assert whole.totals.confirmed == 7_217
        share = expected["all"].in_time / (ROWS - 37)
        assert whole.totals.on_time_first_reply_rate == share
        assert whole.totals.average_handling_workdays == expected["all"].handling / (ROWS - 37)

        # Each unit's own figures are those of the rows it answered.
        own = {unit.unit_name: unit.own for unit in whole.units if unit.own.received}
        assert own == {
            key.removeprefix("unit:"): tally.figures()
            for key, tally in expected.items()
            if key.startswith("unit:")
        }


def check_the_wording_of_a_real_month(stats) -> None:
    """A real month's notice pairs each count with its unit and stops at ten names."""
    late = [unit for unit in stats.units if unit.own.late_first_replies]
    paragraph = problems(stats)[2]
    if not late:
        return
    total = sum(unit.own.late_first_replies for unit in late)
    counts = {unit.own.late_first_replies for unit in late}
    if len(late) == 1:
        assert paragraph == (
            f"（三）留言答复不及时。{late[0].unit_name}有{total}条留言未在2个工作日内答复。"
        )
        return
    if len(counts) == 1:
        assert paragraph.startswith(
            f"（三）留言答复不及时。{len(late)}家单位分别有{counts.pop()}条留言未在2个工作日内答复："
        )
    else:
        assert paragraph.startswith(
            f"（三）留言答复不及时。{len(late)}家单位共有{total}条留言未在2个工作日内答复："
        )
    listed = paragraph.split("答复：", 1)[1].removesuffix("。")
    listed = re.sub(r"等\d+家单位（详见附件）$", "", listed)
    shown = [
        name for part in listed.split("，") for name in re.sub(r"各?\d+条$", "", part).split("、")
    ]
    assert len(shown) == min(len(late), 10)
    assert set(shown) <= {unit.unit_name for unit in late}
    if len(late) > 10:
        assert paragraph.endswith(f"等{len(late)}家单位（详见附件）。")
        # The biggest counts come first and each name carries its count: no 258 counts
        # followed by 258 names.
        assert len(paragraph) < 600
    else:
        assert paragraph.endswith("。") and "详见附件" not in paragraph
