"""September 2026 around the Mid-autumn and National Day holidays, built through the services.

Working days that matter: Sunday 20 September is a make-up working day; Friday 25 September
(Mid-autumn) and 1–7 October are holidays; Saturday 10 October is a make-up working day.
"""

from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlmodel import Session

from app.auth import Principal, Role
from app.config import Settings
from app.directory.models import SiteCreate, Unit
from app.directory.service import create_site
from app.reports import service as reports
from app.reports.models import Category, DeclineReason, Verdict
from app.reports.schemas import (
    DeclineIn,
    InfoRequestIn,
    ReplyIn,
    ReportCreate,
    ResolveIn,
    TransferIn,
)
from app.stats.periods import parse_period
from app.stats.schemas import Figures, StatsOut
from app.stats.service import statistics
from app.workdays.sources import get_calendar
from tests.conftest import Directory, local

CITIZEN = {"name": "张三丰", "phone": "13812345678", "email": "zhangsanfeng@example.com"}
AS_OF = local(2026, 10, 12, 18, 0)  # Monday 12 October, after the last answer
# Every closing's rating window (10 working days) has passed: the settle job takes them all.
AFTER_RATING = local(2026, 10, 28, 10, 0)


@dataclass
class September:
    """Report ids by the names used in the tests' comments."""

    directory: Directory
    ids: dict[str, int]


def handler(unit_id: int) -> Principal:
    return Principal(token_id=0, unit_id=unit_id, role=Role.handler)


def figures(**counts: int) -> Figures:
    """Expected figures from their counts; counts not given are zero."""
    return Figures.from_counts(counts)


def compute(
    session: Session, settings: Settings, period: str, as_of: datetime, scope_id: int | None
) -> StatsOut:
    """The statistics of a period as of an instant, for a unit's subtree or (None) everything."""
    scope = session.get(Unit, scope_id) if scope_id is not None else None
    return statistics(
        session=session, period=parse_period(period), as_of=as_of, scope=scope, settings=settings
    )


@pytest.fixture
def september(session: Session, directory: Directory, settings: Settings) -> September:
    """Reports received in September 2026 and handled up to Monday 12 October.

    甲市教育局 (dept_a1): R1 in time, R2 late, R3 declined, R4 never answered, R5 paused
    awaiting the citizen, R6 transferred in from 乙市教育局. 甲市人民政府办公室 (city_a, which
    runs a site itself): R9 paused and resumed. 乙市教育局 (dept_b1): B1 resolved after 25
    working days. U1 matches no site and stays unrouted.
    """
    calendar = get_calendar(session)
    create_site(
        session=session,
        site_in=SiteCreate(
            site_code="9901000001", name="甲市人民政府网站", owner_unit_id=directory.city_a
        ),
    )
    d = directory
    ids: dict[str, int] = {}
    tracking: dict[str, str] = {}

    def submit(name: str, site_code: str | None, at: datetime, url: str | None = None) -> None:
        report = reports.submit(
            session=session,
            report_in=ReportCreate(
                site_code=site_code,
                page_url=url or f"https://jyj.jia.example.gov.cn/{name.lower()}.html",
                category=Category.typo,
                description=f"{name}：页面上有错别字，请更正。",
                **CITIZEN,
            ),
            now=at,
            calendar=calendar,
            settings=settings,
        )
        ids[name], tracking[name] = report.id, report.tracking_code

    def reply(name: str, unit_id: int, at: datetime) -> None:
        reports.reply(
            session=session,
            principal=handler(unit_id),
            report_id=ids[name],
            reply_in=ReplyIn(text="已收到，正在核实。"),
            now=at,
            calendar=calendar,
            settings=settings,
        )

    def resolve(name: str, unit_id: int, at: datetime, verdict: Verdict) -> None:
        reports.resolve(
            session=session,
            principal=handler(unit_id),
            report_id=ids[name],
            resolve_in=ResolveIn(verdict=verdict, text="已处理。"),
            now=at,
            calendar=calendar,
            settings=settings,
        )

    # R6 reaches 乙市教育局 on Monday 14 September, which hands it to 甲市教育局 the next day.
    submit("R6", d.site_b1, local(2026, 9, 14, 10, 0))
    reports.transfer(
        session=session,
        principal=handler(d.dept_b1),
        report_id=ids["R6"],
        transfer_in=TransferIn(to_unit_id=d.dept_a1, text="属甲市教育局网站"),
        now=local(2026, 9, 15, 10, 0),
        calendar=calendar,
        settings=settings,
    )
    resolve("R6", d.dept_a1, local(2026, 9, 16, 11, 0), Verdict.confirmed)

    # B1: first reply due Thursday 3 September, resolution due Monday 21 September.
    submit("B1", d.site_b1, local(2026, 9, 1, 10, 0))
    reply("B1", d.dept_b1, local(2026, 9, 2, 9, 0))
    resolve("B1", d.dept_b1, local(2026, 10, 12, 11, 0), Verdict.confirmed)

    # R9: answered in time, then paused from Tuesday 8 to Friday 11 September (3 working days).
    submit("R9", "9901000001", local(2026, 9, 7, 10, 0))
    reply("R9", d.city_a, local(2026, 9, 8, 9, 0))
    reports.request_info(
        session=session,
        principal=handler(d.city_a),
        report_id=ids["R9"],
        info_in=InfoRequestIn(text="请提供页面截图。"),
        now=local(2026, 9, 8, 15, 0),
        settings=settings,
    )
    reports.supplement(
        session=session,
        tracking_code=tracking["R9"],
        text="截图已补充。",
        now=local(2026, 9, 11, 10, 0),
        calendar=calendar,
        settings=settings,
    )
    resolve("R9", d.city_a, local(2026, 9, 15, 10, 0), Verdict.not_confirmed)

    submit("U1", None, local(2026, 9, 10, 10, 0), url="https://unknown.example.org/page.html")

    # R3: received on the make-up working day Sunday 20 September, declined the next day.
    submit("R3", d.site_a1, local(2026, 9, 20, 10, 0))
    reports.decline(
        session=session,
        principal=handler(d.dept_a1),
        report_id=ids["R3"],
        decline_in=DeclineIn(reason=DeclineReason.duplicate, text="重复留言。"),
        now=local(2026, 9, 21, 10, 0),
        calendar=calendar,
        settings=settings,
    )

    # R4: received on the Mid-autumn holiday; first reply due Tuesday 29 September; never answered.
    submit("R4", d.site_a1, local(2026, 9, 25, 11, 0))

    # R5: first reply due Wednesday 30 September; paused on the 29th and never resumed.
    submit("R5", d.site_a1, local(2026, 9, 28, 10, 0))
    reports.request_info(
        session=session,
        principal=handler(d.dept_a1),
        report_id=ids["R5"],
        info_in=InfoRequestIn(text="是哪一个页面？"),
        now=local(2026, 9, 29, 10, 0),
        settings=settings,
    )

    # R2: first reply due Thursday 8 October, after the holiday; answered on the 9th: late.
    submit("R2", d.site_a1, local(2026, 9, 29, 9, 0))
    reply("R2", d.dept_a1, local(2026, 10, 9, 17, 0))
    resolve("R2", d.dept_a1, local(2026, 10, 10, 10, 0), Verdict.not_confirmed)

    # R1: first reply due Friday 9 October; answered that day, resolved on Monday 12 October.
    submit("R1", d.site_a1, local(2026, 9, 30, 10, 0))
    reply("R1", d.dept_a1, local(2026, 10, 9, 17, 0))
    resolve("R1", d.dept_a1, local(2026, 10, 12, 11, 0), Verdict.confirmed)

    # R7: received in October, outside the September period.
    submit("R7", d.site_a1, local(2026, 10, 8, 10, 0))
    session.commit()
    return September(directory=d, ids=ids)
