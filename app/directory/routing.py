"""Which site a citizen's report is about, told plainly: closed sites and mismatched hosts.

A report for a closed site still goes to that site's owner unit (the site is gone, the unit
is not), marked so the unit sees it and the citizen is told on the receipt. A page URL whose
host belongs to another site than the one the site code names is recorded with that other
site's code, for the unit and operators to judge which one the report is about.
"""

from dataclasses import dataclass

from sqlalchemy import bindparam, literal_column, or_, union_all
from sqlmodel import Session, col, select

from app.directory.models import Site, SiteHost, SiteStatus, Unit, pushes_notifications
from app.directory.service import host_of_url
from app.statements import DirectStatement


@dataclass(frozen=True)
class RoutedSite:
    """A site and what routing a report needs of its owner unit, read in one row.

    Plain values rather than ORM objects: every submission reads one or two of these, and
    loading entities into the session costs several times the query.
    """

    id: int
    site_code: str
    name: str
    status: SiteStatus
    owner_unit_id: int
    owner_name: str
    # Whether the owner's notifications are pushed to a webhook (else it pulls them).
    owner_pushed: bool


@dataclass(frozen=True)
class SiteMatch:
    site: RoutedSite | None
    closed: bool
    # The code of another site that serves the page's host, when there is one.
    host_site_code: str | None


def host_candidates(host: str) -> list[str]:
    """A host and its www. twin: either routes to the site that lists the other."""
    return [host, host.removeprefix("www.") if host.startswith("www.") else f"www.{host}"]


def match_site(*, session: Session, site_code: str | None, page_url: str) -> SiteMatch:
    """The site a report is about: by site code (closed or not), else by the page's host."""
    host = host_of_url(page_url)
    exact, twin = host_candidates(host) if host is not None else (None, None)
    parameters = {"site_code": site_code, "host": exact, "twin": twin}
    rows = _SITE_BY_CODE_AND_HOST.rows(session.connection(), parameters)
    by_code = next((_routed(row) for row in rows if row[0]), None)
    by_host = next((_routed(row) for row in rows if not row[0]), None)
    site = by_code or by_host
    other = by_host if by_code is not None else None
    return SiteMatch(
        site=site,
        closed=site is not None and site.status == SiteStatus.closed,
        host_site_code=other.site_code if other is not None and other.id != site.id else None,
    )


def _routed(row) -> RoutedSite:
    _by_code, *site, webhook_url, webhook_secret = row
    return RoutedSite(*site, owner_pushed=pushes_notifications(webhook_url, webhook_secret))


# Built once, the code and host as parameters: every submission runs it. One statement for
# both lookups, and the owner unit comes with the site, so that routing a report reads nothing
# more. A NULL code or host matches no row.
_ROUTED_COLUMNS = (
    col(Site.id).label("site_id"),
    Site.site_code,
    col(Site.name).label("site_name"),
    Site.status,
    Site.owner_unit_id,
    col(Unit.name).label("owner_name"),
    Unit.webhook_url,
    Unit.webhook_secret,
)
_BY_CODE = (
    select(literal_column("1").label("by_code"), *_ROUTED_COLUMNS)
    .join(Unit, col(Unit.id) == Site.owner_unit_id)
    .where(Site.site_code == bindparam("site_code"))
)
# Active sites first, the exact host before its twin.
_BY_HOST = (
    select(literal_column("0").label("by_code"), *_ROUTED_COLUMNS)
    .join(SiteHost, col(SiteHost.site_id) == Site.id)
    .join(Unit, col(Unit.id) == Site.owner_unit_id)
    .where(or_(SiteHost.host == bindparam("host"), SiteHost.host == bindparam("twin")))
    .order_by(Site.status != SiteStatus.active, col(SiteHost.host) != bindparam("host"))
    .limit(1)
    .subquery()
)
_SITE_BY_CODE_AND_HOST = DirectStatement(union_all(_BY_CODE, select(_BY_HOST)))
