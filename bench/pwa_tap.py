"""How fast a tap lands on the aide's screen, in real Chromium with 4x CPU throttling.

    .venv/bin/python bench/pwa_tap.py [--taps 200] [--throttle 4]

Against the app in its own process and a fresh database (TANDEM_TEST_DATABASE_URL if
set, else the embedded PostgreSQL). Logs an aide in through /login, opens a session and
taps each kind of target `--taps` times (trial, tally, rating, task step), plus a button
on the same page whose handler does nothing. Prints one JSON object as its last line:

- tap_handler_p95_ms: main-thread time in the app's own code per tap: the click
  handler (screen update and the IndexedDB add/put requests) plus the commit callback's
  own run time (the app's performance.now() marks; waiting is not counted);
- tap_commit_p95_ms: wall time from the handler's start to the IndexedDB transaction's
  `complete` event (durable on the device). It contains the frame Chromium renders
  between the input and the event delivery, which is not the app's code;
- tap_event_p95_ms / empty_event_p95_ms: Event Timing durations (input to next paint) of
  the app's taps and of the empty button. The browser only reports events of 16 ms or
  more (the API's minimum threshold): a tap with no entry counts as 16 ms, an upper
  bound (`*_over_threshold` says how many taps were reported);
- tap_paint_p95_ms / empty_paint_p95_ms: input to the next frame measured in the page
  (event.timeStamp to the task after the next requestAnimationFrame), finer than 16 ms;
- shell_js_css_gzip_kb: every script and stylesheet the aide's screen loads, gzipped;
- third_party_requests: requests to any other origin.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE  # noqa: E402
from tests.e2e.helpers import login, open_app  # noqa: E402
from tests.support.factories import Factory  # noqa: E402
from tests.support.servers import AppServer, create_database, drop_database, migrate  # noqa: E402

OBSERVE = """() => {
    window.__bench = {events: [], paints: []};
    new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
            if (!e.interactionId) continue;
            const t = e.target;
            window.__bench.events.push({id: e.interactionId, name: e.name, duration: e.duration,
                empty: !!(t && t.id === 'bench-empty'), act: t && t.dataset ? t.dataset.act || null : null});
        }
    }).observe({type: 'event', durationThreshold: 16, buffered: false});
    // Input to the next frame, measured in the page: the task after the next rAF runs
    // once that frame has been produced.
    addEventListener('pointerdown', (ev) => {
        const empty = ev.target.id === 'bench-empty';
        const start = ev.timeStamp;
        requestAnimationFrame(() => {
            const ch = new MessageChannel();
            ch.port1.onmessage = () => window.__bench.paints.push({empty, ms: performance.now() - start});
            ch.port2.postMessage(0);
        });
    }, {capture: true});
    const empty = document.createElement('button');
    empty.id = 'bench-empty';
    empty.type = 'button';
    empty.className = 'btn';
    empty.textContent = 'Empty';
    empty.addEventListener('click', () => {});
    document.querySelector('.app-top').append(empty);
}"""


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 2)


def settle(page: Page) -> None:
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 20)))")


def tap(page: Page, selector: str) -> None:
    """A plain pointer click at the target's centre (no Playwright actionability checks
    running in the page around the tap), then wait for the frame to settle."""
    box = page.locator(selector).bounding_box()
    if box is None or box["y"] < 0 or box["y"] + box["height"] > 844:
        page.locator(selector).scroll_into_view_if_needed()
        box = page.locator(selector).bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    settle(page)


def shell_weight(page: Page, base_url: str, path: str) -> tuple[float, int, list[str]]:
    """gzip KB of the scripts and stylesheets of a fresh load, and third-party requests."""
    bodies: dict[str, bytes] = {}
    others: list[str] = []
    origin = urlparse(base_url).netloc

    def seen(response: Any) -> None:
        url = response.url
        if urlparse(url).netloc != origin:
            others.append(url)
        elif response.request.resource_type in ("script", "stylesheet") or url.endswith(".js"):
            bodies[url] = response.body()

    page.on("response", seen)
    page.goto("about:blank")
    open_app(page, base_url, path)
    page.wait_for_selector(".session-bar")
    page.wait_for_timeout(500)
    page.remove_listener("response", seen)
    size = sum(len(gzip.compress(body, 9)) for body in bodies.values())
    return round(size / 1024, 1), len(others), sorted(bodies)


def run(server_url: str, taps: int, throttle: float) -> dict[str, Any]:
    db_url = create_database(server_url, "tandem_bench")
    migrate(db_url)
    server = AppServer(db_url).start()
    try:
        with psycopg.connect(db_url, autocommit=True) as sql:
            room = Factory(sql).classroom()
        goals = room.student.goals
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            ctx = browser.new_context(**PHONE)  # type: ignore[arg-type]
            page = ctx.new_page()
            login(page, server.base_url, room.aide)
            open_app(page, server.base_url)
            page.wait_for_selector(f"a[data-student='{room.student.id}']")
            page.click(f"a[data-student='{room.student.id}']")
            page.click("[data-act=open]")
            page.wait_for_selector(".session-bar")
            # Weigh the screen on a fresh load (served by the service worker, as usual).
            gzip_kb, third_party, files = shell_weight(
                page, server.base_url, f"/app/student/{room.student.id}"
            )
            cdp = ctx.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
            page.evaluate(OBSERVE)
            targets = {
                "trial": f"[data-act=trial][data-goal='{goals['trials']}'][data-outcome=correct]",
                "tally": f"[data-act=tally][data-goal='{goals['frequency']}'][data-delta='1']",
                "rating": f"[data-act=rating][data-goal='{goals['rating']}'][data-value='3']",
                "step": f"[data-act=step][data-goal='{goals['task_analysis']}'][data-step='1'][data-outcome=correct]",
                "empty": "#bench-empty",
            }
            for selector in targets.values():  # warm-up, not measured
                for _ in range(10):
                    tap(page, selector)
            page.evaluate(
                "() => { globalThis.tandemTapTimes.length = 0; globalThis.tandemTapSyncTimes.length = 0; globalThis.tandemTapOwnTimes.length = 0; __bench.events = []; __bench.paints = []; }"
            )
            per_kind: dict[str, list[float]] = {}
            for kind, selector in targets.items():
                before = page.evaluate("() => globalThis.tandemTapTimes.length")
                for _ in range(taps):
                    tap(page, selector)
                page.wait_for_timeout(300)
                times = page.evaluate("(n) => globalThis.tandemTapTimes.slice(n)", before)
                per_kind[kind] = times
            sync_times = page.evaluate(f"() => globalThis.tandemTapSyncTimes.slice(-4 * {taps})")
            own_times = page.evaluate(f"() => globalThis.tandemTapOwnTimes.slice(-4 * {taps})")
            result = page.evaluate("() => __bench")
            browser.close()
    finally:
        server.stop()
        drop_database(db_url)

    app_taps = [t for kind, ts in per_kind.items() if kind != "empty" for t in ts]
    tap_events: dict[int, float] = {}
    empty_events: dict[int, float] = {}
    for e in result["events"]:
        bucket = empty_events if e["empty"] else tap_events
        bucket[e["id"]] = max(bucket.get(e["id"], 0.0), e["duration"])
    n_app, n_empty = 4 * taps, taps
    tap_durations = list(tap_events.values()) + [16.0] * max(0, n_app - len(tap_events))
    empty_durations = list(empty_events.values()) + [16.0] * max(0, n_empty - len(empty_events))
    paints_app = [x["ms"] for x in result["paints"] if not x["empty"]]
    paints_empty = [x["ms"] for x in result["paints"] if x["empty"]]
    summary: dict[str, Any] = {
        "cpu_throttle": throttle,
        "taps_per_kind": taps,
        "tap_handler_p95_ms": p95(own_times),
        "tap_handler_sync_p95_ms": p95(sync_times),
        "tap_commit_p95_ms": p95(app_taps),
        "tap_commit_median_ms": round(statistics.median(app_taps), 2) if app_taps else None,
        "tap_commit_p95_by_kind_ms": {k: p95(v) for k, v in per_kind.items() if k != "empty"},
        "tap_event_p95_ms": p95(tap_durations),
        "empty_event_p95_ms": p95(empty_durations),
        "tap_event_over_threshold": f"{len(tap_events)}/{n_app}",
        "empty_event_over_threshold": f"{len(empty_events)}/{n_empty}",
        "tap_paint_p95_ms": p95(paints_app),
        "empty_paint_p95_ms": p95(paints_empty),
        "shell_js_css_gzip_kb": gzip_kb,
        "shell_files": len(files),
        "third_party_requests": third_party,
    }
    tap_event, empty_event = p95(tap_durations), p95(empty_durations)
    tap_paint, empty_paint = p95(paints_app), p95(paints_empty)
    summary["event_ratio_vs_empty"] = round(tap_event / empty_event, 2) if empty_event else None
    summary["paint_ratio_vs_empty"] = round(tap_paint / empty_paint, 2) if empty_paint else None
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=200)
    parser.add_argument("--throttle", type=float, default=4.0)
    args = parser.parse_args()
    external = os.environ.get("TANDEM_TEST_DATABASE_URL")
    if external:
        summary = run(external, args.taps, args.throttle)
    else:
        from server.db import EmbeddedPostgres

        pg = EmbeddedPostgres(
            Path(tempfile.mkdtemp(prefix="tandem-bench-pg-")) / "pgdata", delete_on_stop=True
        )
        try:
            summary = run(pg.server_url, args.taps, args.throttle)
        finally:
            pg.stop()
    for key, value in summary.items():
        print(f"{key}: {value}", file=sys.stderr)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
