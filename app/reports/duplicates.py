"""Duplicates: the same error reported twice, found at intake and declined onto its original.

At intake, open reports of the same site and category whose page address normalises to the
same one, received within `duplicate_window_days`, are recorded on the new report as possible
duplicates; the unit sees them on the report. A unit declining a report as a duplicate names
its original (a report of the same owner unit); the citizen's tracking view of the duplicate
then shows the original's status and answers, and nothing else of it.
"""

import hashlib
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import bindparam, or_
from sqlmodel import Session, col, select

from app.config import Settings
from app.db import UtcDateTime
from app.errors import Conflict, Unprocessable
from app.reports.models import OPEN_STATUSES, DeclineReason, Report, ReportStatus
from app.statements import DirectStatement

DEFAULT_PORTS = {"http": 80, "https": 443}
# Query parameters that say where a visitor came from, not which page it is: campaign tags,
# share and referral tokens of the big platforms.
TRACKING_PARAMETERS = frozenset(
    {
        "spm",
        "from",
        "share_token",
        "sharetoken",
        "share_from",
        "shareid",
        "share_id",
        "isappinstalled",
        "fbclid",
        "gclid",
        "msclkid",
        "yclid",
        "wxshare",
        "wxfrom",
        "vd_source",
        "share_source",
        "share_medium",
        "tt_from",
    }
)
TRACKING_PREFIXES = ("utm_", "share_")
# How far a chain of duplicates is followed to its original (a loop is refused on decline).
MAX_CHAIN = 50


def _tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)


def normalize_url(url: str) -> str:
    """A page address as duplicates compare it: scheme and host in lower case, no default
    port, no fragment, no tracking parameters, the other parameters in their order."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    if parts.username or parts.password:
        netloc = f"{parts.username or ''}{':' + parts.password if parts.password else ''}@{netloc}"
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _tracking(name)
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def url_key(normalized: str) -> str:
    """The indexed key of a normalised address: its SHA-256, in hex."""
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


# ix_report_duplicate_lookup: key, site and category equal, receipt in a range. Built once:
# every submission runs it.
_OPEN_WITH_KEY = DirectStatement(
    select(Report.id)
    .where(
        Report.page_url_key == bindparam("key"),
        Report.site_id == bindparam("site_id"),
        Report.category == bindparam("category"),
        Report.received_at >= bindparam("since", type_=UtcDateTime),
        Report.received_at <= bindparam("until", type_=UtcDateTime),
        # Each status a fixed parameter: IN over a list is rendered again at every execution.
        or_(*(Report.status == status for status in OPEN_STATUSES)),
    )
    .order_by(col(Report.received_at), col(Report.id))
)


def record_possible_duplicates(
    *, session: Session, report: Report, now: datetime, settings: Settings
) -> list[int]:
    """Store a new report's normalised address and the open reports it may duplicate."""
    report.normalized_page_url = normalize_url(report.page_url)
    report.page_url_key = url_key(report.normalized_page_url)
    if report.site_id is None:
        report.possible_duplicate_ids = []
        return []
    parameters = {
        "key": report.page_url_key,
        "site_id": report.site_id,
        "category": report.category,
        "since": now - timedelta(days=settings.duplicate_window_days),
        "until": now,
    }
    ids = [row[0] for row in _OPEN_WITH_KEY.rows(session.connection(), parameters)]
    report.possible_duplicate_ids = ids
    return ids


def check_decline_payload(*, reason: DeclineReason, duplicate_of: int | None) -> None:
    """`duplicate_of` goes only with the reason `duplicate` (422 otherwise).

    The reason may come without it: an original the service never saw (a call to the 12345
    hotline, or a platform export that names none) is still a duplicate.
    """
    if reason != DeclineReason.duplicate and duplicate_of is not None:
        raise Unprocessable(
            "只有以“重复留言”不予受理时才能给出 duplicate_of",
            en="duplicate_of goes only with the reason duplicate",
            code="duplicate_of_unexpected",
        )


def _chain(*, session: Session, report: Report) -> list[Report]:
    """The report, then the originals its duplicate links lead to, at most MAX_CHAIN."""
    chain = [report]
    seen = {report.id}
    while chain[-1].duplicate_of_id is not None and len(chain) < MAX_CHAIN:
        following = session.get(Report, chain[-1].duplicate_of_id)
        if following is None or following.id in seen:
            break
        chain.append(following)
        seen.add(following.id)
    return chain


def resolve_original(*, session: Session, report: Report, duplicate_of: int) -> Report:
    """The original a report is declined onto: another report of its owner, no loop."""
    if duplicate_of == report.id:
        raise Unprocessable(
            "一条留言不能是它自己的重复，请给出原留言的编号",
            en="a report cannot duplicate itself",
            code="duplicate_of_self",
        )
    original = session.get(Report, duplicate_of)
    # Another unit's report gets the same answer as a missing one: its existence is not leaked.
    if original is None or original.owner_unit_id != report.owner_unit_id:
        raise Conflict(
            f"原留言 {duplicate_of} 不存在或不属于本单位，请给出本单位的一条留言",
            en=f"report {duplicate_of} is not a report of the same owner unit",
            code="duplicate_of_other_unit",
        )
    if any(link.id == report.id for link in _chain(session=session, report=original)):
        raise Conflict(
            f"留言 {duplicate_of} 已被标为本留言的重复，不能再互相标为重复",
            en=f"report {duplicate_of} is already a duplicate of this one: that would be a loop",
            code="duplicate_chain_loop",
        )
    return original


def original_of(*, session: Session, report: Report) -> Report | None:
    """The original a declined duplicate points at, followed down its chain; None otherwise."""
    if report.status != ReportStatus.declined or report.duplicate_of_id is None:
        return None
    chain = _chain(session=session, report=report)
    return chain[-1] if len(chain) > 1 else None


def visible_duplicates(*, session: Session, report: Report) -> list[Report]:
    """The possible duplicates recorded at intake that its owner unit still holds."""
    if not report.possible_duplicate_ids:
        return []
    rows = session.exec(
        select(Report)
        .where(col(Report.id).in_(report.possible_duplicate_ids))
        .order_by(col(Report.received_at), col(Report.id))
    ).all()
    return [row for row in rows if row.owner_unit_id == report.owner_unit_id]
