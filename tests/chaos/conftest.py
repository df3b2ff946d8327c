"""The chaos suite runs on the e2e stack (after the other tests, before the fuzz), under the local stack's own
supervisor, and prints what it held."""

import pytest

from tests.e2e.conftest import stack  # noqa: F401 - the shared stack fixture

FIGURES = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[FIGURES] = []


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    lines = config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("chaos: what was held")
        for line in lines:
            terminalreporter.write_line(line)
