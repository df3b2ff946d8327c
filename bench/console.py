"""Benchmark: the web console's first load — the JavaScript the sign-in page needs (gzipped, budget 1 MB) and how
long the first screen takes to become interactive in Chromium on the local stack (budget 2 s), then the dashboard.

    make bench                      # or: python -m bench.console --loads 5

Needs the console built (`make run` or `make test` builds web/dist) and /usr/bin/chromium.
"""

import argparse
import gzip
import re
import statistics
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from backbone.settings import Settings
from bench.stack import bench_stack, print_table

DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BUDGET_BYTES = 1024 * 1024


def initial_javascript() -> int:
    """Gzipped bytes of the scripts index.html loads before anything else (the entry and its preloads)."""
    html = (DIST / "index.html").read_text()
    scripts = re.findall(r'(?:src|href)="/(assets/[^"]+\.js)"', html)
    return sum(len(gzip.compress((DIST / s).read_bytes(), 9)) for s in scripts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    size = initial_javascript()
    settings = Settings()
    with bench_stack() as stack, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        gateway = stack.gateway
        sign_in, dashboard = [], []
        for _ in range(args.loads):
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            page = context.new_page()
            started = time.perf_counter()
            page.goto(f"{gateway}/")
            page.get_by_role("button", name="登录").wait_for()
            sign_in.append(time.perf_counter() - started)
            page.locator("input[name=username]").fill(settings.admin_user)
            page.locator("input[name=password]").fill(settings.admin_password.get_secret_value())
            started = time.perf_counter()
            page.get_by_role("button", name="登录").click()
            page.locator("[data-testid=live]").wait_for()
            dashboard.append(time.perf_counter() - started)
            context.close()
        browser.close()
    print_table("web console", [
        ("initial JavaScript (gzip)", f"{size / 1024:.0f} KiB", f"budget {BUDGET_BYTES // 1024} KiB"),
        ("sign-in page interactive (median)", f"{statistics.median(sign_in) * 1000:.0f} ms", "budget 2000 ms"),
        ("sign-in to live dashboard (median)", f"{statistics.median(dashboard) * 1000:.0f} ms", ""),
    ], third="budget")


if __name__ == "__main__":
    main()
