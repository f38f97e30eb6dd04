"""Reports waiting unrouted reach a site's owner when the site is created or reopened.

Called through `app.directory.hooks` (the directory sits below reports) in the transaction
that creates or reopens the site (the API) or creates sites from a file (`zhaocuo import
sites`), so the sites and their reports' routing commit together.
"""

from datetime import datetime

from sqlmodel import Session, col, select

from app.config import get_settings
from app.directory.models import Site, SiteHost, SiteStatus
from app.directory.service import host_of_url
from app.reports import service
from app.reports.hooks import notify_new_report
from app.reports.models import EventKind, Report, ReportStatus
from app.workdays.sources import held_calendar


def _site_of_report(
    *, report: Report, by_code: dict[str, Site], by_host: dict[str, Site]
) -> Site | None:
    """The site among those opened that a report names by its code, else by its page's host
    (the exact host before its www. twin)."""
    if report.site_code in by_code:
        return by_code[report.site_code]
    host = host_of_url(report.page_url)
    if host is None:
        return None
    twin = host.removeprefix("www.") if host.startswith("www.") else f"www.{host}"
    return by_host.get(host) or by_host.get(twin)


def route_waiting_reports(
    *, session: Session, sites: list[Site], now: datetime, reason: str
) -> int:
    """Route the unrouted reports with the code or a host of sites just created or reopened
    to their owner units, each with a `routed` event; how many were routed."""
    if not sites:
        return 0
    # Unrouted reports are few (operators route them by hand): read them, match in Python.
    waiting = session.exec(
        select(Report)
        .where(Report.status == ReportStatus.unrouted)
        .order_by(col(Report.id))
        .with_for_update()
    ).all()
    if not waiting:
        return 0
    by_code = {site.site_code: site for site in sites}
    by_id = {site.id: site for site in sites}
    by_host = {
        site_host.host: by_id[site_host.site_id]
        for site_host in session.exec(
            select(SiteHost).where(col(SiteHost.site_id).in_(list(by_id)))
        ).all()
    }
    matched = [
        (report, site)
        for report in waiting
        if (site := _site_of_report(report=report, by_code=by_code, by_host=by_host))
    ]
    if not matched:
        return 0
    settings = get_settings()
    calendar = held_calendar(session)
    for report, site in matched:
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
