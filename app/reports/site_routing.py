"""Reports waiting unrouted reach a site's owner when the site is created or reopened.

Called through `app.directory.hooks` (the directory sits below reports) in the transaction
that creates or reopens the site, so the site and its reports' routing commit together.
"""

from datetime import datetime

from sqlmodel import Session, col, select

from app.config import get_settings
from app.directory.models import Site, SiteHost, SiteStatus
from app.directory.service import host_of_url
from app.reports import service
from app.reports.hooks import notify_new_report
from app.reports.models import EventKind, Report, ReportStatus
from app.workdays.sources import get_calendar, hold_calendar


def _about_site(*, report: Report, site: Site, hosts: set[str]) -> bool:
    if report.site_code == site.site_code:
        return True
    host = host_of_url(report.page_url)
    if host is None:
        return False
    twin = host.removeprefix("www.") if host.startswith("www.") else f"www.{host}"
    return host in hosts or twin in hosts


def route_waiting_reports(*, session: Session, site: Site, now: datetime, reason: str) -> int:
    """Route the unrouted reports with a site's code or one of its hosts to its owner unit."""
    hosts = set(session.exec(select(SiteHost.host).where(SiteHost.site_id == site.id)).all())
    # Unrouted reports are few (operators route them by hand): read them, match in Python.
    waiting = session.exec(
        select(Report)
        .where(Report.status == ReportStatus.unrouted)
        .order_by(col(Report.id))
        .with_for_update()
    ).all()
    matched = [r for r in waiting if _about_site(report=r, site=site, hosts=hosts)]
    if not matched:
        return 0
    settings = get_settings()
    hold_calendar(session)
    calendar = get_calendar(session)
    for report in matched:
        report.site_id = site.id
        report.site_code = report.site_code or site.site_code
        report.site_closed = site.status == SiteStatus.closed
        service._start_clock(
            report=report,
            unit_id=site.owner_unit_id,
            now=now,
            calendar=calendar,
            settings=settings,
        )
        service.record_event(
            session=session,
            report=report,
            kind=EventKind.routed,
            actor=service.SYSTEM_ACTOR,
            at=now,
            data={"to_unit_id": site.owner_unit_id, "site_id": site.id, "reason": reason},
        )
        notify_new_report(
            session=session, report=report, now=now, calendar=calendar, settings=settings
        )
        service._touch(session=session, report=report, now=now)
    return len(matched)
