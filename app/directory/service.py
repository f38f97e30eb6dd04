import re
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import bindparam, func, literal
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.audit.models import SYSTEM_ACTOR, Action, Actor, EntityKind
from app.db import utcnow
from app.directory.hooks import route_waiting_reports
from app.directory.models import (
    SITE_CODE_HINT,
    SITE_CODE_PATTERN,
    Site,
    SiteCreate,
    SiteHost,
    SitePublic,
    SiteStatus,
    SiteUpdate,
    Unit,
    UnitCreate,
    UnitUpdate,
)
from app.errors import Conflict, NotFound, Unprocessable

HOST_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def is_valid_site_code(code: str) -> bool:
    return SITE_CODE_PATTERN.fullmatch(code) is not None


def check_site_code(code: str) -> None:
    """Raise ValueError explaining what a site code looks like unless `code` is one."""
    if not is_valid_site_code(code):
        raise ValueError(f"{code!r} is not a site code: {SITE_CODE_HINT}")


def normalise_host(host: str) -> str:
    """Lower-case a host name and drop a port and a trailing dot."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") or host.count(":") > 1:
        return host
    return host.split(":", 1)[0]


def normalise_hosts(hosts: Iterable[str]) -> list[str]:
    """Normalised host names without repeats; ValueError names the first that is not one."""
    result: list[str] = []
    for raw in hosts:
        host = normalise_host(raw)
        if not HOST_PATTERN.fullmatch(host):
            raise ValueError(f"{raw!r} is not a host name such as www.example.gov.cn")
        if host not in result:
            result.append(host)
    return result


def host_of_url(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return normalise_host(host) if host else None


def subtree_ids_query(root_unit_id: int):
    """A recursive CTE selecting the ids of a unit and every unit below it."""
    tree = select(Unit.id.label("id")).where(Unit.id == root_unit_id).cte("subtree", recursive=True)
    tree = tree.union_all(select(Unit.id).where(Unit.parent_id == tree.c.id))
    return select(tree.c.id)


def subtree_ids(*, session: Session, root_unit_id: int) -> set[int]:
    """Ids of a unit and all units it supervises, directly or not."""
    return set(session.exec(subtree_ids_query(root_unit_id)).all())


def ancestor_ids(*, session: Session, unit_id: int) -> list[int]:
    """The chain of supervising units above a unit, nearest first."""
    chain: list[int] = []
    current = session.get(Unit, unit_id)
    seen = {unit_id}
    while current is not None and current.parent_id is not None and current.parent_id not in seen:
        chain.append(current.parent_id)
        seen.add(current.parent_id)
        current = session.get(Unit, current.parent_id)
    return chain


def is_within(*, session: Session, unit_id: int, root_unit_id: int) -> bool:
    """Whether a unit is the root unit or lies below it."""
    return unit_id == root_unit_id or root_unit_id in ancestor_ids(session=session, unit_id=unit_id)


def get_unit(*, session: Session, unit_id: int) -> Unit:
    """A unit by id, or 404."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(
            f"单位 {unit_id} 不存在，请核对单位编号",
            en=f"unit {unit_id} not found",
            code="unit_not_found",
        )
    return unit


def get_unit_within(*, session: Session, unit_id: int, root_unit_id: int | None) -> Unit:
    """A unit of the root's subtree (any unit when the root is None), or 404.

    A unit outside the subtree gets the same 404 as a missing one: its existence is not confirmed.
    """
    unit = session.get(Unit, unit_id)
    if unit is None or (
        root_unit_id is not None
        and not is_within(session=session, unit_id=unit_id, root_unit_id=root_unit_id)
    ):
        raise NotFound(
            f"单位 {unit_id} 不存在或不在您的管辖范围内，请核对单位编号",
            en=f"unit {unit_id} not found",
            code="unit_not_found",
        )
    return unit


def get_unit_by_name(*, session: Session, name: str) -> Unit | None:
    """A unit by its exact name."""
    return session.exec(select(Unit).where(Unit.name == name)).first()


def find_unit(*, session: Session, ref: str) -> Unit | None:
    """A unit by id when `ref` is all digits, else by exact name; None if there is none."""
    if ref.isdigit():
        return session.get(Unit, int(ref))
    return get_unit_by_name(session=session, name=ref)


def list_units(*, session: Session, within: int | None = None) -> list[Unit]:
    """All units, or those of one subtree, by name."""
    query = select(Unit).order_by(Unit.name)
    if within is not None:
        query = query.where(col(Unit.id).in_(subtree_ids_query(within)))
    return list(session.exec(query).all())


def count_and_page(*, session: Session, query, limit: int, offset: int) -> tuple[list, int]:
    """One page of an ordered query's rows and the number of rows over all pages."""
    total = session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
    return list(session.exec(query.limit(limit).offset(offset)).all()), total


def page_units(
    *, session: Session, within: int | None, limit: int, offset: int
) -> tuple[list[Unit], int]:
    """A page of the units of a subtree (all for None), by name, and their number."""
    query = select(Unit).order_by(Unit.name, Unit.id)
    if within is not None:
        query = query.where(col(Unit.id).in_(subtree_ids_query(within)))
    return count_and_page(session=session, query=query, limit=limit, offset=offset)


def _check_parent(*, session: Session, unit_id: int | None, parent_id: int | None) -> None:
    if parent_id is None:
        return
    get_unit(session=session, unit_id=parent_id)
    if unit_id is not None and (
        parent_id == unit_id or unit_id in ancestor_ids(session=session, unit_id=parent_id)
    ):
        raise Conflict(
            "单位不能挂在自身或其下级单位之下，请选择其他上级单位",
            en="a unit cannot be placed under itself or under a unit it supervises",
            code="unit_parent_cycle",
        )


def create_unit(*, session: Session, unit_in: UnitCreate, actor: Actor = SYSTEM_ACTOR) -> Unit:
    """Create a unit; names are unique."""
    if get_unit_by_name(session=session, name=unit_in.name) is not None:
        raise Conflict(
            f"名为“{unit_in.name}”的单位已存在，单位名称不能重复",
            en=f"a unit named {unit_in.name!r} already exists",
            code="unit_name_taken",
        )
    _check_parent(session=session, unit_id=None, parent_id=unit_in.parent_id)
    unit = Unit.model_validate(unit_in)
    session.add(unit)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        kind=EntityKind.unit,
        entity_id=unit.id,
        action=Action.created,
        after=audit.snapshot(unit),
    )
    return unit


def update_unit(
    *, session: Session, unit_id: int, unit_in: UnitUpdate, actor: Actor = SYSTEM_ACTOR
) -> Unit:
    """Change a unit's name, parent, contact or webhook."""
    unit = get_unit(session=session, unit_id=unit_id)
    before = audit.snapshot(unit)
    changes = unit_in.model_dump(exclude_unset=True)
    renamed = "name" in changes and changes["name"] != unit.name
    if renamed and get_unit_by_name(session=session, name=changes["name"]) is not None:
        raise Conflict(
            f"名为“{changes['name']}”的单位已存在，单位名称不能重复",
            en=f"a unit named {changes['name']!r} already exists",
            code="unit_name_taken",
        )
    if "parent_id" in changes:
        _check_parent(session=session, unit_id=unit.id, parent_id=changes["parent_id"])
    for key, value in changes.items():
        setattr(unit, key, value)
    unit.updated_at = utcnow()
    session.add(unit)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        kind=EntityKind.unit,
        entity_id=unit.id,
        action=Action.updated,
        before=before,
        after=audit.snapshot(unit),
        at=unit.updated_at,
    )
    return unit


def _normalise_hosts_or_422(hosts: Iterable[str]) -> list[str]:
    try:
        return normalise_hosts(hosts)
    except ValueError as exc:
        raise Unprocessable(
            "网站域名格式不对：请写成 www.example.gov.cn 这样的主机名（" + str(exc) + "）",
            en=str(exc),
            code="site_host_invalid",
        ) from exc


def _set_hosts(*, session: Session, site: Site, hosts: list[str]) -> None:
    for host in hosts:
        taken = session.get(SiteHost, host)
        if taken is not None and taken.site_id != site.id:
            raise Conflict(
                f"域名 {host} 已属于另一个网站，请先从那个网站移除",
                en=f"host {host} already belongs to another site",
                code="site_host_taken",
            )
    for existing in session.exec(select(SiteHost).where(SiteHost.site_id == site.id)).all():
        if existing.host not in hosts:
            session.delete(existing)
    session.flush()
    for host in hosts:
        if session.get(SiteHost, host) is None:
            session.add(SiteHost(host=host, site_id=site.id))
    session.flush()


def site_hosts(*, session: Session, site_id: int) -> list[str]:
    """The host names a site serves."""
    query = select(SiteHost.host).where(SiteHost.site_id == site_id).order_by(SiteHost.host)
    return list(session.exec(query).all())


def to_public(*, session: Session, site: Site) -> SitePublic:
    return SitePublic.model_validate(
        site, update={"hosts": site_hosts(session=session, site_id=site.id)}
    )


def get_site(*, session: Session, site_id: int) -> Site:
    """A site by id, or 404."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(
            f"网站 {site_id} 不存在，请核对网站编号",
            en=f"site {site_id} not found",
            code="site_not_found",
        )
    return site


def get_site_by_code(*, session: Session, site_code: str) -> Site | None:
    """A site by its site code."""
    return session.exec(_SITE_BY_CODE, params={"site_code": site_code}).first()


_SITE_BY_CODE = select(Site).where(Site.site_code == bindparam("site_code"))  # built once


def _sites_within(query, within: int | None):
    """Narrow a query on sites to those run by units of one subtree (no narrowing for None)."""
    if within is None:
        return query
    return query.where(col(Site.owner_unit_id).in_(subtree_ids_query(within)))


def list_sites(*, session: Session, within: int | None = None) -> list[Site]:
    """All sites, or those run by units of one subtree."""
    query = _sites_within(select(Site), within).order_by(Site.site_code)
    return list(session.exec(query).all())


def page_sites_public(
    *, session: Session, within: int | None, limit: int, offset: int
) -> tuple[list[SitePublic], int]:
    """A page of the sites of a subtree (all for None) with their host names, and their number."""
    query = _sites_within(select(Site), within).order_by(Site.site_code)
    sites, total = count_and_page(session=session, query=query, limit=limit, offset=offset)
    site_ids = [site.id for site in sites]
    hosts_query = (
        select(SiteHost).where(col(SiteHost.site_id).in_(site_ids)).order_by(SiteHost.host)
    )
    hosts_of: dict[int, list[str]] = {}
    for site_host in session.exec(hosts_query).all():
        hosts_of.setdefault(site_host.site_id, []).append(site_host.host)
    page = [
        SitePublic.model_validate(site, update={"hosts": hosts_of.get(site.id, [])})
        for site in sites
    ]
    return page, total


def create_site(
    *,
    session: Session,
    site_in: SiteCreate,
    actor: Actor = SYSTEM_ACTOR,
    now: datetime | None = None,
) -> Site:
    """Register a site with its owner unit and host names; its waiting reports reach the owner."""
    try:
        check_site_code(site_in.site_code)
    except ValueError as exc:
        raise Unprocessable(
            f"{site_in.site_code!r} 不是网站标识码：标识码形如 6108000003（10位数字）、"
            "bm07000001、BT00000001 或 12BM010001，印在网站页面底部",
            en=str(exc),
            code="site_code_invalid",
        ) from exc
    if get_site_by_code(session=session, site_code=site_in.site_code) is not None:
        raise Conflict(
            f"网站标识码 {site_in.site_code} 已登记，请修改已有网站",
            en=f"site {site_in.site_code} already exists",
            code="site_code_taken",
        )
    get_unit(session=session, unit_id=site_in.owner_unit_id)
    hosts = _normalise_hosts_or_422(site_in.hosts)
    site = Site.model_validate(site_in.model_dump(exclude={"hosts"}))
    session.add(site)
    session.flush()
    _set_hosts(session=session, site=site, hosts=hosts)
    audit.record(
        session=session,
        actor=actor,
        kind=EntityKind.site,
        entity_id=site.id,
        action=Action.created,
        after=audit.snapshot(site, hosts=hosts),
    )
    route_waiting_reports(session=session, sites=[site], now=now or utcnow(), reason="site_created")
    return site


def update_site(
    *,
    session: Session,
    site_id: int,
    site_in: SiteUpdate,
    actor: Actor = SYSTEM_ACTOR,
    now: datetime | None = None,
) -> Site:
    """Change a site's name, owner, status or hosts; reopened, its waiting reports are routed."""
    site = get_site(session=session, site_id=site_id)
    reopened = site.status == SiteStatus.closed and site_in.status == SiteStatus.active
    before = audit.snapshot(site, hosts=site_hosts(session=session, site_id=site.id))
    changes = site_in.model_dump(exclude_unset=True, exclude={"hosts"})
    if changes.get("owner_unit_id") is not None:
        get_unit(session=session, unit_id=changes["owner_unit_id"])
    for key, value in changes.items():
        if value is not None:
            setattr(site, key, value)
    site.updated_at = utcnow()
    session.add(site)
    session.flush()
    if site_in.hosts is not None:
        _set_hosts(session=session, site=site, hosts=_normalise_hosts_or_422(site_in.hosts))
    audit.record(
        session=session,
        actor=actor,
        kind=EntityKind.site,
        entity_id=site.id,
        action=Action.updated,
        before=before,
        after=audit.snapshot(site, hosts=site_hosts(session=session, site_id=site.id)),
        at=site.updated_at,
    )
    if reopened:
        route_waiting_reports(
            session=session, sites=[site], now=now or site.updated_at, reason="site_reopened"
        )
    return site


def find_site_for(*, session: Session, site_code: str | None, page_url: str) -> Site | None:
    """The active site a report is about: by site code, else by the page URL's host."""
    if site_code:
        site = get_site_by_code(session=session, site_code=site_code)
        if site is not None and site.status == SiteStatus.active:
            return site
    host = host_of_url(page_url)
    if host is None:
        return None
    candidates = [host, host.removeprefix("www.") if host.startswith("www.") else f"www.{host}"]
    query = (
        select(Site)
        .join(SiteHost, col(SiteHost.site_id) == Site.id)
        .where(col(SiteHost.host).in_(candidates), Site.status == SiteStatus.active)
        .order_by(col(SiteHost.host) != literal(host))
    )
    return session.exec(query).first()
