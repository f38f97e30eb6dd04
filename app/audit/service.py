"""Recording changes in the admin history and reading it back."""

from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import Session, SQLModel, col, select

from app.audit.models import Action, Actor, AdminHistory, EntityKind
from app.db import utcnow

# Secrets never go into the history, only whether one is set.
SECRET_FIELDS = frozenset({"token_hash", "webhook_secret"})


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def snapshot(entity: SQLModel, **extra: Any) -> dict[str, Any]:
    """An entity's columns as JSON, secrets replaced by whether they are set."""
    values: dict[str, Any] = {}
    for name in type(entity).model_fields:
        value = getattr(entity, name)
        if name in SECRET_FIELDS:
            values[f"{name}_set"] = value is not None
        else:
            values[name] = _json_value(value)
    return values | {key: _json_value(value) for key, value in extra.items()}


def _row(
    *,
    actor: Actor,
    kind: EntityKind,
    entity_id: int,
    action: Action,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: datetime,
) -> dict[str, Any]:
    return {
        "at": at,
        "actor": actor.label,
        "actor_token_id": actor.token_id,
        "actor_holder": actor.holder,
        "actor_unit_id": actor.unit_id,
        "actor_unit_name": actor.unit_name,
        "entity_kind": kind,
        "entity_id": entity_id,
        "action": action,
        "before": before,
        "after": after,
    }


def record(
    *,
    session: Session,
    actor: Actor,
    kind: EntityKind,
    entity_id: int,
    action: Action,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AdminHistory:
    """Append one change to the admin history, in the caller's transaction."""
    entry = AdminHistory(
        **_row(
            actor=actor,
            kind=kind,
            entity_id=entity_id,
            action=action,
            before=before,
            after=after,
            at=at or utcnow(),
        )
    )
    session.add(entry)
    return entry


def record_many(
    *,
    session: Session,
    actor: Actor,
    changes: Iterable[tuple[EntityKind, int, Action, dict | None, dict | None]],
    at: datetime | None = None,
) -> int:
    """Append many changes in one INSERT (a directory import changes thousands of rows)."""
    at = at or utcnow()
    rows = [
        _row(actor=actor, kind=kind, entity_id=entity_id, action=action, before=b, after=a, at=at)
        for kind, entity_id, action, b, a in changes
    ]
    if rows:
        session.execute(insert(AdminHistory), rows)
    return len(rows)


def list_history(
    *,
    session: Session,
    entity_kind: EntityKind | None = None,
    entity_id: int | None = None,
    actor_token_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AdminHistory], int]:
    """Entries matching the filters, newest first, with their total count."""
    query = select(AdminHistory)
    if entity_kind is not None:
        query = query.where(AdminHistory.entity_kind == entity_kind)
    if entity_id is not None:
        query = query.where(AdminHistory.entity_id == entity_id)
    if actor_token_id is not None:
        query = query.where(AdminHistory.actor_token_id == actor_token_id)
    if since is not None:
        query = query.where(col(AdminHistory.at) >= since)
    if until is not None:
        query = query.where(col(AdminHistory.at) < until)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(AdminHistory.at).desc(), col(AdminHistory.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total
