"""Real servers for tests: a PostgreSQL (embedded 18 or TANDEM_TEST_DATABASE_URL), fresh
databases on it, and the app itself as a uvicorn subprocess on a free port.

Databases are made, migrated and arranged as the server's superuser (the owner); the app
and the push worker run as the app role (`app_role_url`), as in production, so every test
that goes through them proves the app role's grants are enough."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx

from server import db
from server.db_roles import DEFAULT_APP_ROLE, with_user

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_database(server_url: str, prefix: str = "tandem_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    return asyncio.run(db.ensure_database(server_url, name))


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?", 1)[0]

    async def run() -> None:
        conn = await asyncpg.connect(db.with_database(url, "postgres"))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(run())


def app_role_url(owner_url: str) -> str:
    """The same database as the app's role (trust authentication on the test servers)."""
    return with_user(owner_url, DEFAULT_APP_ROLE)


def migrate(url: str) -> None:
    """Migrate as the owner (`url`), which also grants the app role."""
    run_cli(["migrate"], {"TANDEM_MIGRATE_DATABASE_URL": url, "DATABASE_URL": app_role_url(url)})


@contextlib.contextmanager
def bench_database(prefix: str = "tandem_bench") -> Iterator[str]:
    """A fresh, migrated database for a benchmark, on DATABASE_URL's server or on an
    embedded one started here; dropped afterwards (and the embedded server stopped)."""
    embedded = None
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        embedded = db.EmbeddedPostgres(
            Path(tempfile.mkdtemp(prefix="tandem-bench-")) / "pgdata", delete_on_stop=True
        )
        server_url = embedded.server_url
    try:
        url = create_database(server_url, prefix=prefix)
        try:
            migrate(url)
            yield url
        finally:
            drop_database(url)
    finally:
        if embedded is not None:
            embedded.stop()


def run_cli(args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    full_env = {**os.environ, **env}
    proc = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"cli {args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


class AppServer:
    """The app in its own process, as users meet it: uvicorn over real HTTP."""

    def __init__(self, database_url: str, extra_env: dict[str, str] | None = None) -> None:
        # Given the owner's URL (or already the app's); the app connects as the app role.
        self.database_url = app_role_url(database_url)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"tandem-app-{self.port}.log"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "TANDEM_PORT": str(self.port),
            "TANDEM_BASE_URL": self.base_url,
            "TANDEM_SECURE_COOKIES": "0",
            # Every test logs in from 127.0.0.1; the per-address limit has its own test
            # with its own server.
            "TANDEM_LOGIN_LIMIT_ADDRESS": "1000000",
            # Tests send pushes with a worker they drive themselves (injectable "now");
            # an in-process worker would race them for the shared outbox.
            "TANDEM_WORKER_IN_PROCESS": "0",
            **self.extra_env,
        }

    def start(self, timeout: float = 60) -> AppServer:
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve"],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited early:\n{self.log()}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"app did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: no cleanup, no graceful shutdown."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> AppServer:
        self.stop()
        return self.start()
