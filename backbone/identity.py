"""Who is calling: the principal the gateway authenticated, forwarded to services as a signed
short-lived token, and the data scope that follows from it (DESIGN §1 "Data scope")."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Header
from pydantic import BaseModel, Field

from backbone.errors import Unauthorized
from backbone.settings import get_settings

IDENTITY_HEADER = "X-FundWatch-Identity"
INTERNAL_AUDIENCE = "fundwatch-internal"
INTERNAL_TTL = timedelta(minutes=2)

# Roles that see every org unit and every division's funds.
CITYWIDE_ROLES = frozenset({"admin", "treasury", "budget", "supervision", "poverty_office", "info_center"})
MACHINE_ROLES = frozenset({"treasury_system", "province_system"})


class Principal(BaseModel):
    """An authenticated person or machine account."""

    subject: str = Field(description="User name or machine account.")
    roles: list[str]
    org_unit: str | None = None
    division: str | None = None
    pii: bool = False
    session_expires: int | None = Field(
        None, description="When the caller's credential expires (epoch seconds); None for machine keys.")

    def has_any(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def citywide(self) -> bool:
        return self.has_any(*CITYWIDE_ROLES, *MACHINE_ROLES)

    def can_see(self, *, org_unit: str | None, owner_division: str | None) -> bool:
        """Whether a record of that org unit and owning division is within this caller's scope."""
        if self.citywide:
            return True
        if "district" in self.roles and org_unit is not None and org_unit == self.org_unit:
            return True
        return "division" in self.roles and owner_division is not None and owner_division == self.division


def issue_internal_token(principal: Principal, secret: str) -> str:
    """The identity the gateway forwards to a service."""
    now = datetime.now(UTC)
    claims = {**principal.model_dump(), "aud": INTERNAL_AUDIENCE, "iat": now, "exp": now + INTERNAL_TTL}
    return jwt.encode(claims, secret, algorithm="HS256")


def read_internal_token(token: str, secret: str) -> Principal:
    """The principal of a forwarded identity; an invalid one is refused."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=INTERNAL_AUDIENCE)
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid forwarded identity: {exc}") from exc
    return Principal(**{k: claims.get(k) for k in Principal.model_fields if k in claims})


async def current_principal(
    identity: Annotated[str | None, Header(alias=IDENTITY_HEADER, include_in_schema=False)] = None,
) -> Principal:
    """The caller; a service reached without a valid forwarded identity refuses."""
    if not identity:
        raise Unauthorized("no identity: call FundWatch through the gateway")
    return read_internal_token(identity, get_settings().internal_secret.get_secret_value())


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
