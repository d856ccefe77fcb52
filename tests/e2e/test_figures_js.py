"""One definition of every figure: the shared vectors (tests/vectors/figures.json) through
the aide's app's own module (pwa/js/figures.js) in Chromium. The JavaScript test reads
the vectors file itself, as tests/unit/test_figures.py does in Python."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import BrowserContext, Route

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests/vectors/figures.json"
FILES: dict[str, tuple[bytes | Path, str]] = {
    "/": (b"<!doctype html><title>figures</title>", "text/html"),
    "/js/figures.js": (ROOT / "pwa/js/figures.js", "text/javascript"),
    "/test/figures.test.js": (ROOT / "tests/js/figures.test.js", "text/javascript"),
    "/vectors/figures.json": (VECTORS, "application/json"),
}


def serve(route: Route) -> None:
    path = "/" + route.request.url.split("://", 1)[1].split("/", 1)[1]
    body, kind = FILES[path]
    route.fulfill(
        status=200, body=body if isinstance(body, bytes) else body.read_bytes(), content_type=kind
    )


def test_the_aide_app_computes_every_figure_as_the_server_does(context: BrowserContext) -> None:
    context.route("http://figures.test/**", serve)
    page = context.new_page()
    page.goto("http://figures.test/")
    outcome = page.evaluate("async () => (await import('/test/figures.test.js')).run()")
    vectors = json.loads(VECTORS.read_text("utf-8"))
    assert outcome["ran"] == len(vectors["vectors"])
    assert outcome["failures"] == []
