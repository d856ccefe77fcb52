"""Background Sync: taps queued while the server was away are sent by the service
worker's `sync` event with no tab of the app open (Chromium; other browsers flush on
start, `online`, visibility and a timer, covered by the other tests)."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from playwright.sync_api import BrowserContext

from tests.e2e.helpers import login, open_app, pending, server_down, wait_controlled, wait_saved
from tests.support.factories import Factory
from tests.support.servers import AppServer


def test_service_worker_sync_event_flushes_the_outbox_with_no_tab_open(
    app_url: str,
    e2e_server: AppServer,
    factory: Factory,
    context: BrowserContext,
    sql: psycopg.Connection[Any],
) -> None:
    room = factory.classroom()
    goal = room.student.goals["frequency"]
    page = context.new_page()
    login(page, app_url, room.aide)
    open_app(page, app_url, f"/app/student/{room.student.id}")
    wait_controlled(page)
    page.wait_for_selector("[data-act=open]")

    e2e_server.stop()
    try:
        server_down(page, app_url)
        page.click("[data-act=open]")
        for _ in range(5):
            page.click(f"[data-act=tally][data-goal='{goal}'][data-delta='1']")
        wait_saved(page)
        assert pending(page) == 6  # the session's opening and five taps
        page.close()  # no tab of the app is open from here on
    finally:
        e2e_server.start()

    # The browser fires `sync` when connectivity returns; DevTools can fire it on demand.
    registrations: list[dict[str, Any]] = []
    blank = context.new_page()  # a page outside the app (no app code runs in it)
    page_cdp = context.new_cdp_session(blank)
    page_cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    page_cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not any(r["scopeURL"] == app_url + "/" for r in registrations):
        assert time.monotonic() < deadline, f"no service worker registration: {registrations}"
        blank.wait_for_timeout(100)
    reg = next(r for r in registrations if r["scopeURL"] == app_url + "/")
    assert sql.execute(
        "SELECT count(*) FROM observation WHERE user_id = %s", (room.aide.id,)
    ).fetchone() == (0,)
    page_cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": app_url,
            "registrationId": reg["registrationId"],
            "tag": "tandem-outbox",
            "lastChance": False,
        },
    )
    deadline = time.monotonic() + 20
    total: Any = None
    while time.monotonic() < deadline:
        total = sql.execute(
            "SELECT count(*), coalesce(sum(delta), 0) FROM observation WHERE user_id = %s",
            (room.aide.id,),
        ).fetchone()
        if total == (5, 5):
            break
        time.sleep(0.2)
    assert total == (5, 5)
