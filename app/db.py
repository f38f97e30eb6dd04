import logging
import threading
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import anyio
from anyio.lowlevel import RunVar
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    MetaData,
    Table,
    TypeDecorator,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm.base import manager_of_class
from sqlalchemy.pool import QueuePool
from sqlalchemy.util import greenlet_spawn
from sqlmodel import Session, SQLModel

from app.errors import AppError, error_body
from app.statements import DirectStatement

log = logging.getLogger("zhaocuo.db")

T = TypeVar("T")

# Stable constraint names, so that Alembic migrations are the same on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


class UtcDateTime(TypeDecorator):
    """A timezone-aware instant, stored as UTC (SQLite keeps no zone, PostgreSQL timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: instants must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


TableModel = TypeVar("TableModel", bound=SQLModel)


def row_object(model: type[TableModel], values: dict[str, Any]) -> TableModel:
    """An object of a table model holding a row that is written with Core, outside any session.

    Built without SQLModel's per-field defaults and checks, which cost more than the INSERT
    (120 µs for a report's 45 columns, against 3 µs here): `values` must name every column,
    already checked on the way in. Setting an attribute afterwards works as on any object.
    """
    instance = manager_of_class(model).new_instance()
    instance.__dict__.update(values)
    return instance


def isoformat_or_none(instant: datetime | None) -> str | None:
    """An instant as ISO 8601 text for a JSON document, or None when there is none."""
    return instant.isoformat() if instant else None


def dialect_insert(
    bind: Session | Connection | Engine, table: Table
) -> postgresql.Insert | sqlite.Insert:
    """An INSERT for the database behind a session or bind, with its ON CONFLICT clauses.

    PostgreSQL and SQLite spell `on_conflict_do_nothing` and `on_conflict_do_update` alike, but
    each dialect has its own construct for them.
    """
    if isinstance(bind, Session):
        bind = bind.get_bind()
    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


SQLITE_SYNCHRONOUS_MODES = ("FULL", "NORMAL")


class FairQueuePool(QueuePool):
    """A QueuePool that hands its connections out in the order threads asked for them.

    QueuePool wakes its waiters in order, but a thread that gives a connection back and at once
    asks again (the calendar recompute's next batch, a busy worker) takes it before the woken
    thread runs. With SQLite's one connection that starved the others for up to the pool's
    timeout: a calendar load waited 29 s for the connection behind two submitting threads, and
    submissions waited 3.5 s behind the recompute's batches. Here a thread first waits for its
    turn, and the thread whose turn it is keeps it while it waits for the connection, so one
    that comes back queues behind those already waiting.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._turn = threading.Lock()

    def _do_get(self):
        if not self._turn.acquire(timeout=self._timeout):
            raise PoolTimeout(
                f"no connection within {self._timeout:.0f} s: the pool's connections are busy"
            )
        try:
            return super()._do_get()
        finally:
            self._turn.release()


def create_db_engine(url: str, pool_size: int = 10, sqlite_synchronous: str = "FULL") -> Engine:
    """The engine for a database URL; SQL parameters never appear in its errors or logs.

    `hide_parameters`: a failed INSERT of a report would otherwise carry the citizen's name,
    phone, e-mail and tracking code into the exception text, and from there into the logs.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # One connection: every transaction takes the write lock (BEGIN IMMEDIATE), so they run
        # one at a time anyway. Waiting for the pool wakes the next in line as soon as the lock
        # is free, where SQLite's busy handler polls with sleeps of up to 100 ms and lets
        # some requests starve for seconds; and the pool hands it out in turn (FairQueuePool).
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=FairQueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=30,
            hide_parameters=True,
        )
        _configure_sqlite(engine, synchronous=sqlite_synchronous)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True)
    _ping_idle_connections(engine)
    return engine


def create_event_loop_engine(url: URL, pool_size: int = 10) -> AsyncEngine:
    """PostgreSQL's engine for the event loop's own transactions (in_request_transaction).

    Its statements wait for PostgreSQL on the event loop rather than in a worker thread: a
    worker's threads, handing the interpreter to one another at each of a submission's eight
    round trips, made a submission cost 3.1–3.6 ms of CPU and one worker serve 281–321 a
    second; on the loop, 2.3–2.5 ms and 391–431 (bench/submit.py). No overflow: requests wait
    for their slot first (request_slots), and never for more connections than the pool keeps.
    """
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0, hide_parameters=True)
    _ping_idle_connections(engine.sync_engine)
    return engine


# A connection given back this recently was alive then: pinging it would cost a round trip
# per transaction (9 % of the submissions one worker serves on PostgreSQL). One idle longer may
# have been cut by a server restart or a firewall, and is pinged before use.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_idle_connections(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping, for connections that have been idle only."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _on_connect_or_checkin(_dbapi_connection, record) -> None:
        record.info["alive_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("alive_at", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards the connection and checks out another (a new one if need be).
            raise DisconnectionError("the pooled connection is gone") from exc


def _configure_sqlite(engine: Engine, *, synchronous: str) -> None:
    synchronous = synchronous.upper()
    if synchronous not in SQLITE_SYNCHRONOUS_MODES:
        raise ValueError(f"SQLite synchronous must be one of {SQLITE_SYNCHRONOUS_MODES}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL syncs the WAL at every commit, so an acknowledged report survives a power loss;
        # NORMAL (ZHAOCUO_SQLITE_SYNCHRONOUS) may lose the last ones but stays consistent.
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # Take the write lock up front: a deferred transaction that reads and then writes
        # can fail with "database is locked" without waiting for the busy timeout.
        _BEGIN_IMMEDIATE.rows(connection)


_BEGIN_IMMEDIATE = DirectStatement(text("BEGIN IMMEDIATE"))


@lru_cache
def get_engine() -> Engine:
    from app.config import get_settings

    settings = get_settings()
    return create_db_engine(
        settings.database_url, settings.database_pool_size, settings.sqlite_synchronous
    )


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction for a job or a command: commit on success, roll back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# Worker threads left to requests that already hold a connection, and to sync work that does
# not touch the database, whatever the number of requests waiting for the database.
THREADS_KEPT_FREE = 8
_request_slots: RunVar[dict[Engine, anyio.Semaphore]] = RunVar("zhaocuo_request_slots")


def request_slots(engine: Engine) -> anyio.Semaphore:
    """The event loop's database slots: as many as the pool keeps connections, and fewer than
    its worker threads (see get_session).

    More requests at once than the pool's connections only queue on it from worker threads, or
    open overflow connections that close again when given back: at 32 connections, 32 slots
    spent more CPU on threads contending for the interpreter and on connections opened and
    closed than on the requests (PostgreSQL 214 submissions/s against 283–310 with 10 slots;
    SQLite 321 against 346 with its one). The overflow stays for the scheduler's jobs.
    """
    try:
        by_engine = _request_slots.get()
    except LookupError:
        by_engine = {}
        _request_slots.set(by_engine)
    slots = by_engine.get(engine)
    if slots is None:
        threads = int(anyio.to_thread.current_default_thread_limiter().total_tokens)
        kept = engine.pool.size() if isinstance(engine.pool, QueuePool) else 0
        slots = anyio.Semaphore(max(1, min(kept or threads, threads - THREADS_KEPT_FREE)))
        by_engine[engine] = slots
    return slots


def _end_transaction(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request, committed only if the endpoint returned normally.

    A request's dependencies, endpoint and commit run in turn on worker threads. Were every
    thread taken by requests blocked on the connection pool or on SQLite's write lock, the
    request holding the connection could not get a thread to finish, and the server would
    stall until the 30-second timeouts: so a request first waits for a slot on the event
    loop, where waiting takes no thread.
    """
    engine = request.app.state.engine
    async with request_slots(engine):
        session = Session(engine, expire_on_commit=False)
        try:
            yield session
        except BaseException:
            await run_in_threadpool(_end_transaction, session, commit=False)
            raise
        await run_in_threadpool(_end_transaction, session, commit=True)


async def in_request_transaction(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work` with the request's one session, and commit: for a hot path whose endpoint is
    async.

    The same transaction as RequestSession (a slot first, committed only if `work` returned,
    before the response is sent) without its separate hops through the thread pool for the
    dependencies, the endpoint and the commit. On PostgreSQL, once the app has started, `work`
    runs on the event loop with the loop's engine (create_event_loop_engine): its session is
    an ordinary one, whose statements wait for the database without blocking the loop. On
    SQLite, whose driver has no such mode, it is one worker-thread call.
    """
    loop_engine: AsyncEngine | None = request.app.state.event_loop_engine
    if loop_engine is None:
        engine, run = request.app.state.engine, run_in_threadpool
    else:
        # One greenlet for the whole transaction, as AsyncSession.run_sync runs its function:
        # the same session_scope as in the thread, on the async engine's sync side.
        engine, run = loop_engine.sync_engine, greenlet_spawn
    async with request_slots(engine):
        return await run(_run_in_transaction, engine, work)


def _run_in_transaction(engine: Engine, work: Callable[[Session], T]) -> T:
    with session_scope(engine) as session:
        return work(session)


# Finish the transaction before the response is sent. FastAPI's default for a dependency with
# yield is to finish it afterwards: a commit that failed would follow a 201 already sent, and
# the citizen would keep a tracking code for a report that does not exist. Every endpoint and
# dependency uses this one object, so a request has one session.
RequestSession = Depends(get_session, scope="function")


def describe_database_error(exc: DBAPIError) -> str:
    """What went wrong, in words that quote no stored value.

    PostgreSQL's message and DETAIL can quote the row ("Failing row contains (…, 林晓,
    13800138000, …)", "Key (tracking_code)=(…)"): only its code and the names of the table,
    column and constraint are kept. SQLite's messages name columns, never values.
    """
    original = exc.orig
    diagnostic = getattr(original, "diag", None)
    if diagnostic is None:
        return f"{type(original).__name__}: {original}"
    parts = [f"SQLSTATE {getattr(original, 'sqlstate', None)}"]
    for name in ("table_name", "column_name", "constraint_name"):
        value = getattr(diagnostic, name, None)
        if value:
            parts.append(f"{name.removesuffix('_name')} {value}")
    return f"{type(original).__name__}: {', '.join(parts)}"


def install_database_error_handler(app: FastAPI) -> None:
    """A database error answers 500 and is logged without the values it was given."""

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        route = getattr(request.scope.get("route"), "path", "?")  # the template: no codes
        log.error(
            "database error in %s %s: %s; statement: %s\n%s",
            request.method,
            route,
            describe_database_error(exc),
            exc.statement,
            "".join(traceback.format_tb(exc.__traceback__)),
        )
        refused = AppError(
            "服务器暂时无法保存或读取数据，请稍后再试",
            en="the server could not read or store the data; please try again later",
            code="database_error",
        )
        return JSONResponse(error_body(refused, request), status_code=500)
