"""Fixtures: a migrated database (SQLite or PostgreSQL), emptied after every test."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

import app.models
from app import heartbeat
from app.auth import Role, issue_token
from app.clock import FrozenClock
from app.config import Settings
from app.db import create_db_engine, metadata
from app.directory.models import SiteCreate, UnitCreate
from app.directory.service import create_site, create_unit
from app.main import create_app
from app.migrate import upgrade_to_head
from app.reports.models import Report
from app.wiring import install_hooks

# Tests call the services directly too, not only through create_app(): wire the domains once.
install_hooks()

SHANGHAI = ZoneInfo("Asia/Shanghai")
DATA_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "gov-website-error-reports.csv"


def local(*args: int) -> datetime:
    """An instant given as Asia/Shanghai wall-clock time."""
    return datetime(*args, tzinfo=SHANGHAI)


def _test_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("ZHAOCUO_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _reset_postgres(url: str) -> None:
    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = _test_database_url(tmp_path_factory)
    if make_url(url).get_backend_name() == "postgresql":
        _reset_postgres(url)
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _empty_tables_after_test(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "engine" not in request.fixturenames:
        return
    engine: Engine = request.getfixturevalue("engine")
    # DELETE, children first: on tables this small it is far quicker than TRUNCATE.
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        public_rate_limit="",
        public_read_rate_limit="",
        scheduler="off",
    )


@pytest.fixture
def clock() -> FrozenClock:
    # A Monday morning in an ordinary working week.
    return FrozenClock(local(2026, 11, 23, 10, 0))


def scheduler_ran(engine: Engine, at: datetime, instance: str = "test-host:1") -> None:
    """Store a heartbeat as a scheduler that ran its sweep at `at` would (/readyz needs one)."""
    with Session(engine) as session:
        heartbeat.beat(
            session=session,
            instance=instance,
            started_at=at,
            job="escalation_sweep",
            leader=True,
            result={"reports": 0},
            now=at,
        )
        session.commit()


@pytest.fixture
def scheduler_alive(engine: Engine, clock: FrozenClock) -> None:
    """A scheduler ran a job at the clock's time."""
    scheduler_ran(engine, clock.now())


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: FrozenClock):
    return create_app(settings=settings, engine=engine, clock=clock)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@dataclass
class Directory:
    """Province P over city A (with department A1) and city B (with department B1)."""

    province: int
    city_a: int
    dept_a1: int
    city_b: int
    dept_b1: int
    site_a1: str
    site_b1: str
    host_a1: str
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def directory(session: Session) -> Directory:
    def unit(name: str, parent: int | None) -> int:
        return create_unit(session=session, unit_in=UnitCreate(name=name, parent_id=parent)).id

    province = unit("测试省人民政府办公厅", None)
    city_a = unit("甲市人民政府办公室", province)
    dept_a1 = unit("甲市教育局", city_a)
    city_b = unit("乙市人民政府办公室", province)
    dept_b1 = unit("乙市教育局", city_b)
    create_site(
        session=session,
        site_in=SiteCreate(
            site_code="9901000002",
            name="甲市教育局网站",
            owner_unit_id=dept_a1,
            hosts=["jyj.jia.example.gov.cn"],
        ),
    )
    create_site(
        session=session,
        site_in=SiteCreate(
            site_code="99BM000009",
            name="乙市教育局网站",
            owner_unit_id=dept_b1,
            hosts=["jyj.yi.example.gov.cn"],
        ),
    )
    tokens = {}
    for who, unit_id, role in [
        ("handler_a1", dept_a1, Role.handler),
        ("handler_b1", dept_b1, Role.handler),
        ("supervisor_a", city_a, Role.supervisor),
        ("supervisor_b", city_b, Role.supervisor),
        ("admin", province, Role.admin),
    ]:
        tokens[who] = issue_token(session=session, unit_id=unit_id, role=role)[1]
    session.commit()
    return Directory(
        province=province,
        city_a=city_a,
        dept_a1=dept_a1,
        city_b=city_b,
        dept_b1=dept_b1,
        site_a1="9901000002",
        site_b1="99BM000009",
        host_a1="jyj.jia.example.gov.cn",
        tokens=tokens,
    )


@pytest.fixture
def admin_token(directory: Directory) -> str:
    return directory.tokens["admin"]


# A report on site A1 of the `directory` fixture, as a citizen sends it.
REPORT_ON_SITE_A1 = {
    "site_code": "9901000002",
    "page_url": "http://jyj.jia.example.gov.cn/xxgk/index.html",
    "category": 4,
    "description": "首页“教育局”写成了“敎育局”。",
}


def submit_report(client: TestClient, *, at: datetime | None = None, **fields: object) -> dict:
    """A citizen submits a report over the API (at `at` on the app's frozen clock); the receipt.

    `fields` replace those of REPORT_ON_SITE_A1; a field set to None is left out.
    """
    if at is not None:
        client.app.state.clock.set(at)
    body = {key: value for key, value in (REPORT_ON_SITE_A1 | fields).items() if value is not None}
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def terminate_backend(engine: Engine, pid: int) -> None:
    """Cut a PostgreSQL connection from the server's side (a restart, a firewall), through
    another connection of `engine`; returns once the backend is gone."""
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})


def fetch(engine: Engine, query) -> list:
    """Rows read in a short transaction of their own: SQLite lets one writer in at a time."""
    with Session(engine, expire_on_commit=False) as session:
        rows = list(session.exec(query).all())
        session.expunge_all()
        session.rollback()
    return rows


def report_id(engine: Engine, tracking_code: str) -> int:
    """The id behind a tracking code, as the unit API knows the report."""
    [found] = fetch(engine, select(Report.id).where(Report.tracking_code == tracking_code))
    return found


def requires_data() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not DATA_CSV.exists(),
        reason=f"the real reports CSV is not at {DATA_CSV} (it sits beside the repository in CI)",
    )


@pytest.fixture
def mailbox():
    """A real SMTP server on loopback (tests/mailbox.py): what it received, and refusals."""
    from tests.mailbox import Mailbox

    mailbox = Mailbox()
    yield mailbox
    mailbox.stop()
