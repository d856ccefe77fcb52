"""The installable app: static files, the service worker at /sw.js and the app shell."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.response import File
from litestar.static_files import create_static_files_router

from server.settings import ROOT

PWA_DIR = ROOT / "pwa"


@get("/sw.js", include_in_schema=False)
async def service_worker() -> File:
    return File(
        path=PWA_DIR / "sw.js",
        media_type="text/javascript",
        content_disposition_type="inline",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )


@get("/manifest.webmanifest", include_in_schema=False)
async def manifest() -> File:
    return File(
        path=PWA_DIR / "manifest.webmanifest",
        media_type="application/manifest+json",
        content_disposition_type="inline",
        headers={"Cache-Control": "no-cache"},
    )


@get(["/app", "/app/{path:path}"], include_in_schema=False)
async def app_shell(path: str = "") -> File:
    # The shell holds no user data: it is the same for everyone and works offline.
    return File(
        path=PWA_DIR / "index.html",
        media_type="text/html",
        content_disposition_type="inline",
        headers={"Cache-Control": "no-cache"},
    )


ROUTES: list[Any] = [
    service_worker,
    manifest,
    app_shell,
    create_static_files_router(path="/static", directories=[PWA_DIR], include_in_schema=False),
]
