"""The installable app: static files, the service worker at /sw.js and the app shell.

The service worker is served with its build prepended: a version that hashes every shell
file (so any change to any of them installs a new worker, and caches never mix versions)
and the list of files to precache. The app's words come from the same gettext catalogs as
the server's pages, as JSON at /i18n/<language>.json (part of the shell: they work offline
and a changed catalog is a new version).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from litestar import Response, get
from litestar.response import File
from litestar.static_files import create_static_files_router

from server import i18n
from server.settings import ROOT

PWA_DIR = ROOT / "pwa"
SHELL_URL = "/app"
# Folders of pwa/ the shell is made of (served under /static/), and the kinds of file.
SHELL_DIRS = ("css", "js", "vendor", "icons")
SHELL_SUFFIXES = (".js", ".css", ".png", ".svg")


def shell_files() -> list[tuple[str, Path]]:
    """(URL, file) of everything the app needs to start offline, in a stable order."""
    files: list[tuple[str, Path]] = [
        (SHELL_URL, PWA_DIR / "index.html"),
        ("/manifest.webmanifest", PWA_DIR / "manifest.webmanifest"),
    ]
    for folder in SHELL_DIRS:
        for path in sorted((PWA_DIR / folder).rglob("*")):
            if path.is_file() and path.suffix in SHELL_SUFFIXES:
                files.append((f"/static/{path.relative_to(PWA_DIR).as_posix()}", path))
    return files


def catalog_url(code: str) -> str:
    return f"/i18n/{code}.json"


def catalog_bytes(code: str) -> bytes:
    return json.dumps(i18n.json_catalog(code), ensure_ascii=False, sort_keys=True).encode()


def build_info() -> dict[str, Any]:
    digest = hashlib.sha256()
    files = shell_files()
    for url, path in [*files, ("/sw.js", PWA_DIR / "sw.js")]:
        digest.update(url.encode())
        digest.update(path.read_bytes())
    catalogs = [catalog_url(code) for code in i18n.LANGUAGES]
    for code in i18n.LANGUAGES:
        digest.update(catalog_url(code).encode())
        digest.update(catalog_bytes(code))
    # Deployments (and the update test) may add a label to force a new version.
    digest.update(os.environ.get("TANDEM_PWA_BUILD_LABEL", "").encode())
    return {
        "version": digest.hexdigest()[:16],
        "precache": [*(url for url, _ in files), *catalogs],
    }


@get("/sw.js", include_in_schema=False)
async def service_worker() -> Response[bytes]:
    source = (PWA_DIR / "sw.js").read_bytes()
    prelude = f"const BUILD = {json.dumps(build_info())};\n".encode()
    return Response(
        content=prelude + source,
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )


@get("/i18n/{name:str}", include_in_schema=False)
async def catalog(name: str) -> Response[bytes]:
    """A language's catalog for the app, /i18n/es.json (msgid -> words; plural forms by
    CLDR category)."""
    code, _, suffix = name.partition(".")
    if code not in i18n.LANGUAGES or suffix != "json":
        return Response(
            content=b'{"detail": "No such language."}',
            status_code=404,
            media_type="application/json",
        )
    return Response(
        content=catalog_bytes(code),
        media_type="application/json",
        headers={"Cache-Control": "no-cache"},
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
    catalog,
    manifest,
    app_shell,
    create_static_files_router(path="/static", directories=[PWA_DIR], include_in_schema=False),
]
