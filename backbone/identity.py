"""Who is calling: the principal the gateway authenticated, forwarded to services as a signed
short-lived token, and the data scope that follows from it (DESIGN §1 "Data scope").

The forwarded identity is signed with the gateway's Ed25519 key (EdDSA) and names the one service it is for
(two for the few routes whose service asks another on the caller's behalf: `ASKS_ONWARD` in gateway/routing.py):
a service holds only the public key, so a service taken over can neither sign an identity nor replay the
one it received at another service.
"""

import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, Header, Request
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, false, or_

from backbone.errors import Forbidden, Unauthorized
from backbone.settings import get_settings
from contracts.keys import new_keypair, signing_key, verifying_key

IDENTITY_HEADER = "X-FundWatch-Identity"
API_PREFIX = "/api/v1"
INTERNAL_ISSUER = "fundwatch-gateway"
INTERNAL_TTL = timedelta(minutes=2)

# Roles that see every org unit and every division's funds.
CITYWIDE_ROLES = frozenset({"admin", "treasury", "budget", "supervision", "poverty_office", "info_center"})
MACHINE_ROLES = frozenset({"treasury_system", "province_system"})


class ExportGrant(BaseModel):
    """The poverty office's co-signature (会签局脱贫办, 第二十七条) of one data export, carried in the identity the
    gateway forwards when the requester downloads it; nobody else holds one."""

    export_id: str
    path: str = Field(description="The export route it is for, under /api/v1, e.g. /ledger/export.")
    requester: str
    cosigner: str = Field(description="Who co-signed it for the poverty office.")
    cosigned_at: datetime
    purpose: str = Field(description="用途")
    recipient: str | None = Field(None, description="The outsider the data is given to (对外提供); null: internal use.")


class Principal(BaseModel):
    """An authenticated person or machine account."""

    subject: str = Field(description="User name or machine account.")
    roles: list[str]
    org_unit: str | None = None
    division: str | None = None
    pii: bool = False
    session_expires: int | None = Field(
        None, description="When the caller's credential expires (epoch seconds); None for machine keys.")
    export: ExportGrant | None = Field(None, description="Set by the gateway only while a co-signed export is "
                                                         "being downloaded.")

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

    def where_visible(self, org_unit: ColumnElement[Any], owner_division: ColumnElement[Any]) -> list[Any]:
        """`can_see` as WHERE clauses on a table's org unit and owning division columns."""
        if self.citywide:
            return []
        clauses = []
        if "district" in self.roles and self.org_unit:
            clauses.append(org_unit == self.org_unit)
        if "division" in self.roles and self.division:
            clauses.append(owner_division == self.division)
        return [or_(*clauses)] if clauses else [false()]


def audience_of(service: str) -> str:
    """The audience of an identity forwarded to `service`."""
    return f"fundwatch:{service}"


def issue_internal_token(principal: Principal, private_key: str, audience: str | list[str]) -> str:
    """The identity the gateway forwards to a service (`audience`: `audience_of` it)."""
    now = datetime.now(UTC)
    claims = {**principal.model_dump(mode="json"), "iss": INTERNAL_ISSUER, "aud": audience, "iat": now,
              "exp": now + INTERNAL_TTL}
    return jwt.encode(claims, signing_key(private_key), algorithm="EdDSA")


def read_internal_token(token: str, public_key: str, audience: str) -> Principal:
    """The principal of a forwarded identity meant for `audience`; any other is refused."""
    try:
        claims = jwt.decode(token, verifying_key(public_key), algorithms=["EdDSA"], audience=audience,
                            issuer=INTERNAL_ISSUER)
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid forwarded identity: {exc}") from exc
    return Principal(**{k: claims.get(k) for k in Principal.model_fields if k in claims})


def forwarded_principal(request: Request, identity: str | None) -> Principal:
    """The caller of this service, from the identity the gateway forwarded."""
    if not identity:
        raise Unauthorized("no identity: call FundWatch through the gateway")
    return read_internal_token(identity, get_settings().identity_public_key,
                               audience_of(request.app.state.service))


async def current_principal(
    request: Request,
    identity: Annotated[str | None, Header(alias=IDENTITY_HEADER, include_in_schema=False)] = None,
) -> Principal:
    """The caller; a service reached without a valid forwarded identity refuses."""
    return forwarded_principal(request, identity)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def check_export_grant(principal: Principal, path: str) -> ExportGrant:
    """The co-signature that lets this caller run the export route at `path` (under /api/v1); a caller without
    one, or with one for another route or person, is refused."""
    grant = principal.export
    if grant is None:
        raise Forbidden("exporting data needs the poverty office's co-signature (第二十七条): request it with "
                        "POST /api/v1/exports, then download it from GET /api/v1/exports/{id}/file")
    if grant.path != path or grant.requester != principal.subject:
        raise Forbidden(f"the co-signed export {grant.export_id} is {grant.path} for {grant.requester}")
    return grant


async def require_export_grant(request: Request, principal: CurrentPrincipal) -> Principal:
    """The caller of an export route, who must carry a grant for it (the gateway's check, made again here)."""
    check_export_grant(principal, request.url.path.removeprefix(API_PREFIX))
    return principal


ExportingPrincipal = Annotated[Principal, Depends(require_export_grant)]


if __name__ == "__main__":  # python -m backbone.identity: a key pair for a deployment
    private, public = new_keypair()
    sys.stdout.write(f"FUNDWATCH_IDENTITY_PRIVATE_KEY={private}\nFUNDWATCH_IDENTITY_PUBLIC_KEY={public}\n")
