"""Browser fixtures: real Chromium (the system one) through Playwright, against the app
in its own uvicorn process.

Reusable by every browser test:
- `e2e_server`: an AppServer of this module's own that a test may stop and start again
  (same port, so the same origin: the service worker and IndexedDB survive);
- `browser`: one headless Chromium per session; `context` a fresh context per test;
- `persistent_context()`: a persistent profile (needed for installability checks);
- `login(page, user)`: logs in through the real /login page;
- `server_down(page)`: asserts that requests to the app really fail.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.support.factories import PASSWORD, User
from tests.support.servers import AppServer

CHROMIUM = os.environ.get("TANDEM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def e2e_server(database_url: str) -> Iterator[AppServer]:
    """The app for browser tests, separate from the shared `app_server` so that a test
    can stop it (offline) without disturbing the others."""
    server = AppServer(database_url).start()
    yield server
    server.stop()


@pytest.fixture
def app_url(e2e_server: AppServer) -> Iterator[str]:
    if e2e_server.proc is None:  # a previous test stopped it and failed before restarting
        e2e_server.start()
    yield e2e_server.base_url
    if e2e_server.proc is None:
        e2e_server.start()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    b = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(**PHONE)  # type: ignore[arg-type]
    yield ctx
    ctx.close()


@pytest.fixture
def persistent_context(playwright_instance: Playwright) -> Iterator[Callable[..., BrowserContext]]:
    """persistent_context() -> a Chromium with a real on-disk profile (like an installed
    browser: installability can only be judged there)."""
    made: list[BrowserContext] = []

    def make(**kwargs: Any) -> BrowserContext:
        profile = tempfile.mkdtemp(prefix="tandem-profile-")
        ctx = playwright_instance.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, **{**PHONE, **kwargs}
        )
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


def login(page: Page, base_url: str, user: User, next_path: str = "/app") -> None:
    """Log in through the real login form, as a person would, and land on next_path."""
    page.goto(f"{base_url}/login?next={next_path}")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def server_down(page: Page, base_url: str) -> None:
    """Fail unless the app is really unreachable from this page (not merely 'offline')."""
    failed = page.evaluate(
        """async (url) => {
            try { await fetch(url + '/healthz?probe=' + Math.random(), {cache: 'no-store'}); return false; }
            catch { return true; }
        }""",
        base_url,
    )
    assert failed, "the app server still answers"


def wait_ready(page: Page) -> None:
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[Any]:
    # Injected through the DevTools protocol: the page's CSP forbids inline scripts.
    page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [v for v in result if v.get("impact") in impacts]
