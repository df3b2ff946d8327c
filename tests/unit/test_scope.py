"""Data scope: a district sees its org unit, a division its own funds, city roles everything."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from backbone.identity import Principal, audience_of, issue_internal_token, read_internal_token
from contracts.keys import new_keypair
from backbone.errors import Unauthorized


@pytest.mark.parametrize("principal,org_unit,division,visible", [
    pytest.param(Principal(subject="t", roles=["treasury"]), "220102", "agriculture", True, id="treasury-all"),
    pytest.param(Principal(subject="d", roles=["district"], org_unit="220102"), "220102", "agriculture", True,
                 id="district-own"),
    pytest.param(Principal(subject="d", roles=["district"], org_unit="220103"), "220102", "agriculture", False,
                 id="district-other"),
    pytest.param(Principal(subject="v", roles=["division"], division="agriculture"), "220105", "agriculture", True,
                 id="division-own-funds"),
    pytest.param(Principal(subject="v", roles=["division"], division="education"), "220105", "agriculture", False,
                 id="division-other-funds"),
])
def test_can_see(principal, org_unit, division, visible):
    assert principal.can_see(org_unit=org_unit, owner_division=division) is visible


def test_a_forwarded_identity_holds_only_when_the_gateways_key_signed_it_for_this_service():
    p = Principal(subject="admin", roles=["admin"])
    gateway, gateway_public = new_keypair()
    other, _ = new_keypair()
    ledger = audience_of("ledger")
    assert read_internal_token(issue_internal_token(p, gateway, ledger), gateway_public, ledger) == p
    with pytest.raises(Unauthorized, match="Signature"):
        read_internal_token(issue_internal_token(p, other, ledger), gateway_public, ledger)
    # An identity the gateway sent to one service is refused by another (a replay from a service taken over).
    with pytest.raises(Unauthorized, match="Audience"):
        read_internal_token(issue_internal_token(p, gateway, ledger), gateway_public, audience_of("payments"))
    # The public key signs nothing: a token made with HS256 keyed by it is refused.
    forged = jwt.encode({**p.model_dump(mode="json"), "aud": ledger, "iss": "fundwatch-gateway",
                         "exp": datetime.now(UTC) + timedelta(minutes=1)}, gateway_public, algorithm="HS256")
    with pytest.raises(Unauthorized):
        read_internal_token(forged, gateway_public, ledger)
