"""The browser tests' Chromium: Debian's (`make test` installs it with fonts-noto-cjk when missing), one browser for
a module, a fresh context per person at 1366×768. Every page's console errors fail the test that opened it; the
screenshots of each main screen are kept in .data/test/screenshots/."""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from tests.e2e.people import PASSWORD, account

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".data" / "test" / "screenshots"
# Elements wait at most this long (a red light arrives through the broker, the consumers and the stream).
PATIENCE_MS = 30_000
expect.set_options(timeout=PATIENCE_MS)


def person(database_url: str, username: str, roles: list[str], **scope: str) -> str:
    """`tests.e2e.people.account` from another thread: Playwright's sync API keeps an event loop running in this
    one, where asyncio.run refuses to start another."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(account, database_url, username, roles, **scope).result()


@pytest.fixture(scope="module")
def browser(stack) -> Iterator[Browser]:
    """One browser for a module's tests, started after the stack and stopped with the module: Playwright's sync API
    keeps an event loop running while it lives, where the other tests' asyncio.run would be refused."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium and fonts-noto-cjk")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


@dataclass
class Console:
    """A person's browser tab on the console, and what it logged as errors."""

    page: Page
    base: str
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> Page:
        self.page.goto(f"{self.base}{path}")
        return self.page

    def sign_in(self, username: str, password: str = PASSWORD) -> Page:
        page = self.open("/login")
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(password)
        page.get_by_role("button", name="登录").click()
        page.locator("[data-testid=who]").wait_for()
        return page

    def screenshot(self, name: str, *, full_page: bool = False) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


def _expected(message: ConsoleMessage) -> bool:
    """The console asks who is signed in before it knows; for nobody the answer is a 401, which Chromium logs."""
    return message.location.get("url", "").endswith("/api/v1/me") and "401" in message.text


@pytest.fixture
def console(browser, stack) -> Iterator[Callable[[], "Console"]]:
    """Open a fresh tab for a person: `console()` gives a Console (its own cookies) at 1366×768, in a browser zone
    far from Beijing, so that the times it shows prove they are Beijing's."""
    opened: list[tuple[object, Console]] = []

    def new() -> Console:
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", timezone_id="UTC")
        context.set_default_timeout(PATIENCE_MS)
        tab = Console(context.new_page(), stack.gateway)
        tab.page.on("console", lambda m: m.type == "error" and not _expected(m) and tab.errors.append(
            f"{m.location.get('url')}: {m.text}"))
        tab.page.on("pageerror", lambda e: tab.errors.append(f"page error: {e}"))
        opened.append((context, tab))
        return tab

    yield new
    for context, tab in opened:
        context.close()
    assert [e for _, tab in opened for e in tab.errors] == [], "the console logged errors"
