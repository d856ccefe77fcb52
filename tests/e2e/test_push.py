"""Web Push in real Chromium. Headless Chromium has no push service and refuses
openWindow from a synthetic click, so (DESIGN.md): pushManager.subscribe is stubbed to
return a subscription on the local push service; the server's push is decrypted there
and handed to the service worker with CDP ServiceWorker.deliverPushMessage; the click
is tested on an already-open window."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page

from tests.e2e.helpers import login
from tests.integration.test_push import publish_note, run_worker
from tests.support.client import ApiClient
from tests.support.factories import Classroom, Factory
from tests.support.push_service import LocalSubscription, PushService
from tests.support.servers import AppServer

IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)

# Counts permission prompts, and stands in for the browser's push service.
STUB = """
(() => {
  window.__permissionPrompts = 0;
  const ask = Notification.requestPermission.bind(Notification);
  Notification.requestPermission = (...args) => { window.__permissionPrompts += 1; return ask(...args); };
  const SUB = %s;
  const fake = {
    endpoint: SUB.endpoint, expirationTime: null, options: null,
    toJSON() { return SUB; }, unsubscribe() { return Promise.resolve(true); },
  };
  PushManager.prototype.subscribe = function (options) { fake.options = options; return Promise.resolve(fake); };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(null); };
})();
"""


@pytest.fixture(scope="module")
def push_service() -> Iterator[PushService]:
    service = PushService().start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def push_server(database_url: str, push_service: PushService) -> Iterator[AppServer]:
    server = AppServer(
        database_url,
        extra_env={
            "TANDEM_PUSH_ALLOWED_HOSTS": push_service.host_entry,
            "TANDEM_PUSH_ALLOW_INSECURE_LOCAL": "1",
        },
    ).start()
    yield server
    server.stop()


def stubbed_context(
    browser: Browser, base_url: str, sub: LocalSubscription, **options: Any
) -> BrowserContext:
    ctx = browser.new_context(**options)
    ctx.grant_permissions(["notifications"], origin=base_url)
    ctx.add_init_script(STUB % json.dumps(sub.as_json()))
    return ctx


def notifications(page: Page) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.evaluate(
        """async () => (await (await navigator.serviceWorker.ready).getNotifications())
              .map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data}))"""
    )
    return result


def wait_notifications(page: Page, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Poll until the worker's registration shows `count` notifications. (A predicate
    that returns a Promise is truthy at once for wait_for_function: poll from here.)"""
    deadline = time.monotonic() + timeout
    shown = notifications(page)
    while len(shown) != count and time.monotonic() < deadline:
        page.wait_for_timeout(50)
        shown = notifications(page)
    assert len(shown) == count, shown
    return shown


def deliver_and_wait(
    page: Page, base_url: str, payload: dict[str, Any], count: int = 1
) -> list[dict[str, Any]]:
    """Deliver a push and wait until the registration lists `count` notifications.

    Headless Chromium sometimes drops a notification from getNotifications() although
    the worker handled the push and showNotification() resolved (seen in about one run
    in ten: counters in the worker said push 1, shown 1, listed 0). A real push service
    redelivers until acknowledged; so does this helper, at most three times. The same
    payload carries the same tag, so a redelivery can never add a second notification.
    """
    for attempt in range(3):
        deliver(page, base_url, payload)
        try:
            return wait_notifications(page, count, timeout=4.0)
        except AssertionError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def deliver(page: Page, base_url: str, payload: dict[str, Any]) -> None:
    """What the browser's push service would do: hand the decrypted data to the worker.

    The DevTools session stays attached for the page's life: detaching it right after
    deliverPushMessage sometimes dropped the push before the worker handled it."""
    cdp = _push_sessions.get(id(page))
    if cdp is None:
        cdp = page.context.new_cdp_session(page)
        registrations: list[dict[str, Any]] = []
        cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda e: registrations.extend(e["registrations"]),
        )
        cdp.send("ServiceWorker.enable")
        deadline = time.monotonic() + 10
        while not registrations and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        live = [r for r in registrations if not r["isDeleted"] and r["scopeURL"] == base_url + "/"]
        assert live, registrations
        _push_sessions[id(page)] = cdp
        _registration_ids[id(page)] = live[0]["registrationId"]
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": base_url,
            "registrationId": _registration_ids[id(page)],
            "data": json.dumps(payload),
        },
    )


_push_sessions: dict[int, CDPSession] = {}
_registration_ids: dict[int, str] = {}


def test_subscribe_push_show_replace_and_click_to_the_note(
    push_server: AppServer,
    push_service: PushService,
    sql: psycopg.Connection[Any],
    database_url: str,
    browser: Browser,  # last: the database is made before Playwright's loop runs
) -> None:
    room = Factory(sql).classroom()
    base = push_server.base_url
    sub = push_service.new_subscription()
    ctx = stubbed_context(browser, base, sub)
    try:
        page = ctx.new_page()
        login(page, base, room.parent, next_path="/parent/settings")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__permissionPrompts") == 0  # never on page load
        page.click("[data-enable-notifications]")  # the user's tap
        page.wait_for_selector("[data-push-status][data-state='subscribed']", timeout=20_000)
        assert page.evaluate("window.__permissionPrompts") == 1
        stored = sql.execute(
            "SELECT endpoint, p256dh, auth FROM push_subscription WHERE user_id = %s",
            (room.parent.id,),
        ).fetchall()
        assert stored == [(sub.endpoint, sub.p256dh, sub.auth)]

        with ApiClient(base) as teacher:
            teacher.login(room.teacher.email)
            note_id = publish_note(sql, teacher, room, comment="Lovely week")
        run_worker(database_url, push_service)
        [push] = push_service.wait_for(sub, 1)
        assert push.error is None
        assert push.payload is not None
        assert push.payload["url"] == f"/parent/notes/{note_id}"

        page.reload()  # now controlled by the service worker, like an open app window
        page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=15_000)
        shown = deliver_and_wait(page, base, push.payload)
        assert shown == [
            {
                "title": "New progress note",
                "body": "Maya's teacher shared an update.",
                "tag": push.payload["id"],
                "data": {"url": f"/parent/notes/{note_id}"},
            }
        ]
        deliver(page, base, push.payload)  # the same notification again (a retry)
        page.wait_for_timeout(500)
        assert len(notifications(page)) == 1  # replaced, not added

        [worker] = [w for w in ctx.service_workers if w.url.endswith("/sw.js")]
        worker.evaluate(
            """async () => {
                const [n] = await self.registration.getNotifications();
                self.dispatchEvent(new NotificationEvent('notificationclick', {notification: n}));
            }"""
        )
        page.wait_for_url(f"{base}/parent/notes/{note_id}", timeout=10_000)
        assert "Lovely week" in (page.text_content("main") or "")
        assert notifications(page) == []  # the click closed it
    finally:
        ctx.close()


def test_iphone_safari_is_guided_to_the_home_screen_first(
    push_server: AppServer,
    push_service: PushService,
    sql: psycopg.Connection[Any],
    browser: Browser,
) -> None:
    room: Classroom = Factory(sql).classroom()
    sub = push_service.new_subscription()
    ctx = stubbed_context(
        browser,
        push_server.base_url,
        sub,
        user_agent=IPHONE_SAFARI,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = ctx.new_page()
        login(page, push_server.base_url, room.parent, next_path="/parent")
        page.click("[data-enable-notifications]")
        page.wait_for_selector("[data-push-status][data-state='ios-install']", timeout=10_000)
        assert "Add to Home Screen" in (page.text_content("[data-push-status]") or "")
        assert page.evaluate("window.__permissionPrompts") == 0
        count = sql.execute(
            "SELECT count(*) FROM push_subscription WHERE user_id = %s", (room.parent.id,)
        ).fetchone()
        assert count is not None
        assert count[0] == 0
    finally:
        ctx.close()
