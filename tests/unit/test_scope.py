"""Data scope: a district sees its org unit, a division its own funds, city roles everything."""

import pytest

from backbone.identity import Principal, issue_internal_token, read_internal_token
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


def test_forwarded_identity_must_be_signed_with_the_internal_secret():
    p = Principal(subject="admin", roles=["admin"])
    assert read_internal_token(issue_internal_token(p, "s" * 32), "s" * 32) == p
    with pytest.raises(Unauthorized):
        read_internal_token(issue_internal_token(p, "x" * 32), "s" * 32)
