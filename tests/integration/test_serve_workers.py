"""`serve --workers N` (TANDEM_WORKERS): N server processes share one socket, answer
concurrent clients, and stop together, whether asked to or when one of them dies."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.integration.test_sync import Device, open_session, statuses
from tests.support.client import ApiClient
from tests.support.factories import Factory
from tests.support.servers import AppServer


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(predicate: Any, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


@pytest.fixture
def two_workers(database_url: str) -> Iterator[AppServer]:
    server = AppServer(database_url, extra_env={"TANDEM_WORKERS": "2"}).start()
    yield server
    server.stop()


def test_two_processes_answer_concurrent_clients_and_stop_together(
    two_workers: AppServer, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    assert two_workers.proc is not None
    parent = two_workers.proc.pid
    assert wait_until(lambda: len(children(parent)) == 2), children(parent)
    workers = children(parent)
    room = factory.classroom()

    goal = room.student.goals["frequency"]

    def tally_from_one_phone(_: int) -> int:
        with ApiClient(two_workers.base_url) as c:
            c.login(room.aide.email)
            dev = Device(c)
            session_id = open_session(dev, room.student.id)
            for _ in range(5):
                dev.op("tally.add", {"session_id": session_id, "goal_id": goal, "delta": 1})
                out = dev.sync()
                assert set(statuses(out)) == {"applied"}, out
            assert not dev.outbox
        return 5

    # Four phones of one aide (the per-account login limit allows five logins).
    with ThreadPoolExecutor(4) as pool:
        sent = sum(pool.map(tally_from_one_phone, range(4)))
    row = sql.execute(
        "SELECT count(*) FROM observation WHERE user_id = %s AND kind = 'tally'", (room.aide.id,)
    ).fetchone()
    assert row == (sent,)

    two_workers.stop()
    assert wait_until(lambda: not any(alive(pid) for pid in workers)), "a worker outlived stop"


def test_when_one_process_dies_the_service_stops_whole(two_workers: AppServer) -> None:
    assert two_workers.proc is not None
    parent = two_workers.proc.pid
    assert wait_until(lambda: len(children(parent)) == 2)
    first, second = sorted(children(parent))
    os.kill(first, signal.SIGKILL)
    assert wait_until(lambda: two_workers.proc is not None and two_workers.proc.poll() is not None)
    assert wait_until(lambda: not alive(second)), "the other worker was left running"
