"""The outbox under pressure: two tabs never send one op twice at once; a service-worker
update with ops queued loses nothing; a timer survives a reload; undo voids one entry; a
rejected op is shown with its reason."""

from __future__ import annotations

import itertools
import time
from typing import Any

import psycopg
from playwright.sync_api import BrowserContext, Page, Request

from tests.e2e.helpers import (
    block_sync,
    login,
    open_app,
    pending,
    sync_now,
    unblock_sync,
    wait_controlled,
    wait_synced,
)
from tests.support.factories import Factory
from tests.support.servers import AppServer


def start_session(page: Page, student_id: int) -> None:
    page.click(f"a[data-student='{student_id}']")
    page.click("[data-act=open]")
    page.wait_for_selector(".session-bar")


def test_two_tabs_never_send_an_op_in_two_overlapping_requests(
    app_url: str, factory: Factory, context: BrowserContext, sql: psycopg.Connection[Any]
) -> None:
    room = factory.classroom()
    trials, tally = room.student.goals["trials"], room.student.goals["frequency"]
    sent: list[Request] = []
    context.on(
        "request",
        lambda r: sent.append(r) if r.url.endswith("/api/sync") and r.method == "POST" else None,
    )
    # A request can also fail on the way (the browser aborts it under load); from the
    # client's side it is over when the failure is reported, and its ops may only be sent
    # again after that. The time is taken when Python sees the event, which is later than
    # the failure itself: the window only gets wider, the check stricter.
    failed_at: dict[int, float] = {}

    def on_failed(request: Request) -> None:
        failed_at.setdefault(id(request), time.time() * 1000)

    context.on("requestfailed", on_failed)
    one = context.new_page()
    login(one, app_url, room.aide)
    open_app(one, app_url)
    one.wait_for_selector(f"a[data-student='{room.student.id}']")
    start_session(one, room.student.id)
    two = context.new_page()
    open_app(two, app_url, f"/app/student/{room.student.id}")
    two.wait_for_selector(".session-bar")  # the same open session, from IndexedDB

    for _ in range(4):
        for _ in range(5):
            one.click(f"[data-act=trial][data-goal='{trials}'][data-outcome=correct]")
            two.click(f"[data-act=tally][data-goal='{tally}'][data-delta='1']")
        # Both tabs flush at the same moment, twice each.
        flushes = (
            "() => import('/static/js/app.js').then(m => Promise.all([m.flushNow(), m.flushNow()]))"
        )
        one.evaluate(f"() => {{ ({flushes})(); }}")
        two.evaluate(f"() => {{ ({flushes})(); }}")
    wait_synced(one)
    wait_synced(two)
    # Each tab shows the other's taps in the shared session.
    one.wait_for_selector(f".bar-goals li[data-goal='{tally}'] .sum:has-text('20 times')")
    two.wait_for_selector(f".bar-goals li[data-goal='{trials}'] .sum:has-text('20/20 correct')")

    windows: list[tuple[float, float, set[str]]] = []
    for request in sent:
        response = request.response()
        timing = request.timing
        start = timing["startTime"]
        if response is None:
            assert id(request) in failed_at, "a sync request neither answered nor failed"
            end = failed_at[id(request)]
        else:
            assert response.status == 200
            end = start + timing["responseEnd"]
        body = request.post_data_json
        assert body is not None
        if body["ops"]:  # the client's mark: at least every seq it sends
            assert body["high_seq"] >= max(op["seq"] for op in body["ops"])
        windows.append((start, end, {op["op_id"] for op in body["ops"]}))
    assert sum(len(ops) for _, _, ops in windows) >= 41
    for (s1, e1, ops1), (s2, e2, ops2) in itertools.combinations(windows, 2):
        if s1 < e2 and s2 < e1:
            assert not ops1 & ops2, "one op in two overlapping requests"
    counts = sql.execute(
        "SELECT count(*) FILTER (WHERE kind = 'trial'), count(*) FILTER (WHERE kind = 'tally') "
        "FROM observation WHERE user_id = %s",
        (room.aide.id,),
    ).fetchone()
    assert counts == (20, 20)
    assert sql.execute(
        "SELECT count(*), count(DISTINCT op_id) FROM sync_op WHERE user_id = %s", (room.aide.id,)
    ).fetchone() == (41, 41)


def test_service_worker_update_with_queued_ops_loses_nothing(
    app_url: str,
    e2e_server: AppServer,
    factory: Factory,
    context: BrowserContext,
    sql: psycopg.Connection[Any],
) -> None:
    room = factory.classroom()
    trials = room.student.goals["trials"]
    page = context.new_page()
    login(page, app_url, room.aide)
    open_app(page, app_url)
    wait_controlled(page)
    page.wait_for_selector(f"a[data-student='{room.student.id}']")
    old_caches = page.evaluate("() => caches.keys()")
    block_sync(context)
    start_session(page, room.student.id)
    for _ in range(5):
        page.click(f"[data-act=trial][data-goal='{trials}'][data-outcome=correct]")
    page.wait_for_function("() => document.querySelector('#sync-status').dataset.pending === '6'")

    # A new release: every shell file hashes into the worker's version.
    e2e_server.extra_env["TANDEM_PWA_BUILD_LABEL"] = "next-release"
    try:
        e2e_server.restart()
        page.evaluate("() => navigator.serviceWorker.getRegistration().then(r => r.update())")
        page.wait_for_selector("#update-banner:not([hidden])")
        # The new version waits: the page still runs the old one.
        assert page.evaluate("() => caches.keys()") != old_caches
        with page.expect_navigation():
            page.click("#update-banner button")
        page.wait_for_selector("body[data-ready='1']")
        new_caches = page.evaluate("() => caches.keys()")
        assert len(new_caches) == 1
        assert new_caches != old_caches
        page.wait_for_selector(".session-bar")
        assert page.inner_text("#entry-count") == "5 entries"
        assert pending(page) == 6
        unblock_sync(context)
        wait_synced(page)
    finally:
        e2e_server.extra_env.pop("TANDEM_PWA_BUILD_LABEL", None)
        e2e_server.restart()
    count = sql.execute(
        "SELECT count(*) FROM observation WHERE user_id = %s AND kind = 'trial'", (room.aide.id,)
    ).fetchone()
    assert count == (5,)


def test_timer_survives_reload_and_undo_voids_exactly_one_entry(
    app_url: str, factory: Factory, context: BrowserContext, sql: psycopg.Connection[Any]
) -> None:
    room = factory.classroom()
    duration, trials = room.student.goals["duration"], room.student.goals["trials"]
    page = context.new_page()
    login(page, app_url, room.aide)
    open_app(page, app_url)
    page.wait_for_selector(f"a[data-student='{room.student.id}']")
    start_session(page, room.student.id)
    timer = f"[data-act=timer][data-goal='{duration}']"
    page.click(timer)
    page.wait_for_timeout(1200)
    page.reload()
    page.wait_for_selector(".session-bar")
    assert page.inner_text(timer).startswith("■ Stop")
    page.wait_for_function(
        f"() => document.querySelector(\".bar-goals li[data-goal='{duration}'] .sum\")"
        ".textContent >= '0:02'"
    )
    page.click(timer)
    assert page.inner_text(timer).startswith("▶ Start")

    for outcome in ("correct", "incorrect", "correct"):
        page.click(f"[data-act=trial][data-goal='{trials}'][data-outcome={outcome}]")
    page.click("[data-act=undo]")
    summary = f".bar-goals li[data-goal='{trials}'] .sum"
    # The incorrect trial is not independent (the rule of tests/vectors/figures.json).
    assert page.inner_text(summary) == "1/2 correct · 1 independent"
    wait_synced(page)

    rows = sql.execute(
        "SELECT kind, op_id, voids_op_id, outcome, device_time FROM observation "
        "WHERE user_id = %s ORDER BY device_time, id",
        (room.aide.id,),
    ).fetchall()
    undos = [r for r in rows if r[0] == "undo"]
    trial_rows = [r for r in rows if r[0] == "trial"]
    assert len(undos) == 1
    assert undos[0][2] == trial_rows[-1][1]  # the last trial, nothing else
    voided = {u[2] for u in undos}
    live = [r[3] for r in trial_rows if r[1] not in voided]
    assert sorted(live) == ["correct", "incorrect"]
    start = next(r for r in rows if r[0] == "timer_start")
    stop = next(r for r in rows if r[0] == "timer_stop")
    assert (stop[4] - start[4]).total_seconds() >= 2


def test_rejected_op_is_shown_with_its_reason(
    app_url: str, factory: Factory, context: BrowserContext, sql: psycopg.Connection[Any]
) -> None:
    room = factory.classroom()
    stranger = room.other  # never assigned to this aide
    page = context.new_page()
    login(page, app_url, room.aide)
    open_app(page, app_url)
    page.wait_for_selector(f"a[data-student='{room.student.id}']")
    # A stale or tampered list on the phone: the student appears, the server says no.
    page.evaluate(
        """async (s) => {
            const { openUserDb } = await import('/static/js/store.js');
            const me = await (await fetch('/api/me')).json();
            const db = await openUserDb(me.id);
            await db.put('students', {id: s.id, first_name: s.first, last_name: s.last, grade: '3'});
            await db.put('goals', {id: s.goal, student_id: s.id, area: 'Communication',
                description: 'x', measurement: 'trials', position: 0, task_steps: []});
        }""",
        {
            "id": stranger.id,
            "first": stranger.first_name,
            "last": stranger.last_name,
            "goal": stranger.goals["trials"],
        },
    )
    open_app(page, app_url, f"/app/student/{stranger.id}")
    page.click("[data-act=open]")
    page.click(f"[data-act=trial][data-goal='{stranger.goals['trials']}'][data-outcome=correct]")
    sync_now(page)
    notice = page.wait_for_selector("#notices li[data-code='forbidden']")
    assert notice is not None
    assert "session.open" in notice.inner_text()
    reason = sql.execute(
        "SELECT reason FROM sync_op WHERE user_id = %s AND code = 'forbidden'", (room.aide.id,)
    ).fetchone()
    assert reason is not None
    assert reason[0] in notice.inner_text()
    assert page.is_visible("#notices")
    assert sql.execute(
        "SELECT count(*) FROM data_session WHERE student_id = %s", (stranger.id,)
    ).fetchone() == (0,)
