"""Which site a citizen's report is about, told plainly: closed sites and mismatched hosts.

A report for a closed site still goes to that site's owner unit (the site is gone, the unit
is not), marked so the unit sees it and the citizen is told on the receipt. A page URL whose
host belongs to another site than the one the site code names is recorded with that other
site's code, for the unit and operators to judge which one the report is about.
"""

from dataclasses import dataclass

from sqlalchemy import String, bindparam
from sqlmodel import Session, col, select

from app.directory.models import Site, SiteHost, SiteStatus
from app.directory.service import get_site_by_code, host_of_url


@dataclass(frozen=True)
class SiteMatch:
    site: Site | None
    closed: bool
    # The code of another site that serves the page's host, when there is one.
    host_site_code: str | None


def host_candidates(host: str) -> list[str]:
    """A host and its www. twin: either routes to the site that lists the other."""
    return [host, host.removeprefix("www.") if host.startswith("www.") else f"www.{host}"]


def site_of_host(*, session: Session, page_url: str) -> Site | None:
    """The site serving a page's host (active sites first, the exact host before its twin)."""
    host = host_of_url(page_url)
    if host is None:
        return None
    parameters = {"candidates": host_candidates(host), "host": host}
    return session.exec(_SITE_OF_HOST, params=parameters).first()


# Built once, the host as parameters: every submission runs it.
_SITE_OF_HOST = (
    select(Site)
    .join(SiteHost, col(SiteHost.site_id) == Site.id)
    .where(col(SiteHost.host).in_(bindparam("candidates", expanding=True)))
    .order_by(
        Site.status != SiteStatus.active, col(SiteHost.host) != bindparam("host", type_=String)
    )
)


def match_site(*, session: Session, site_code: str | None, page_url: str) -> SiteMatch:
    """The site a report is about: by site code (closed or not), else by the page's host."""
    by_code = get_site_by_code(session=session, site_code=site_code) if site_code else None
    by_host = site_of_host(session=session, page_url=page_url)
    site = by_code or by_host
    other = by_host if by_code is not None and by_host is not None else None
    return SiteMatch(
        site=site,
        closed=site is not None and site.status == SiteStatus.closed,
        host_site_code=other.site_code if other is not None and other.id != site.id else None,
    )
