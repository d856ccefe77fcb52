"""Read receipts come from a page a person has in view, never from a GET: opening a
progress note in Chromium records the parent's read (the page posts it under the CSP),
fetching the same page over plain HTTP does not."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from playwright.sync_api import BrowserContext

from tests.access.review import make_session, trials
from tests.e2e.helpers import login
from tests.support.client import ApiClient
from tests.support.factories import Factory
from tests.support.notes import publish_form
from tests.support.servers import AppServer


def note_reads(sql: psycopg.Connection[Any], note_id: int) -> list[int]:
    rows = sql.execute(
        "SELECT user_id FROM progress_note_read WHERE note_id = %s ORDER BY user_id", (note_id,)
    ).fetchall()
    return [int(r[0]) for r in rows]


def test_opening_a_note_in_the_browser_records_the_read_and_a_plain_get_does_not(
    e2e_server: AppServer, sql: psycopg.Connection[Any], context: BrowserContext
) -> None:
    base = e2e_server.base_url
    factory = Factory(sql)
    room = factory.classroom()
    dad = factory.user("parent")
    factory.guardian(dad, room.student)
    approved = make_session(sql, room.student, room.aide, status="approved")
    trials(sql, approved, room.student, room.aide, [("correct", "independent")])
    with ApiClient(base) as teacher:
        teacher.login(room.teacher.email)
        r = publish_form(teacher, room.student.id, [approved])
        assert r.status_code in (302, 303)
    row = sql.execute(
        "SELECT id FROM progress_note WHERE student_id = %s", (room.student.id,)
    ).fetchone()
    assert row is not None
    note_id = int(row[0])

    # A prefetcher, a mail scanner, a link preview: a logged-in GET of the page.
    with ApiClient(base) as plain:
        plain.login(dad.email)
        page_html = plain.get(f"/parent/notes/{note_id}", headers={"accept": "text/html"})
        assert page_html.status_code == 200
    time.sleep(0.3)
    assert note_reads(sql, note_id) == []

    errors: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login(page, base, room.parent, next_path=f"/parent/notes/{note_id}")
    page.wait_for_selector("[data-read-receipt][data-read-recorded]", timeout=10_000)
    assert note_reads(sql, note_id) == [room.parent.id]
    assert errors == []  # no CSP violation, no failed request
