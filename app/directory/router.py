from datetime import datetime

from fastapi import APIRouter, Depends
from sqlmodel import Session, SQLModel

from app.auth import (
    ApiToken,
    Principal,
    Role,
    get_principal,
    issue_token,
    list_tokens,
    require_admin,
    revoke_token,
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


def _scope(principal: Principal) -> int | None:
    return None if principal.role == Role.admin else principal.unit_id


@router.get("/units", response_model=list[UnitPublic])
def list_units(
    principal: Principal = Depends(get_principal), session: Session = RequestSession
) -> list[UnitPublic]:
    """Units the caller may see: its own subtree (all units for an admin)."""
    units = service.list_units(session=session, within=_scope(principal))
    return [UnitPublic.model_validate(u) for u in units]


@router.post("/units", response_model=UnitPublic, status_code=201)
def create_unit(
    unit_in: UnitCreate,
    _: Principal = Depends(require_admin),
    session: Session = RequestSession,
) -> UnitPublic:
    """Add a unit under its supervising unit (admin)."""
    return UnitPublic.model_validate(service.create_unit(session=session, unit_in=unit_in))


@router.patch("/units/{unit_id}", response_model=UnitPublic)
def update_unit(
    unit_id: Id,
    unit_in: UnitUpdate,
    _: Principal = Depends(require_admin),
    session: Session = RequestSession,
) -> UnitPublic:
    """Rename, move, or change a unit's contact and webhook (admin)."""
    unit = service.update_unit(session=session, unit_id=unit_id, unit_in=unit_in)
    return UnitPublic.model_validate(unit)


@router.get("/sites", response_model=list[SitePublic])
def list_sites(
    principal: Principal = Depends(get_principal), session: Session = RequestSession
) -> list[SitePublic]:
    """Sites run by the caller's subtree (all sites for an admin)."""
    return service.list_sites_public(session=session, within=_scope(principal))


@router.post("/sites", response_model=SitePublic, status_code=201)
def create_site(
    site_in: SiteCreate,
    _: Principal = Depends(require_admin),
    session: Session = RequestSession,
) -> SitePublic:
    """Register a site, its owner unit and its host names (admin)."""
    site = service.create_site(session=session, site_in=site_in)
    return service.to_public(session=session, site=site)


@router.patch("/sites/{site_id}", response_model=SitePublic)
def update_site(
    site_id: Id,
    site_in: SiteUpdate,
    _: Principal = Depends(require_admin),
    session: Session = RequestSession,
) -> SitePublic:
    """Change a site's name, owner unit, status or host names (admin)."""
    site = service.update_site(session=session, site_id=site_id, site_in=site_in)
    return service.to_public(session=session, site=site)


# ApiToken.label's column length.
TOKEN_LABEL_MAX = 200


class TokenCreate(SQLModel):
    unit_id: Id
    role: Role
    label: SingleLineText(TOKEN_LABEL_MAX) = ""


class TokenPublic(SQLModel):
    id: int
    prefix: str
    unit_id: int
    role: Role
    label: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenIssued(TokenPublic):
    token: str


@router.get("/tokens", response_model=list[TokenPublic])
def get_tokens(
    unit_id: Id | None = None,
    _: Principal = Depends(require_admin),
    session: Session = RequestSession,
) -> list[ApiToken]:
    """Tokens, without their secret part (admin)."""
    return list_tokens(session=session, unit_id=unit_id)


@router.post("/tokens", response_model=TokenIssued, status_code=201)
def create_token(
    token_in: TokenCreate,
    _: Principal = Depends(require_admin),
    session: Session = RequestSession,
) -> TokenIssued:
    """Issue a token for a unit; the token is shown in this response only (admin)."""
    token, plain = issue_token(
        session=session, unit_id=token_in.unit_id, role=token_in.role, label=token_in.label
    )
    return TokenIssued.model_validate(token, update={"token": plain})


@router.post("/tokens/{token_id}/revoke", response_model=TokenPublic)
def revoke(
    token_id: Id,
    _: Principal = Depends(require_admin),
    session: Session = RequestSession,
    now: datetime = Depends(get_now),
) -> ApiToken:
    """Revoke a token at once (admin)."""
    return revoke_token(session=session, token_id=token_id, now=now)
