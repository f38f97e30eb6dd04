"""The public list of answered reports (留言选登): resolved, published, newest first, masked.

No contact field is ever read here; phone numbers, e-mail addresses and ID-card numbers the
citizen or the unit wrote into a text are masked (app.reports.masking).
"""

import re
from datetime import date, datetime

from pydantic import Field
from sqlalchemy import func, or_, true
from sqlmodel import Session, SQLModel, col, select

from app.contract import LocalDateTime, Page, business_zone
from app.directory.models import Site, Unit
from app.errors import Unprocessable
from app.reports.clocks import start_of_local_day
from app.reports.masking import mask_contacts
from app.reports.models import CATEGORY_LABELS, Category, Report, ReportStatus, Verdict

# YYYY-MM with a year of 1900…9998 (the dates the service reasons about).
MONTH_REGEX = r"^(19[0-9]{2}|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_REGEX)


class AnsweredReport(SQLModel):
    """A resolved report on the public list: what was wrong and the unit's answer, masked."""

    id: int = Field(description="the report's number on the list (not its tracking code)")
    category: Category = Field(description="the kind of error")
    category_label: str = Field(description="the category in Chinese, e.g. 错别字")
    site_code: str | None = Field(description="网站标识码 of the site, when known")
    site_name: str | None = Field(description="the site's name, when it is in the directory")
    unit_name: str | None = Field(description="the unit that answered (主办单位)")
    page_url: str = Field(description="the page with the error")
    description: str = Field(description="what the citizen wrote, contact details masked")
    verdict: Verdict | None = Field(description="属实 (confirmed, fixed) or 不属实")
    answer: str | None = Field(description="the unit's final answer, contact details masked")
    first_reply: str | None = Field(
        description="the unit's first reply, when it differs from the answer (masked)"
    )
    received_at: LocalDateTime = Field(description="when the citizen submitted it")
    resolved_at: LocalDateTime = Field(description="when the unit resolved it (办结)")


def month_range(month: str) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of a local month written YYYY-MM, or Unprocessable."""
    if not _MONTH.fullmatch(month):
        raise Unprocessable(
            f"月份“{month[:20]}”格式不对，请写成 2026-11 这样的年-月",
            en=f"the month “{month[:20]}” is not written YYYY-MM, e.g. 2026-11",
            code="month_invalid",
        )
    year, number = int(month[:4]), int(month[5:])
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    zone = business_zone()
    return start_of_local_day(first, zone), start_of_local_day(following, zone)


def _mask(text: str | None) -> str | None:
    return mask_contacts(text) if text else text


def list_answered(
    *,
    session: Session,
    site_code: str | None = None,
    category: Category | int | None = None,
    month: str | None = None,
    limit: int,
    offset: int,
) -> Page[AnsweredReport]:
    """Resolved, published reports, newest resolution first; `month` (YYYY-MM) of resolution."""
    site_code_shown = func.coalesce(Site.site_code, Report.site_code)
    query = (
        select(
            Report.id,
            Report.category,
            site_code_shown,
            Site.name,
            Unit.name,
            Report.page_url,
            Report.description,
            Report.verdict,
            Report.final_answer,
            Report.first_reply,
            Report.received_at,
            Report.closed_at,
        )
        .outerjoin(Site, col(Site.id) == Report.site_id)
        .outerjoin(Unit, col(Unit.id) == Report.owner_unit_id)
        .where(Report.status == ReportStatus.resolved, Report.published == true())
    )
    if site_code is not None and site_code.strip():
        code = site_code.strip()
        query = query.where(or_(Site.site_code == code, Report.site_code == code))
    if category is not None:
        query = query.where(Report.category == int(category))
    if month is not None and month.strip():
        start, end = month_range(month.strip())
        query = query.where(Report.closed_at >= start, Report.closed_at < end)
    rows = session.exec(
        query.order_by(col(Report.closed_at).desc(), col(Report.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    # Two statements on the same index: the page walks it newest first and stops at `limit`;
    # the count reads the index alone. (A window count would sort every answered report.)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    items = []
    for (
        report_id,
        category_code,
        code,
        site_name,
        unit_name,
        page_url,
        description,
        verdict,
        final_answer,
        first_reply,
        received_at,
        closed_at,
    ) in rows:
        answer = _mask(final_answer)
        reply = _mask(first_reply) if first_reply != final_answer else None
        items.append(
            AnsweredReport(
                id=report_id,
                category=Category(category_code),
                category_label=CATEGORY_LABELS[Category(category_code)],
                site_code=code,
                site_name=site_name,
                unit_name=unit_name,
                page_url=page_url,
                description=mask_contacts(description),
                verdict=verdict,
                answer=answer,
                first_reply=reply,
                received_at=received_at,
                resolved_at=closed_at,
            )
        )
    return Page[AnsweredReport](items=items, total=total, limit=limit, offset=offset)
