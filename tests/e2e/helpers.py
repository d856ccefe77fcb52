"""Helpers for browser tests (see conftest.py for the fixtures)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.support.factories import PASSWORD, User

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def login(page: Page, base_url: str, user: User, next_path: str = "/app") -> None:
    """Log in through the real login form, as a person would, and land on next_path."""
    page.goto(f"{base_url}/login?next={next_path}")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        # The login form's own button: a logged-in page also has a "Log out" form.
        page.click("form[action='/login'] button[type=submit]")
    assert "/login" not in page.url, f"login as {user.email} failed: {page.url}"


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


def open_app(page: Page, base_url: str, path: str = "/app") -> None:
    page.goto(base_url + path)
    wait_ready(page)


def wait_controlled(page: Page) -> None:
    """Wait until the service worker controls the page (the shell is then precached)."""
    page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=15_000)


def pending(page: Page) -> int:
    return int(page.get_attribute("#sync-status", "data-pending") or "0")


def sync_now(page: Page) -> Any:
    """Run one flush in this page (the same call the app makes on its triggers)."""
    return page.evaluate("() => import('/static/js/app.js').then((m) => m.flushNow())")


def wait_synced(page: Page, timeout: float = 20.0) -> None:
    """Flush from this page until the server acknowledged everything."""
    deadline = time.monotonic() + timeout
    result: Any = None
    while time.monotonic() < deadline:
        result = sync_now(page)
        if result and result.get("state") == "ok" and result.get("pending") == 0:
            return
        page.wait_for_timeout(300)
    raise AssertionError(f"the outbox did not drain: last flush {result}")


def block_sync(page_or_context: Any) -> None:
    """Keep ops queued: every sync request fails like a dropped connection."""
    page_or_context.route("**/api/sync", lambda route: route.abort("internetdisconnected"))


def unblock_sync(page_or_context: Any) -> None:
    page_or_context.unroute("**/api/sync")


def wait_saved(page: Page) -> None:
    """Wait until every tap's IndexedDB transaction has committed (before closing a page:
    closing it mid-commit is a crash test of the browser, not of the app)."""
    page.evaluate(
        "() => import('/static/js/app.js').then((m) => Promise.allSettled([...m.app.inflight]))"
    )
