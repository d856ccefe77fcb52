"""Logging out from a server page (a teacher's /teacher, an aide's /messages) clears the
app's data in the browser as the app's own Log out does: every synced database is
deleted and nobody stays the device's last user, but ops not yet sent are kept, said so,
and sent when the same person logs in again."""

from __future__ import annotations

from typing import Any

import psycopg
from playwright.sync_api import BrowserContext, Page

from tests.e2e.helpers import (
    block_sync,
    login,
    open_app,
    pending,
    unblock_sync,
    wait_saved,
    wait_synced,
)
from tests.support.factories import Factory

LOCAL_STATE = """async () => {
    const names = (await indexedDB.databases()).map((d) => d.name);
    const shared = await new Promise((resolve, reject) => {
        const req = indexedDB.open('tandem-device', 1);
        req.onupgradeneeded = () => req.result.createObjectStore('device', { keyPath: 'key' });
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
    });
    const last = await new Promise((resolve) => {
        const get = shared.transaction('device').objectStore('device').get('last_user');
        get.onsuccess = () => resolve(get.result ? get.result.user.id : null);
        get.onerror = () => resolve('error');
    });
    shared.close();
    return { names, last };
}"""


def local_state(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = page.evaluate(LOCAL_STATE)
    return state


def log_out_from(page: Page, base_url: str, path: str) -> None:
    page.goto(base_url + path)
    with page.expect_navigation():
        page.click("form.logout button[type=submit]")
    assert "/login?signed_out=1" in page.url, page.url


def test_logout_from_a_server_page_deletes_the_apps_synced_data(
    app_url: str, factory: Factory, context: BrowserContext
) -> None:
    room = factory.classroom()
    page = context.new_page()
    login(page, app_url, room.teacher)
    open_app(page, app_url)
    page.wait_for_selector(f"a[data-student='{room.student.id}']")
    wait_synced(page)
    before = local_state(page)
    assert f"tandem-user-{room.teacher.id}" in before["names"]
    assert before["last"] == room.teacher.id

    log_out_from(page, app_url, "/teacher")
    page.wait_for_selector("body[data-local-data='cleared']")
    after = local_state(page)
    assert f"tandem-user-{room.teacher.id}" not in after["names"]
    assert after["last"] is None
    assert page.is_hidden("#signed-out-notice")


def test_unsent_ops_survive_a_server_page_logout_and_go_at_the_next_login(
    app_url: str, factory: Factory, context: BrowserContext, sql: psycopg.Connection[Any]
) -> None:
    room = factory.classroom()
    trials = room.student.goals["trials"]
    page = context.new_page()
    login(page, app_url, room.aide)
    open_app(page, app_url)
    page.wait_for_selector(f"a[data-student='{room.student.id}']")
    block_sync(context)
    page.click(f"a[data-student='{room.student.id}']")
    page.click("[data-act=open]")
    for _ in range(2):
        page.click(f"[data-act=trial][data-goal='{trials}'][data-outcome=correct]")
    wait_saved(page)
    unsent = pending(page)
    assert unsent == 3  # the session's opening and two trials

    log_out_from(page, app_url, "/messages")
    page.wait_for_selector("body[data-local-data='kept-unsent']")
    assert page.is_visible("#signed-out-notice")
    assert page.inner_text("#signed-out-notice [data-count]") == str(unsent)
    state = local_state(page)
    assert f"tandem-user-{room.aide.id}" in state["names"]
    assert state["last"] is None

    unblock_sync(context)
    login(page, app_url, room.aide)
    open_app(page, app_url)
    wait_synced(page)
    row = sql.execute(
        "SELECT count(*) FROM observation WHERE user_id = %s AND kind = 'trial'", (room.aide.id,)
    ).fetchone()
    assert row == (2,)
