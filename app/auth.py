import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Column, func
from sqlmodel import Field, Session, SQLModel, col, select

from app.audit import service as audit
from app.audit.models import SYSTEM_ACTOR, Action, Actor, EntityKind
from app.contract import describe_enum
from app.db import RequestSession, UtcDateTime, utcnow
from app.directory.models import Unit
from app.directory.service import get_unit
from app.errors import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable

TOKEN_PREFIX = "zc_"
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)


class Role(StrEnum):
    handler = "handler"  # answers the reports of its own unit
    supervisor = "supervisor"  # reads its whole subtree, transfers within it
    admin = "admin"  # operators: routing, directory, tokens, calendar


describe_enum(
    Role,
    {
        Role.handler: "办理：答复本单位的留言",
        Role.supervisor: "上级单位：查看并转办下级单位的留言，统计与通报",
        Role.admin: "管理员：分办、名录、令牌与日历",
    },
)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16, description="first characters, to tell tokens apart")
    unit_id: int = Field(foreign_key="unit.id", index=True)
    role: Role = Field(max_length=20)
    label: str = Field(default="", max_length=200)
    holder: str = Field(default="", max_length=100, description="the person who holds it")
    expires_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False)
    )
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime()))


@dataclass(frozen=True)
class Principal:
    token_id: int
    unit_id: int
    role: Role
    holder: str = ""
    unit_name: str | None = None

    @property
    def actor(self) -> str:
        return f"unit:{self.unit_id}:{self.role}"

    @property
    def audit_actor(self) -> Actor:
        """Who this is in the admin history: the token, its holder and its unit."""
        return Actor(
            label=f"token:{self.token_id}",
            token_id=self.token_id,
            holder=self.holder,
            unit_id=self.unit_id,
            unit_name=self.unit_name,
        )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


_bearer = HTTPBearer(auto_error=False, description="A unit token: `Authorization: Bearer zc_…`")


def get_principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    session: Session = RequestSession,
) -> Principal:
    """Resolve the bearer token to the unit and role it acts for; 401 otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(
            "缺少令牌：请在请求头中发送 Authorization: Bearer <令牌>",
            en="missing bearer token: send 'Authorization: Bearer <token>'",
            code="token_missing",
        )
    found = session.exec(
        select(ApiToken, Unit.name)
        .join(Unit, col(Unit.id) == ApiToken.unit_id)
        .where(ApiToken.token_hash == hash_token(credentials.credentials))
    ).first()
    if found is None or found[0].revoked_at is not None:
        raise Unauthorized(
            "令牌无效或已被吊销，请向管理员申请新令牌",
            en="invalid or revoked token; ask an administrator for a new one",
            code="token_invalid",
        )
    token, unit_name = found
    now = request.app.state.clock.now()
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthorized(
            "此令牌已过期，请向管理员申请新的令牌",
            en="this token has expired; ask an administrator for a new one",
            code="token_expired",
        )
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.add(token)
    return Principal(
        token_id=token.id,
        unit_id=token.unit_id,
        role=token.role,
        holder=token.holder,
        unit_name=unit_name,
    )


def require_supervisor(principal: Principal = Depends(get_principal)) -> Principal:
    if principal.role not in (Role.supervisor, Role.admin):
        raise Forbidden(
            "此操作需要上级单位（supervisor）或管理员（admin）令牌",
            en="this needs a supervisor or admin token",
            code="supervisor_token_required",
        )
    return principal


def require_admin(principal: Principal = Depends(get_principal)) -> Principal:
    if principal.role != Role.admin:
        raise Forbidden(
            "此操作需要管理员（admin）令牌",
            en="this needs an admin token",
            code="admin_token_required",
        )
    return principal


def issue_token(
    *,
    session: Session,
    unit_id: int,
    role: Role,
    label: str = "",
    holder: str = "",
    expires_at: datetime | None = None,
    now: datetime | None = None,
    actor: Actor = SYSTEM_ACTOR,
) -> tuple[ApiToken, str]:
    """Create a token for a unit; the plain token is returned once and only its hash is kept."""
    now = now or utcnow()
    if expires_at is not None and expires_at <= now:
        raise Unprocessable(
            "令牌的到期时间必须晚于现在",
            en="expires_at must be in the future",
            code="token_expiry_in_past",
        )
    get_unit(session=session, unit_id=unit_id)
    plain = new_token()
    token = ApiToken(
        token_hash=hash_token(plain),
        prefix=plain[:10],
        unit_id=unit_id,
        role=role,
        label=label,
        holder=holder,
        expires_at=expires_at,
        created_at=now,
    )
    session.add(token)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        kind=EntityKind.token,
        entity_id=token.id,
        action=Action.created,
        after=audit.snapshot(token),
        at=now,
    )
    return token, plain


def _active_admin_tokens(*, session: Session, now: datetime) -> list[ApiToken]:
    """Admin tokens that still work, locked so that two revocations take turns."""
    query = (
        select(ApiToken)
        .where(ApiToken.role == Role.admin, col(ApiToken.revoked_at).is_(None))
        .order_by(ApiToken.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    tokens = session.exec(query).all()
    return [t for t in tokens if t.expires_at is None or t.expires_at > now]


def revoke_token(
    *,
    session: Session,
    token_id: int,
    now: datetime,
    actor: Actor = SYSTEM_ACTOR,
    keep_last_admin: bool = False,
) -> ApiToken:
    """Revoke a token; revoking twice keeps the first revocation time.

    `keep_last_admin` (the API): refuse to revoke the last admin token that still works, which
    would leave nobody able to administer the service except at the server's command line.
    """
    # The admin tokens are locked first, always in the same order: two admins revoking each
    # other's tokens take turns, and the second sees the first's revocation. Before that lock,
    # nothing is written: get_principal's pending last_used_at would lock the caller's own row
    # early, and two admins revoking each other would then deadlock.
    active_admins: list[ApiToken] = []
    if keep_last_admin:
        with session.no_autoflush:
            active_admins = _active_admin_tokens(session=session, now=now)
    token = session.get(ApiToken, token_id, with_for_update=True, populate_existing=True)
    if token is None:
        raise NotFound(
            f"令牌 {token_id} 不存在，请核对令牌编号",
            en=f"token {token_id} not found",
            code="token_not_found",
        )
    if token.revoked_at is not None:
        return token
    last_admin = not [t for t in active_admins if t.id != token.id]
    if keep_last_admin and token.role == Role.admin and last_admin:
        raise Conflict(
            "这是最后一个有效的管理员令牌，吊销后将无人能管理本服务：请先签发另一个管理员令牌",
            en=(
                "this is the last active admin token, and revoking it would leave nobody "
                "able to administer the service: issue another admin token first"
            ),
            code="last_admin_token",
        )
    before = audit.snapshot(token)
    token.revoked_at = now
    session.add(token)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        kind=EntityKind.token,
        entity_id=token.id,
        action=Action.revoked,
        before=before,
        after=audit.snapshot(token),
        at=now,
    )
    return token


def page_tokens(
    *, session: Session, unit_id: int | None, limit: int, offset: int
) -> tuple[list[ApiToken], int]:
    """A page of tokens, newest first, optionally of one unit, and their number."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if unit_id is not None:
        query = query.where(ApiToken.unit_id == unit_id)
    total = session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
    return list(session.exec(query.limit(limit).offset(offset)).all()), total


def list_tokens(*, session: Session, unit_id: int | None = None) -> list[ApiToken]:
    """Tokens, newest first, optionally of one unit."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if unit_id is not None:
        query = query.where(ApiToken.unit_id == unit_id)
    return list(session.exec(query).all())
