"""Which site a citizen's report is about, told plainly: closed sites and mismatched hosts.

A report for a closed site still goes to that site's owner unit (the site is gone, the unit
is not), marked so the unit sees it and the citizen is told on the receipt. A page URL whose
host belongs to another site than the one the site code names is recorded with that other
site's code, for the unit and operators to judge which one the report is about.
"""

from dataclasses import dataclass

from sqlalchemy import String, bindparam
from sqlmodel import Session, col, select

from app.directory.models import Site, SiteHost, SiteStatus, Unit
from app.directory.service import host_of_url


@dataclass(frozen=True)
class SiteMatch:
    site: Site | None
    closed: bool
    # The code of another site that serves the page's host, when there is one.
    host_site_code: str | None
    # The site's owner unit, read with it: the unit the report goes to.
    owner: Unit | None = None


def host_candidates(host: str) -> list[str]:
    """A host and its www. twin: either routes to the site that lists the other."""
    return [host, host.removeprefix("www.") if host.startswith("www.") else f"www.{host}"]


def site_of_host(*, session: Session, page_url: str) -> Site | None:
    """The site serving a page's host (active sites first, the exact host before its twin)."""
    found = _site_and_owner_of_host(session=session, page_url=page_url)
    return found[0] if found is not None else None


def _site_and_owner_of_host(*, session: Session, page_url: str) -> tuple[Site, Unit] | None:
    host = host_of_url(page_url)
    if host is None:
        return None
    parameters = {"candidates": host_candidates(host), "host": host}
    return session.exec(_SITE_OF_HOST, params=parameters).first()


def _site_and_owner_by_code(*, session: Session, site_code: str) -> tuple[Site, Unit] | None:
    return session.exec(_SITE_BY_CODE, params={"site_code": site_code}).first()


# Built once, the code or host as parameters: every submission runs them. The owner unit comes
# with the site, so that routing a report reads no unit afterwards.
_SITE_BY_CODE = (
    select(Site, Unit)
    .join(Unit, col(Unit.id) == Site.owner_unit_id)
    .where(Site.site_code == bindparam("site_code"))
)
_SITE_OF_HOST = (
    select(Site, Unit)
    .join(SiteHost, col(SiteHost.site_id) == Site.id)
    .join(Unit, col(Unit.id) == Site.owner_unit_id)
    .where(col(SiteHost.host).in_(bindparam("candidates", expanding=True)))
    .order_by(
        Site.status != SiteStatus.active, col(SiteHost.host) != bindparam("host", type_=String)
    )
)


def match_site(*, session: Session, site_code: str | None, page_url: str) -> SiteMatch:
    """The site a report is about: by site code (closed or not), else by the page's host."""
    by_code = _site_and_owner_by_code(session=session, site_code=site_code) if site_code else None
    by_host = _site_and_owner_of_host(session=session, page_url=page_url)
    found = by_code or by_host
    site, owner = found if found is not None else (None, None)
    other = by_host[0] if by_code is not None and by_host is not None else None
    return SiteMatch(
        site=site,
        closed=site is not None and site.status == SiteStatus.closed,
        host_site_code=other.site_code if other is not None and other.id != site.id else None,
        owner=owner,
    )
