"""The request transaction: committed before the response, or the caller hears of it."""

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from app import db
from app.config import Settings
from app.db import create_db_engine
from app.main import create_app
from app.reports.models import Report
from tests.conftest import (
    REPORT_ON_SITE_A1,
    fetch,
    report_id,
    submit_report,
    terminate_backend,
)
from tests.live_server import free_port


def test_a_commit_that_fails_is_never_answered_with_201(app, engine, directory):
    def refuse(session: Session) -> None:
        raise RuntimeError("the disk is full")

    event.listen(Session, "before_commit", refuse)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.post(
                "/api/v1/reports",
                json={
                    "site_code": directory.site_a1,
                    "page_url": "https://jyj.jia.example.gov.cn/a.html",
                    "category": 4,
                    "description": "标题里的错别字",
                },
            )
    finally:
        event.remove(Session, "before_commit", refuse)
    assert response.status_code == 500
    assert "tracking_code" not in response.text
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Report)).one() == 0


def _synchronous_of(engine) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql("PRAGMA synchronous").scalar_one()


def test_sqlite_syncs_every_commit_by_default_and_normal_only_when_chosen(tmp_path):
    # PRAGMA synchronous reads back 2 for FULL and 1 for NORMAL.
    url = f"sqlite:///{tmp_path / 'durable.db'}"
    default = create_db_engine(url)
    chosen = Settings(database_url=url, sqlite_synchronous="normal")
    normal = create_db_engine(url, sqlite_synchronous=chosen.sqlite_synchronous)
    try:
        assert Settings(database_url=url).sqlite_synchronous == "FULL"
        assert _synchronous_of(default) == 2
        assert _synchronous_of(normal) == 1
    finally:
        default.dispose()
        normal.dispose()


def test_the_served_sqlite_database_syncs_every_commit(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'served.db'}", public_rate_limit="")
    app = create_app(settings=settings)
    try:
        assert _synchronous_of(app.state.engine) == 2
    finally:
        app.state.engine.dispose()


def test_a_thread_waiting_for_sqlite_connection_gets_it_before_one_asking_again(tmp_path):
    """A calendar load's next batch, or a request, is not starved by a busy thread."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    turns: list[str] = []
    stop = threading.Event()

    def ask_again_and_again() -> None:
        while not stop.is_set():
            with engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
                turns.append("busy")

    busy = threading.Thread(target=ask_again_and_again)
    busy.start()
    try:
        while len(turns) < 10:
            time.sleep(0.001)
        asked = len(turns)
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            served = len(turns)
    finally:
        stop.set()
        busy.join()
        engine.dispose()
    # The busy thread finishes the turn it had, and may begin the next before this one asks.
    assert served - asked <= 2


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_pooled_connection_cut_while_idle_is_replaced_before_use(database_url, monkeypatch):
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("SQLite has no server to lose the connection to")
    engine = create_db_engine(database_url, pool_size=1)
    other = create_db_engine(database_url, pool_size=1)
    try:
        cut = _backend_pid(engine)
        terminate_backend(other, cut)
        # Given back just now, it is used without a ping, and its loss is the caller's error.
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))

        cut = _backend_pid(engine)
        terminate_backend(other, cut)
        # Idle longer (a restart, a firewall): pinged, found dead and replaced, unseen.
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
        assert _backend_pid(engine) != cut
    finally:
        engine.dispose()
        other.dispose()


def _loop_engine_backends(client: TestClient) -> list[int]:
    """The backends of the connections the loop engine's pool keeps, read on the app's loop."""

    async def read() -> list[int]:
        pool = client.app.state.event_loop_engine.sync_engine.pool
        pids = []
        # One checkout per pooled connection: each is held until all have answered.
        async with AsyncExitStack() as held:
            for _ in range(pool.checkedin()):
                connection = await held.enter_async_context(
                    client.app.state.event_loop_engine.connect()
                )
                pids.append((await connection.execute(text("SELECT pg_backend_pid()"))).scalar())
        return pids

    return client.portal.call(read)


def _backends_of_this_database(engine) -> set[int]:
    with engine.connect() as connection:
        return set(
            connection.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            ).scalars()
        )


def test_on_postgresql_a_submission_is_stored_through_the_event_loop_engine(app, engine, directory):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's submissions run in a worker thread")
    seen: list[tuple[str, str]] = []

    def record(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        seen.append((statement.split("(")[0].strip(), threading.current_thread().name))

    with TestClient(app) as client:
        loop_thread = client.portal.call(lambda: threading.current_thread().name)
        event.listen(app.state.event_loop_engine.sync_engine, "after_cursor_execute", record)
        tracking_code = submit_report(client)["tracking_code"]
        opened = _loop_engine_backends(client)
        assert len(opened) == 1
        assert set(opened) <= _backends_of_this_database(engine)
    assert ("INSERT INTO report", loop_thread) in seen
    assert all(thread == loop_thread for _statement, thread in seen)
    assert report_id(engine, tracking_code) > 0
    # Stopping the app closes the loop engine's connections (a backend takes a moment to exit).
    assert app.state.event_loop_engine is None
    deadline = time.monotonic() + 5
    while set(opened) & _backends_of_this_database(engine) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(opened) & _backends_of_this_database(engine)


def test_on_postgresql_a_loop_connection_cut_while_idle_is_replaced_before_a_submission(
    app, engine, directory, monkeypatch
):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to lose the connection to")
    with TestClient(app) as client:
        submit_report(client)
        [cut] = _loop_engine_backends(client)
        terminate_backend(engine, cut)
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
        tracking_code = submit_report(client)["tracking_code"]
        assert _loop_engine_backends(client) != [cut]
    assert report_id(engine, tracking_code) > 0


def test_on_postgresql_a_loop_connection_lost_in_use_fails_one_submission_only(
    app, engine, directory, monkeypatch
):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to lose the connection to")
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)  # never pinged
    with TestClient(app, raise_server_exceptions=False) as client:
        submit_report(client)
        [cut] = _loop_engine_backends(client)
        terminate_backend(engine, cut)
        response = client.post("/api/v1/reports", json=REPORT_ON_SITE_A1)
        assert response.status_code == 500
        assert response.json()["code"] == "database_error"
        # The lost connection was dropped from the pool: the next one is new.
        tracking_code = submit_report(client)["tracking_code"]
        assert cut not in _loop_engine_backends(client)
    assert report_id(engine, tracking_code) > 0
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Report)).one() == 2


def test_every_report_answered_201_survives_the_server_being_killed(
    database_url, engine, directory
):
    """kill -9 while eight citizens submit: each report whose receipt was sent is stored."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "ZHAOCUO_DATABASE_URL": database_url,
        "ZHAOCUO_SCHEDULER": "off",
        "ZHAOCUO_PUBLIC_RATE_LIMIT": "",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "zhaocuo"), "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    acknowledged: list[str] = []
    refused: list[str] = []

    def submit_until_the_server_dies() -> None:
        with httpx.Client(base_url=base_url, timeout=10) as http:
            while True:
                try:
                    response = http.post("/api/v1/reports", json=REPORT_ON_SITE_A1)
                except httpx.HTTPError:
                    return
                if response.status_code != 201:
                    refused.append(response.text)
                    return
                acknowledged.append(response.json()["tracking_code"])

    citizens = [threading.Thread(target=submit_until_the_server_dies) for _ in range(8)]
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"{base_url}/healthz"):
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        for citizen in citizens:
            citizen.start()
        while len(acknowledged) < 200 and time.monotonic() < deadline + 60:
            time.sleep(0.01)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        for citizen in citizens:
            citizen.join(timeout=30)
    assert not refused
    assert len(acknowledged) >= 200
    stored = set(fetch(engine, select(Report.tracking_code)))
    assert set(acknowledged) <= stored


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
