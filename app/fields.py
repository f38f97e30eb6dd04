"""The constrained types every request schema uses: each kind of value is declared once here.

Each type carries its limits into the JSON schema as well (pattern, lengths, range, format),
so that the OpenAPI document describes exactly what the service accepts, and both database
backends accept and refuse the same input: a text is never longer than its column, an id never
outside the 32-bit INTEGER column, a date never at the edge of Python's calendar.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from annotated_types import Interval, MaxLen, MinLen
from pydantic import AfterValidator, BeforeValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

# C0 and C1 control characters and DEL break exports (openpyxl refuses them), terminals and
# logs; NUL cannot be stored by PostgreSQL; a lone surrogate cannot be encoded as UTF-8.
# A multi-line text (a description, an answer, a note, a reason) may hold tab, newline and
# carriage return (browsers send a textarea's line ends as CR LF).
_NOT_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
SINGLE_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
MULTI_LINE_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"

# Ids are INTEGER columns: 32 bits on PostgreSQL. Anything outside is no id at all.
ID_MAX = 2**31 - 1
# Counts and offsets in queries stay well inside what both databases take for LIMIT/OFFSET.
OFFSET_MAX = 2**31 - 1

# Dates and instants the service can reason about: away from Python's date.min and date.max,
# where converting a local date to a UTC instant, or taking the next day, overflows.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(9998, 12, 31)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?", re.IGNORECASE
)


@dataclass(frozen=True)
class JsonSchemaExtra:
    """Adds keys to a type's JSON schema without changing how it validates."""

    extra: tuple[tuple[str, Any], ...]

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(dict(self.extra))
        return json_schema


def _schema_extra(**extra: Any) -> JsonSchemaExtra:
    return JsonSchemaExtra(tuple(extra.items()))


def _refuse_characters(value: str, forbidden: re.Pattern[str]) -> str:
    found = forbidden.search(value)
    if found is not None:
        raise PydanticCustomError(
            "control_character",
            "must not contain control characters ({character} at position {position})",
            {"character": f"U+{ord(found.group()):04X}", "position": found.start() + 1},
        )
    return value


def no_control_characters(value: str) -> str:
    """A single-line text: no C0/C1 control character, no lone surrogate."""
    return _refuse_characters(value, _NOT_SINGLE_LINE)


def no_control_characters_but_line_breaks(value: str) -> str:
    """A multi-line text: tab, newline and carriage return allowed, other controls not."""
    return _refuse_characters(value, _NOT_MULTI_LINE)


def _lengths(min_length: int, max_length: int) -> tuple[Any, ...]:
    return (MinLen(min_length), MaxLen(max_length)) if min_length else (MaxLen(max_length),)


def SingleLineText(max_length: int, *, min_length: int = 0) -> Any:
    """A one-line text (a name, a label, an address) of at most `max_length` characters."""
    return Annotated[
        str,
        *_lengths(min_length, max_length),
        AfterValidator(no_control_characters),
        _schema_extra(pattern=SINGLE_LINE_PATTERN),
    ]


def MultiLineText(max_length: int, *, min_length: int = 0) -> Any:
    """A text that may run over several lines (a description, an answer, a note, a reason)."""
    return Annotated[
        str,
        *_lengths(min_length, max_length),
        AfterValidator(no_control_characters_but_line_breaks),
        _schema_extra(pattern=MULTI_LINE_PATTERN),
    ]


Id = Annotated[int, Interval(ge=1, le=ID_MAX)]
Offset = Annotated[int, Interval(ge=0, le=OFFSET_MAX)]


def _iso_date_text(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise PydanticCustomError("date_format", "must be a date written YYYY-MM-DD, e.g. 2026-12-04")


def _iso_datetime_text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATETIME.fullmatch(value):
        return value
    raise PydanticCustomError(
        "datetime_format",
        "must be an instant written in ISO 8601, e.g. 2026-12-04T10:00:00+08:00",
    )


def _date_in_range(value: date) -> date:
    if not DATE_MIN <= value <= DATE_MAX:
        raise PydanticCustomError(
            "date_range",
            "must lie between {min} and {max}",
            {"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()},
        )
    return value


def _datetime_in_range(value: datetime) -> datetime:
    _date_in_range(value.date())
    return value


# Strict ISO 8601 text only: pydantic alone would read `0` as 1970-01-01 (a Unix timestamp).
IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date_text),
    AfterValidator(_date_in_range),
    _schema_extra(pattern=r"^\d{4}-\d{2}-\d{2}$"),
]
IsoDateTime = Annotated[
    datetime, BeforeValidator(_iso_datetime_text), AfterValidator(_datetime_in_range)
]

# The years a calendar or a period may name: those whose every day lies inside the range.
YEAR_MIN, YEAR_MAX = DATE_MIN.year, DATE_MAX.year
Year = Annotated[int, Interval(ge=YEAR_MIN, le=YEAR_MAX)]
