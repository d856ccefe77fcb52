"""Test-only failpoints: park a request at a named point so a test can kill the process
there (SIGKILL) or hold a transaction open. Inert unless TANDEM_FAILPOINTS=1.

A point is armed by a file `<TANDEM_FAILPOINT_DIR>/<name>`; if the file has content,
only the request whose key (the sync client id) equals that content stops. On arrival
the request writes `<name>.reached` and waits until the arming file is removed.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from server.settings import get_settings

POLL_SECONDS = 0.02


def _dir() -> Path | None:
    if not get_settings().failpoints:
        return None
    raw = os.environ.get("TANDEM_FAILPOINT_DIR")
    return Path(raw) if raw else None


async def hit(name: str, key: str = "") -> None:
    directory = _dir()
    if directory is None:
        return
    armed = directory / name
    if not armed.exists():
        return
    wanted = armed.read_text().strip()
    if wanted and wanted != key:
        return
    (directory / f"{name}.reached").write_text(key)
    while armed.exists():  # noqa: ASYNC110 - the signal is a file another process removes
        await asyncio.sleep(POLL_SECONDS)
