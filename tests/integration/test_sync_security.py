"""Attacks from SECURITY.md that hit sync, and the batch limits (a month offline drains
in bounded batches; an oversized op never blocks the queue)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest

from server.auth.sessions import token_hash
from tests.integration.test_sync import Device, counts, open_session, statuses
from tests.support.factories import Classroom


@pytest.fixture
def aide_device_factory(classroom: Classroom, client_for: Any) -> Any:
    return lambda: Device(client_for(classroom.aide))


def test_parent_changing_the_child_id_is_rejected(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    parent = Device(client_for(classroom.parent))
    for student in (classroom.other, classroom.student):
        open_session(parent, student.id)
    out = parent.sync()
    assert [(r["status"], r["code"]) for r in out["results"]] == [
        ("rejected", "forbidden"),
        ("rejected", "forbidden"),
    ]
    assert sql.execute(
        "SELECT count(*) FROM data_session WHERE staff_id = %s", (classroom.parent.id,)
    ).fetchone() == (0,)


def test_an_aide_cannot_write_into_another_users_session(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    teacher = Device(client_for(classroom.teacher))
    sid = open_session(teacher, classroom.student.id)
    teacher.sync()
    aide = Device(client_for(classroom.aide))
    aide.op(
        "tally.add",
        {"session_id": sid, "goal_id": classroom.student.goals["frequency"], "delta": 1},
    )
    aide.op("session.open", {"session_id": sid, "student_id": classroom.student.id})
    out = aide.sync()
    assert [r["code"] for r in out["results"]] == ["unknown_session", "session_conflict"]
    assert counts(sql, sid)["rows"] == 0


def test_fields_outside_the_schema_are_refused(
    classroom: Classroom, aide_device_factory: Any
) -> None:
    dev: Device = aide_device_factory()
    sid = str(uuid.uuid4())
    # In op data: that op is rejected, with the field named.
    dev.op(
        "session.open", {"session_id": sid, "student_id": classroom.student.id, "approved": True}
    )
    dev.op("session.open", {"session_id": sid, "student_id": classroom.student.id, "created_by": 1})
    out = dev.sync()
    assert [r["code"] for r in out["results"]] == ["invalid", "invalid"]
    assert "approved" in out["results"][0]["reason"]
    # In the op or the envelope: the request is refused whole (400), nothing applied.
    op = dev.op("session.open", {"session_id": sid, "student_id": classroom.student.id})
    for extra_op, extra_env in (
        ({"role": "admin"}, {}),
        ({}, {"student_id": 1}),
        ({}, {"approved": True}),
    ):
        body = dev.body([{**op, **extra_op}])
        body.update(extra_env)
        r = dev.client.post("/api/sync", json=body)
        assert r.status_code == 400, r.text
    assert statuses(dev.sync()) == ["applied"]


def test_nan_huge_and_negative_numbers(classroom: Classroom, aide_device_factory: Any) -> None:
    dev: Device = aide_device_factory()
    st = classroom.student
    sid = open_session(dev, st.id)
    dev.sync()
    bad = [
        {"session_id": sid, "goal_id": st.goals["rating"], "value": -1},
        {"session_id": sid, "goal_id": st.goals["rating"], "value": 10**30},
        {"session_id": sid, "goal_id": st.goals["rating"], "value": 1e308},
        {"session_id": sid, "goal_id": -5, "value": 1},
    ]
    for data in bad:
        dev.op("rating.record", data)
    dev.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": -7})
    dev.op(
        "step.record",
        {
            "session_id": sid,
            "goal_id": st.goals["task_analysis"],
            "step_index": -1,
            "outcome": "correct",
            "prompt": "model",
        },
    )
    out = dev.sync()
    assert [r["code"] for r in out["results"]] == ["invalid"] * 6
    # NaN and Infinity are not JSON: the request is refused whole.
    op = dev.op("rating.record", {"session_id": sid, "goal_id": st.goals["rating"], "value": 1})
    raw = json.dumps(dev.body([op])).replace('"value": 1}', '"value": NaN}')
    assert "NaN" in raw
    r = dev.client.post("/api/sync", content=raw, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500
    huge_seq = json.dumps(dev.body([{**op, "seq": 10**30}]))
    r = dev.client.post("/api/sync", content=huge_seq, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500
    assert statuses(dev.sync()) == ["applied"]


def test_batches_over_the_limits_get_413_with_the_limit(
    classroom: Classroom, aide_device_factory: Any
) -> None:
    dev: Device = aide_device_factory()
    sid = open_session(dev, classroom.student.id)
    for _ in range(600):
        dev.op(
            "tally.add",
            {"session_id": sid, "goal_id": classroom.student.goals["frequency"], "delta": 1},
        )
    r = dev.post(dev.outbox[:501])
    assert r.status_code == 413
    assert "500" in r.json()["detail"]
    huge = dev.body(
        [{**dev.outbox[1], "seq": i + 1, "op_id": str(uuid.uuid4())} for i in range(100_000)]
    )
    r = dev.client.post("/api/sync", json=huge)
    assert r.status_code == 413
    assert "278528" in r.json()["detail"]
    assert dev.sync()["last_seq"] == 500


def test_an_op_too_large_for_any_batch_is_rejected_alone(
    classroom: Classroom, aide_device_factory: Any, sql: psycopg.Connection[Any]
) -> None:
    dev: Device = aide_device_factory()
    sid = open_session(dev, classroom.student.id)
    big = dev.op("note.add", {"session_id": sid, "text": "x" * 4000})
    big["data"] = {"session_id": sid, "text": "x" * 70_000}  # over MAX_OP_BYTES
    dev.op(
        "tally.add",
        {"session_id": sid, "goal_id": classroom.student.goals["frequency"], "delta": 1},
    )
    huge = dev.op("note.add", None)
    huge["oversize"] = 3_000_000  # could never be sent: sent without its data
    dev.op(
        "tally.add",
        {"session_id": sid, "goal_id": classroom.student.goals["frequency"], "delta": 1},
    )
    out = dev.sync()
    assert [(r["status"], r["code"]) for r in out["results"]] == [
        ("applied", None),
        ("rejected", "op_too_large"),
        ("applied", None),
        ("rejected", "op_too_large"),
        ("applied", None),
    ]
    assert counts(sql, sid)["tally"] == 2


def test_twenty_thousand_queued_ops_drain_in_bounded_batches(
    classroom: Classroom, aide_device_factory: Any, sql: psycopg.Connection[Any]
) -> None:
    dev: Device = aide_device_factory()
    st = classroom.student
    sid = open_session(dev, st.id)
    for i in range(19_999):
        if i % 2:
            dev.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1})
        else:
            dev.op(
                "trial.record",
                {
                    "session_id": sid,
                    "goal_id": st.goals["trials"],
                    "outcome": "correct",
                    "prompt": "independent",
                },
            )
    requests = 0
    while dev.outbox:
        batch = dev.outbox[:500]
        assert len(json.dumps(dev.body(batch))) < 256 * 1024
        out = dev.sync(limit=500)
        assert set(statuses(out)) == {"applied"}
        requests += 1
        assert requests <= 40
    assert requests == 40
    assert counts(sql, sid) == {"trials": 10_000, "tally": 9_999, "rows": 19_999}
    assert sql.execute(
        "SELECT last_seq FROM sync_client WHERE client_id = %s", (dev.client_id,)
    ).fetchone() == (20_000,)


def test_lost_outbox_registers_a_new_client_and_carries_on(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    c = client_for(classroom.aide)
    old = Device(c)
    sid = open_session(old, classroom.student.id)
    old.sync()
    for _ in range(3):
        old.op(
            "tally.add",
            {"session_id": sid, "goal_id": classroom.student.goals["frequency"], "delta": 1},
        )
    old.outbox = old.outbox[2:]  # storage evicted the first two
    out = old.sync()
    assert out["stopped"]["expected_seq"] == 2
    r = c.post(
        "/api/sync/clients", json={"app_version": "t", "replaces": old.client_id, "lost_ops": 2}
    )
    assert r.status_code == 201
    new = Device.__new__(Device)
    new.client, new.clock_offset, new.client_id = c, old.clock_offset, r.json()["client_id"]
    new.seq, new.outbox, new.cursor = 0, [], None
    new.op(
        "tally.add",
        {"session_id": sid, "goal_id": classroom.student.goals["frequency"], "delta": 1},
    )
    assert statuses(new.sync()) == ["applied"]
    assert sql.execute(
        "SELECT detail->>'lost_ops' FROM audit_log WHERE action = 'client_replaced' AND record_id = %s",
        (old.client_id,),
    ).fetchone() == ("2",)
    # Another user cannot take over someone else's client.
    r = client_for(classroom.teacher).post("/api/sync/clients", json={"replaces": new.client_id})
    assert r.status_code == 403


def test_the_sync_endpoint_checks_its_session_as_every_page_does(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    """/api/sync resolves the session in its own first statement (sessions.DEFERRED_PATHS),
    not in the middleware: the same rules, each shown here. A session that may not act
    gets 401 and writes nothing; an expired one is deleted; a live one is kept alive."""
    aide = client_for(classroom.aide)
    dev = Device(aide)
    token = aide.cookies.get("tandem_session")
    assert token
    h = token_hash(token)
    sid = open_session(dev, classroom.student.id)
    dev.sync()
    goal = classroom.student.goals["frequency"]

    def refused_and_nothing_written() -> None:
        before = counts(sql, sid)["rows"]
        dev.op("tally.add", {"session_id": sid, "goal_id": goal, "delta": 1})
        r = dev.post(dev.outbox)
        assert r.status_code == 401, r.text
        assert counts(sql, sid)["rows"] == before

    def live() -> None:
        dev.sync()
        assert not dev.outbox

    # A session idle for a while is kept alive by syncing (the idle timeout counts from
    # the last activity, as for pages).
    sql.execute(
        "UPDATE auth_session SET last_seen_at = now() - interval '30 minutes' WHERE id_hash = %s",
        (h,),
    )
    live()
    seen = sql.execute("SELECT now() - last_seen_at FROM auth_session WHERE id_hash = %s", (h,))
    assert seen.fetchone()[0].total_seconds() < 60  # type: ignore[index]

    for breaks, mends in (
        (
            "UPDATE app_user SET is_active = false WHERE id = %(user)s",
            "UPDATE app_user SET is_active = true WHERE id = %(user)s",
        ),
        (
            "UPDATE device SET revoked_at = now() WHERE id = %(device)s",
            "UPDATE device SET revoked_at = NULL WHERE id = %(device)s",
        ),
    ):
        device = aide.get("/api/me").json()["device_id"]
        assert device
        sql.execute(breaks, {"user": classroom.aide.id, "device": device})
        refused_and_nothing_written()
        assert sql.execute(
            "SELECT count(*) FROM auth_session WHERE id_hash = %s", (h,)
        ).fetchone() == (0,)
        # Mended, the same token is still refused: the session was ended.
        sql.execute(mends, {"user": classroom.aide.id, "device": device})
        refused_and_nothing_written()
        aide.login(classroom.aide.email)  # a fresh session for the next case
        h = token_hash(aide.cookies.get("tandem_session"))
        dev.outbox.clear()
        live()

    # Past the idle or the absolute timeout: refused and deleted.
    for column, value in (
        ("last_seen_at", "now() - interval '3 days'"),
        ("expires_at", "now() - interval '1 second'"),
    ):
        sql.execute(f"UPDATE auth_session SET {column} = {value} WHERE id_hash = %s", (h,))
        refused_and_nothing_written()
        assert sql.execute(
            "SELECT count(*) FROM auth_session WHERE id_hash = %s", (h,)
        ).fetchone() == (0,)
        aide.login(classroom.aide.email)
        h = token_hash(aide.cookies.get("tandem_session"))
        dev.outbox.clear()
        live()

    # Logged out: the old token, replayed, is refused; with no cookie at all, too.
    old = aide.cookies.get("tandem_session")
    assert aide.post("/api/auth/logout").status_code == 200
    aide.cookies.set("tandem_session", old)
    refused_and_nothing_written()
    aide.cookies.delete("tandem_session")
    refused_and_nothing_written()
