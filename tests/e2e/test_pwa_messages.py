"""Messages on the phone: a parent in Spanish, a draft kept through an app kill, a reply
queued offline and sent later, and a draft edited on two devices shown as a conflict."""

from __future__ import annotations

from typing import Any

import psycopg
from playwright.sync_api import Browser, BrowserContext, Page

from tests.e2e.conftest import PHONE
from tests.e2e.helpers import (
    axe_violations,
    block_sync,
    login,
    open_app,
    pending,
    unblock_sync,
    wait_saved,
    wait_synced,
)
from tests.support.factories import Factory, User


def make_thread(sql: psycopg.Connection[Any], factory: Factory, student_id: int, by: User) -> int:
    row = sql.execute(
        "INSERT INTO message_thread (school_id, student_id, subject, created_by) "
        "VALUES (%s, %s, 'Equipo de Maya', %s) RETURNING id",
        (factory.school_id, student_id, by.id),
    ).fetchone()
    assert row is not None
    return int(row[0])


def open_thread(page: Page, base_url: str, thread_id: int) -> None:
    open_app(page, base_url, "/app/messages")
    page.wait_for_selector(f"a[data-thread='{thread_id}']")
    page.click(f"a[data-thread='{thread_id}']")
    page.wait_for_selector("#draft")


def test_parent_draft_survives_a_kill_and_a_reply_queued_offline_is_sent(
    app_url: str, factory: Factory, context: BrowserContext, sql: psycopg.Connection[Any]
) -> None:
    teacher = factory.user("teacher")
    parent = factory.user("parent", language="es")
    student = factory.student("Maya")
    factory.caseload(teacher, student)
    factory.guardian(parent, student)
    thread = make_thread(sql, factory, student.id, teacher)

    page = context.new_page()
    login(page, app_url, parent, next_path="/app")
    page.wait_for_url(f"{app_url}/parent")  # online, the app opens on the family's page
    open_app(page, app_url, "/app/messages")
    assert page.inner_text("h1") == "Mensajes"
    assert page.get_attribute("#nav-notes", "href") == "/parent"
    assert page.get_attribute("html", "lang") == "es"
    open_thread(page, app_url, thread)
    assert axe_violations(page) == []
    block_sync(context)
    page.fill("#draft", "Hola, Maya durmió poco")
    page.wait_for_selector("#draft-status:has-text('Borrador guardado')")
    wait_saved(page)
    page.close()

    page = context.new_page()  # the app was killed; the draft is still there
    open_thread(page, app_url, thread)
    assert page.input_value("#draft") == "Hola, Maya durmió poco"
    page.fill("#draft", "Hola, Maya durmió poco anoche.")
    page.click("#send")
    page.wait_for_selector("li.message.pending:has-text('pendiente de envío')")
    assert page.input_value("#draft") == ""
    wait_saved(page)
    assert pending(page) >= 1
    assert sql.execute(
        "SELECT count(*) FROM message WHERE thread_id = %s", (thread,)
    ).fetchone() == (0,)

    unblock_sync(context)
    wait_synced(page)
    rows = sql.execute(
        "SELECT author_id, body FROM message WHERE thread_id = %s", (thread,)
    ).fetchall()
    assert rows == [(parent.id, "Hola, Maya durmió poco anoche.")]
    page.wait_for_selector("li.message:not(.pending):has-text('anoche')")


def test_draft_edited_on_two_devices_shows_both_texts(
    app_url: str, factory: Factory, browser: Browser, sql: psycopg.Connection[Any]
) -> None:
    room = factory.classroom()
    thread = make_thread(sql, factory, room.student.id, room.teacher)
    phones: list[BrowserContext] = [browser.new_context(**PHONE) for _ in range(2)]  # type: ignore[arg-type]
    try:
        pages = [ctx.new_page() for ctx in phones]
        for page in pages:
            login(page, app_url, room.teacher)
            open_thread(page, app_url, thread)
        first, second = pages
        block_sync(phones[1])  # the second phone is offline for now
        first.fill("#draft", "Text typed on the first phone")
        second.fill("#draft", "Text typed on the second phone")
        wait_saved(first)
        wait_saved(second)
        first.wait_for_timeout(1700)  # the debounced save to the outbox
        wait_synced(first)
        unblock_sync(phones[1])
        second.evaluate("() => document.activeElement.blur()")
        wait_synced(second)
        conflict = second.wait_for_selector("#draft-conflict")
        assert conflict is not None
        assert axe_violations(second) == []
        assert "Text typed on the first phone" in conflict.inner_text()
        assert second.input_value("#draft") == "Text typed on the second phone"
        row = sql.execute(
            "SELECT body, conflict_body FROM message_draft WHERE thread_id = %s AND user_id = %s",
            (thread, room.teacher.id),
        ).fetchone()
        assert row == ("Text typed on the second phone", "Text typed on the first phone")
        second.click("#keep-mine")
        wait_synced(second)
        row = sql.execute(
            "SELECT body, conflict_body FROM message_draft WHERE thread_id = %s AND user_id = %s",
            (thread, room.teacher.id),
        ).fetchone()
        assert row == ("Text typed on the second phone", None)
    finally:
        for ctx in phones:
            ctx.close()
