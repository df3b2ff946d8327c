"""The checked-in contracts match the code: event schemas and every service's OpenAPI."""

import pytest

from contracts.generate import snapshots


@pytest.mark.parametrize("path,expected", [pytest.param(p, t, id=p.name) for p, t in snapshots().items()])
def test_snapshot_matches_code(path, expected):
    # A failure here means a contract changed: run `make contracts` and review the diff.
    assert path.exists(), f"{path} is missing: run `make contracts`"
    assert path.read_text(encoding="utf-8") == expected, f"{path.name} drifted from the code: run `make contracts`"


@pytest.mark.parametrize("name", ["public.json", "payments.json", "alerting.json", "ledger.json", "performance.json",
                                  "gateway.json", "sync.json"])
def test_every_openapi_document_validates_as_3_1_and_every_reference_resolves(name):
    import json
    import re

    from openapi_spec_validator import validate

    from contracts.generate import OPENAPI

    doc = json.loads((OPENAPI / name).read_text(encoding="utf-8"))
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # the OpenAPI 3.1 meta-schema: `itemSchema` of 3.2 or a dangling field fails here
    referenced = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(doc)))
    assert referenced <= set(doc["components"]["schemas"]), referenced - set(doc["components"]["schemas"])
