"""Test-only failpoints: park a request at a named point so a test can kill the process
there (SIGKILL) or hold a transaction open, or raise there an error a test cannot cause
(a driver fault seen during a database restart). Inert unless TANDEM_FAILPOINTS=1.

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


def armed(name: str, key: str = "") -> Path | None:
    """The arming file of point `name` if it is armed for `key`, else None."""
    directory = _dir()
    if directory is None:
        return None
    path = directory / name
    try:
        wanted = path.read_text().strip()
    except FileNotFoundError:
        return None
    return path if not wanted or wanted == key else None


async def hit(name: str, key: str = "") -> None:
    armed_file = armed(name, key)
    if armed_file is None:
        return
    (armed_file.parent / f"{name}.reached").write_text(key)
    while armed_file.exists():  # noqa: ASYNC110 - the signal is a file another process removes
        await asyncio.sleep(POLL_SECONDS)


def fail(name: str, key: str, error: BaseException) -> None:
    """Raise `error` if point `name` is armed for `key`."""
    if armed(name, key) is not None:
        raise error
