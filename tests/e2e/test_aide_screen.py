"""The aide's session screen on a 390 x 844 phone, point by point ("The loop as users
meet it", point 4): past sessions listed once however many loads overlap, each task
step's state, the prompt level kept across a reload and a visit elsewhere, what Undo
took back (timers and notes too), closing asked in the page and reopened before it was
sent, rating anchors, the session's notes, a sent message's draft line cleared, a
header that fits, every target at least 48 x 48 px; then the same screen in Spanish."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from playwright.sync_api import Browser, Dialog, Page
from psycopg.types.json import Jsonb

from tests.e2e.helpers import (
    block_sync,
    login,
    open_app,
    unblock_sync,
    wait_ready,
    wait_saved,
    wait_synced,
)
from tests.support.factories import Classroom, Factory
from tests.support.servers import AppServer

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

# Every visible control of the page, with its size (the skip link sits off screen until
# focused).
TARGETS = """() => [...document.querySelectorAll(
    'button, a[href], input, textarea, select, [role=button]')]
  .filter((e) => e.getClientRects().length && !e.classList.contains('skip-link'))
  .map((e) => { const r = e.getBoundingClientRect();
    return [e.dataset.act || e.id || e.textContent.trim().slice(0, 30), r.width, r.height]; })"""

# The header: nothing wider than the screen, no text spilling out of its box.
HEADER = """() => {
  const out = [];
  for (const e of document.querySelectorAll('.app-top, .app-top > *, .app-top nav a')) {
    if (!e.getClientRects().length) continue;
    const r = e.getBoundingClientRect();
    if (r.right > window.innerWidth + 0.5 || r.left < -0.5 || e.scrollWidth > e.clientWidth + 1)
      out.push([e.id || e.className || e.tagName, r.left, r.right, e.scrollWidth, e.clientWidth]);
  }
  return out;
}"""

OVERLAPPING_REFRESHES = """async () => {
  const { app } = await import('/static/js/app.js');
  await Promise.all([app.view.refresh(), app.view.refresh(), app.view.refresh()]);
}"""


def small_targets(page: Page) -> list[Any]:
    return [t for t in page.evaluate(TARGETS) if t[1] < 48 or t[2] < 48]


def past_session(sql: psycopg.Connection[Any], room: Classroom, days: int, status: str) -> str:
    sid = str(uuid.uuid4())
    opened = datetime.now(UTC) - timedelta(days=days)
    sql.execute(
        """INSERT INTO data_session (id, school_id, student_id, staff_id, opened_at, closed_at,
                                     review_status)
           VALUES (%s, %s, %s, %s, %s, %s, %s)""",
        (sid, room.student.school_id, room.student.id, room.aide.id, opened, opened, status),
    )
    return sid


def test_the_aide_screen_point_by_point(
    e2e_server: AppServer, sql: psycopg.Connection[Any], browser: Browser
) -> None:
    factory = Factory(sql)
    room = factory.classroom()
    goals = room.student.goals
    base = e2e_server.base_url
    sql.execute(
        "UPDATE goal SET rating_anchors = %s WHERE id = %s",
        (Jsonb(["not yet", "", "with help", "", "", "on their own"]), goals["rating"]),
    )
    past = [past_session(sql, room, 3, "approved"), past_session(sql, room, 2, "pending")]
    thread = sql.execute(
        "INSERT INTO message_thread (school_id, student_id, subject, created_by) "
        "VALUES (%s, %s, 'Maya team', %s) RETURNING id",
        (factory.school_id, room.student.id, room.teacher.id),
    ).fetchone()
    assert thread is not None
    ctx = browser.new_context(**PHONE)
    dialogs: list[str] = []
    try:
        page = ctx.new_page()

        def refuse(dialog: Dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", refuse)
        login(page, base, room.aide)
        open_app(page, base)
        wait_synced(page)
        assert small_targets(page) == []
        assert page.evaluate(HEADER) == []
        page.click(f"a[data-student='{room.student.id}']")
        page.wait_for_selector("[data-act=open]")

        # 1. Past sessions are listed once, however many loads overlap.
        page.evaluate(OVERLAPPING_REFRESHES)
        assert page.locator(".history-card").count() == 1
        assert sorted(
            page.eval_on_selector_all(".history li", "ls => ls.map(l => l.dataset.session)")
        ) == sorted(past)
        page.click("[data-act=open]")
        page.wait_for_selector(".session-bar")
        page.evaluate(OVERLAPPING_REFRESHES)
        assert page.locator(".history li").count() == 2

        # 2. Each task step shows its state, with the prompt level, as text.
        ta = f".card[data-goal='{goals['task_analysis']}']"

        def state(i: int) -> str:
            return page.inner_text(f"{ta} [data-step-state='{i}']")

        assert state(0) == "not yet"
        page.click(f"{ta} [data-act=prompt][data-prompt=verbal]")
        page.click(f"{ta} [data-act=step][data-step='0'][data-outcome=correct]")
        page.click(f"{ta} [data-act=step][data-step='1'][data-outcome=incorrect]")
        assert (state(0), state(1), state(2)) == ("✓ done · Verbal", "✗ missed · Verbal", "not yet")
        page.click(f"{ta} [data-act=step][data-step='1'][data-outcome=correct]")
        assert state(1) == "✓ done · Verbal"

        # 3. The prompt level is kept per goal, shown on the trial buttons, and restored
        # after a reload and after going elsewhere and coming back.
        tr = f".card[data-goal='{goals['trials']}']"
        page.click(f"{tr} [data-act=prompt][data-prompt=model]")
        assert page.inner_text(f"{tr} [data-outcome=correct] .tap-prompt") == "Prompt: Model"
        wait_saved(page)
        page.reload()
        wait_ready(page)
        page.wait_for_selector(".session-bar")
        assert page.get_attribute(f"{tr} [data-prompt=model]", "aria-pressed") == "true"
        assert page.get_attribute(f"{ta} [data-prompt=verbal]", "aria-pressed") == "true"
        assert page.inner_text(f"{tr} [data-outcome=incorrect] .tap-prompt") == "Prompt: Model"
        page.click("#nav-students")
        page.click(f"a[data-student='{room.student.id}']")
        page.wait_for_selector(".session-bar")
        assert page.get_attribute(f"{tr} [data-prompt=model]", "aria-pressed") == "true"
        page.click(f"{tr} [data-act=trial][data-outcome=incorrect]")

        # 4. Undo says what it took back, timers and notes included.
        status = "#undo-status"
        assert page.get_attribute(status, "role") == "status"
        page.click(f"{tr} [data-act=trial][data-outcome=correct]")
        page.click("[data-act=undo]")
        assert page.inner_text(status) == "Undone: ✓ correct, Communication"
        timer = f"[data-act=timer][data-goal='{goals['duration']}']"
        page.click(timer)
        assert "Stop" in page.inner_text(timer)
        page.click("[data-act=undo]")
        assert page.inner_text(status) == "Undone: timer start, Attention"
        assert "Start" in page.inner_text(timer)
        page.click(timer)
        page.click(timer)
        page.click("[data-act=undo]")
        assert page.inner_text(status) == "Undone: timer stop, Attention"
        assert "Stop" in page.inner_text(timer)  # running again
        page.click(timer)
        assert "Start" in page.inner_text(timer)

        # 7. Notes are listed in the note card, each with its own Undo.
        for text in ("Asked for a break", "Used the card twice"):
            page.fill("#note-text", text)
            page.click("[data-act=note]")
        notes = ".note-list .note-body"
        assert page.locator(notes).all_inner_texts() == ["Asked for a break", "Used the card twice"]
        page.click(".note-list li:first-child [data-act=undo-note]")
        assert page.locator(notes).all_inner_texts() == ["Used the card twice"]
        assert page.inner_text(status) == "Undone: note “Asked for a break”"
        page.fill("#note-text", "Calm after lunch")
        page.click("[data-act=note]")
        page.click("[data-act=undo]")
        assert page.inner_text(status) == "Undone: note “Calm after lunch”"
        assert page.locator(notes).all_inner_texts() == ["Used the card twice"]

        # 6. Rating anchors under the buttons.
        anchors = page.locator(
            f".card[data-goal='{goals['rating']}'] .anchors li"
        ).all_inner_texts()
        assert anchors == ["0 = not yet", "2 = with help", "5 = on their own"]

        assert small_targets(page) == []
        assert page.evaluate(HEADER) == []

        # 5. Close is away from Undo, asks in the page, and can be reopened until sent.
        assert page.locator(".session-bar [data-act=close]").count() == 0
        after_notes = page.evaluate(
            """() => { const c = document.querySelector('[data-act=close]');
                return !!(document.querySelector('.card.note').compareDocumentPosition(c)
                          & Node.DOCUMENT_POSITION_FOLLOWING); }"""
        )
        assert after_notes
        page.evaluate("() => window.scrollTo(0, 0)")
        undo_box = page.locator("[data-act=undo]").bounding_box()
        close_box = page.locator("[data-act=close]").bounding_box()
        assert undo_box is not None
        assert close_box is not None
        assert close_box["y"] - undo_box["y"] > 400  # at the end of the session, not beside
        block_sync(page)
        page.click("[data-act=close]")
        assert "Close this session?" in page.inner_text(".session-end")
        assert small_targets(page) == []
        page.click("[data-act=close-no]")
        assert page.locator(".session-bar").count() == 1
        page.click("[data-act=close]")
        page.click("[data-act=close-yes]")
        page.wait_for_selector("[data-act=reopen]")
        assert page.locator(".history li").count() == 3
        page.click("[data-act=reopen]")
        page.wait_for_selector(".session-bar")
        assert page.locator(".history li").count() == 2
        assert page.locator(notes).all_inner_texts() == ["Used the card twice"]
        unblock_sync(page)
        wait_synced(page)  # the close and the reopen reach the server together
        open_row = sql.execute(
            "SELECT review_status, closed_at FROM data_session "
            "WHERE student_id = %s AND id <> ALL(%s::uuid[])",
            (room.student.id, past),
        ).fetchone()
        assert open_row == ("open", None)
        page.click("[data-act=close]")
        page.click("[data-act=close-yes]")
        wait_synced(page)
        page.wait_for_selector(".closed-sent")
        assert "teacher’s review queue" in page.inner_text(".closed-card")
        assert page.locator("[data-act=reopen]").count() == 0
        assert dialogs == []
        row = sql.execute(
            "SELECT review_status, closed_at IS NOT NULL FROM data_session "
            "WHERE student_id = %s AND id <> ALL(%s::uuid[])",
            (room.student.id, past),
        ).fetchone()
        assert row == ("pending", True)
        trials = sql.execute(
            "SELECT outcome, prompt FROM observation o WHERE goal_id = %s AND kind = 'trial' "
            "AND NOT EXISTS (SELECT FROM observation u WHERE u.voids_op_id = o.op_id)",
            (goals["trials"],),
        ).fetchall()
        assert trials == [("incorrect", "model")]

        # 8. A sent message's draft line goes away with the draft.
        page.goto(f"{base}/app/messages/{thread[0]}")
        wait_ready(page)
        page.fill("#draft", "See you at pickup")
        page.wait_for_function("() => document.querySelector('#draft-status').textContent !== ''")
        assert page.inner_text("#draft-status") == "Draft saved on this device"
        page.click("#send")
        page.wait_for_selector(".message.mine")
        wait_saved(page)
        assert page.inner_text("#draft-status") == ""
        assert small_targets(page) == []
        assert page.evaluate(HEADER) == []
    finally:
        ctx.close()


def test_the_aide_screen_in_spanish(
    e2e_server: AppServer, sql: psycopg.Connection[Any], browser: Browser
) -> None:
    factory = Factory(sql)
    room = factory.classroom()
    aide = factory.user("aide", language="es")
    factory.assign(aide, room.student)
    goals = room.student.goals
    base = e2e_server.base_url
    ctx = browser.new_context(**PHONE)
    try:
        page = ctx.new_page()
        login(page, base, aide)
        open_app(page, base, f"/app/student/{room.student.id}")
        page.wait_for_selector("[data-act=open]")
        assert page.inner_text("#logout") == "Cerrar sesión"
        assert page.evaluate(HEADER) == []
        page.click("[data-act=open]")
        page.wait_for_selector(".session-bar")
        tr = f".card[data-goal='{goals['trials']}']"
        ta = f".card[data-goal='{goals['task_analysis']}']"
        assert page.inner_text(f"{tr} [data-prompt=independent]") == "Independiente"
        assert page.inner_text(f"{tr} [data-outcome=correct] .tap-prompt") == "Apoyo: Independiente"
        assert page.inner_text(f"{ta} [data-step-state='0']") == "todavía no"
        page.click(f"{ta} [data-act=prompt][data-prompt=partial_physical]")
        page.click(f"{ta} [data-act=step][data-step='0'][data-outcome=correct]")
        assert page.inner_text(f"{ta} [data-step-state='0']") == "✓ hecho · Físico parcial"
        page.click("[data-act=undo]")
        assert page.inner_text("#undo-status") == "Deshecho: paso 1 ✓, Daily living"
        assert page.inner_text("[data-act=undo]") == "Deshacer lo último"
        anchors = page.locator(
            f".card[data-goal='{goals['rating']}'] .anchors li"
        ).all_inner_texts()
        assert anchors == ["0 = todavía no", "5 = sin ayuda"]
        assert page.inner_text("label[for=note-text]") == "Nota"
        page.fill("#note-text", "Tranquila")
        page.click("[data-act=note]")
        assert page.inner_text(".note-list [data-act=undo-note]").startswith("Deshacer")
        page.click("[data-act=close]")
        assert page.inner_text("#close-ask").startswith("¿Cerrar esta sesión?")
        assert page.inner_text("[data-act=close-yes]") == "Sí, cerrarla"
        assert small_targets(page) == []
        # The student list, and the way to the language setting, speak Spanish too.
        open_app(page, base, "/app")
        page.wait_for_selector("#account-link")
        assert page.inner_text("main h1") == "Sus estudiantes"
        assert page.inner_text("#account-link") == "Idioma, zona horaria y cuenta"
        assert page.get_attribute("#account-link", "href") == "/account"
    finally:
        ctx.close()
