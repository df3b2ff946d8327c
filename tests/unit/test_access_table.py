"""The access table: every public endpoint is in it, each concrete path finds its own entry, and an
endpoint or role outside it is refused."""

import json
from pathlib import Path

import pytest

from backbone.access import ACCESS, PUBLIC, ROLES, admitted, template_of
from backbone.errors import Forbidden
from backbone.identity import Principal

PUBLIC_DOC = json.loads((Path(__file__).parents[2] / "contracts" / "openapi" / "public.json").read_text())
OPERATIONS = {f"{method.upper()} {path}" for path, ops in PUBLIC_DOC["paths"].items() for method in ops}


def test_every_public_endpoint_is_in_the_table_and_every_entry_is_an_endpoint():
    assert OPERATIONS - ACCESS.keys() == set(), "endpoints nobody may use"
    # The gateway's own document route is the only entry the public document does not list.
    assert ACCESS.keys() - OPERATIONS == {"GET /api/v1/openapi.json"}


@pytest.mark.parametrize("key", sorted(ACCESS))
def test_a_concrete_path_finds_its_own_entry(key):
    method, template = key.split(" ", 1)
    concrete = "/".join("x-1" if part.startswith("{") else part for part in template.split("/"))
    assert template_of(method, concrete) == template


def test_only_known_roles_are_named():
    assert {r for roles in ACCESS.values() if roles is not PUBLIC for r in roles} <= ROLES


def test_the_table_refuses_other_roles_and_unknown_endpoints():
    district = Principal(subject="d", roles=["district"], org_unit="220102")
    admitted(district, "GET", "/api/v1/alerts")
    with pytest.raises(Forbidden, match="is for: admin"):
        admitted(district, "GET", "/api/v1/api-keys")
    with pytest.raises(Forbidden, match="not in the access table"):
        admitted(Principal(subject="a", roles=["admin"]), "DELETE", "/api/v1/alerts")
    admitted(None, "POST", "/api/v1/auth/token")


@pytest.mark.parametrize("path", ["/api/v1/ledger/export\n", "/api/v1/ledger/export\r\n", "/api/v1/ledger/export/x",
                                  "/api/v1/ledger/exportx"])
def test_a_path_matches_an_entry_whole_or_not_at_all(path):
    assert template_of("GET", path) is None
