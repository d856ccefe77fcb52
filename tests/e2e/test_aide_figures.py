"""A figure on the aide's phone is the same figure on the teacher's review page: a mixed
session (an incorrect and an unanswered trial marked Independent, a prompted correct one,
an undone tap, a timer run) reads "1 independent" and the same number of entries on both."""

from __future__ import annotations

from typing import Any

import psycopg
from playwright.sync_api import Browser

from tests.e2e.helpers import login, open_app, wait_controlled, wait_synced
from tests.support.factories import Factory
from tests.support.servers import AppServer

ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
}


def test_the_aide_and_the_teacher_read_the_same_figures(
    e2e_server: AppServer, sql: psycopg.Connection[Any], browser: Browser
) -> None:
    room = Factory(sql).classroom()
    base = e2e_server.base_url
    goal = room.student.goals["trials"]
    aide_ctx = browser.new_context(**PHONE)
    teacher_ctx = browser.new_context(**PHONE)
    try:
        aide = aide_ctx.new_page()
        # A Pixel 8: its user agent no longer names the model, its client hints do.
        aide_ctx.new_cdp_session(aide).send(
            "Emulation.setUserAgentOverride",
            {
                "userAgent": ANDROID_CHROME,
                "userAgentMetadata": {
                    "platform": "Android",
                    "platformVersion": "14.0.0",
                    "architecture": "",
                    "model": "Pixel 8",
                    "mobile": True,
                },
            },
        )
        login(aide, base, room.aide)
        open_app(aide, base)
        wait_controlled(aide)
        aide.click(f"a[data-student='{room.student.id}']")
        aide.click("[data-act=open]")
        for prompt, outcome in (
            ("independent", "correct"),
            ("independent", "incorrect"),
            ("independent", "no_response"),
            ("verbal", "correct"),
            ("independent", "correct"),
        ):
            aide.click(f"[data-act=prompt][data-goal='{goal}'][data-prompt='{prompt}']")
            aide.click(f"[data-act=trial][data-goal='{goal}'][data-outcome={outcome}]")
        aide.click("[data-act=undo]")  # the last correct, independent trial
        line = aide.locator(f".card[data-goal='{goal}'] .card-sum")
        assert line.inner_text() == "2/4 correct · 1 independent"
        assert aide.inner_text("#entry-count") == "4 entries"
        wait_synced(aide)

        sid = sql.execute(
            "SELECT id FROM data_session WHERE student_id = %s", (room.student.id,)
        ).fetchone()
        assert sid is not None
        teacher = teacher_ctx.new_page()
        login(teacher, base, room.teacher, next_path=f"/teacher/review/sessions/{sid[0]}")
        page = teacher.inner_text("main")
        assert "2/4 correct · 1 independent" in page
        entries = teacher.locator("dt:text-is('Entries') + dd").inner_text()
        assert entries == "4"
        # The app sent the hints when it registered: the device is named for people.
        assert teacher.locator("dt:text-is('Device') + dd").inner_text() == "Pixel 8 · Chrome"
    finally:
        aide_ctx.close()
        teacher_ctx.close()
