"""Statistics of reports waiting for the citizen: a pause begun in time keeps the first reply
from counting late while it lasts; one begun once the reply was late does not clear it.

Both reports are received on Monday 23 November 2026 (first reply due Wednesday 25) by
甲市教育局 and never answered: P1 is asked on Tuesday 24, P2 on Thursday 26 (late).
"""

from sqlmodel import Session

from app.auth import Principal, Role
from app.config import Settings
from app.reports import service as reports
from app.reports.models import Category
from app.reports.schemas import InfoRequestIn, ReportCreate
from app.workdays.sources import get_calendar
from tests.conftest import Directory, local
from tests.stats.conftest import compute, figures


def test_a_pause_begun_after_the_first_reply_due_keeps_it_late(
    session: Session, directory: Directory, settings: Settings
) -> None:
    calendar = get_calendar(session)
    handler = Principal(token_id=0, unit_id=directory.dept_a1, role=Role.handler)
    for minute, asked in [(0, local(2026, 11, 24, 10, 0)), (1, local(2026, 11, 26, 10, 0))]:
        report = reports.submit(
            session=session,
            report_in=ReportCreate(
                site_code=directory.site_a1,
                page_url=f"https://jyj.example.gov.cn/{minute}.html",
                category=Category.typo,
                description="页面上有错别字，请更正。",
            ),
            now=local(2026, 11, 23, 10, minute),
            calendar=calendar,
            settings=settings,
        )
        reports.request_info(
            session=session,
            principal=handler,
            report_id=report.id,
            info_in=InfoRequestIn(text="请补充说明是哪一页。"),
            now=asked,
            settings=settings,
        )
    session.commit()

    stats = compute(session, settings, "2026-11", local(2026, 11, 27, 18, 0), directory.dept_a1)

    own = next(unit.own for unit in stats.units if unit.unit_id == directory.dept_a1)
    assert own == figures(
        received=2,
        first_replies_due=1,  # P2; P1's clock is stopped
        late_first_replies=1,  # P2
        resolutions_not_due=2,
    )
