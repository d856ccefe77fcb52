"""The teacher's pages on a phone (390x844), in one walk over a seeded classroom: one
navigation on every page that reaches review, progress notes, IEPs, families and
messages (also once the queue is empty); times in the school's zone (Chicago: 15:00 UTC
reads 9:00); no 'UTC', no ISO date, no code word; devices by name; "Recorded offline";
an empty session kept out of the queue; compact review cards; 48 px targets; axe."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from playwright.sync_api import Browser, Page

from tests.access.review import make_session, observe, trials
from tests.e2e.helpers import axe_violations, login
from tests.support.factories import Factory
from tests.support.servers import AppServer

# A real user agent of Chrome on Android (reduced: it no longer names the model).
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
# 15:00 UTC on a winter day: 9:00 AM in Chicago (CST, UTC-6).
OPENED = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
PLACES = {
    "Review": "/teacher/review",
    "Progress notes": "/teacher/notes",
    "IEPs": "/teacher",
    "Families": "/families",
    "Messages": "/messages",
}
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
CODE_WORD = re.compile(r"\b[a-z]+_[a-z_]+\b")  # no_response, timer_start, task_analysis, …

# Every visible target smaller than 48x48 px, except links inside a sentence.
SMALL_TARGETS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('a[href], button, summary, select, input, textarea')) {
    if (el.type === 'hidden') continue;
    let box = el;
    if (el.type === 'checkbox' || el.type === 'radio') box = el.closest('label') || el;
    const r = box.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right < 0) continue;  // hidden or off-screen
    if (el.tagName === 'A' && !el.classList.contains('btn')) {
      const block = el.closest('p, li, dd, td, span');
      const own = el.textContent.trim().length;
      if (block && block.textContent.trim().length > own + 2) continue;  // inline in a sentence
    }
    if (r.width < 47.5 || r.height < 47.5)
      out.push(`${el.tagName} "${(el.textContent || el.name || '').trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return out;
}"""


def _seed(sql: psycopg.Connection[Any]) -> tuple[Any, list[Any], Any]:
    f = Factory(sql)
    room = f.classroom()
    s = room.student
    aide = room.aide
    at = OPENED + timedelta(minutes=2)
    sessions = []
    # Five sessions with data, a day apart; the first recorded offline on a phone whose
    # stored label is still a raw user agent (as before devices were named).
    for day in range(5):
        opened = OPENED + timedelta(days=day)
        label = CHROME_ANDROID if day == 0 else "Pixel 8 · Chrome"
        sid = make_session(sql, s, aide, opened=opened, offline=day == 0, device_label=label)
        sessions.append(sid)
        at = opened + timedelta(minutes=2)
        trials(sql, sid, s, aide, [("correct", "independent"), ("incorrect", "verbal")])
        observe(
            sql,
            sid,
            s,
            aide,
            "trial",
            goal="trials",
            outcome="no_response",
            prompt="partial_physical",
            at=at,
        )
        observe(sql, sid, s, aide, "tally", goal="frequency", delta=1, at=at)
        timer = __import__("uuid").uuid4()
        observe(sql, sid, s, aide, "timer_start", goal="duration", timer_id=timer, at=at)
        observe(
            sql,
            sid,
            s,
            aide,
            "timer_stop",
            goal="duration",
            timer_id=timer,
            at=at + timedelta(minutes=6),
        )
        observe(sql, sid, s, aide, "rating", goal="rating", value=4, at=at)
        observe(
            sql,
            sid,
            s,
            aide,
            "step",
            goal="task_analysis",
            step_index=0,
            outcome="correct",
            prompt="independent",
            at=at,
        )
    empty = make_session(sql, s, aide, opened=OPENED + timedelta(days=5), offline=False)
    return room, sessions, empty


def _check_page(page: Page, failures: list[str], *, axe: bool = True) -> str:
    """The checks every teacher page must pass; returns the page's text."""
    where = page.url.split("//", 1)[1].split("/", 1)[1]
    text = page.inner_text("body")
    nav = page.locator("nav[aria-label='Main']")
    if nav.count() != 1:
        failures.append(f"/{where}: {nav.count()} main navigations")
    else:
        for name, href in PLACES.items():
            if nav.locator(f"a[href='{href}']", has_text=name).count() != 1:
                failures.append(f"/{where}: the navigation does not reach {name}")
    if "UTC" in text:
        failures.append(f"/{where}: says UTC")
    if ISO_DATE.search(text):
        failures.append(f"/{where}: ISO date {ISO_DATE.findall(text)[:3]}")
    codes = sorted(set(CODE_WORD.findall(text)))
    if codes:
        failures.append(f"/{where}: code words {codes}")
    if "Mozilla/" in text:
        failures.append(f"/{where}: a raw user agent")
    small = page.evaluate(SMALL_TARGETS)
    if small:
        failures.append(f"/{where}: small targets {small[:6]}")
    if axe:
        failures += [f"/{where}: axe {v['id']} ({v['impact']})" for v in axe_violations(page)]
    return text


def _go(page: Page, name: str, failures: list[str]) -> None:
    """Follow the navigation to a place (if it is missing: a failure, then go there
    directly, so that the walk still checks every page)."""
    link = page.locator("nav[aria-label='Main'] a", has_text=name)
    if link.count():
        link.first.click()
        page.wait_for_url(f"**{PLACES[name]}")
    else:
        failures.append(f"{page.url}: no link to {name}")
        page.goto(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2] + PLACES[name])


def test_teacher_pages_on_a_phone(
    e2e_server: AppServer, sql: psycopg.Connection[Any], browser: Browser
) -> None:
    base = e2e_server.base_url
    room, sessions, empty = _seed(sql)
    failures: list[str] = []
    ctx = browser.new_context(**PHONE)
    try:
        page = ctx.new_page()
        login(page, base, room.teacher, next_path="/teacher/review")

        # The queue: five compact cards, local times, device names, offline shown.
        text = _check_page(page, failures)
        cards = page.locator(".review-card")
        if cards.count() != 5:
            failures.append(f"queue: {cards.count()} cards, not 5")
        if "9:00" not in text:
            failures.append("queue: 15:00 UTC does not read 9:00")
        for words in ("Android · Chrome", "Pixel 8 · Chrome", "Recorded offline"):
            if words not in text:
                failures.append(f"queue: no '{words}'")
        if "Requests a break using a picture card" in text:
            failures.append("queue: a result is labelled with the goal's full sentence")
        if page.locator(f".review-card :text('{empty}'), a[href$='{empty}']").count():
            failures.append("queue: the empty session is in the queue")
        if page.locator(f"input[name=session_id][value='{empty}']").count():
            failures.append("queue: the empty session can be selected for approval")
        height = page.evaluate("() => document.documentElement.scrollHeight")
        if height > 2500:
            failures.append(f"queue: {height} px tall with five sessions")
        folded = page.locator("details.empty-sessions")
        if folded.count() != 1 or folded.get_attribute("open") is not None:
            failures.append("queue: no collapsed list of empty sessions")

        # One session: plain words, "Fix", local times.
        page.locator(f"a[href='/teacher/review/sessions/{sessions[0]}']").first.click()
        page.wait_for_url(f"**/teacher/review/sessions/{sessions[0]}")
        text = _check_page(page, failures)
        for words in ("no response", "Timer started", "9:0", "Recorded offline", "Fix"):
            if words not in text:
                failures.append(f"session: no '{words}'")
        if page.locator("summary", has_text=re.compile(r"^Correct$")).count():
            failures.append("session: a 'Correct' link beside outcomes that read 'correct'")

        # Approve all five; the queue is empty, and the notes are one tap away.
        page.goto(base + "/teacher/review")
        for box in page.locator("input[name=session_id][type=checkbox]").all():
            box.check()
        with page.expect_navigation():
            page.locator("#bulk button[type=submit]").click()
        page.goto(base + "/teacher/review")
        _check_page(page, failures, axe=False)
        _go(page, "Progress notes", failures)
        text = _check_page(page, failures)
        if f"{room.student.first_name} {room.student.last_name}" not in text:
            failures.append("notes: the caseload's student is not listed")
        if "5 approved sessions not yet reported" not in text:
            failures.append("notes: no count of approved sessions not yet reported")
        notes = f"/teacher/review/students/{room.student.id}/notes"
        if page.locator(f"a[href='{notes}']").count() != 1:
            failures.append("notes: no link to the student's notes")
        page.goto(base + notes)
        _check_page(page, failures)

        # The other places, through the navigation.
        for name in ("IEPs", "Families", "Messages"):
            _go(page, name, failures)
            _check_page(page, failures)
        page.goto(f"{base}/teacher/students/{room.student.id}")
        _check_page(page, failures)
    finally:
        ctx.close()
    assert not failures, "\n".join(failures)
