"""Liveness and readiness, with the calendar coverage operators must watch."""

import logging
from pathlib import Path

from fastapi.testclient import TestClient

from app.config import Settings
from app.db import create_db_engine
from app.main import create_app
from app.migrate import head_revision
from tests.conftest import Directory, local, scheduler_ran

NOTICE_2027 = {
    "source": "国务院办公厅关于2027年部分节假日安排的通知",
    "holidays": [
        {"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"},
        {"name": "国庆节", "start": "2027-10-01", "end": "2027-10-07"},
    ],
    "makeup_workdays": [{"name": "国庆节", "date": "2027-10-09"}],
}


def test_healthz(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_database_migrations_and_calendar(client, scheduler_alive):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == {"current": head_revision(), "head": head_revision()}
    # On Monday 23 November 2026 the official calendar (the 2026 notice) has 38 days left,
    # fewer than the 60-day warning period.
    assert body["checks"]["calendar"] == {
        "covered_until": "2026-12-31",
        "days_left": 38,
        "warning": True,
    }


def test_readyz_without_warning_while_coverage_lasts(client, clock, engine):
    clock.set(local(2026, 10, 1, 9, 0))
    scheduler_ran(engine, clock.now())

    calendar = client.get("/readyz").json()["checks"]["calendar"]

    assert calendar == {"covered_until": "2026-12-31", "days_left": 91, "warning": False}


def test_readyz_once_the_calendar_has_run_out(client, clock, engine):
    clock.set(local(2027, 1, 5, 9, 0))
    scheduler_ran(engine, clock.now())

    response = client.get("/readyz")

    # Still ready: the service works on the weekend rule, and says so.
    assert response.status_code == 200
    assert response.json()["checks"]["calendar"] == {
        "covered_until": "2026-12-31",
        "days_left": -5,
        "warning": True,
    }


def test_loading_the_next_year_extends_coverage(client, directory: Directory):
    loaded = client.put("/api/v1/calendar/2027", json=NOTICE_2027, headers=directory.auth("admin"))
    assert loaded.status_code == 200, loaded.text

    calendar = client.get("/readyz").json()["checks"]["calendar"]

    assert calendar == {"covered_until": "2027-12-31", "days_left": 403, "warning": False}


def test_readyz_follows_the_warning_setting(engine, database_url, clock):
    settings = Settings(
        database_url=database_url, public_rate_limit="", scheduler="off", calendar_warning_days=30
    )
    with TestClient(create_app(settings=settings, engine=engine, clock=clock)) as client:
        calendar = client.get("/readyz").json()["checks"]["calendar"]

    assert calendar["warning"] is False


def test_startup_warns_when_the_calendar_ends_soon(app, caplog):
    with caplog.at_level(logging.WARNING, logger="zhaocuo"), TestClient(app):
        pass

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("ends on 2026-12-31 (38 days from now)" in message for message in warnings)


def test_startup_is_quiet_while_coverage_lasts(app, clock, caplog):
    clock.set(local(2026, 6, 1, 9, 0))

    with caplog.at_level(logging.WARNING, logger="zhaocuo"), TestClient(app):
        pass

    assert not [r for r in caplog.records if "calendar" in r.getMessage()]


def test_readyz_on_an_unmigrated_database_is_503(tmp_path: Path, clock):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = create_db_engine(url)
    settings = Settings(database_url=url, public_rate_limit="", scheduler="off")
    # Without the lifespan: it reads the calendar, which an empty database does not have.
    client = TestClient(create_app(settings=settings, engine=engine, clock=clock))

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"] == {"current": None, "head": head_revision()}
    engine.dispose()


def test_readyz_without_a_database_is_503(tmp_path: Path, clock, caplog):
    # A folder where the database file should be: SQLite cannot open it.
    url = f"sqlite:///{tmp_path}"
    engine = create_db_engine(url)
    settings = Settings(database_url=url, public_rate_limit="", scheduler="off")
    client = TestClient(create_app(settings=settings, engine=engine, clock=clock))

    with caplog.at_level(logging.ERROR, logger="zhaocuo"):
        response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert "database" not in body["checks"]
    assert body["checks"]["error"] == (
        "OperationalError: the database cannot be read or is not migrated; "
        "the server log has the details"
    )
    assert "unable to open database file" in caplog.text
    engine.dispose()


def test_readyz_never_shows_the_database_servers_address_or_user(clock, caplog):
    # Port 1 on loopback: nothing listens, and the driver's error names host, port and user.
    url = "postgresql+psycopg://zc_readyz_operator@127.0.0.1:1/zc_readyz_nowhere"
    engine = create_db_engine(url)
    settings = Settings(database_url=url, public_rate_limit="", scheduler="off")
    client = TestClient(create_app(settings=settings, engine=engine, clock=clock))

    with caplog.at_level(logging.ERROR, logger="zhaocuo"):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["error"] == (
        "OperationalError: the database cannot be read or is not migrated; "
        "the server log has the details"
    )
    for secret in ("zc_readyz_operator", "127.0.0.1", "port 1", "zc_readyz_nowhere"):
        assert secret not in response.text
    assert "127.0.0.1" in caplog.text
    engine.dispose()


def test_readyz_says_which_scheduler_ran_last(client, clock, engine):
    scheduler_ran(engine, local(2026, 11, 23, 9, 56), instance="node-a:10")
    scheduler_ran(engine, local(2026, 11, 23, 9, 58), instance="node-b:20")

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["scheduler"] == {
        "last_heartbeat_at": "2026-11-23T09:58:00+08:00",
        "stale_after_seconds": 300,
        "ok": True,
    }


def test_readyz_fails_when_no_scheduler_has_ever_run(client):
    response = client.get("/readyz")

    # A deployment without `zhaocuo scheduler` (or ZHAOCUO_SCHEDULER=embedded) is visible.
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["scheduler"] == {
        "last_heartbeat_at": None,
        "stale_after_seconds": 300,
        "ok": False,
    }


def test_readyz_fails_when_the_scheduler_fell_silent(client, clock, engine):
    # 10:00 now; the last run at 09:54:59 is 301 seconds old, over the 300 allowed.
    scheduler_ran(engine, local(2026, 11, 23, 9, 54, 59))

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["scheduler"]["ok"] is False
    scheduler_ran(engine, local(2026, 11, 23, 9, 55, 0))
    assert client.get("/readyz").status_code == 200


def test_readyz_follows_the_scheduler_stale_setting(engine, database_url, clock):
    scheduler_ran(engine, local(2026, 11, 23, 9, 0))
    settings = Settings(
        database_url=database_url, public_rate_limit="", scheduler_stale_seconds=3600
    )
    with TestClient(create_app(settings=settings, engine=engine, clock=clock)) as client:
        response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["scheduler"]["stale_after_seconds"] == 3600
