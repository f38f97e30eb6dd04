"""Replay a sample of real reports from the national platform through the public and unit APIs.

Each sampled report is submitted on its created_date and answered on its replied_date by the
unit that answered it on the platform, with the platform's own verdict and text. Working days
are counted independently here, with chinese_calendar, and compared with the service's.
"""

import csv
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.auth import Role, issue_token
from app.directory.importer import import_sites
from app.directory.models import Site, Unit
from app.reports.models import Report
from tests.conftest import DATA_CSV, SHANGHAI, requires_data
from tests.oracle import workdays_after, workdays_between

pytestmark = requires_data()

# Every 40th report that names a site, plus every report that was not taken up (37 in all),
# so that each decline reason is replayed.
SAMPLE_EVERY = 40
RESOLVED = {"1": "confirmed", "22": "not_confirmed"}
DECLINED = {"13": "duplicate", "20": "out_of_scope", "19": "insufficient_info", "12": "other"}

# Made-up contact details: the platform's data has none, and these must never leak.
CITIZEN = {"name": "司马知远", "phone": "13700000000", "email": "sima.zhiyuan@example.org"}


@dataclass(frozen=True)
class Row:
    id: str
    site_code: str
    category: int
    status: str
    error_url: str
    description: str
    handling_unit: str
    created: date
    replied: date
    reply: str
    reject_reason: str


def sample_rows() -> list[Row]:
    with DATA_CSV.open(encoding="utf-8", newline="") as file:
        with_site = [record for record in csv.DictReader(file) if record["site_code"]]
    chosen = [
        record
        for index, record in enumerate(with_site)
        if index % SAMPLE_EVERY == 0 or record["status"] in DECLINED
    ]
    return [
        Row(
            id=record["id"],
            site_code=record["site_code"],
            category=int(record["problem_type"]),
            status=record["status"],
            error_url=record["error_url"],
            description=record["description"],
            handling_unit=record["handling_unit"],
            created=date.fromisoformat(record["created_date"]),
            replied=date.fromisoformat(record["replied_date"]),
            reply=record["reply"],
            reject_reason=record["reject_reason"],
        )
        for record in chosen
    ]


def write_sample_csv(rows: list[Row], path: Path) -> None:
    """The sample in the platform's export format, for the directory importer."""
    with DATA_CSV.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        wanted = {row.id for row in rows}
        records = [record for record in reader if record["id"] in wanted]
        header = reader.fieldnames
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=header)
        writer.writeheader()
        writer.writerows(records)


def form_accepts(row: Row) -> bool:
    """What the public form asks for: an http(s) page address and 5 to 2000 characters."""
    parts = urlsplit(row.error_url.strip())
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and 5 <= len(row.description.strip()) <= 2000
    )


@dataclass
class Replay:
    rows: list[Row]
    owners: dict[str, str]  # site code -> owner unit name
    unit_ids: dict[str, int]
    tokens: dict[str, dict[str, str]]  # unit name -> headers of a handler token


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59, 999000), tzinfo=SHANGHAI)


@pytest.fixture
def replay_directory(engine: Engine, tmp_path: Path) -> "Replay":
    """Units and sites from the sample, a handler token per unit; and each site's owner."""
    rows = sample_rows()
    path = tmp_path / "sample.csv"
    write_sample_csv(rows, path)
    with Session(engine, expire_on_commit=False) as session:
        import_sites(session=session, path=path)
        units = {unit.name: unit.id for unit in session.exec(select(Unit)).all()}
        owners = {
            site.site_code: unit_name
            for site, unit_name in session.exec(
                select(Site, Unit.name).join(Unit, Unit.id == Site.owner_unit_id)
            ).all()
        }
        tokens = {}
        for name, unit_id in units.items():
            _, plain = issue_token(session=session, unit_id=unit_id, role=Role.handler)
            tokens[name] = {"Authorization": f"Bearer {plain}"}
        session.commit()
    return Replay(rows=rows, owners=owners, unit_ids=units, tokens=tokens)


def test_replay_real_reports(client, clock, engine: Engine, replay_directory: Replay):
    rows, owners, tokens = replay_directory.rows, replay_directory.owners, replay_directory.tokens
    assert len(rows) > 250
    assert {row.status for row in rows} == set(RESOLVED) | set(DECLINED)
    problems: list[str] = []
    public_bodies: list[str] = []
    outcomes: Counter[tuple[str, str | None]] = Counter()
    rejected = transferred = 0

    for row in rows:
        clock.set(at(row.created, 10))
        submitted = client.post(
            "/api/v1/reports",
            json={
                "site_code": row.site_code,
                "page_url": row.error_url,
                "category": row.category,
                "description": row.description,
                **CITIZEN,
            },
        )
        public_bodies.append(submitted.text)
        if not form_accepts(row):
            rejected += 1
            if submitted.status_code != 422:
                problems.append(f"{row.id}: expected 422, got {submitted.status_code}")
            continue
        if submitted.status_code != 201:
            problems.append(f"{row.id}: submit gave {submitted.status_code} {submitted.text}")
            continue
        receipt = submitted.json()
        owner = owners[row.site_code]
        expected_receipt = (
            "assigned",
            owner,
            end_of(workdays_after(row.created, 2)),
            end_of(workdays_after(row.created, 15)),
        )
        got_receipt = (
            receipt["status"],
            receipt["owner_unit_name"],
            datetime.fromisoformat(receipt["first_reply_due_at"]),
            datetime.fromisoformat(receipt["resolution_due_at"]),
        )
        if got_receipt != expected_receipt:
            problems.append(f"{row.id}: receipt {got_receipt} != {expected_receipt}")
            continue

        handler = tokens[owner]
        report_id = _report_id(engine, receipt["tracking_code"])
        expected_kinds = ["submitted"]
        if row.handling_unit != owner:
            # The site's usual owner was not the unit that answered: it transfers the report.
            clock.set(at(row.created, 11))
            moved = client.post(
                f"/api/v1/unit/reports/{report_id}/transfer",
                json={"to_unit_id": replay_directory.unit_ids[row.handling_unit]},
                headers=handler,
            )
            if moved.status_code != 200:
                problems.append(f"{row.id}: transfer gave {moved.status_code} {moved.text}")
                continue
            transferred += 1
            expected_kinds.append("transferred")
            handler = tokens[row.handling_unit]

        clock.set(at(row.replied, 16))
        if row.status in RESOLVED:
            action = "resolve"
            body = {"verdict": RESOLVED[row.status], "text": row.reply}
            expected = ("resolved", RESOLVED[row.status], None, row.reply)
        else:
            action = "decline"
            answer = row.reject_reason or row.reply
            body = {"reason": DECLINED[row.status], "text": answer}
            expected = ("declined", None, DECLINED[row.status], answer)
        expected_kinds.append(expected[0])
        answered = client.post(
            f"/api/v1/unit/reports/{report_id}/{action}", json=body, headers=handler
        )
        if answered.status_code != 200:
            problems.append(f"{row.id}: {action} gave {answered.status_code} {answered.text}")
            continue
        detail = answered.json()
        got = (
            detail["status"],
            detail["verdict"],
            detail["decline_reason"],
            detail["final_answer"],
        )
        if got != expected:
            problems.append(f"{row.id}: {got} != {expected}")
        kinds = [event["kind"] for event in detail["events"]]
        if kinds != expected_kinds:
            problems.append(f"{row.id}: events {kinds} != {expected_kinds}")
        handling = workdays_between(row.created, row.replied)
        if detail["handling_workdays"] != handling:
            problems.append(
                f"{row.id}: {row.created}→{row.replied} handled in "
                f"{detail['handling_workdays']} working days, chinese_calendar says {handling}"
            )
        outcomes[(detail["status"], detail["verdict"] or detail["decline_reason"])] += 1

        public = client.get(f"/api/v1/reports/{receipt['tracking_code']}")
        public_bodies.append(public.text)
        view = public.json()
        if (view["status"], view["final_answer"]) != (expected[0], expected[3]):
            problems.append(f"{row.id}: public view shows {view['status']} {view['final_answer']}")

    assert problems == []
    accepted = [row for row in rows if form_accepts(row)]
    expected_outcomes = Counter(
        ("resolved", RESOLVED[row.status])
        if row.status in RESOLVED
        else ("declined", DECLINED[row.status])
        for row in accepted
    )
    assert outcomes == expected_outcomes
    # A few real descriptions are shorter than the form allows: those are turned away.
    assert rejected == len(rows) - len(accepted) > 0
    # The sample exercises transfers too, not only straight answers.
    assert transferred > 0
    for body in public_bodies:
        for value in CITIZEN.values():
            assert value not in body


def _report_id(engine: Engine, tracking_code: str) -> int:
    with Session(engine) as session:
        return session.exec(select(Report.id).where(Report.tracking_code == tracking_code)).one()
