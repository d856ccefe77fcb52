"""Background work that runs inside the app process by default (the notification sender).

A production deployment sets TANDEM_WORKER_IN_PROCESS=0 and runs `tandem worker`
processes instead (server/cli_notify.py); any number of them share the outbox safely.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server import db
from server.notify import vapid
from server.settings import Settings


def in_process_hooks(settings: Settings) -> tuple[list[Callable[[], Any]], list[Callable[[], Any]]]:
    """(on_startup, on_shutdown) hooks: the VAPID key pair exists from the first start,
    and the notification worker runs here unless disabled."""
    from server.notify.runner import BackgroundWorker

    async def ensure_vapid_keys() -> None:
        async with db.connection() as conn:
            await vapid.ensure_keys(conn)

    if not settings.run_worker_in_process:
        return [ensure_vapid_keys], []
    background = BackgroundWorker(settings)

    async def start_worker() -> None:
        pool = db.engine().pool
        if pool is None:
            raise RuntimeError("connection pool not started")
        await background.start(pool)

    return [ensure_vapid_keys, start_worker], [background.stop]
