"""Browser fixtures: real Chromium (the system one) through Playwright, against the app
in its own uvicorn process.

Reusable by every browser test:
- `e2e_server`: an AppServer of this module's own that a test may stop and start again
  (same port, so the same origin: the service worker and IndexedDB survive);
- `browser`: one headless Chromium per session; `context` a fresh context per test;
- `persistent_context()`: a persistent profile (needed for installability checks);
- in tests/e2e/helpers.py: `login(page, base_url, user)` through the real /login page,
  `server_down(page, base_url)` (requests really fail), `wait_ready`, `axe_violations`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright

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
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


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
