"""The checked-in contracts match the code: event schemas and every service's OpenAPI."""

import pytest

from contracts.generate import snapshots


@pytest.mark.parametrize("path,expected", [pytest.param(p, t, id=p.name) for p, t in snapshots().items()])
def test_snapshot_matches_code(path, expected):
    # A failure here means a contract changed: run `make contracts` and review the diff.
    assert path.exists(), f"{path} is missing: run `make contracts`"
    assert path.read_text(encoding="utf-8") == expected, f"{path.name} drifted from the code: run `make contracts`"
