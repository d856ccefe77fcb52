"""The whole loop in real Chromium: an aide records offline → syncs → the teacher
approves and publishes → the parent's push is sent (decrypted by the local push service,
delivered to the parent's service worker) → the parent opens the note from the
notification → replies in the app → the teacher sees the reply."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from playwright.sync_api import Browser

from tests.e2e.helpers import login, open_app, server_down, wait_controlled, wait_synced
from tests.e2e.test_push import (
    STUB,
    deliver_and_wait,
    notifications,
    push_server,
    push_service,
)
from tests.integration.test_push import run_worker
from tests.support.factories import Factory
from tests.support.push_service import PushService
from tests.support.servers import AppServer

__all__ = ["push_server", "push_service"]

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}


def test_aide_offline_to_parent_push_and_reply(
    push_server: AppServer,
    push_service: PushService,
    sql: psycopg.Connection[Any],
    database_url: str,
    browser: Browser,
) -> None:
    room = Factory(sql).classroom()
    base = push_server.base_url
    trials_goal = room.student.goals["trials"]

    # The parent turns notifications on (the subscription is the local push service's).
    sub = push_service.new_subscription()
    parent_ctx = browser.new_context(**PHONE)
    parent_ctx.grant_permissions(["notifications"], origin=base)
    parent_ctx.add_init_script(STUB % json.dumps(sub.as_json()))
    aide_ctx = browser.new_context(**PHONE)
    teacher_ctx = browser.new_context()
    try:
        parent = parent_ctx.new_page()
        login(parent, base, room.parent, next_path="/parent/settings")
        parent.click("[data-enable-notifications]")
        parent.wait_for_selector("[data-push-status][data-state='subscribed']", timeout=20_000)

        # 1. The aide records with no server at all, then syncs when it is back.
        aide = aide_ctx.new_page()
        login(aide, base, room.aide)
        open_app(aide, base)
        wait_controlled(aide)
        aide.wait_for_selector(f"a[data-student='{room.student.id}']")
        push_server.stop()
        try:
            server_down(aide, base)
            aide.click(f"a[data-student='{room.student.id}']")
            aide.click("[data-act=open]")
            for prompt, outcome in (
                ("independent", "correct"),
                ("verbal", "correct"),
                ("verbal", "incorrect"),
            ):
                aide.click(f"[data-act=prompt][data-goal='{trials_goal}'][data-prompt='{prompt}']")
                aide.click(f"[data-act=trial][data-goal='{trials_goal}'][data-outcome={outcome}]")
            aide.click("[data-act=close]")
            aide.click("[data-act=close-yes]")  # the confirm is in the page
            aide.wait_for_timeout(300)
        finally:
            push_server.start()
        wait_synced(aide)
        session = sql.execute(
            "SELECT id, review_status, captured_offline FROM data_session WHERE student_id = %s",
            (room.student.id,),
        ).fetchone()
        assert session is not None
        assert session[1] == "pending"

        # 2. The teacher reviews it (provenance shown), approves and publishes a note.
        teacher = teacher_ctx.new_page()
        login(teacher, base, room.teacher, next_path="/teacher/review")
        card = teacher.locator(
            "li.review-card", has=teacher.locator(f"input[value='{session[0]}']")
        )
        assert "2/3 correct" in card.inner_text()
        assert ("Recorded offline" in card.inner_text()) == session[2]
        card.locator("input[type=checkbox][name=session_id]").check()
        teacher.click("text=Approve selected sessions")
        teacher.wait_for_url(f"**/teacher/review/students/{room.student.id}/notes**")
        teacher.fill("#comment", "Maya asked for a break with her card twice!")
        teacher.click("text=Publish to the family")
        teacher.wait_for_selector("text=Progress note published")
        note_id = sql.execute(
            "SELECT id FROM progress_note WHERE student_id = %s", (room.student.id,)
        ).fetchone()
        assert note_id is not None

        # 3. The push goes out; the parent's phone shows it; a tap opens the note.
        run_worker(database_url, push_service)
        [push] = push_service.wait_for(sub, 1)
        assert push.error is None
        assert push.payload is not None
        assert push.payload["url"] == f"/parent/notes/{note_id[0]}"
        parent.goto(base + "/parent")
        parent.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=15_000)
        deliver_and_wait(parent, base, push.payload)
        [worker] = [w for w in parent_ctx.service_workers if w.url.endswith("/sw.js")]
        worker.evaluate(
            """async () => {
                const [n] = await self.registration.getNotifications();
                self.dispatchEvent(new NotificationEvent('notificationclick', {notification: n}));
            }"""
        )
        parent.wait_for_url(f"{base}/parent/notes/{note_id[0]}", timeout=10_000)
        text = parent.text_content("main") or ""
        assert "Maya asked for a break with her card twice!" in text
        assert "Practised 3 times in 1 session: 2 correct (67%)." in text
        assert notifications(parent) == []

        # 4. The parent replies from the note, lands back on it; the teacher sees it.
        parent.click("#reply")
        parent.wait_for_selector("#body", timeout=20_000)
        parent.fill("#body", "Thank you! She does that at home too.")
        parent.click("form.card button[type=submit]")
        parent.wait_for_url(f"{base}/parent/notes/{note_id[0]}?replied=1")
        assert "Your reply was sent." in (parent.text_content("main") or "")
        teacher.goto(base + "/messages")
        teacher.click("text=Maya's team")
        assert "Thank you! She does that at home too." in (teacher.text_content("main") or "")
    finally:
        for ctx in (parent_ctx, aide_ctx, teacher_ctx):
            ctx.close()
