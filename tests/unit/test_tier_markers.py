"""Each test module names its own tier: pytest reads `pytestmark` in a test module, never in a conftest.py, so a
module without it would be missed by `-m e2e` or `-m integration` and run where it does not belong."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def marks_of(path: Path) -> set[str] | None:
    """The names of the marks in a module's `pytestmark`, or None when it sets none."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            return {n.attr for n in ast.walk(node.value)
                    if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute) and n.value.attr == "mark"}
    return None


def test_every_e2e_and_integration_module_carries_its_tier_marker():
    wanted = {"e2e": {"e2e"}, "integration": {"integration"}, "e2e/chaos": {"e2e", "chaos"},
              "browser": {"e2e", "browser"}}
    missing = []
    for folder, marks in wanted.items():
        modules = sorted((TESTS / folder).glob("test_*.py"))
        assert modules, folder
        missing += [f"{m.relative_to(TESTS)}: {sorted(marks - (marks_of(m) or set()))}"
                    for m in modules if not marks <= (marks_of(m) or set())]
    assert not missing


def test_no_conftest_sets_pytestmark_which_pytest_would_ignore_there():
    assert [str(c.relative_to(TESTS)) for c in TESTS.rglob("conftest.py") if marks_of(c) is not None] == []
