"""The shapes every endpoint shares: local instants, the paging envelope, error responses, labels.

A leaf module: every domain may import it, it imports none of them.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Annotated, Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Query
from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

from app.errors import ErrorBody, ValidationErrorBody

_business_zone: ZoneInfo | None = None


def use_business_zone(zone: ZoneInfo) -> None:
    """Show instants in this zone from now on (create_app sets the configured one)."""
    global _business_zone
    _business_zone = zone


def business_zone() -> ZoneInfo:
    if _business_zone is None:
        from app.config import get_settings

        use_business_zone(get_settings().tz)
    return _business_zone


def local_instant_text(instant: datetime) -> str:
    """An instant as the API writes it: local time of the business zone, milliseconds, offset."""
    local = instant.astimezone(business_zone())
    offset = local.utcoffset()
    if offset is not None and offset.seconds % 60:
        # Before 1901 the zone keeps its local mean time (Shanghai +08:05:43): ISO 8601 and
        # RFC 3339 offsets have whole minutes, so such an instant is shown at the nearest one.
        whole_minutes = timezone(timedelta(minutes=round(offset.total_seconds() / 60)))
        local = instant.astimezone(whole_minutes)
    return local.isoformat(timespec="milliseconds")


INSTANT_EXAMPLE = "2026-12-04T23:59:59.999+08:00"

# Storage keeps UTC; every response shows the same instant in the business zone, one format.
LocalDateTime = Annotated[
    datetime,
    PlainSerializer(local_instant_text, return_type=str, when_used="json-unless-none"),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": [INSTANT_EXAMPLE]}),
]

# Ids are INTEGER columns: a larger one cannot exist, and would overflow PostgreSQL's int4.
MAX_ID = 2_147_483_647

# --- Paging ---------------------------------------------------------------------------

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Beyond any table's size, within every backend's integer range.
MAX_OFFSET = 2_147_483_647

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list: every list endpoint answers in this envelope."""

    items: list[ItemT] = Field(description="the items of this page, in the list's order")
    total: int = Field(description="how many items match the filters, over all pages")
    limit: int = Field(description="the page size asked for (at most 500)")
    offset: int = Field(description="how many matching items come before this page")


LimitQuery = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description=f"page size, {DEFAULT_LIMIT} by default, at most {MAX_LIMIT}",
    ),
]
OffsetQuery = Annotated[
    int, Query(ge=0, le=MAX_OFFSET, description="items to skip: 0 for the first page")
]


# --- Error responses --------------------------------------------------------------------

ERROR_DESCRIPTIONS = {
    401: "缺少令牌，或令牌无效、已吊销 (no token, or an unknown or revoked one)",
    403: "令牌的角色不能执行此操作 (the token's role may not do this)",
    404: "对象不存在或不在调用者的范围内 (no such object, or not within the caller's tree)",
    409: "与对象当前状态冲突，原因见 detail (conflicts with the object's state; detail says why)",
    413: "请求体过大 (the request body is too large)",
    422: "请求内容不合格，errors 逐项列出 (the request does not validate; errors lists each field)",
    429: "请求过于频繁，见 Retry-After (too many requests; see Retry-After)",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses an operation can return, with their bodies."""
    return {
        status: {
            "model": ValidationErrorBody if status == 422 else ErrorBody,
            "description": ERROR_DESCRIPTIONS[status],
        }
        for status in statuses
    }


# --- Enum labels ------------------------------------------------------------------------


def describe_enum(enum: type[Enum], labels: Mapping[Any, str]) -> None:
    """Give an enum's JSON schema its Chinese labels (description and x-enum-descriptions)."""
    members = list(enum)
    # A member added without a label shows its value (tests/test_openapi.py notices).
    words = [labels.get(m, str(m.value)) for m in members]
    text = " · ".join(f"{m.value} {label}" for m, label in zip(members, words, strict=True))

    def schema(cls, core_schema, handler):
        json_schema = handler.resolve_ref_schema(handler(core_schema))
        json_schema["description"] = text
        json_schema["x-enum-descriptions"] = words
        return json_schema

    enum.__get_pydantic_json_schema__ = classmethod(schema)
