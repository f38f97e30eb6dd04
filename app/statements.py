"""Core statements of the hot paths, compiled once per dialect and run on the DBAPI cursor.

SQLAlchemy's execution of a compiled statement (its context, parameters and result objects)
costs about 90 µs of CPU per statement, as much as the round trip to PostgreSQL: on the public
submission's eight statements that was a third of the transaction's CPU. A `DirectStatement` is
still written with Core, so that the SQL is one text for every dialect; it is compiled once
per dialect and parameter names, its parameters and results go through the column types'
own processors, and it runs on the connection's transaction like any other statement. The
engine's cursor events see it; a driver error comes out as SQLAlchemy's (IntegrityError,
OperationalError, …), as the rest of the service expects, and a lost connection is
invalidated as SQLAlchemy would.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Executable
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Insert


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Bind names in the order of the placeholders, for positional paramstyles (SQLite's "?").
    positions: tuple[str, ...] | None
    defaults: dict[str, Any]
    bind_processors: dict[str, Callable[[Any], Any]]
    returns_rows: bool
    # None when no column needs one.
    result_processors: tuple[Callable[[Any], Any] | None, ...] | None


class DirectStatement:
    """A Core statement run straight on the DBAPI cursor of a connection in a transaction."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}

    def rows(self, connection: Connection, parameters: dict[str, Any] | None = None) -> list:
        """The rows the statement returns (none for a statement that returns nothing)."""
        parameters = parameters or {}
        dialect = connection.dialect
        key = (dialect.name, frozenset(parameters))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(dialect, parameters)
        values = compiled.defaults | parameters
        for name, process in compiled.bind_processors.items():
            values[name] = process(values[name])
        arguments = (
            values if compiled.positions is None else [values[n] for n in compiled.positions]
        )
        sql = compiled.sql
        cursor = connection.connection.cursor()
        try:
            # The engine's cursor events still see the statement and may rewrite it; they are
            # given no execution context, which this path does not build.
            for listener in connection.dispatch.before_cursor_execute:
                sql, arguments = listener(connection, cursor, sql, arguments, None, False)
            cursor.execute(sql, arguments)
            fetched = cursor.fetchall() if compiled.returns_rows else []
            for listener in connection.dispatch.after_cursor_execute:
                listener(connection, cursor, sql, arguments, None, False)
        except dialect.loaded_dbapi.Error as error:
            invalidated = dialect.is_disconnect(error, connection.connection, cursor)
            if invalidated:
                connection.invalidate(error)
            raise DBAPIError.instance(
                sql,
                arguments,
                error,
                dialect.loaded_dbapi.Error,
                connection_invalidated=invalidated,
                dialect=dialect,
            ) from error
        finally:
            cursor.close()
        processors = compiled.result_processors
        if processors is None:
            return fetched
        return [
            tuple(
                value if p is None else p(value) for p, value in zip(processors, row, strict=True)
            )
            for row in fetched
        ]

    def scalar(self, connection: Connection, parameters: dict[str, Any] | None = None) -> Any:
        """The first column of the first row, or None when there is no row."""
        rows = self.rows(connection, parameters)
        return rows[0][0] if rows else None

    def _compile(self, dialect: Dialect, parameters: dict[str, Any]) -> _Compiled:
        names = sorted(parameters)
        statement = self.statement
        if isinstance(statement, Insert):
            # SQLAlchemy fills a column's Python-side default when the parameters leave it out;
            # this path does not, so the parameters must name every such column.
            left_out = [
                column.key
                for column in statement.table.columns
                if column.key not in parameters and column.default is not None
            ]
            if left_out:
                raise ValueError(f"parameters for {statement.table.name} leave out {left_out}")
            compiled = statement.compile(dialect=dialect, column_keys=names)
        else:
            compiled = statement.compile(dialect=dialect)
        if (
            compiled.post_compile_params
            or compiled.literal_execute_params
            or compiled.escaped_bind_names
        ):
            raise ValueError("only plain bound parameters can run directly")
        bind_processors = {}
        for bind, name in compiled.bind_names.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                bind_processors[name] = process
        defaults = {
            name: value
            for name, value in compiled.construct_params(parameters).items()
            if name not in parameters
        }
        return _Compiled(
            sql=compiled.string,
            positions=tuple(compiled.positiontup) if compiled.positional else None,
            defaults=defaults,
            bind_processors=bind_processors,
            # A SELECT or a text returns rows; an INSERT, UPDATE or DELETE only with RETURNING.
            returns_rows=compiled.returning is not None if statement.is_dml else True,
            result_processors=_result_processors(statement, dialect),
        )


def _result_processors(statement: Executable, dialect: Dialect) -> tuple | None:
    columns: Sequence = getattr(statement, "exported_columns", ())
    processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    return processors if any(processors) else None
