"""Load units and sites from a CSV file, all or nothing.

Two formats are recognised by their header row:

- the plain directory format, ``site_code,name,host,owner_unit,parent_unit``
  (documented in docs/sites-csv.md);
- the national platform's export of finished reports (``site_code``, ``site_name``,
  ``handling_unit``, ``error_url``, ``created_date`` …), from which one site per site code
  is derived.

Reading (CSV text → rows) is pure; writing upserts the rows with a handful of queries and
only flushes, so the caller's single commit makes the whole file appear at once.
"""

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal, Protocol

from pydantic_core import PydanticCustomError
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.audit import service as audit
from app.audit.models import SYSTEM_ACTOR, Action, Actor, EntityKind
from app.db import utcnow
from app.directory.hooks import route_waiting_reports
from app.directory.models import (
    SITE_NAME_MAX,
    UNIT_NAME_MAX,
    UNIT_NAME_MIN,
    Site,
    SiteHost,
    SiteStatus,
    Unit,
)
from app.directory.service import HOST_PATTERN, check_site_code, host_of_url, normalise_hosts
from app.errors import Conflict, Unprocessable
from app.fields import no_control_characters

PLAIN_COLUMNS = ("site_code", "name", "host", "owner_unit", "parent_unit")
PLAIN_REQUIRED_COLUMNS = ("site_code", "name", "host", "owner_unit")
REPORTS_REQUIRED_COLUMNS = ("site_code", "site_name", "handling_unit", "error_url", "created_date")
HOST_SEPARATOR = ";"
PROGRESS_EVERY = 1000

Format = Literal["plain", "reports"]
Progress = Callable[[int], None]


class ImportFailed(Unprocessable):
    """The file cannot be imported; the message names the offending line."""

    code = "sites_file_invalid"


@dataclass(frozen=True)
class SiteRow:
    """One site as the file describes it; `line` is where it was given (or last seen)."""

    line: int
    site_code: str
    name: str
    owner_unit: str
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class ParentRow:
    """A unit placed under a supervising unit by the file."""

    line: int
    unit: str
    parent: str


@dataclass(frozen=True)
class SkippedRow:
    line: int
    reason: str


@dataclass
class ParsedDirectory:
    """What a file says about the directory, before it touches the database."""

    format: Format
    rows_read: int
    sites: list[SiteRow]
    # Units that must exist although they may own no site (in the reports export: every
    # unit that answered a report, so reports can be transferred to it).
    units: list[str]
    parents: list[ParentRow]
    skipped: list[SkippedRow]
    # Hosts inferred from reported page addresses are a guess: one that already belongs to
    # a site outside the file stays there. Hosts given in a plain file are a statement, and
    # contradicting the database is an error.
    hosts_are_inferred: bool


@dataclass
class ImportResult:
    format: Format
    rows_read: int = 0
    units_created: int = 0
    units_updated: int = 0
    sites_created: int = 0
    sites_updated: int = 0
    hosts_left_elsewhere: int = 0
    # Unrouted reports that the sites created reached (app.reports.site_routing).
    reports_routed: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)

    @property
    def rows_skipped(self) -> int:
        return len(self.skipped)


# --- reading --------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportFailed(
            f"第 {line} 行：文件不是 UTF-8 文本，请另存为“CSV UTF-8”格式后重新导入",
            en=f'line {line}: the file is not UTF-8 text; save it as "CSV UTF-8"',
        ) from exc


class _CsvReader(Protocol):
    line_num: int

    def __next__(self) -> list[str]: ...


def _records(
    reader: _CsvReader, header: list[str], progress: Progress | None
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (first line of the record, fields by column), skipping blank lines."""
    count = 0
    next_line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ImportFailed(
                f"第 {reader.line_num} 行：无法按 CSV 读取（{exc}），请检查引号和分隔符",
                en=f"line {reader.line_num}: unreadable CSV: {exc}",
            ) from exc
        line, next_line = next_line, reader.line_num + 1
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(header):
            raise ImportFailed(
                f"第 {line} 行有 {len(values)} 列，表头有 {len(header)} 列，请使每行列数与表头一致",
                en=f"line {line}: expected {len(header)} fields as in the header, "
                f"found {len(values)}",
            )
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
        yield line, {column: value.strip() for column, value in zip(header, values, strict=True)}
    if progress is not None and count % PROGRESS_EVERY != 0:
        progress(count)


def _detect_format(header: list[str], line: int) -> Format:
    columns = set(header)
    if len(columns) == len(header):
        if columns >= set(REPORTS_REQUIRED_COLUMNS):
            return "reports"
        if set(PLAIN_REQUIRED_COLUMNS) <= columns <= set(PLAIN_COLUMNS):
            return "plain"
    raise ImportFailed(
        f"第 {line} 行：无法识别的表头，应为 {','.join(PLAIN_COLUMNS)}（parent_unit 可省略，"
        f"见 docs/sites-csv.md），或平台留言导出文件的表头"
        f"（{', '.join(REPORTS_REQUIRED_COLUMNS)} 等）",
        en=f"line {line}: unknown format: the header must be {','.join(PLAIN_COLUMNS)} "
        f"(parent_unit may be left out; see docs/sites-csv.md) or that of the platform's "
        f"reports export ({', '.join(REPORTS_REQUIRED_COLUMNS)}, …)",
    )


def _require(line: int, record: dict[str, str], columns: tuple[str, ...]) -> None:
    for column in columns:
        if not record[column]:
            raise ImportFailed(
                f"第 {line} 行 {column} 列为空，请填写后重新导入",
                en=f"line {line}: {column} is empty",
            )


def _check_characters(line: int, record: dict[str, str], columns: tuple[str, ...]) -> None:
    """Refuse control characters in the columns that are stored, as the API does."""
    for column in columns:
        value = record.get(column, "")
        try:
            no_control_characters(value)
        except PydanticCustomError as exc:
            where = exc.context or {}
            raise ImportFailed(
                f"第 {line} 行 {column} 列含有控制字符（第 {where.get('position')} 个字符是 "
                f"{where.get('character')}），未导入任何内容；请删去后重新导入",
                en=f"line {line}, column {column}: {exc.message()}; nothing was imported",
                code="import_control_character",
            ) from exc


def _check_site_code(line: int, code: str) -> None:
    try:
        check_site_code(code)
    except ValueError as exc:
        raise ImportFailed(
            f"第 {line} 行：{code!r} 不是网站标识码；标识码形如 6108000003（10 位数字）、"
            "bm07000001、BT00000001 或 12BM010001，印在网站页面底部",
            en=f"line {line}: {exc}",
        ) from exc


def _check_unit_name(line: int, column: str, name: str) -> None:
    if not UNIT_NAME_MIN <= len(name) <= UNIT_NAME_MAX:
        raise ImportFailed(
            f"第 {line} 行 {column} 列应为 {UNIT_NAME_MIN} 至 {UNIT_NAME_MAX} 个字符"
            f"（现有 {len(name)} 个）",
            en=f"line {line}: {column} must be {UNIT_NAME_MIN} to {UNIT_NAME_MAX} characters "
            f"long (it has {len(name)})",
        )


def _check_site_name(line: int, column: str, name: str) -> None:
    if len(name) > SITE_NAME_MAX:
        raise ImportFailed(
            f"第 {line} 行 {column} 列最多 {SITE_NAME_MAX} 个字符（现有 {len(name)} 个）",
            en=f"line {line}: {column} must be at most {SITE_NAME_MAX} characters long "
            f"(it has {len(name)})",
        )


def _plain_hosts(line: int, value: str) -> tuple[str, ...]:
    # Blank entries ("a.gov.cn;;b.gov.cn", a trailing ";") are the file's slack, not hosts.
    given = [raw.strip() for raw in value.split(HOST_SEPARATOR) if raw.strip()]
    try:
        return tuple(normalise_hosts(given))
    except ValueError as exc:
        raise ImportFailed(
            f"第 {line} 行 host 列有不是域名的内容（域名形如 www.example.gov.cn，多个用分号隔开）",
            en=f"line {line}: {exc}",
        ) from exc


def _parse_plain(records: Iterator[tuple[int, dict[str, str]]]) -> ParsedDirectory:
    sites: list[SiteRow] = []
    units: list[str] = []
    parents: dict[str, ParentRow] = {}
    site_lines: dict[str, int] = {}
    host_owners: dict[str, SiteRow] = {}
    rows_read = 0
    for line, record in records:
        rows_read += 1
        _require(line, record, ("site_code", "name", "owner_unit"))
        _check_characters(line, record, PLAIN_COLUMNS)
        code, owner = record["site_code"], record["owner_unit"]
        _check_site_code(line, code)
        if code in site_lines:
            raise ImportFailed(
                f"第 {line} 行：网站 {code} 已在第 {site_lines[code]} 行列出，每个网站只列一次",
                en=f"line {line}: site {code} is already given on line {site_lines[code]}",
            )
        _check_site_name(line, "name", record["name"])
        _check_unit_name(line, "owner_unit", owner)
        row = SiteRow(line, code, record["name"], owner, _plain_hosts(line, record["host"]))
        for host in row.hosts:
            if host in host_owners:
                earlier = host_owners[host]
                raise ImportFailed(
                    f"第 {line} 行：域名 {host} 已在第 {earlier.line} 行给了网站 "
                    f"{earlier.site_code}，一个域名只能属于一个网站",
                    en=f"line {line}: host {host} is already given to site {earlier.site_code} "
                    f"on line {earlier.line}",
                )
            host_owners[host] = row
        parent = record.get("parent_unit", "")
        if parent:
            _check_unit_name(line, "parent_unit", parent)
            if parent == owner:
                raise ImportFailed(
                    f"第 {line} 行：单位 {owner!r} 不能是自己的上级单位（parent_unit）",
                    en=f"line {line}: unit {owner!r} cannot be its own parent_unit",
                )
            earlier_parent = parents.get(owner)
            if earlier_parent is not None and earlier_parent.parent != parent:
                raise ImportFailed(
                    f"第 {line} 行把单位 {owner!r} 放在 {parent!r} 之下，但第 "
                    f"{earlier_parent.line} 行把它放在 {earlier_parent.parent!r} 之下，请统一",
                    en=f"line {line}: unit {owner!r} is placed under {parent!r} here but under "
                    f"{earlier_parent.parent!r} on line {earlier_parent.line}",
                )
            parents.setdefault(owner, ParentRow(line, owner, parent))
            units.append(parent)
        site_lines[code] = line
        sites.append(row)
        units.append(owner)
    return ParsedDirectory(
        format="plain",
        rows_read=rows_read,
        sites=sites,
        units=list(dict.fromkeys(units)),
        parents=list(parents.values()),
        skipped=[],
        hosts_are_inferred=False,
    )


class _Tally:
    """Counts the values seen for one thing and picks the most frequent.

    Ties go to the value seen on the latest created_date, then to the one seen furthest
    down the file, so the choice is the same on every run.
    """

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int, str, int]] = {}

    def add(self, value: str, created: str, line: int) -> None:
        count, latest, _ = self._seen.get(value, (0, "", 0))
        self._seen[value] = (count + 1, max(latest, created), line)

    def best(self) -> str:
        return max(self._seen, key=self._seen.__getitem__)


@dataclass
class _SiteEvidence:
    names: _Tally = field(default_factory=_Tally)
    units: _Tally = field(default_factory=_Tally)
    last_line: int = 0


def _parse_reports(records: Iterator[tuple[int, dict[str, str]]]) -> ParsedDirectory:
    evidence: dict[str, _SiteEvidence] = {}
    sites_by_host: dict[str, _Tally] = {}
    units: list[str] = []
    skipped: list[SkippedRow] = []
    rows_read = 0
    for line, record in records:
        rows_read += 1
        code = record["site_code"]
        if not code:
            skipped.append(SkippedRow(line, "no site code"))
            continue
        _check_characters(line, record, ("site_code", "site_name", "handling_unit"))
        _check_site_code(line, code)
        _require(line, record, ("site_name", "handling_unit", "created_date"))
        _check_site_name(line, "site_name", record["site_name"])
        _check_unit_name(line, "handling_unit", record["handling_unit"])
        created = record["created_date"]
        try:
            # Tie-breaking compares these as text, which is right only for ISO dates.
            date.fromisoformat(created)
        except ValueError as exc:
            raise ImportFailed(
                f"第 {line} 行 created_date 列 {created!r} 不是日期，应形如 2023-09-22",
                en=f"line {line}: created_date {created!r} is not a date such as 2023-09-22",
            ) from exc
        site = evidence.setdefault(code, _SiteEvidence())
        site.names.add(record["site_name"], created, line)
        site.units.add(record["handling_unit"], created, line)
        site.last_line = line
        units.append(record["handling_unit"])
        # Citizens paste all sorts of things as the page address; only real host names
        # are worth routing by, and a bad one does not make the report a bad row.
        host = host_of_url(record["error_url"])
        if host and HOST_PATTERN.fullmatch(host):
            sites_by_host.setdefault(host, _Tally()).add(code, created, line)
    hosts_of: dict[str, list[str]] = {}
    for host, tally in sites_by_host.items():
        hosts_of.setdefault(tally.best(), []).append(host)
    sites = [
        SiteRow(
            line=site.last_line,
            site_code=code,
            name=site.names.best(),
            owner_unit=site.units.best(),
            hosts=tuple(sorted(hosts_of.get(code, []))),
        )
        for code, site in evidence.items()
    ]
    return ParsedDirectory(
        format="reports",
        rows_read=rows_read,
        sites=sites,
        units=list(dict.fromkeys(units)),
        parents=[],
        skipped=skipped,
        hosts_are_inferred=True,
    )


def parse_directory_csv(text: str, *, progress: Progress | None = None) -> ParsedDirectory:
    """Read a directory CSV (either format) into rows, or raise ImportFailed at the bad line."""
    # Spreadsheet programs put a byte-order mark in front of "CSV UTF-8".
    return _parse_lines(io.StringIO(text.removeprefix("\ufeff"), newline=""), progress)


def _parse_lines(lines: Iterable[str], progress: Progress | None) -> ParsedDirectory:
    reader = csv.reader(lines)
    header: list[str] | None = None
    for values in reader:
        if any(value.strip() for value in values):
            header = [value.strip() for value in values]
            break
    if header is None:
        raise ImportFailed("第 1 行：文件是空的", en="line 1: the file is empty")
    file_format = _detect_format(header, reader.line_num)
    records = _records(reader, header, progress)
    return _parse_plain(records) if file_format == "plain" else _parse_reports(records)


def read_directory_file(path: Path, *, progress: Progress | None = None) -> ParsedDirectory:
    """Read a directory CSV file (UTF-8) into rows, as a stream: memory follows the sites
    found, not the file (a platform export of a million reports is 600 MB of text)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            return _parse_lines(file, progress)
    except UnicodeDecodeError:
        # Read whole only now, to name the line of the first byte that is not UTF-8.
        _decode(path.read_bytes())
        raise


# --- writing --------------------------------------------------------------------------


def _find_cycle(parents: list[ParentRow], parent_of: dict[str, str | None]) -> ParentRow | None:
    """A placement that closes a loop of units supervising each other, if there is one.

    Of the placements forming the loop, the one furthest down the file is returned: it is
    the row that made the earlier ones wrong.
    """
    placement_of = {placement.unit: placement for placement in parents}
    for placement in parents:
        path = [placement.unit]
        current = parent_of.get(placement.unit)
        while current is not None and current not in path:
            path.append(current)
            current = parent_of.get(current)
        if current is not None:
            loop = path[path.index(current) :]
            return max(
                (placement_of[unit] for unit in loop if unit in placement_of),
                key=lambda p: p.line,
                default=placement,
            )
    return None


def _desired_hosts(
    parsed: ParsedDirectory,
    site_hosts: dict[str, SiteHost],
    code_of_site: dict[int, str],
    result: ImportResult,
) -> dict[str, str]:
    """Host → site code as the file wants it, minus inferred hosts held by other sites."""
    in_file = {row.site_code for row in parsed.sites}
    desired: dict[str, str] = {}
    for row in parsed.sites:
        for host in row.hosts:
            existing = site_hosts.get(host)
            holder = code_of_site.get(existing.site_id) if existing is not None else None
            if holder is not None and holder not in in_file:
                if parsed.hosts_are_inferred:
                    result.hosts_left_elsewhere += 1
                    continue
                raise ImportFailed(
                    f"第 {row.line} 行：域名 {host} 属于网站 {holder}，而本文件没有列出该网站；"
                    "请先把域名从该网站移除",
                    en=f"line {row.line}: host {host} belongs to site {holder}, which this file "
                    "does not list; take it off that site first",
                )
            desired[host] = row.site_code
    return desired


def apply_directory(
    *, session: Session, parsed: ParsedDirectory, actor: Actor = SYSTEM_ACTOR
) -> ImportResult:
    """Create the units and sites that are missing and update those that changed; only flush."""
    result = ImportResult(format=parsed.format, rows_read=parsed.rows_read, skipped=parsed.skipped)
    # The whole directory is a few thousand rows: reading it once beats a query per row.
    units = _units_by_name(session)
    sites = _sites_by_code(session)
    site_hosts = {site_host.host: site_host for site_host in session.exec(select(SiteHost)).all()}
    name_of_unit = {unit.id: name for name, unit in units.items()}
    code_of_site = {site.id: code for code, site in sites.items()}

    # Check everything before writing anything.
    parent_of = {name: name_of_unit.get(unit.parent_id) for name, unit in units.items()}
    parent_of.update({placement.unit: placement.parent for placement in parsed.parents})
    cycle = _find_cycle(parsed.parents, parent_of)
    if cycle is not None:
        raise ImportFailed(
            f"第 {cycle.line} 行：把 {cycle.unit!r} 放在 {cycle.parent!r} 之下，会使单位成为"
            "自己下级单位的下级",
            en=f"line {cycle.line}: placing {cycle.unit!r} under {cycle.parent!r} would put a "
            "unit under a unit it supervises",
        )
    desired_hosts = _desired_hosts(parsed, site_hosts, code_of_site, result)

    try:
        _write(session, parsed, units, sites, site_hosts, desired_hosts, result, actor)
    except IntegrityError as exc:
        raise Conflict(
            "导入期间名录被修改（另一次导入或管理员编辑）；本次未导入任何内容，请重新导入",
            en="the directory changed while the file was being imported (another import or an "
            "admin edit); nothing was imported, run the import again",
            code="directory_changed_during_import",
        ) from exc
    return result


def _units_by_name(session: Session) -> dict[str, Unit]:
    return {unit.name: unit for unit in session.exec(select(Unit)).all()}


def _sites_by_code(session: Session) -> dict[str, Site]:
    return {site.site_code: site for site in session.exec(select(Site)).all()}


def _write(
    session: Session,
    parsed: ParsedDirectory,
    units: dict[str, Unit],
    sites: dict[str, Site],
    site_hosts: dict[str, SiteHost],
    desired_hosts: dict[str, str],
    result: ImportResult,
    actor: Actor,
) -> None:
    now = utcnow()
    # Every unit and site the file changes goes into the admin history, as it was and is.
    hosts_before: dict[int, list[str]] = {}
    for host, site_host in sorted(site_hosts.items()):
        hosts_before.setdefault(site_host.site_id, []).append(host)
    units_before = {name: audit.snapshot(unit) for name, unit in units.items()}
    sites_before = {
        code: audit.snapshot(site, hosts=hosts_before.get(site.id, []))
        for code, site in sites.items()
    }
    # New rows go in as bulk INSERTs and are read back: adding ORM objects would insert them
    # one statement per row on SQLite, to fetch each generated id.
    new_unit_names = [name for name in parsed.units if name not in units]
    if new_unit_names:
        session.execute(
            insert(Unit),
            [{"name": name, "created_at": now, "updated_at": now} for name in new_unit_names],
        )
        units = _units_by_name(session)
    result.units_created = len(new_unit_names)

    created_unit_names = set(new_unit_names)
    for placement in parsed.parents:
        unit, parent_id = units[placement.unit], units[placement.parent].id
        if unit.parent_id != parent_id:
            unit.parent_id = parent_id
            unit.updated_at = now
            if placement.unit not in created_unit_names:
                result.units_updated += 1

    changed_sites: set[str] = set()
    new_sites: list[dict] = []
    for row in parsed.sites:
        owner_id = units[row.owner_unit].id
        site = sites.get(row.site_code)
        if site is None:
            new_sites.append(
                {
                    "site_code": row.site_code,
                    "name": row.name,
                    "owner_unit_id": owner_id,
                    "status": SiteStatus.active,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        elif site.name != row.name or site.owner_unit_id != owner_id:
            site.name, site.owner_unit_id = row.name, owner_id
            changed_sites.add(row.site_code)
    if new_sites:
        session.execute(insert(Site), new_sites)
        sites = _sites_by_code(session)
    result.sites_created = len(new_sites)

    code_of_site = {site.id: code for code, site in sites.items()}
    in_file = {row.site_code for row in parsed.sites}
    for host, site_host in site_hosts.items():
        holder = code_of_site[site_host.site_id]
        if holder in in_file and desired_hosts.get(host) != holder:
            changed_sites.add(holder)
            if host not in desired_hosts:
                session.delete(site_host)
    new_hosts: list[dict] = []
    for host, code in desired_hosts.items():
        site_host = site_hosts.get(host)
        if site_host is None:
            new_hosts.append({"host": host, "site_id": sites[code].id})
            changed_sites.add(code)
        elif site_host.site_id != sites[code].id:
            site_host.site_id = sites[code].id
            changed_sites.add(code)
    if new_hosts:
        session.execute(insert(SiteHost), new_hosts)

    updated = changed_sites - {row["site_code"] for row in new_sites}
    for code in updated:
        sites[code].updated_at = now
    result.sites_updated = len(updated)
    session.flush()
    _record_import(session, actor, now, units, sites, units_before, sites_before)
    result.reports_routed = route_waiting_reports(
        session=session,
        sites=[sites[row["site_code"]] for row in new_sites],
        now=now,
        reason="site_created",
    )


def _record_import(
    session: Session,
    actor: Actor,
    now: datetime,
    units: dict[str, Unit],
    sites: dict[str, Site],
    units_before: dict[str, dict],
    sites_before: dict[str, dict],
) -> None:
    hosts_now: dict[str, list[str]] = {}
    for site_host in session.exec(select(SiteHost).order_by(SiteHost.host)).all():
        hosts_now.setdefault(site_host.site_id, []).append(site_host.host)
    changes = []
    for name, unit in units.items():
        after, before = audit.snapshot(unit), units_before.get(name)
        if before is None:
            changes.append((EntityKind.unit, unit.id, Action.created, None, after))
        elif after != before:
            changes.append((EntityKind.unit, unit.id, Action.updated, before, after))
    for code, site in sites.items():
        after = audit.snapshot(site, hosts=hosts_now.get(site.id, []))
        before = sites_before.get(code)
        if before is None:
            changes.append((EntityKind.site, site.id, Action.created, None, after))
        elif after != before:
            changes.append((EntityKind.site, site.id, Action.updated, before, after))
    audit.record_many(session=session, actor=actor, changes=changes, at=now)


def import_sites(
    *,
    session: Session,
    path: Path,
    progress: Progress | None = None,
    actor: Actor = SYSTEM_ACTOR,
) -> ImportResult:
    """Upsert the units and sites a CSV file describes; a bad row rejects the whole file."""
    parsed = read_directory_file(path, progress=progress)
    return apply_directory(session=session, parsed=parsed, actor=actor)
