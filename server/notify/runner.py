"""Starting a worker: the shared VAPID key, the sender, a pool; used in-process by the app
(server/worker.py) and by the `tandem worker` command."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import asyncpg

from server.notify import vapid
from server.notify.sender import PushSender
from server.notify.worker import NotificationWorker
from server.settings import Settings

log = logging.getLogger("tandem.notify")


def vapid_subject(settings: Settings) -> str:
    if settings.base_url.startswith("https://"):
        return settings.base_url
    return f"mailto:{settings.mail_from}"


async def build_worker(
    pool: asyncpg.Pool, settings: Settings, **kwargs: object
) -> NotificationWorker:
    async with pool.acquire() as conn:
        key = await vapid.ensure_keys(conn)
    sender = PushSender(
        vapid.VapidSigner(key, vapid_subject(settings)),
        allowed_hosts=settings.push_allowed_hosts,
        allow_insecure_local=settings.push_allow_insecure_local,
        timeout_s=settings.push_timeout_seconds,
    )
    return NotificationWorker(pool, sender, **kwargs)  # type: ignore[arg-type]


@dataclass
class BackgroundWorker:
    """A worker loop as an asyncio task, stopped cleanly."""

    settings: Settings
    pool: asyncpg.Pool | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _worker: NotificationWorker | None = None

    async def start(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._worker = await build_worker(pool, self.settings)
        self._task = asyncio.create_task(self._worker.run_forever(self._stop))
        log.info("notification worker %s started", self._worker.worker_id)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=self.settings.push_timeout_seconds + 5)
            except TimeoutError:
                self._task.cancel()
        if self._worker is not None:
            await self._worker.sender.aclose()
