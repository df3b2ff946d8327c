"""The chaos suite runs on the e2e stack (after the other tests, before the fuzz), under the local stack's own
supervisor, and prints what it held. It lives under tests/e2e so that the session's one stack is the one it
breaks: a second stack on the same broker would put a second member in every consumer group, one the
supervisor neither kills nor watches."""

import pytest

FIGURES = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[FIGURES] = []


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    lines = config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("chaos: what was held")
        for line in lines:
            terminalreporter.write_line(line)
