"""Review flows back to the phone: the aide sees which sessions were approved, corrected
by the teacher, or rejected (with the teacher's reason); a provider logs service minutes
with a timer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from playwright.sync_api import BrowserContext, Page

from tests.e2e.helpers import login, open_app, wait_synced
from tests.support.client import ApiClient
from tests.support.factories import Factory


def record_session(page: Page, goal_id: int, outcome: str) -> None:
    page.click("[data-act=open]")
    page.click(f"[data-act=trial][data-goal='{goal_id}'][data-outcome={outcome}]")
    page.click("[data-act=close]")
    page.click("[data-act=close-yes]")
    page.wait_for_selector("[data-act=open]")


def test_aide_sees_approved_and_rejected_sessions_with_the_reason(
    app_url: str,
    factory: Factory,
    context: BrowserContext,
    sql: psycopg.Connection[Any],
    client_for: Callable[..., ApiClient],
) -> None:
    room = factory.classroom()
    trials = room.student.goals["trials"]
    page = context.new_page()
    login(page, app_url, room.aide)
    open_app(page, app_url, f"/app/student/{room.student.id}")
    page.wait_for_selector("[data-act=open]")
    for outcome in ("correct", "incorrect"):
        record_session(page, trials, outcome)
    wait_synced(page)
    sessions = [
        str(r[0])
        for r in sql.execute(
            "SELECT id FROM data_session WHERE staff_id = %s ORDER BY opened_at", (room.aide.id,)
        ).fetchall()
    ]
    assert len(sessions) == 2
    teacher = client_for(room.teacher)
    entry = sql.execute(
        "SELECT id FROM observation WHERE session_id = %s AND kind = 'trial'", (sessions[0],)
    ).fetchone()
    assert entry is not None
    r = teacher.post(
        f"/teacher/review/entries/{entry[0]}/correct",
        data={"reason": "Prompted, not independent", "outcome": "correct", "prompt": "verbal"},
    )
    assert r.status_code in (302, 303), r.text
    r = teacher.post("/teacher/review/approve", data={"session_id": sessions[0]})
    assert r.status_code in (302, 303), r.text
    reason = "This was Noah's session, not Maya's"
    r = teacher.post(f"/teacher/review/sessions/{sessions[1]}/reject", data={"reason": reason})
    assert r.status_code in (302, 303), r.text
    wait_synced(page)
    page.reload()
    page.wait_for_selector(".history")
    approved = page.inner_text(f".history li[data-session='{sessions[0]}']")
    rejected = page.inner_text(f".history li[data-session='{sessions[1]}']")
    assert "Approved" in approved
    assert "corrected by the teacher" in approved
    assert "Rejected" in rejected
    assert "corrected" not in rejected
    assert reason in rejected
    assert page.get_attribute(f".history li[data-session='{sessions[0]}']", "data-status") == (
        "approved"
    )


def test_provider_logs_service_minutes_with_a_timer(
    app_url: str, factory: Factory, context: BrowserContext, sql: psycopg.Connection[Any]
) -> None:
    room = factory.classroom()
    assert room.student.service_id is not None
    page = context.new_page()
    login(page, app_url, room.provider)
    open_app(page, app_url, f"/app/student/{room.student.id}")
    page.click(f"[data-act=open-service][data-service='{room.student.service_id}']")
    timer = "[data-act=timer][data-goal='']"
    page.wait_for_selector(f"{timer}:has-text('Stop')")
    page.wait_for_timeout(1100)
    page.click("[data-act=close]")
    page.click("[data-act=close-yes]")
    page.wait_for_selector("[data-act=open]")
    wait_synced(page)
    row = sql.execute(
        "SELECT s.service_id, s.closed_at IS NOT NULL, "
        "  (SELECT count(*) FROM observation o WHERE o.session_id = s.id AND o.kind = 'timer_start'"
        "     AND o.goal_id IS NULL), "
        "  (SELECT count(*) FROM observation o WHERE o.session_id = s.id AND o.kind = 'timer_stop') "
        "FROM data_session s WHERE s.staff_id = %s",
        (room.provider.id,),
    ).fetchone()
    assert row == (room.student.service_id, True, 1, 1)
