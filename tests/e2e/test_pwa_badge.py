"""The outbox is visible and kept: the app asks for persistent storage, and its badge
says how many taps are not yet synced and when the last sync was."""

from __future__ import annotations

from playwright.sync_api import BrowserContext

from tests.e2e.helpers import (
    block_sync,
    login,
    open_app,
    unblock_sync,
    wait_saved,
    wait_synced,
)
from tests.support.factories import Factory

COUNT_PERSIST_CALLS = """
(() => {
  globalThis.__persistCalls = 0;
  if (navigator.storage && navigator.storage.persist) {
    const original = navigator.storage.persist.bind(navigator.storage);
    navigator.storage.persist = () => { globalThis.__persistCalls += 1; return original(); };
  }
})();
"""


def test_badge_counts_unsynced_taps_and_shows_the_last_sync_and_storage_is_persisted(
    app_url: str, factory: Factory, context: BrowserContext
) -> None:
    room = factory.classroom()
    goal = room.student.goals["frequency"]
    page = context.new_page()
    page.add_init_script(COUNT_PERSIST_CALLS)
    login(page, app_url, room.aide)
    open_app(page, app_url, f"/app/student/{room.student.id}")
    page.wait_for_selector("[data-act=open]")
    assert page.evaluate("() => globalThis.__persistCalls") >= 1

    wait_synced(page)
    badge = page.locator("#sync-status .badge-text")
    page.wait_for_function(
        "() => document.querySelector('#sync-status .badge-text').textContent.includes('last sync')"
    )
    assert "All synced" in badge.inner_text()

    block_sync(page)
    page.click("[data-act=open]")
    for _ in range(3):
        page.click(f"[data-act=tally][data-goal='{goal}'][data-delta='1']")
    wait_saved(page)
    page.wait_for_function("() => document.querySelector('#sync-status').dataset.pending === '4'")
    assert "4 not yet synced" in badge.inner_text()
    assert "last sync" in badge.inner_text()

    unblock_sync(page)
    wait_synced(page)
    page.wait_for_function("() => document.querySelector('#sync-status').dataset.pending === '0'")
    assert "All synced" in badge.inner_text()
