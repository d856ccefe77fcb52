"""Notification commands for operators.

python -m server.cli worker            # send queued notifications until stopped (SIGTERM/Ctrl-C)
python -m server.cli worker --once     # one pass over what is due now, then exit
python -m server.cli vapid             # print the VAPID public key (created if missing)
python -m server.cli vapid --rotate    # new key pair: every existing subscription is dropped

Any number of workers may run at once, on any machine, next to the app's in-process one
(or with TANDEM_WORKER_IN_PROCESS=0 instead of it): they share the outbox through leases
and FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable
from typing import Any

import asyncpg

Command = Callable[[argparse.Namespace], int]


def register(sub: Any, commands: dict[str, Command]) -> None:
    """Add this module's subcommands to the CLI parser."""
    p = sub.add_parser("worker", help="send queued push notifications")
    p.add_argument("--once", action="store_true", help="process what is due now, then exit")
    p.add_argument("--idle", type=float, default=1.0, help="seconds to wait when idle")
    commands["worker"] = cmd_worker
    p = sub.add_parser("vapid", help="show (or rotate) the VAPID key pair kept in Postgres")
    p.add_argument("--rotate", action="store_true", help="replace the key pair")
    commands["vapid"] = cmd_vapid


def _database(*, app_process: bool) -> tuple[Any, str]:
    from server import db
    from server.cli import bootstrap
    from server.settings import get_settings

    database = bootstrap(get_settings(), app_process=app_process)
    return database, str(db.engine().config["dsn"])


def cmd_worker(args: argparse.Namespace) -> int:
    from server.notify.runner import build_worker
    from server.settings import get_settings

    database, dsn = _database(app_process=True)

    async def run() -> int:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=8)
        worker = await build_worker(pool, get_settings())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            if args.once:
                sent = await worker.run_until_idle()
                print(f"processed {sent} notification(s)")
            else:
                print(f"worker {worker.worker_id} running (Ctrl-C to stop)", flush=True)
                await worker.run_forever(stop, idle_s=args.idle)
        finally:
            await worker.sender.aclose()
            await pool.close()
        return 0

    try:
        return asyncio.run(run())
    finally:
        database.stop()


def cmd_vapid(args: argparse.Namespace) -> int:
    from server.notify import vapid

    database, dsn = _database(app_process=False)

    async def run() -> str:
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction():
                key = await vapid.ensure_keys(conn, replace=args.rotate)
                if args.rotate:
                    # Subscriptions are bound to the old public key: they can never work again.
                    await conn.execute("DELETE FROM push_subscription")
        finally:
            await conn.close()
        return vapid.public_key_text(key)

    try:
        print(asyncio.run(run()))
    finally:
        database.stop()
    return 0
