"""PostgreSQL array parameters written as one text literal.

psycopg adapts a Python list element by element in Python, which for the thousands of values of
a bulk statement costs more than the statement's own work; one `CAST(:x AS integer[])` of a
text literal costs a string join.
"""

from datetime import datetime
from enum import Enum
from typing import Any


def array_literal(values: list[Any]) -> str:
    """A PostgreSQL array literal of integers, strings, instants and NULLs."""
    return "{" + ",".join(_element(value) for value in values) + "}"


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return f'"{value.isoformat()}"'
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
