"""A newcomer's first command: `make demo` in a fresh clone serves the app on the embedded
PostgreSQL, and Ctrl-C stops both (no postgres left running for that clone's data).

Slow: the clone makes its own virtualenv and installs Tandem into it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from server.demo import DEMO_PASSWORD, USERS
from tests.support.client import ApiClient
from tests.support.servers import ROOT, free_port

START_TIMEOUT = 600  # venv + pip install + initdb + migrations + seed
STOP_TIMEOUT = 60


def postgres_pids(pgdata: Path) -> list[int]:
    """Running postgres processes of that data directory (the postmaster names it on its
    command line; every backend runs with it as working directory)."""
    found = []
    target = str(pgdata.resolve())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if target in cmdline or cwd == target:
            found.append(int(entry.name))
    return found


def tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.mark.slow
@pytest.mark.embedded_only  # it runs its own embedded server: once per `make test` is enough
@pytest.mark.timeout(START_TIMEOUT + 3 * STOP_TIMEOUT + 120)
def test_make_demo_runs_from_a_fresh_clone_and_stops_cleanly(tmp_path: Path) -> None:
    clone = tmp_path / "tandem"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    pgdata = clone / ".tandem" / "pgdata"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        k: v
        for k, v in os.environ.items()
        # The demo must find no database of ours: it starts its own embedded server.
        if k not in ("DATABASE_URL", "TANDEM_TEST_DATABASE_URL", "TANDEM_DATA_DIR", "VIRTUAL_ENV")
        and not k.startswith("PYTEST_")
    }
    env.update({"TANDEM_PORT": str(port), "TANDEM_BASE_URL": base_url})
    log_path = tmp_path / "make-demo.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            ["make", "demo"],
            cwd=clone,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal would give it
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        status = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"make demo exited with {proc.returncode}:\n{tail(log_path)}")
            try:
                status = httpx.get(base_url + "/login", timeout=2).status_code
            except httpx.HTTPError:
                status = None
            if status == 200:
                break
            time.sleep(1)
        assert status == 200, f"GET /login never answered 200:\n{tail(log_path)}"
        assert (clone / ".venv" / "bin" / "python").exists(), "make demo made no venv in the clone"
        running = postgres_pids(pgdata)
        assert running, "the demo is not running on its own embedded PostgreSQL"
        assert f"Tandem is running at {base_url}" in log_path.read_text(errors="replace")
        # The demo's case manager sees her caseload and an IEP with its goals.
        teacher = next(u for u in USERS if u.role == "teacher")
        with ApiClient(base_url) as c:
            c.login(teacher.email, DEMO_PASSWORD)
            students = c.get("/api/students").json()
            assert len(students) >= 1
            assert c.get("/teacher", headers={"accept": "text/html"}).status_code == 200
            record = c.get(f"/api/students/{students[0]['id']}").json()
            current = next(i for i in record["ieps"] if i["id"] == record["current_iep_id"])
            assert current["goals"], "the demo IEP has no goals"

        # Ctrl-C in the terminal: SIGINT to the whole foreground process group.
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(STOP_TIMEOUT)
        deadline = time.monotonic() + STOP_TIMEOUT
        while postgres_pids(pgdata) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert postgres_pids(pgdata) == [], (
            f"postgres still running for {pgdata} after make demo stopped:\n{tail(log_path)}"
        )
        with pytest.raises(httpx.HTTPError):
            httpx.get(base_url + "/login", timeout=2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        for pid in postgres_pids(pgdata):  # never leave a server behind, whatever failed
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(clone, ignore_errors=True)  # its venv alone is hundreds of MB
