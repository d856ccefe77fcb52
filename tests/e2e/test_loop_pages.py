"""The pages of the loop (the teacher's review and notes, message pages, every parent
page in Spanish) have no serious or critical accessibility violations (axe-core), and
fit a phone's width: nothing scrolls sideways."""

from __future__ import annotations

from typing import Any

import psycopg
from playwright.sync_api import Browser

from tests.access.review import make_session, observe, trials
from tests.e2e.helpers import axe_violations, login
from tests.support.client import ApiClient
from tests.support.factories import Factory
from tests.support.notes import publish_form
from tests.support.servers import AppServer

PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}


def test_loop_pages_are_accessible_and_fit_a_phone(
    e2e_server: AppServer, sql: psycopg.Connection[Any], browser: Browser
) -> None:
    base = e2e_server.base_url
    room = Factory(sql).classroom()
    sql.execute("UPDATE app_user SET language = 'es' WHERE id = %s", (room.parent.id,))
    pending = make_session(sql, room.student, room.aide)
    trials(
        sql, pending, room.student, room.aide, [("correct", "independent"), ("incorrect", "verbal")]
    )
    approved = make_session(sql, room.student, room.aide, status="approved")
    trials(sql, approved, room.student, room.aide, [("correct", "independent")])
    observe(
        sql,
        approved,
        room.student,
        room.aide,
        "trial",
        goal="trials",
        outcome="incorrect",
        prompt="model",
        state="proposed",
    )
    with ApiClient(base) as teacher:
        teacher.login(room.teacher.email)
        publish_form(teacher, room.student.id, [approved], "Great week!")
        opened = teacher.post(f"/messages/students/{room.student.id}", data={})
        thread = opened.headers["location"].rsplit("/", 1)[1]
        teacher.post(f"/messages/{thread}", data={"body": "Hello from school"})
    note = sql.execute(
        "SELECT id FROM progress_note WHERE student_id = %s", (room.student.id,)
    ).fetchone()
    assert note is not None
    pages = [
        (
            room.teacher,
            [
                "/teacher/review",
                f"/teacher/review/sessions/{pending}",
                f"/teacher/review/students/{room.student.id}/notes",
                "/messages",
                f"/messages/{thread}",
            ],
        ),
        (
            room.parent,
            [
                "/parent",
                f"/parent/notes/{note[0]}",
                f"/parent/students/{room.student.id}",
                "/parent/settings",
                "/parent/messages",
                f"/parent/messages/{thread}",
            ],
        ),
    ]
    failures = []
    for user, paths in pages:
        ctx = browser.new_context(**PHONE)
        try:
            page = ctx.new_page()
            login(page, base, user, next_path=paths[0])
            for path in paths:
                response = page.goto(base + path)
                assert response is not None
                assert response.status == 200, path
                found = axe_violations(page)
                failures += [f"{path}: {v['id']} ({v['impact']})" for v in found]
                # screen.width, not innerWidth: a mobile browser widens its layout
                # viewport to overflowing content and zooms out.
                width = page.evaluate("() => [document.documentElement.scrollWidth, screen.width]")
                if width[0] > width[1]:
                    failures.append(f"{path}: {width[0]} px wide on a {width[1]} px screen")
        finally:
            ctx.close()
    assert failures == []
