"""One phone, two people: each user's queued ops and cached records are theirs alone, and
logout sends first and never drops unsent work without a warned confirmation."""

from __future__ import annotations

from typing import Any

import psycopg
from playwright.sync_api import BrowserContext, Dialog, Request

from tests.e2e.helpers import (
    block_sync,
    login,
    open_app,
    pending,
    unblock_sync,
    wait_saved,
    wait_synced,
)
from tests.support.factories import PASSWORD, Factory


def test_second_user_sees_nothing_of_the_first_whose_ops_sync_at_next_login(
    app_url: str, factory: Factory, context: BrowserContext, sql: psycopg.Connection[Any]
) -> None:
    room = factory.classroom()
    first = room.aide
    second = factory.user("aide")
    theirs = factory.student("Ben")
    factory.assign(second, theirs)
    trials = room.student.goals["trials"]

    page = context.new_page()
    login(page, app_url, first)
    open_app(page, app_url)
    page.wait_for_selector(f"a[data-student='{room.student.id}']")
    block_sync(context)
    page.click(f"a[data-student='{room.student.id}']")
    page.click("[data-act=open]")
    for _ in range(3):
        page.click(f"[data-act=trial][data-goal='{trials}'][data-outcome=correct]")
    wait_saved(page)
    assert pending(page) == 4
    page.close()

    sent: list[Request] = []
    context.on(
        "request",
        lambda r: sent.append(r) if r.url.endswith("/api/sync") and r.method == "POST" else None,
    )
    page = context.new_page()
    login(page, app_url, second)
    unblock_sync(context)
    open_app(page, app_url)
    page.wait_for_selector(f"a[data-student='{theirs.id}']")
    wait_synced(page)
    text = page.inner_text("body")
    assert room.student.last_name not in text
    assert pending(page) == 0
    assert all((r.post_data_json or {}).get("ops") == [] for r in sent)
    assert sql.execute(
        "SELECT count(*) FROM observation WHERE student_id = %s", (room.student.id,)
    ).fetchone() == (0,)
    assert sql.execute(
        "SELECT count(*) FROM sync_op WHERE user_id = %s", (second.id,)
    ).fetchone() == (0,)
    page.close()

    page = context.new_page()
    login(page, app_url, first)
    open_app(page, app_url)
    wait_synced(page)
    assert sql.execute(
        "SELECT count(*), min(user_id) FROM observation WHERE student_id = %s AND kind = 'trial'",
        (room.student.id,),
    ).fetchone() == (3, first.id)

    # Logout with unsent work asks first; declining keeps everything.
    block_sync(context)
    page.click(f"a[data-student='{room.student.id}']")
    page.click(f"[data-act=trial][data-goal='{trials}'][data-outcome=incorrect]")
    page.wait_for_function("() => document.querySelector('#sync-status').dataset.pending === '1'")
    dialogs: list[str] = []

    def decline(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.click("#logout")
    for _ in range(50):
        if dialogs:
            break
        page.wait_for_timeout(200)
    page.wait_for_function("() => document.querySelector('#sync-status').dataset.pending === '1'")
    assert dialogs
    assert "1" in dialogs[0]
    assert page.url.endswith(f"/app/student/{room.student.id}")

    # Logout sends first, then wipes this user's data from the phone.
    unblock_sync(context)
    with page.expect_navigation(url="**/login"):
        page.click("#logout")
    names = page.evaluate("() => indexedDB.databases().then(list => list.map(d => d.name))")
    assert f"tandem-user-{first.id}" not in names
    assert f"tandem-user-{second.id}" in names
    assert sql.execute(
        "SELECT count(*) FROM observation WHERE student_id = %s AND kind = 'trial'",
        (room.student.id,),
    ).fetchone() == (4,)


def test_expired_session_keeps_recording_and_the_same_user_sends_after_login(
    app_url: str, factory: Factory, context: BrowserContext, sql: psycopg.Connection[Any]
) -> None:
    room = factory.classroom()
    trials = room.student.goals["trials"]
    page = context.new_page()
    login(page, app_url, room.aide)
    open_app(page, app_url, f"/app/student/{room.student.id}")
    page.click("[data-act=open]")
    page.click(f"[data-act=trial][data-goal='{trials}'][data-outcome=correct]")
    wait_synced(page)

    sql.execute("DELETE FROM auth_session WHERE user_id = %s", (room.aide.id,))  # expired
    for _ in range(3):
        page.click(f"[data-act=trial][data-goal='{trials}'][data-outcome=incorrect]")
    page.evaluate("() => import('/static/js/app.js').then((m) => m.flushNow())")
    page.wait_for_selector("#login-again:not([hidden])")
    assert "Log in again to send" in page.inner_text("#sync-status")
    assert pending(page) == 3
    page.reload()  # a cold start with the session gone: still the same user's screen
    page.wait_for_selector(".session-bar")
    page.click(f"[data-act=trial][data-goal='{trials}'][data-outcome=correct]")
    wait_saved(page)
    assert pending(page) == 4

    with page.expect_navigation():
        page.click("#login-again")
    page.fill("#email", room.aide.email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    page.wait_for_selector("body[data-ready='1']")
    wait_synced(page)
    assert sql.execute(
        "SELECT count(*) FROM observation WHERE user_id = %s AND kind = 'trial'", (room.aide.id,)
    ).fetchone() == (5,)
