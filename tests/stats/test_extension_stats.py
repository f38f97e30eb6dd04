"""Statistics with deadline extensions: counted per unit and subtree, lateness against the
extended date, the same from settled rows, and named in the notice and its annex.

Every report is received on Wednesday 9 September 2026 (first reply due Friday 11, resolution
due Wednesday 30 September) and answered on the 10th:
- E1 (甲市教育局): 5 working days approved on 28 September: due Tuesday 13 October; open.
- E2 (甲市教育局): no extension; open, so past its resolution due since 30 September.
- E3 (乙市教育局): 3 working days approved on 29 September: due Saturday 10 October (a make-up
  working day); resolved on Friday 9 October, after 17 working days.
"""

import csv
import io
from datetime import datetime

import pytest
from sqlmodel import Session

from app.auth import Principal, Role
from app.config import Settings
from app.reports import extensions
from app.reports import service as reports
from app.reports.extension_models import ExtensionDecisionIn, ExtensionIn
from app.reports.models import Category, Verdict
from app.reports.schemas import ReplyIn, ReportCreate, ResolveIn
from app.stats.exports import notice_csv
from app.stats.notice import overview
from app.stats.schemas import StatsOut
from app.stats.settle import settle
from app.workdays.sources import get_calendar
from tests.conftest import Directory, local
from tests.stats.conftest import AFTER_RATING, compute, figures

AS_OF = local(2026, 10, 12, 18, 0)


@pytest.fixture
def extended(session: Session, directory: Directory, settings: Settings) -> Directory:
    calendar = get_calendar(session)
    d = directory

    def submit(site_code: str, minute: int) -> int:
        report = reports.submit(
            session=session,
            report_in=ReportCreate(
                site_code=site_code,
                page_url=f"https://jyj.example.gov.cn/{minute}.html",
                category=Category.typo,
                description="页面上有错别字，请更正。",
            ),
            now=local(2026, 9, 9, 10, minute),
            calendar=calendar,
            settings=settings,
        )
        reports.reply(
            session=session,
            principal=Principal(token_id=0, unit_id=report.owner_unit_id, role=Role.handler),
            report_id=report.id,
            reply_in=ReplyIn(text="已收到，正在核实。"),
            now=local(2026, 9, 10, 9, 0),
            calendar=calendar,
            settings=settings,
        )
        return report.id

    def extend(report_id: int, unit_id: int, workdays: int, at: datetime) -> None:
        request = extensions.request_extension(
            session=session,
            principal=Principal(token_id=0, unit_id=unit_id, role=Role.handler),
            report_id=report_id,
            extension_in=ExtensionIn(workdays=workdays, reason="需协调技术服务商。"),
            now=at,
            settings=settings,
        )
        extensions.approve(
            session=session,
            principal=Principal(token_id=0, unit_id=d.province, role=Role.admin),
            extension_id=request.id,
            decision_in=ExtensionDecisionIn(note="同意。"),
            now=at,
            calendar=calendar,
            settings=settings,
        )

    e1, _e2, e3 = submit(d.site_a1, 0), submit(d.site_a1, 1), submit(d.site_b1, 2)
    extend(e1, d.dept_a1, 5, local(2026, 9, 28, 15, 0))
    extend(e3, d.dept_b1, 3, local(2026, 9, 29, 15, 0))
    reports.resolve(
        session=session,
        principal=Principal(token_id=0, unit_id=d.dept_b1, role=Role.handler),
        report_id=e3,
        resolve_in=ResolveIn(verdict=Verdict.confirmed, text="已更正。"),
        now=local(2026, 10, 9, 11, 0),
        calendar=calendar,
        settings=settings,
    )
    session.commit()
    return d


DEPT_A1 = figures(
    received=2,
    first_replies_due=2,
    first_replies_in_time=2,
    overdue_open=1,  # E2 only: E1's extended date is still ahead
    resolutions_not_due=1,  # E1
    extended=1,  # E1
)
DEPT_B1 = figures(
    received=1,
    resolved=1,
    confirmed=1,
    first_replies_due=1,
    first_replies_in_time=1,
    handling_workdays_total=17,
    extended=1,  # E3, resolved before its extended date
)


def by_name(stats: StatsOut) -> dict:
    return {unit.unit_name: unit for unit in stats.units}


def test_extended_reports_are_counted_and_judged_on_the_extended_date(
    session: Session, settings: Settings, extended: Directory
) -> None:
    units = by_name(compute(session, settings, "2026-09", AS_OF, extended.province))

    assert units["甲市教育局"].own == DEPT_A1
    assert units["乙市教育局"].own == DEPT_B1
    assert units["甲市人民政府办公室"].subtree.extended == 1
    assert units["乙市人民政府办公室"].subtree.extended == 1
    assert units["测试省人民政府办公厅"].subtree.extended == 2
    assert units["测试省人民政府办公厅"].subtree.overdue_unresolved == 1


def test_a_cutoff_before_the_approval_counts_no_extension(
    session: Session, settings: Settings, extended: Directory
) -> None:
    units = by_name(compute(session, settings, "2026-09", local(2026, 9, 28, 12, 0), None))

    assert units["甲市教育局"].own.extended == 0
    assert units["甲市教育局"].own.overdue_open == 0
    assert units["乙市教育局"].own.extended == 0


def test_settled_rows_keep_the_extended_count(
    session: Session, settings: Settings, extended: Directory
) -> None:
    # Settled once its rating window has passed (app/stats/settle.py), the closed report keeps
    # its extension in the settled row.
    before = compute(session, settings, "2026-09", AFTER_RATING, extended.province)

    assert settle(session=session, now=AFTER_RATING, settings=settings).reports == 1
    session.commit()
    after = compute(session, settings, "2026-09", AFTER_RATING, extended.province)

    assert after.units == before.units
    assert by_name(after)["乙市教育局"].own.extended == 1


def test_the_notice_names_the_units_with_extensions(
    session: Session, settings: Settings, extended: Directory
) -> None:
    stats = compute(session, settings, "2026-09", AS_OF, extended.province)

    assert overview(stats).endswith(
        "截至2026年10月12日18:00，尚有1条留言超期未办结。"
        "2家单位共有2条留言经批准延期办理：甲市教育局、乙市教育局各1条。"
    )
    one_unit = compute(session, settings, "2026-09", AS_OF, extended.city_a)
    assert overview(one_unit).endswith("甲市教育局有1条留言经批准延期办理。")
    rows = list(csv.reader(io.StringIO(notice_csv(stats).decode("utf-8-sig"))))
    column = rows[0].index("批准延期")
    assert rows[0][column - 1] == "超期未办结" and rows[0][column + 1] == "网民评价"
    assert [(row[1], row[column]) for row in rows[1:]] == [
        ("测试省人民政府办公厅", "0"),
        ("甲市人民政府办公室", "0"),
        ("甲市教育局", "1"),
        ("乙市人民政府办公室", "0"),
        ("乙市教育局", "1"),
        ("", "2"),
    ]
