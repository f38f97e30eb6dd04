"""Core statements run on the DBAPI cursor: the same values, errors and events as SQLAlchemy's."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError, OperationalError

from app.db import UtcDateTime
from app.statements import DirectStatement
from tests.conftest import terminate_backend

PROBE = Table(
    "direct_statement_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    Column("note", String(20), default="none"),
)
INSERT = DirectStatement(insert(PROBE).returning(PROBE.c.id))
READ = DirectStatement(select(PROBE.c.at, PROBE.c.data).where(PROBE.c.id == bindparam("id")))
BEIJING = timezone(timedelta(hours=8))


@pytest.fixture
def probe(engine: Engine) -> Iterator[Table]:
    PROBE.create(engine)
    try:
        yield PROBE
    finally:
        PROBE.drop(engine)


def test_instants_and_json_go_through_the_column_types_both_ways(engine, probe):
    at = datetime(2026, 10, 8, 9, 30, tzinfo=BEIJING)
    data = {"owner_unit_id": 7, "text": "已转办"}
    with engine.begin() as connection:
        row_id = INSERT.scalar(connection, {"id": 1, "at": at, "data": data, "note": "a"})
        rows = READ.rows(connection, {"id": row_id})
        read_by_sqlalchemy = connection.execute(select(probe.c.at, probe.c.data)).one()
    assert row_id == 1
    assert rows == [(datetime(2026, 10, 8, 1, 30, tzinfo=UTC), data)]
    assert rows[0] == tuple(read_by_sqlalchemy)


def test_a_driver_error_comes_out_as_sqlalchemys_and_the_connection_goes_on(engine, probe):
    row = {"id": 1, "at": datetime(2026, 10, 8, tzinfo=UTC), "data": [], "note": "a"}
    with engine.connect() as connection:
        with connection.begin():
            INSERT.rows(connection, row)
        with pytest.raises(IntegrityError) as raised, connection.begin():
            INSERT.rows(connection, row)
        assert isinstance(raised.value.orig, engine.dialect.loaded_dbapi.IntegrityError)
        with connection.begin():
            assert READ.rows(connection, {"id": 1}) == [(row["at"], [])]


def test_the_engines_cursor_events_see_the_statement(engine, probe):
    seen: list[str] = []

    def record(_connection, _cursor, statement, _parameters, _context, _executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with engine.begin() as connection:
            READ.rows(connection, {"id": 1})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert [statement for statement in seen if "direct_statement_probe" in statement] == [
        READ.statement.compile(dialect=engine.dialect).string
    ]


def test_an_insert_leaving_out_a_column_with_a_python_default_is_refused(engine, probe):
    with engine.begin() as connection, pytest.raises(ValueError, match=r"leave out \['note'\]"):
        INSERT.rows(connection, {"id": 1, "at": datetime(2026, 10, 8, tzinfo=UTC), "data": {}})


def test_a_statement_with_an_in_list_is_refused(engine, probe):
    in_list = DirectStatement(select(probe.c.id).where(probe.c.id.in_(bindparam("ids"))))
    with engine.begin() as connection, pytest.raises(ValueError, match="plain bound parameters"):
        in_list.rows(connection, {"ids": [1, 2]})


def test_a_lost_connection_is_invalidated_and_the_next_one_is_fresh(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to lose the connection to")
    backend = DirectStatement(text("SELECT pg_backend_pid()"))
    with engine.connect() as connection:
        lost = backend.scalar(connection)
        connection.rollback()
        terminate_backend(engine, lost)
        with pytest.raises(OperationalError) as raised:
            backend.scalar(connection)
        assert raised.value.connection_invalidated
        connection.rollback()
        assert backend.scalar(connection) != lost
