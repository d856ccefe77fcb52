"""Operator commands: serve, demo, migrate, and the roster/account tools.

python -m server.cli serve            # the app (embedded Postgres unless DATABASE_URL)
python -m server.cli demo             # seed the demo school (if empty), serve
python -m server.cli migrate          # as the owner: TANDEM_MIGRATE_DATABASE_URL
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
from collections.abc import Callable
from typing import Any

from server import db, db_roles
from server.settings import Settings, clamp_workers, get_settings

log = logging.getLogger("tandem")

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
PARSERS: list[Callable[[Any], None]] = []


class Database:
    """The resolved database for this process: embedded (started here) or DATABASE_URL.

    `url` is the app's role, which owns nothing; `owner_url` migrates. Embedded, the
    owner is the server's superuser and the app role is TANDEM_APP_ROLE on the same
    server. Otherwise the owner is TANDEM_MIGRATE_DATABASE_URL (or DATABASE_URL, for a
    `migrate` run with that alone)."""

    def __init__(self, settings: Settings) -> None:
        self.embedded: db.EmbeddedPostgres | None = None
        if settings.database_url:
            self.url = settings.database_url
            self.owner_url = settings.migrate_database_url or settings.database_url
        else:
            self.embedded = db.EmbeddedPostgres(settings.data_dir / "pgdata")
            self.owner_url = asyncio.run(
                db.ensure_database(self.embedded.server_url, db.EMBEDDED_DB_NAME)
            )
            self.url = db_roles.with_user(self.owner_url, settings.app_role)
        db.configure_engine(self.url)

    def migrate(self, settings: Settings) -> list[str]:
        """Run pending migrations as the owner and grant the app role its privileges;
        the engine is left on the app's URL."""
        db.configure_engine(self.owner_url)
        try:
            ran = asyncio.run(db.migrate(app_role=settings.app_role))
        finally:
            db.configure_engine(self.url)
        if ran:
            log.info("migrations applied: %s", ", ".join(ran))
        return ran

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


async def load_secret(name: str) -> str:
    """A secret shared by every app process, created on first use."""
    import asyncpg

    conn = await asyncpg.connect(db.engine().config["dsn"])
    try:
        await conn.execute(
            "INSERT INTO app_secret (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            name,
            secrets.token_urlsafe(48),
        )
        value = await conn.fetchval("SELECT value FROM app_secret WHERE name = $1", name)
    finally:
        await conn.close()
    return str(value)


def bootstrap(settings: Settings, *, app_process: bool = True) -> Database:
    """Resolve the database for the app's role; refuse it (DatabaseNotReady) while
    migrations are pending. The embedded server is migrated here (this process owns
    it); an external database only by `migrate`, so the app never holds the owner's
    password. `app_process` (serve, worker) also refuses a role with an owner's powers;
    operator commands run with whatever DATABASE_URL names."""
    database = Database(settings)
    try:
        if database.embedded is not None:
            database.migrate(settings)
        powers = asyncio.run(
            db_roles.check_app_database(
                database.url, refuse_owner_role=app_process and not settings.allow_owner_role
            )
        )
        if powers and app_process:
            log.warning("TANDEM_ALLOW_OWNER_ROLE: the app's role %s", "; ".join(powers))
    except BaseException:
        database.stop()
        raise
    return database


def serve(settings: Settings, database: Database, *, banner: str = "") -> None:
    import uvicorn

    from server.app import create_app
    from server.worker import in_process_hooks

    secret = asyncio.run(load_secret("csrf"))
    startup, shutdown = in_process_hooks(settings)
    app = create_app(settings, secret=secret, on_startup=startup, on_shutdown=shutdown)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        proxy_headers=False,  # never trust X-Forwarded-For unless deployed behind a proxy
        log_level="info",
        access_log=False,
    )
    if banner:
        print(banner, flush=True)
    processes = f", {settings.workers} processes" if settings.workers > 1 else ""
    print(f"Tandem is running at {settings.base_url}{processes}  (Ctrl-C to stop)", flush=True)
    try:
        run_uvicorn(config, settings.workers)
    finally:
        database.stop()


# Young-generation collections every 10,000 allocations instead of 700. A 200-op sync
# batch allocates tens of thousands of short-lived objects; at the default threshold
# the collector ran several times per batch and, every hundred young collections,
# walked the whole heap (the app's modules, routes, templates: ~115,000 objects).
# Measured on the sync ingest (bench/README.md): collection took a fifth of the app's
# CPU; with the objects built at start-up frozen and this threshold, 2 %.
GC_THRESHOLD = (10_000, 10, 10)


def tune_gc() -> None:
    """Freeze what start-up built (it lives as long as the process; forked processes
    then also share its memory pages) and collect the young generation less often."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def run_uvicorn(config: Any, workers: int) -> None:
    """Serve `config` in this process, or in `workers` forked processes that share one
    listening socket (the kernel spreads connections over them). The app is built
    before the fork; each process opens its own database pool at startup, and the
    in-process push worker runs in each (several are safe together: SKIP LOCKED).
    If any process exits, the others are stopped too, so a supervisor restarts the
    whole service rather than leaving it half up."""
    import os
    import time

    import uvicorn

    tune_gc()
    db.set_server_processes(workers)
    if workers <= 1:
        uvicorn.Server(config).run()
        return
    sock = config.bind_socket()
    children: list[int] = []
    try:
        for _ in range(workers):
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child
                code = 1
                try:
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # uvicorn sets its own
                    uvicorn.Server(config).run(sockets=[sock])
                    code = 0
                finally:
                    os._exit(code)
            children.append(pid)
        finished, status = os.wait()
        children.remove(finished)
        log.warning("server process %d exited (status %d); stopping the others", finished, status)
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while children and time.monotonic() < deadline:
            for pid in list(children):
                with contextlib.suppress(ChildProcessError):
                    if os.waitpid(pid, os.WNOHANG)[0] == 0:
                        continue
                children.remove(pid)
            time.sleep(0.05)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        sock.close()


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings_with(args)
    database = bootstrap(settings)
    serve(settings, database)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = get_settings()
    database = Database(settings)
    try:
        ran = database.migrate(settings)
        print("applied: " + (", ".join(ran) if ran else "nothing (up to date)"))
    finally:
        database.stop()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from server.demo import seed_demo

    settings = _settings_with(args)
    database = bootstrap(settings)
    logins = asyncio.run(seed_demo(settings.base_url))
    serve(settings, database, banner=logins)
    return 0


def _settings_with(args: argparse.Namespace) -> Settings:
    import msgspec

    settings = get_settings()
    changes: dict[str, Any] = {}
    if getattr(args, "host", None):
        changes["host"] = args.host
    if getattr(args, "port", None):
        changes["port"] = args.port
    if getattr(args, "workers", None) is not None:
        changes["workers"] = clamp_workers(args.workers)
    if ("host" in changes or "port" in changes) and not os.environ.get("TANDEM_BASE_URL"):
        # The printed address and every link must name where the server really listens.
        host = changes.get("host", settings.host)
        changes["base_url"] = f"http://{host}:{changes.get('port', settings.port)}"
    return msgspec.structs.replace(settings, **changes) if changes else settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tandem", description="Tandem operator commands")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func, help_text in (
        ("serve", cmd_serve, "run the web app"),
        ("demo", cmd_demo, "seed the demo school (if empty) and run the web app"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--host")
        p.add_argument("--port", type=int)
        p.add_argument(
            "--workers", type=int, help="server processes (default 1; one per core in production)"
        )
        COMMANDS[name] = func
    sub.add_parser("migrate", help="run pending database migrations")
    COMMANDS["migrate"] = cmd_migrate
    from server import cli_roster

    cli_roster.register(sub, COMMANDS)
    from server import cli_notify

    cli_notify.register(sub, COMMANDS)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # SIGTERM ends the process like Ctrl-C, so the embedded Postgres is stopped cleanly.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except db_roles.DatabaseNotReady as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
