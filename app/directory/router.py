from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime, ConfigDict
from sqlmodel import Field, Session, SQLModel

from app.auth import (
    ApiToken,
    Principal,
    Role,
    get_principal,
    issue_token,
    page_tokens,
    require_admin,
    revoke_token,
)
from app.contract import (
    DEFAULT_LIMIT,
    MAX_ID,
    LimitQuery,
    LocalDateTime,
    OffsetQuery,
    Page,
    error_responses,
)
from app.db import RequestSession
from app.deps import get_now
from app.directory import service
from app.directory.models import (
    SiteCreate,
    SitePublic,
    SiteUpdate,
    UnitCreate,
    UnitPublic,
    UnitUpdate,
)
from app.fields import Id, SingleLineText

router = APIRouter(prefix="/api/v1", tags=["directory"])


UnitId = Annotated[int, Path(ge=1, le=MAX_ID, description="the unit's id")]
SiteId = Annotated[int, Path(ge=1, le=MAX_ID, description="the site's id")]
TokenId = Annotated[int, Path(ge=1, le=MAX_ID, description="the token's id")]
# An admin's write: its token, the objects it names, their state, its payload.
WRITE_ERRORS = error_responses(401, 403, 404, 409, 413, 422)


def _scope(principal: Principal) -> int | None:
    return None if principal.role == Role.admin else principal.unit_id


@router.get(
    "/units",
    response_model=Page[UnitPublic],
    summary="单位列表 (units)",
    responses=error_responses(401, 422),
)
def list_units(
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
) -> Page[UnitPublic]:
    """Units the caller may see, by name: its own subtree (all units for an admin)."""
    units, total = service.page_units(
        session=session, within=_scope(principal), limit=limit, offset=offset
    )
    return Page[UnitPublic](
        items=[UnitPublic.model_validate(u) for u in units],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/units",
    response_model=UnitPublic,
    status_code=201,
    summary="新增单位 (add a unit, admin)",
    responses=WRITE_ERRORS,
)
def create_unit(
    unit_in: UnitCreate,
    principal: Principal = Depends(require_admin),
    session: Session = RequestSession,
) -> UnitPublic:
    """Add a unit under its supervising unit (admin)."""
    unit = service.create_unit(session=session, unit_in=unit_in, actor=principal.audit_actor)
    return UnitPublic.model_validate(unit)


@router.patch(
    "/units/{unit_id}",
    response_model=UnitPublic,
    summary="修改单位 (change a unit, admin)",
    responses=WRITE_ERRORS,
)
def update_unit(
    unit_id: UnitId,
    unit_in: UnitUpdate,
    principal: Principal = Depends(require_admin),
    session: Session = RequestSession,
) -> UnitPublic:
    """Rename, move, or change a unit's contact and webhook (admin)."""
    unit = service.update_unit(
        session=session, unit_id=unit_id, unit_in=unit_in, actor=principal.audit_actor
    )
    return UnitPublic.model_validate(unit)


@router.get(
    "/sites",
    response_model=Page[SitePublic],
    summary="网站列表 (sites)",
    responses=error_responses(401, 422),
)
def list_sites(
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
    principal: Principal = Depends(get_principal),
    session: Session = RequestSession,
) -> Page[SitePublic]:
    """Sites run by the caller's subtree (all sites for an admin), by site code."""
    sites, total = service.page_sites_public(
        session=session, within=_scope(principal), limit=limit, offset=offset
    )
    return Page[SitePublic](items=sites, total=total, limit=limit, offset=offset)


@router.post(
    "/sites",
    response_model=SitePublic,
    status_code=201,
    summary="登记网站 (register a site, admin)",
    responses=WRITE_ERRORS,
)
def create_site(
    site_in: SiteCreate,
    principal: Principal = Depends(require_admin),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
) -> SitePublic:
    """Register a site, its owner unit and its host names (admin). Unrouted reports with its
    site code or one of its hosts reach its owner unit in the same transaction."""
    site = service.create_site(
        session=session, site_in=site_in, actor=principal.audit_actor, now=now
    )
    return service.to_public(session=session, site=site)


@router.patch(
    "/sites/{site_id}",
    response_model=SitePublic,
    summary="修改网站 (change a site, admin)",
    responses=WRITE_ERRORS,
)
def update_site(
    site_id: SiteId,
    site_in: SiteUpdate,
    principal: Principal = Depends(require_admin),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
) -> SitePublic:
    """Change a site's name, owner unit, status or host names (admin). Reopening a closed
    site routes the unrouted reports with its site code or hosts to its owner unit."""
    site = service.update_site(
        session=session, site_id=site_id, site_in=site_in, actor=principal.audit_actor, now=now
    )
    return service.to_public(session=session, site=site)


# ApiToken.label's column length.
TOKEN_LABEL_MAX = 200


class TokenCreate(SQLModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "unit_id": 3,
                    "role": "handler",
                    "label": "教育局办公室",
                    "holder": "王科长",
                    "expires_at": "2027-12-31T23:59:59+08:00",
                }
            ]
        }
    )

    unit_id: Id = Field(description="the unit the token acts for")
    role: Role = Field(description="what it may do")
    label: SingleLineText(TOKEN_LABEL_MAX) = Field(
        default="", description="what it is for, for operators"
    )
    holder: SingleLineText(100) = Field(default="", description="the person who will hold it")
    expires_at: AwareDatetime | None = Field(
        default=None, description="when it stops working (with its offset); none: until revoked"
    )


class TokenPublic(SQLModel):
    """A token as operators list it: never its secret part."""

    id: int = Field(description="the token's id")
    prefix: str = Field(description="its first characters, to tell tokens apart")
    unit_id: int = Field(description="the unit it acts for")
    role: Role = Field(description="what it may do")
    label: str = Field(description="the operator's note on what it is for")
    holder: str = Field(description="the person who holds it")
    created_at: LocalDateTime = Field(description="when it was issued")
    expires_at: LocalDateTime | None = Field(description="when it stops working; null: never")
    revoked_at: LocalDateTime | None = Field(description="when it was revoked; null if active")
    last_used_at: LocalDateTime | None = Field(
        description="when it was last used (to the nearest five minutes)"
    )


class TokenIssued(TokenPublic):
    token: str = Field(description="the token itself, shown in this response only: keep it")


@router.get(
    "/tokens",
    response_model=Page[TokenPublic],
    summary="令牌列表 (tokens, admin)",
    responses=error_responses(401, 403, 422),
)
def get_tokens(
    unit_id: int | None = Query(None, ge=1, le=MAX_ID, description="only this unit's tokens"),
    limit: LimitQuery = DEFAULT_LIMIT,
    offset: OffsetQuery = 0,
    _: Principal = Depends(require_admin),
    session: Session = RequestSession,
) -> Page[TokenPublic]:
    """Tokens, newest first, without their secret part (admin)."""
    tokens, total = page_tokens(session=session, unit_id=unit_id, limit=limit, offset=offset)
    return Page[TokenPublic](
        items=[TokenPublic.model_validate(t) for t in tokens],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/tokens",
    response_model=TokenIssued,
    status_code=201,
    summary="签发令牌 (issue a token, admin)",
    responses=error_responses(401, 403, 404, 413, 422),
)
def create_token(
    token_in: TokenCreate,
    principal: Principal = Depends(require_admin),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
) -> TokenIssued:
    """Issue a token for a unit; the token is shown in this response only (admin)."""
    token, plain = issue_token(
        session=session,
        unit_id=token_in.unit_id,
        role=token_in.role,
        label=token_in.label,
        holder=token_in.holder,
        expires_at=token_in.expires_at,
        now=now,
        actor=principal.audit_actor,
    )
    return TokenIssued.model_validate(token, update={"token": plain})


@router.post(
    "/tokens/{token_id}/revoke",
    response_model=TokenPublic,
    summary="吊销令牌 (revoke a token, admin)",
    responses=error_responses(401, 403, 404, 422),
)
def revoke(
    token_id: TokenId,
    principal: Principal = Depends(require_admin),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
) -> ApiToken:
    """Revoke a token at once (admin); the last admin token that still works is kept (409)."""
    return revoke_token(
        session=session,
        token_id=token_id,
        now=now,
        actor=principal.audit_actor,
        keep_last_admin=True,
    )
