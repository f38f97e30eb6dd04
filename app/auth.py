import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Column, func
from sqlmodel import Field, Session, SQLModel, select

from app.contract import describe_enum
from app.db import RequestSession, UtcDateTime, utcnow
from app.directory.service import get_unit
from app.errors import Forbidden, NotFound, Unauthorized

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

    @property
    def actor(self) -> str:
        return f"unit:{self.unit_id}:{self.role}"


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
    token = session.exec(
        select(ApiToken).where(ApiToken.token_hash == hash_token(credentials.credentials))
    ).first()
    if token is None or token.revoked_at is not None:
        raise Unauthorized(
            "令牌无效或已被吊销，请向管理员申请新令牌",
            en="invalid or revoked token; ask an administrator for a new one",
            code="token_invalid",
        )
    now = request.app.state.clock.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.add(token)
    return Principal(token_id=token.id, unit_id=token.unit_id, role=token.role)


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
    *, session: Session, unit_id: int, role: Role, label: str = ""
) -> tuple[ApiToken, str]:
    """Create a token for a unit; the plain token is returned once and only its hash is kept."""
    get_unit(session=session, unit_id=unit_id)
    plain = new_token()
    token = ApiToken(
        token_hash=hash_token(plain), prefix=plain[:10], unit_id=unit_id, role=role, label=label
    )
    session.add(token)
    session.flush()
    return token, plain


def revoke_token(*, session: Session, token_id: int, now: datetime) -> ApiToken:
    """Revoke a token; revoking twice keeps the first revocation time."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(
            f"令牌 {token_id} 不存在，请核对令牌编号",
            en=f"token {token_id} not found",
            code="token_not_found",
        )
    if token.revoked_at is None:
        token.revoked_at = now
        session.add(token)
        session.flush()
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
