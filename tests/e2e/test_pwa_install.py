"""The app is installable, and its screens pass axe-core (no serious or critical issue)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import BrowserContext

from tests.e2e.helpers import axe_violations, login, open_app, wait_controlled
from tests.support.factories import Factory


def test_installable_with_icons_that_load(
    app_url: str, factory: Factory, persistent_context: Callable[..., BrowserContext]
) -> None:
    room = factory.classroom()
    ctx = persistent_context()
    page = ctx.new_page()
    login(page, app_url, room.aide)
    open_app(page, app_url)
    wait_controlled(page)
    cdp = ctx.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == []
    manifest = cdp.send("Page.getAppManifest")
    assert not manifest.get("errors"), manifest.get("errors")
    icons: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const m = await (await fetch('/manifest.webmanifest')).json();
            const out = [];
            for (const icon of m.icons) {
                const r = await fetch(icon.src);
                const bmp = await createImageBitmap(await r.blob());
                out.push({src: icon.src, sizes: icon.sizes, purpose: icon.purpose,
                          status: r.status, type: r.headers.get('content-type'),
                          size: `${bmp.width}x${bmp.height}`});
            }
            return out;
        }"""
    )
    cached: list[str] = page.evaluate(
        """async () => {
            const urls = [];
            for (const name of await caches.keys())
                for (const req of await (await caches.open(name)).keys()) urls.push(new URL(req.url).pathname);
            return urls;
        }"""
    )
    assert "/app" in cached
    assert "/static/js/app.js" in cached
    assert not [u for u in cached if u.startswith("/api/")], "the worker cached an API response"
    assert {i["sizes"] for i in icons} >= {"192x192", "512x512"}
    assert any(i["purpose"] == "maskable" for i in icons)
    for icon in icons:
        assert icon["status"] == 200, icon
        assert icon["type"] == "image/png", icon
        assert icon["size"] == icon["sizes"], icon


def test_aide_screens_have_no_serious_accessibility_violations(
    app_url: str, factory: Factory, context: BrowserContext
) -> None:
    room = factory.classroom()
    page = context.new_page()
    login(page, app_url, room.aide)
    open_app(page, app_url)
    page.wait_for_selector(f"a[data-student='{room.student.id}']")
    assert axe_violations(page) == []
    page.click(f"a[data-student='{room.student.id}']")
    page.click("[data-act=open]")
    page.wait_for_selector(".session-bar")
    assert axe_violations(page) == []
    targets = page.eval_on_selector_all(
        "main button, main a",
        "els => els.filter(e => e.offsetParent).map(e => [e.textContent.trim(), "
        "e.getBoundingClientRect().width, e.getBoundingClientRect().height])",
    )
    small = [t for t in targets if t[1] < 48 or t[2] < 48]
    assert small == [], f"tap targets under 48 px: {small}"
    open_app(page, app_url, "/app/messages")
    assert axe_violations(page) == []
