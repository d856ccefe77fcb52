"""The sync pool's size: about twice the cores in all, shared by the server processes."""

from __future__ import annotations

import pytest

from server import db


@pytest.mark.parametrize(
    ("cores", "processes", "expected"),
    [(2, 2, 2), (2, 1, 4), (8, 8, 2), (8, 2, 8), (1, 4, 2), (16, 3, 11)],
)
def test_the_sync_pool_shares_twice_the_cores_between_processes(
    monkeypatch: pytest.MonkeyPatch, cores: int, processes: int, expected: int
) -> None:
    monkeypatch.delenv("TANDEM_SYNC_CONNECTIONS", raising=False)
    monkeypatch.setattr("server.db.os.cpu_count", lambda: cores)
    monkeypatch.setattr(db, "_server_processes", 1)
    db.set_server_processes(processes)
    assert db.sync_pool_size() == expected


def test_the_sync_pool_size_can_be_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_SYNC_CONNECTIONS", "7")
    assert db.sync_pool_size() == 7
