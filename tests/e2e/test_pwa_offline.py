"""The aide's phone with no network: cold start from the service worker, 50 taps, the
app closed and reopened, everything still there and counted; then the server comes back
and Postgres holds exactly those taps."""

from __future__ import annotations

from collections import Counter
from typing import Any

import psycopg
from playwright.sync_api import BrowserContext, Page

from tests.e2e.helpers import (
    login,
    open_app,
    pending,
    server_down,
    wait_controlled,
    wait_saved,
    wait_synced,
)
from tests.support.factories import Factory
from tests.support.servers import AppServer

PROMPT_CHIP = "[data-act=prompt][data-goal='{goal}'][data-prompt='{prompt}']"


def fifty_taps(page: Page, goals: dict[str, int]) -> dict[str, Any]:
    """Tap 20 trials, 12 tallies, 8 ratings and 10 task steps; return what was tapped."""
    trials: list[tuple[str, str]] = []
    for i in range(20):
        outcome = "correct" if i % 4 != 3 else ("incorrect" if i % 8 == 3 else "no_response")
        prompt = "independent" if i % 2 == 0 else "verbal"
        page.click(PROMPT_CHIP.format(goal=goals["trials"], prompt=prompt))
        page.click(f"[data-act=trial][data-goal='{goals['trials']}'][data-outcome={outcome}]")
        trials.append((outcome, prompt))
    deltas = [1] * 10 + [-1] * 2
    for delta in deltas:
        page.click(f"[data-act=tally][data-goal='{goals['frequency']}'][data-delta='{delta}']")
    ratings = [i % 6 for i in range(8)]
    for value in ratings:
        page.click(f"[data-act=rating][data-goal='{goals['rating']}'][data-value='{value}']")
    steps: list[tuple[int, str]] = []
    for i in range(10):
        outcome = "incorrect" if i == 7 else "correct"
        page.click(
            f"[data-act=step][data-goal='{goals['task_analysis']}'][data-step='{i % 5}']"
            f"[data-outcome={outcome}]"
        )
        steps.append((i % 5, outcome))
    return {"trials": trials, "deltas": deltas, "ratings": ratings, "steps": steps}


def bar_text(page: Page, goal_id: int) -> str:
    return page.inner_text(f".bar-goals li[data-goal='{goal_id}'] .sum")


def test_offline_cold_start_record_reopen_then_sync_exactly(
    app_url: str,
    e2e_server: AppServer,
    factory: Factory,
    context: BrowserContext,
    sql: psycopg.Connection[Any],
) -> None:
    room = factory.classroom()
    goals = room.student.goals
    page = context.new_page()
    login(page, app_url, room.aide)
    open_app(page, app_url)
    wait_controlled(page)
    page.wait_for_selector(f"a[data-student='{room.student.id}']")

    e2e_server.stop()
    try:
        server_down(page, app_url)
        page.close()
        page = context.new_page()
        open_app(page, app_url)  # cold start with the server gone: the shell is the SW's
        page.wait_for_selector("#sync-status:has-text('Offline')")
        page.click(f"a[data-student='{room.student.id}']")
        page.click("[data-act=open]")
        tapped = fifty_taps(page, goals)
        assert page.inner_text("#entry-count") == "50 entries"
        page.wait_for_function(
            "() => document.querySelector('#sync-status').dataset.pending === '51'"
        )
        wait_saved(page)
        page.close()

        page = context.new_page()
        open_app(page, app_url, f"/app/student/{room.student.id}")
        server_down(page, app_url)
        assert page.inner_text("#entry-count") == "50 entries"
        assert bar_text(page, goals["trials"]) == "15/20 correct · 10 independent"
        assert bar_text(page, goals["frequency"]) == "8 times"
        assert bar_text(page, goals["task_analysis"]) == "4/5 steps · 4 independent"
        assert bar_text(page, goals["rating"]) == "last 1/5 · mean 2.0 (8)"
        assert pending(page) == 51
    finally:
        e2e_server.start()

    wait_synced(page)
    assert pending(page) == 0
    session_id = sql.execute(
        "SELECT id FROM data_session WHERE student_id = %s AND staff_id = %s",
        (room.student.id, room.aide.id),
    ).fetchone()
    assert session_id is not None
    rows = sql.execute(
        "SELECT kind, outcome, prompt, delta, value, step_index FROM observation "
        "WHERE session_id = %s AND state = 'applied'",
        (session_id[0],),
    ).fetchall()
    kinds = Counter(r[0] for r in rows)
    assert kinds == Counter({"trial": 20, "tally": 12, "rating": 8, "step": 10})
    assert Counter((r[1], r[2]) for r in rows if r[0] == "trial") == Counter(tapped["trials"])
    assert sum(r[3] for r in rows if r[0] == "tally") == sum(tapped["deltas"]) == 8
    assert sorted(r[4] for r in rows if r[0] == "rating") == sorted(tapped["ratings"])
    assert Counter((r[5], r[1]) for r in rows if r[0] == "step") == Counter(tapped["steps"])
    ops = sql.execute(
        "SELECT count(*), count(*) FILTER (WHERE outcome = 'applied'), max(seq) FROM sync_op "
        "WHERE user_id = %s",
        (room.aide.id,),
    ).fetchone()
    assert ops == (51, 51, 51)
