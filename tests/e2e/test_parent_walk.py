"""A Spanish-reading parent on a phone, one walk over every screen: no English string of
the catalog anywhere, times local to the parent and no ISO dates or "UTC", every target
at least 48x48 px (inline links in sentences excepted), no serious axe violation, the
note reachable from the installed app, the reply flow returning to the note, and a
clear word when the browser cannot receive notifications."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import psycopg
from babel.messages.pofile import read_po
from playwright.sync_api import BrowserContext, Page

from server import i18n
from tests.access.review import make_session, trials
from tests.e2e.helpers import axe_violations, login
from tests.support.client import ApiClient
from tests.support.factories import Factory
from tests.support.notes import publish_form
from tests.support.servers import AppServer

PLACEHOLDER = re.compile(r"%\(\w+\)s|%%")


def english_fragments() -> list[str]:
    """Every stretch of English words of a msgid whose Spanish differs (placeholders cut
    out), long enough not to be a Spanish word by chance."""
    with i18n.po_path("es").open("rb") as f:
        catalog = read_po(f, locale="es")
    out = set()
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple | list) else (m.id,)
        forms = m.string if isinstance(m.string, tuple | list) else (m.string,)
        for msgid in ids:
            if msgid in forms:
                continue
            for part in PLACEHOLDER.split(msgid):
                part = part.strip(" .,:;()")
                if (len(part) >= 6 and " " in part) or part in ("Back", "Send", "Save", "New"):
                    out.add(part)
    return sorted(out)


ENGLISH = english_fragments()
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def check_screen(page: Page, where: str) -> None:
    text = page.inner_text("body")
    english = [p for p in ENGLISH if re.search(r"\b" + re.escape(p) + r"\b", text)]
    assert not english, f"{where}: English on a Spanish screen: {english}"
    assert "UTC" not in text, where
    assert not ISO_DATE.search(text), f"{where}: an ISO date: {ISO_DATE.search(text)}"
    small = page.evaluate(
        """() => [...document.querySelectorAll(
                'a:not(.skip-link), button, select, textarea, input:not([type=hidden]):not([type=radio]), .choice')]
              .filter((el) => el.offsetParent !== null)
              .filter((el) => !(el.tagName === 'A' && el.closest('p, li') &&
                                !el.classList.contains('btn') && el.closest('p:not(.hint), li') &&
                                el.parentElement.textContent.trim() !== el.textContent.trim()))
              .map((el) => [el.outerHTML.slice(0, 80), el.getBoundingClientRect()])
              .filter(([, r]) => r.width < 47.5 || r.height < 47.5)
              .map(([html, r]) => `${html} ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )
    assert not small, f"{where}: targets under 48 px: {small}"
    assert axe_violations(page) == [], where


def test_a_spanish_parent_walks_every_screen(
    e2e_server: AppServer, sql: psycopg.Connection[Any], context: BrowserContext
) -> None:
    f = Factory(sql)
    room = f.classroom()
    sql.execute(
        "UPDATE app_user SET language = 'es', timezone = 'America/Chicago' WHERE id = %s",
        (room.parent.id,),
    )
    base = e2e_server.base_url
    sid = make_session(sql, room.student, room.aide, status="approved")
    trials(sql, sid, room.student, room.aide, [("correct", "independent"), ("incorrect", "model")])
    sent_at = datetime(2026, 11, 30, 15, 5, tzinfo=UTC)  # 9:05 in Chicago
    with ApiClient(base) as teacher:
        teacher.login(room.teacher.email)
        assert publish_form(teacher, room.student.id, [sid]).status_code in (302, 303)
    thread = sql.execute(
        "SELECT id FROM message_thread WHERE student_id = %s", (room.student.id,)
    ).fetchone()
    assert thread is not None
    sql.execute(
        """INSERT INTO message (id, school_id, thread_id, student_id, author_id, body, sent_at)
           SELECT gen_random_uuid(), school_id, id, student_id, %s, 'Hola desde la escuela', %s
             FROM message_thread WHERE id = %s""",
        (room.teacher.id, sent_at, thread[0]),
    )
    note = sql.execute(
        "SELECT id FROM progress_note WHERE student_id = %s", (room.student.id,)
    ).fetchone()
    assert note is not None

    context.grant_permissions(["notifications"], origin=base)
    page = context.new_page()
    login(page, base, room.parent, next_path="/parent")
    check_screen(page, "/parent")
    page.click(f"a[href='/parent/notes/{note[0]}']")
    page.wait_for_url(f"**/parent/notes/{note[0]}")
    check_screen(page, "note")
    assert "Practicó 2 veces en 1 sesión: 1 correcta (50 %)." in page.inner_text("main")

    # The reply flow goes to the conversation and comes back to the note.
    page.click("#reply")
    page.wait_for_url(f"**/parent/messages/{thread[0]}?note={note[0]}")
    check_screen(page, "thread")
    assert "30 nov 2026, 9:05" in page.inner_text("main")  # the parent's own time
    assert page.inner_text("a.btn >> nth=0").endswith("Volver a la nota")
    page.fill("#body", "¡Gracias!")
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"**/parent/notes/{note[0]}?replied=1")
    assert "Su respuesta se envió." in page.inner_text("main")

    for path in (f"/parent/students/{room.student.id}", "/parent/messages", "/parent/settings"):
        page.goto(base + path)
        check_screen(page, path)
    # Time zones are chosen from a list, named in Spanish.
    assert "hora de Estados Unidos (Chicago)" in page.inner_text("#timezone")
    # Headless Chromium has no push service: said plainly, in Spanish.
    page.click("[data-enable-notifications]")
    page.wait_for_selector("[data-push-status][data-state='no-service']", timeout=15_000)
    assert "no pudo conectarse con su servicio de notificaciones" in page.inner_text(
        "[data-push-status]"
    )

    # The installed app (its start URL is /app) reaches the notes from every screen.
    page.goto(base + "/app")
    page.wait_for_url(f"{base}/parent", timeout=15_000)
    page.goto(base + "/app/messages")
    page.wait_for_selector("#nav-notes:not([hidden])")
    assert page.inner_text("#nav-notes") == "Notas de progreso"
    assert page.get_attribute("#nav-notes", "href") == "/parent"
    assert page.get_attribute("#nav-settings", "href") == "/parent/settings"
