"""POST /api/sync: exactly-once merge, conflict rules and rejections over real HTTP.

`Device` (also used by the other test_sync_* files) is a minimal client that follows
docs/sync-protocol.md: it numbers ops, keeps them until acknowledged, and resends.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.support.client import ApiClient
from tests.support.factories import Classroom, Factory


class Device:
    """One app instance of one user: its client id, sequence and outbox."""

    send_mark = True  # False: an older app, without `high_seq`

    def __init__(
        self,
        client: ApiClient,
        *,
        clock_offset: timedelta = timedelta(0),
        send_mark: bool = True,
    ) -> None:
        self.client = client
        self.clock_offset = clock_offset
        self.send_mark = send_mark
        r = client.post("/api/sync/clients", json={"app_version": "test"})
        assert r.status_code == 201, r.text
        self.client_id: str = r.json()["client_id"]
        self.seq = 0
        self.outbox: list[dict[str, Any]] = []
        self.cursor: str | None = None

    def clock(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def op(
        self, type_: str, data: dict[str, Any] | None, *, at: datetime | None = None
    ) -> dict[str, Any]:
        self.seq += 1
        op = {
            "seq": self.seq,
            "op_id": str(uuid.uuid4()),
            "type": type_,
            "at": (at or self.clock()).isoformat(),
            "data": data,
        }
        self.outbox.append(op)
        return op

    def body(self, ops: list[dict[str, Any]], *, pull: bool = False) -> dict[str, Any]:
        body = {
            "protocol": 1,
            "client_id": self.client_id,
            "app_version": "test",
            "sent_at": self.clock().isoformat(),
            "ops": ops,
            "cursor": self.cursor,
            "pull": pull,
        }
        if self.send_mark:
            body["high_seq"] = self.seq  # the newest op queued
        return body

    def post(self, ops: list[dict[str, Any]], *, pull: bool = False) -> Any:
        return self.client.post("/api/sync", json=self.body(ops, pull=pull))

    def sync(self, *, pull: bool = False, limit: int = 500) -> dict[str, Any]:
        """Send the oldest `limit` queued ops; drop the acknowledged ones."""
        r = self.post(self.outbox[:limit], pull=pull)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        self.ack(out)
        if pull:
            self.cursor = out["cursor"]
        return out

    def ack(self, out: dict[str, Any]) -> None:
        done = {res["seq"] for res in out["results"]}
        self.outbox = [
            o for o in self.outbox if o["seq"] not in done and o["seq"] > out["last_seq"]
        ]


def open_session(dev: Device, student_id: int, **extra: Any) -> str:
    session_id = str(uuid.uuid4())
    dev.op("session.open", {"session_id": session_id, "student_id": student_id, **extra})
    return session_id


def counts(sql: psycopg.Connection[Any], session_id: str) -> dict[str, int]:
    """Totals read back by SQL, undo applied: trials, tally sum, rows."""
    row = sql.execute(
        """SELECT count(*) FILTER (WHERE kind = 'trial'),
                  coalesce(sum(delta) FILTER (WHERE kind = 'tally'), 0),
                  count(*)
             FROM observation o
            WHERE session_id = %s AND state = 'applied'
              AND NOT EXISTS (SELECT 1 FROM observation u WHERE u.voids_op_id = o.op_id
                               AND u.state = 'applied')
              AND kind <> 'undo'""",
        (session_id,),
    ).fetchone()
    assert row is not None
    return {"trials": int(row[0]), "tally": int(row[1]), "rows": int(row[2])}


def review_status(sql: psycopg.Connection[Any], session_id: str) -> str | None:
    row = sql.execute(
        "SELECT review_status FROM data_session WHERE id = %s", (session_id,)
    ).fetchone()
    return None if row is None else str(row[0])


@pytest.fixture
def aide_device(classroom: Classroom, client_for: Any) -> Device:
    return Device(client_for(classroom.aide))


def statuses(out: dict[str, Any]) -> list[str]:
    return [r["status"] for r in out["results"]]


def test_ops_apply_once_and_a_retry_reports_duplicates(
    classroom: Classroom, aide_device: Device, sql: psycopg.Connection[Any]
) -> None:
    dev = aide_device
    st = classroom.student
    sid = open_session(dev, st.id)
    for outcome in ("correct", "incorrect", "correct"):
        dev.op(
            "trial.record",
            {
                "session_id": sid,
                "goal_id": st.goals["trials"],
                "outcome": outcome,
                "prompt": "verbal",
            },
        )
    dev.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1})
    batch = list(dev.outbox)
    first = dev.post(batch)
    assert first.status_code == 200, first.text
    assert statuses(first.json()) == ["applied"] * 5
    assert first.json()["last_seq"] == 5
    # The response was "lost": the same batch again changes nothing.
    again = dev.post(batch)
    assert again.status_code == 200
    assert statuses(again.json()) == ["duplicate"] * 5
    assert counts(sql, sid) == {"trials": 3, "tally": 1, "rows": 4}
    assert review_status(sql, sid) == "open"


def test_undo_close_and_derived_counts(
    classroom: Classroom, aide_device: Device, sql: psycopg.Connection[Any]
) -> None:
    dev = aide_device
    st = classroom.student
    sid = open_session(dev, st.id)
    tap = dev.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1})
    dev.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1})
    dev.op("undo", {"target_op_id": tap["op_id"]})
    dev.op("session.close", {"session_id": sid})
    out = dev.sync()
    assert statuses(out) == ["applied"] * 5
    assert counts(sql, sid)["tally"] == 1
    # Undoing it again is refused with a reason; the queue moves on.
    dev.op("undo", {"target_op_id": tap["op_id"]})
    out = dev.sync()
    assert out["results"][0]["code"] == "undo_target"
    assert review_status(sql, sid) == "pending"


def test_undo_voids_timer_starts_stops_and_notes(
    classroom: Classroom, aide_device: Device, sql: psycopg.Connection[Any]
) -> None:
    """The aide's Undo may take back a timer start, a timer stop or a note, like a tap
    (docs/sync-protocol.md: an undo targets any earlier observation of the same user)."""
    dev = aide_device
    st = classroom.student
    sid = open_session(dev, st.id)
    timer = str(uuid.uuid4())
    start = dev.op(
        "timer.start", {"session_id": sid, "timer_id": timer, "goal_id": st.goals["duration"]}
    )
    stop = dev.op("timer.stop", {"session_id": sid, "timer_id": timer})
    note = dev.op("note.add", {"session_id": sid, "text": "Asked for a break twice"})
    dev.op("undo", {"target_op_id": stop["op_id"]})
    assert statuses(dev.sync()) == ["applied"] * 5
    # In a later batch (the targets are read back from the database this time).
    dev.op("undo", {"target_op_id": start["op_id"]})
    dev.op("undo", {"target_op_id": note["op_id"]})
    assert statuses(dev.sync()) == ["applied"] * 2
    voided = {
        r[0]
        for r in sql.execute(
            "SELECT voids_op_id::text FROM observation WHERE session_id = %s AND kind = 'undo'",
            (sid,),
        ).fetchall()
    }
    assert voided == {stop["op_id"], start["op_id"], note["op_id"]}


def test_reopen_takes_back_an_unreviewed_close(
    classroom: Classroom,
    aide_device: Device,
    sql: psycopg.Connection[Any],
    client_for: Any,
) -> None:
    """session.reopen: closed and reopened in one batch (the app's case: the close had
    not left the phone) or in two; a reviewed session is not reopened."""
    dev = aide_device
    st = classroom.student
    trial = {"goal_id": st.goals["trials"], "outcome": "correct", "prompt": "verbal"}

    def closed_at(sid: str) -> Any:
        row = sql.execute("SELECT closed_at FROM data_session WHERE id = %s", (sid,)).fetchone()
        assert row is not None
        return row[0]

    # Opened earlier; closed and reopened together; more taps; closed again.
    first = open_session(dev, st.id)
    dev.sync()
    dev.op("session.close", {"session_id": first})
    dev.op("session.reopen", {"session_id": first})
    dev.op("trial.record", {"session_id": first, **trial})
    assert statuses(dev.sync()) == ["applied"] * 3
    assert (review_status(sql, first), closed_at(first)) == ("open", None)
    # Opened, closed and reopened in one batch: inserted open.
    second = open_session(dev, st.id)
    dev.op("session.close", {"session_id": second})
    dev.op("session.reopen", {"session_id": second})
    assert statuses(dev.sync()) == ["applied"] * 3
    assert (review_status(sql, second), closed_at(second)) == ("open", None)
    # A close that reached the server (pending), reopened by a later batch, closed again.
    dev.op("session.close", {"session_id": first})
    dev.sync()
    assert review_status(sql, first) == "pending"
    dev.op("session.reopen", {"session_id": first})
    dev.op("session.close", {"session_id": first})
    assert statuses(dev.sync()) == ["applied"] * 2
    assert review_status(sql, first) == "pending"
    assert closed_at(first) is not None
    # Reviewed: rejected is refused, approved becomes a correction; nothing changes.
    teacher = client_for(classroom.teacher)
    r = teacher.post(f"/teacher/review/sessions/{first}/reject", data={"reason": "Wrong day"})
    assert r.status_code in (302, 303), r.text
    dev.op("session.reopen", {"session_id": first})
    out = dev.sync()
    assert [(x["status"], x["code"]) for x in out["results"]] == [("rejected", "session_reviewed")]
    assert review_status(sql, first) == "rejected"
    dev.op("session.close", {"session_id": second})
    dev.sync()
    r = teacher.post("/teacher/review/approve", data={"session_id": second})
    assert r.status_code in (302, 303), r.text
    dev.op("session.reopen", {"session_id": second})
    out = dev.sync()
    assert [(x["status"], x["code"]) for x in out["results"]] == [("correction", "approved")]
    assert review_status(sql, second) == "approved"


def test_poison_op_is_rejected_alone_and_later_ops_apply(
    classroom: Classroom, aide_device: Device, sql: psycopg.Connection[Any]
) -> None:
    dev = aide_device
    st = classroom.student
    sid = open_session(dev, st.id)
    dev.op(
        "trial.record",
        {
            "session_id": sid,
            "goal_id": st.goals["trials"],
            "outcome": "correct",
            "prompt": "verbal",
        },
    )
    dev.op(
        "trial.record",
        {"session_id": sid, "goal_id": st.goals["trials"], "outcome": "maybe", "prompt": "verbal"},
    )
    dev.op("rating.record", {"session_id": sid, "goal_id": st.goals["rating"], "value": 9})
    dev.op("warp.drive", {"x": 1})
    dev.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 5})
    dev.op("tally.add", {"session_id": sid, "goal_id": st.goals["trials"], "delta": 1})
    dev.op(
        "trial.record",
        {"session_id": sid, "goal_id": st.goals["trials"], "outcome": "correct", "prompt": "model"},
    )
    out = dev.sync()
    codes = [(r["status"], r["code"]) for r in out["results"]]
    assert codes == [
        ("applied", None),
        ("applied", None),
        ("rejected", "invalid"),
        ("rejected", "value_out_of_range"),
        ("rejected", "unknown_type"),
        ("rejected", "invalid"),
        ("rejected", "goal_mismatch"),
        ("applied", None),
    ]
    assert all(r["reason"] for r in out["results"] if r["status"] == "rejected")
    assert out["last_seq"] == 8
    assert dev.outbox == []
    assert counts(sql, sid)["trials"] == 2


def test_gap_stops_the_batch(classroom: Classroom, aide_device: Device) -> None:
    dev = aide_device
    sid = open_session(dev, classroom.student.id)
    dev.op("session.close", {"session_id": sid})
    r = dev.post([dev.outbox[1]])
    assert r.status_code == 200
    out = r.json()
    assert out["results"] == []
    assert out["stopped"]["code"] == "gap"
    assert out["stopped"]["expected_seq"] == 1
    assert statuses(dev.sync()) == ["applied", "applied"]


def test_same_op_id_with_another_body_or_seq_reuse_changes_nothing(
    classroom: Classroom, aide_device: Device, sql: psycopg.Connection[Any]
) -> None:
    dev = aide_device
    st = classroom.student
    sid = open_session(dev, st.id)
    tap = dev.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1})
    dev.sync()
    changed = {**tap, "data": {**tap["data"], "delta": -1}}
    out = dev.post([changed]).json()
    assert out["results"][0]["code"] == "op_id_conflict"
    other_id = {**tap, "op_id": str(uuid.uuid4())}
    out = dev.post([other_id]).json()
    assert out["results"][0]["code"] == "seq_conflict"
    # The same op id again under a new seq: rejected, the seq still advances.
    reuse = dev.op("tally.add", tap["data"])
    reuse["op_id"] = tap["op_id"]
    reuse["data"] = {**tap["data"], "delta": -1}
    out = dev.sync()
    assert out["results"][0]["code"] == "op_id_conflict"
    assert out["last_seq"] == 3
    again = dev.post([reuse]).json()
    assert statuses(again) == ["duplicate"]
    assert counts(sql, sid)["tally"] == 1


def test_client_id_of_another_user_or_revoked_device_is_refused(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    aide = Device(client_for(classroom.aide))
    sid = open_session(aide, classroom.student.id)
    teacher_client = client_for(classroom.teacher)
    r = teacher_client.post("/api/sync", json=aide.body(aide.outbox))
    assert r.status_code == 403
    assert "client_forbidden" in r.text
    assert sql.execute("SELECT count(*) FROM data_session WHERE id = %s", (sid,)).fetchone() == (0,)
    # The admin revokes the aide's device: its session ends and the client is refused,
    # even for a new login of the same user on that device record.
    device_id = sql.execute(
        "SELECT device_id FROM sync_client WHERE client_id = %s", (aide.client_id,)
    ).fetchone()
    assert device_id is not None
    assert device_id[0] is not None
    sql.execute("UPDATE device SET revoked_at = now() WHERE id = %s", (device_id[0],))
    fresh = client_for(classroom.aide)
    r = fresh.post("/api/sync", json=aide.body(aide.outbox))
    assert r.status_code == 403
    assert sql.execute("SELECT count(*) FROM data_session WHERE id = %s", (sid,)).fetchone() == (0,)


def test_clock_a_day_off_is_corrected(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    for offset in (timedelta(days=1), timedelta(days=-1)):
        dev = Device(client_for(classroom.aide), clock_offset=offset)
        st = classroom.student
        start = dev.clock() - timedelta(minutes=10)
        sid = str(uuid.uuid4())
        timer = str(uuid.uuid4())
        dev.op("session.open", {"session_id": sid, "student_id": st.id}, at=start)
        dev.op(
            "timer.start",
            {"session_id": sid, "timer_id": timer, "goal_id": st.goals["duration"]},
            at=start,
        )
        dev.op(
            "timer.stop", {"session_id": sid, "timer_id": timer}, at=start + timedelta(minutes=4)
        )
        out = dev.sync(pull=True)
        assert statuses(out) == ["applied"] * 3
        rows = sql.execute(
            "SELECT kind, device_time, recorded_at FROM observation WHERE session_id = %s ORDER BY recorded_at",
            (sid,),
        ).fetchall()
        assert [r[0] for r in rows] == ["timer_start", "timer_stop"]
        assert rows[1][2] - rows[0][2] == timedelta(minutes=4)
        real_start = datetime.now(UTC) - timedelta(minutes=10)
        assert abs((rows[0][2] - real_start).total_seconds()) < 60
        assert abs((rows[0][1] - rows[0][2]) - offset) < timedelta(seconds=60)
        assert any(o["op_id"] == dev_op_id(dev, sql, sid) for o in out["changes"]["observations"])


def dev_op_id(dev: Device, sql: psycopg.Connection[Any], sid: str) -> str:
    row = sql.execute(
        "SELECT op_id FROM observation WHERE session_id = %s AND kind = 'timer_stop'", (sid,)
    ).fetchone()
    assert row is not None
    return str(row[0])


def test_impossible_times_are_rejected_with_a_code(classroom: Classroom, client_for: Any) -> None:
    # The admin's scope has no start date, so only the IEP bounds the past.
    dev = Device(client_for(classroom.admin))
    st = classroom.student
    for year in (1900, 2100):
        dev.op(
            "session.open",
            {"session_id": str(uuid.uuid4()), "student_id": st.id},
            at=datetime(year, 3, 1, tzinfo=UTC),
        )
    dev.op(
        "session.open",
        {"session_id": str(uuid.uuid4()), "student_id": st.id},
        at=dev.clock() + timedelta(days=2),
    )
    dev.op(
        "session.open",
        {"session_id": str(uuid.uuid4()), "student_id": st.id},
        at=dev.clock() - timedelta(days=400),
    )
    out = dev.sync()
    assert [r["code"] for r in out["results"]] == [
        "time_invalid",
        "time_invalid",
        "time_in_future",
        "time_before_iep",
    ]


def test_op_on_approved_session_becomes_a_pending_correction(
    classroom: Classroom, aide_device: Device, sql: psycopg.Connection[Any]
) -> None:
    dev = aide_device
    st = classroom.student
    sid = open_session(dev, st.id)
    dev.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1})
    dev.op("session.close", {"session_id": sid})
    dev.sync()
    sql.execute(
        "UPDATE data_session SET review_status = 'approved', reviewed_by = %s, reviewed_at = now() WHERE id = %s",
        (classroom.teacher.id, sid),
    )
    dev.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1})
    out = dev.sync()
    assert out["results"][0]["status"] == "correction"
    assert counts(sql, sid)["tally"] == 1
    states = sql.execute(
        "SELECT state FROM observation WHERE session_id = %s ORDER BY recorded_at", (sid,)
    ).fetchall()
    assert [s[0] for s in states] == ["applied", "proposed"]
    assert review_status(sql, sid) == "approved"


def test_permission_is_judged_at_recording_time(
    factory: Factory, classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    aide = factory.user("aide")
    st = classroom.student
    now = datetime.now(UTC)
    link = factory.assign(aide, st, starts=now - timedelta(days=5))
    dev = Device(client_for(aide))  # registered while assigned
    sql.execute("UPDATE assignment SET ends_at = now() WHERE id = %s", (link,))
    sid = str(uuid.uuid4())
    dev.op("session.open", {"session_id": sid, "student_id": st.id}, at=now - timedelta(hours=2))
    dev.op(
        "trial.record",
        {
            "session_id": sid,
            "goal_id": st.goals["trials"],
            "outcome": "correct",
            "prompt": "independent",
        },
        at=now - timedelta(hours=2),
    )
    dev.op(
        "trial.record",
        {
            "session_id": sid,
            "goal_id": st.goals["trials"],
            "outcome": "correct",
            "prompt": "independent",
        },
    )
    out = dev.sync()
    assert [(r["status"], r["code"]) for r in out["results"]] == [
        ("applied", "after_removal"),
        ("applied", "after_removal"),
        ("rejected", "forbidden"),
    ]
    # Another student, never assigned: refused, and the refusal is audited.
    dev.op("session.open", {"session_id": str(uuid.uuid4()), "student_id": classroom.other.id})
    out = dev.sync()
    assert out["results"][0]["code"] == "forbidden"
    assert sql.execute(
        "SELECT count(*) FROM audit_log WHERE actor_id = %s AND action = 'denied'", (aide.id,)
    ).fetchone() == (2,)  # one audited refusal per batch that had one


def test_messages_and_drafts_over_sync(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    st = classroom.student
    thread_id = sql.execute(
        "INSERT INTO message_thread (school_id, student_id, subject, created_by) VALUES (%s, %s, 'Maya''s team', %s) RETURNING id",
        (st.school_id, st.id, classroom.teacher.id),
    ).fetchone()[0]  # type: ignore[index]
    phone = Device(client_for(classroom.parent))
    laptop = Device(client_for(classroom.parent))
    phone.op(
        "draft.save", {"thread_id": thread_id, "body": "Hello from the phone", "base_version": 0}
    )
    assert statuses(phone.sync()) == ["applied"]
    laptop.op(
        "draft.save", {"thread_id": thread_id, "body": "Hello from the laptop", "base_version": 0}
    )
    out = laptop.sync()
    assert out["results"][0]["code"] == "draft_conflict"
    row = sql.execute(
        "SELECT body, conflict_body, version FROM message_draft WHERE thread_id = %s AND user_id = %s",
        (thread_id, classroom.parent.id),
    ).fetchone()
    assert row == ("Hello from the laptop", "Hello from the phone", 2)
    send = phone.op("message.send", {"thread_id": thread_id, "body": "See you Friday"})
    batch = list(phone.outbox)
    assert statuses(phone.sync()) == ["applied"]
    assert statuses(phone.post(batch).json()) == ["duplicate"]
    assert sql.execute(
        "SELECT count(*) FROM message WHERE id = %s", (send["op_id"],)
    ).fetchone() == (1,)
    recipients = {
        r[0]
        for r in sql.execute(
            "SELECT user_id FROM notification WHERE ref_id = %s AND kind = 'message'",
            (send["op_id"],),
        ).fetchall()
    }
    assert classroom.teacher.id in recipients
    assert classroom.aide.id in recipients
    assert classroom.parent.id not in recipients
    # The pull shows the thread, the message and the draft (cleared by the send).
    ch = laptop.sync(pull=True)["changes"]
    assert [t["id"] for t in ch["threads"]] == [thread_id]
    assert [(m["id"], m["body"]) for m in ch["messages"]] == [(send["op_id"], "See you Friday")]
    assert [(d["body"], d["conflict_body"]) for d in ch["drafts"]] == [("", None)]
    # A thread of another family's child: refused.
    other_thread = sql.execute(
        "INSERT INTO message_thread (school_id, student_id, subject, created_by) VALUES (%s, %s, 'x', %s) RETURNING id",
        (st.school_id, classroom.other.id, classroom.teacher.id),
    ).fetchone()[0]  # type: ignore[index]
    phone.op("message.send", {"thread_id": other_thread, "body": "hi"})
    assert phone.sync()["results"][0]["code"] == "forbidden"


def test_pull_scoped_and_parents_see_approved_only(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    st = classroom.student
    aide = Device(client_for(classroom.aide))
    approved = open_session(aide, st.id)
    aide.op(
        "trial.record",
        {
            "session_id": approved,
            "goal_id": st.goals["trials"],
            "outcome": "correct",
            "prompt": "verbal",
        },
    )
    aide.op("session.close", {"session_id": approved})
    pending = open_session(aide, st.id)
    aide.op(
        "trial.record",
        {
            "session_id": pending,
            "goal_id": st.goals["trials"],
            "outcome": "incorrect",
            "prompt": "verbal",
        },
    )
    aide.sync()
    parent = Device(client_for(classroom.parent))
    out = parent.sync(pull=True)
    ch = out["changes"]
    assert [s["id"] for s in ch["students"]] == [st.id]
    assert ch["sessions"] == []
    assert ch["observations"] == []
    assert {g["id"] for g in ch["goals"]} == set(st.goals.values())
    sql.execute("UPDATE data_session SET review_status = 'approved' WHERE id = %s", (approved,))
    out = parent.sync(pull=True)
    ch = out["changes"]
    assert [s["id"] for s in ch["sessions"]] == [approved]
    assert [o["outcome"] for o in ch["observations"]] == ["correct"]
    assert ch["students"] == []
    # The aide sees both sessions; a student nobody assigned never appears.
    out = aide.sync(pull=True)
    assert {s["id"] for s in out["changes"]["sessions"]} == {approved, pending}
    assert classroom.other.id not in {s["id"] for s in out["changes"]["students"]}
    # Guardianship revoked: the child is removed on the next pull.
    sql.execute(
        "UPDATE guardianship SET revoked = true WHERE parent_id = %s", (classroom.parent.id,)
    )
    out = parent.sync(pull=True)
    assert out["changes"]["removed"]["students"] == [st.id]
    assert out["changes"]["sessions"] == []


def test_timers_from_two_devices_derive_deterministically(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    from server.collect.derive import Event, derive_goals

    st = classroom.student
    goal = st.goals["duration"]
    phone = Device(client_for(classroom.aide))
    tablet = Device(client_for(classroom.aide))
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    sid = str(uuid.uuid4())
    t1, t2 = str(uuid.uuid4()), str(uuid.uuid4())
    phone.op("session.open", {"session_id": sid, "student_id": st.id}, at=t0)
    phone.op("timer.start", {"session_id": sid, "timer_id": t1, "goal_id": goal}, at=t0)
    phone.sync()
    tablet.op(
        "timer.start",
        {"session_id": sid, "timer_id": t2, "goal_id": goal},
        at=t0 + timedelta(minutes=2),
    )
    phone.op(
        "timer.start",
        {"session_id": sid, "timer_id": t1, "goal_id": goal},
        at=t0 + timedelta(minutes=3),
    )
    phone.op("timer.stop", {"session_id": sid, "timer_id": t1}, at=t0 + timedelta(minutes=5))
    tablet.op("timer.stop", {"session_id": sid, "timer_id": t2}, at=t0 + timedelta(minutes=7))
    tablet.op("timer.stop", {"session_id": sid, "timer_id": t2}, at=t0 + timedelta(minutes=9))
    phone.op(
        "timer.stop",
        {"session_id": sid, "timer_id": str(uuid.uuid4())},
        at=t0 + timedelta(minutes=8),
    )
    # Arrival order: the tablet first, then the phone.
    tablet.sync()
    phone.sync()
    rows = sql.execute(
        """SELECT op_id, kind, recorded_at, goal_id, timer_id, voids_op_id, state
             FROM observation WHERE session_id = %s""",
        (sid,),
    ).fetchall()
    events = [
        Event(
            op_id=r[0],
            kind=r[1],
            recorded_at=r[2],
            goal_id=r[3],
            timer_id=r[4],
            voids_op_id=r[5],
            state=r[6],
        )
        for r in rows
    ]
    results = derive_goals(events)
    result = results[goal]
    assert round(result.seconds) == 7 * 60  # [0, 5] ∪ [2, 7]: overlap counted once
    assert result.running_since is None
    # A stop of a timer never started names no goal: counted nowhere, reported.
    assert results[None].orphan_stops == 1
    assert results[None].seconds == 0
    # The stop of a timer whose start named the goal is stored under that goal.
    assert {r[3] for r in rows if r[1] == "timer_stop" and str(r[4]) in (t1, t2)} == {goal}


def test_sync_writes_and_refusals_are_audited(
    classroom: Classroom, aide_device: Device, sql: psycopg.Connection[Any]
) -> None:
    st = classroom.student
    sid = open_session(aide_device, st.id)
    for _ in range(3):
        aide_device.op(
            "tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1}
        )
    aide_device.op(
        "session.open", {"session_id": str(uuid.uuid4()), "student_id": classroom.other.id}
    )
    batch = list(aide_device.outbox)
    out = aide_device.sync()
    assert statuses(out) == ["applied"] * 4 + ["rejected"]

    def audit_rows() -> list[tuple[Any, ...]]:
        return sql.execute(
            """SELECT actor_role, student_id, action, record_id, detail
                 FROM audit_log WHERE actor_id = %s AND action IN ('sync_write', 'denied')
                ORDER BY id""",
            (classroom.aide.id,),
        ).fetchall()

    rows = audit_rows()
    assert [r for r in rows if r[2] == "sync_write"] == [
        ("aide", st.id, "sync_write", aide_device.client_id, {"ops": 4})
    ]
    assert [r[2] for r in rows if r[2] == "denied"] == ["denied"]
    # The same batch again: all duplicates, nothing written, nothing more audited.
    retry = aide_device.post(batch)
    assert retry.status_code == 200
    assert statuses(retry.json()) == ["duplicate"] * 5
    assert audit_rows() == rows


def test_a_reused_op_id_on_a_refused_op_or_a_reopened_session_never_wedges_the_queue(
    classroom: Classroom, aide_device: Device, sql: psycopg.Connection[Any]
) -> None:
    """Two batches that used to hit a unique key on every retry (a 500 forever, the
    client stuck): an op refused at decoding that reuses a processed op's id, and a
    second `session.open` of an existing session under a new op id."""
    dev = aide_device
    st = classroom.student
    sid = open_session(dev, st.id)
    tap = dev.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1})
    dev.sync()
    # A new seq reusing the applied tap's op id, with a time far in the future.
    reused = dev.op(
        "tally.add",
        {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1},
        at=datetime.now(UTC) + timedelta(days=3),
    )
    reused["op_id"] = tap["op_id"]
    out = dev.sync()
    assert [(r["status"], r["code"]) for r in out["results"]] == [("rejected", "op_id_conflict")]
    # The same session opened again under a new op id: nothing changes; for another
    # student (not this aide's): refused. Neither blocks what follows.
    dev.op("session.open", {"session_id": sid, "student_id": st.id})
    dev.op("session.open", {"session_id": sid, "student_id": classroom.other.id})
    dev.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1})
    out = dev.sync()
    assert [(r["status"], r["code"]) for r in out["results"]] == [
        ("applied", None),
        ("rejected", "forbidden"),
        ("applied", None),
    ]
    assert counts(sql, sid)["tally"] == 2
    assert not dev.outbox


def test_edge_answers_the_protocol_documents(
    classroom: Classroom, aide_device: Device, sql: psycopg.Connection[Any]
) -> None:
    """docs/sync-protocol.md §3, §6: the answers an outside client meets."""
    dev = aide_device
    sid = open_session(dev, classroom.student.id)
    opened = dev.outbox[0]
    # A goal-less timer on a session without a service: the session's own time.
    timer = str(uuid.uuid4())
    dev.op("timer.start", {"session_id": sid, "timer_id": timer})
    # An undo of something that is not a recorded event.
    dev.op("undo", {"target_op_id": opened["op_id"]})
    assert [(r["status"], r["code"]) for r in dev.sync()["results"]] == [
        ("applied", None),
        ("applied", None),
        ("rejected", "undo_target"),
    ]
    # The same op queued again under a new seq: refused, nothing written twice; its seq
    # is processed, so sending it again is a duplicate.
    dev.seq += 1
    again = {**opened, "seq": dev.seq}
    dev.outbox.append(again)
    assert [(r["status"], r["code"]) for r in dev.sync()["results"]] == [
        ("rejected", "op_id_conflict")
    ]
    assert statuses(_post_ok(dev, [again])) == ["duplicate"]
    assert sql.execute("SELECT count(*) FROM data_session WHERE id = %s", (sid,)).fetchone() == (1,)


def _post_ok(dev: Device, ops: list[dict[str, Any]]) -> dict[str, Any]:
    r = dev.post(ops)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_captured_offline_is_what_the_app_said_not_an_inference(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    """A session opened with the server unreachable is 'captured offline' even when it
    syncs a second later; one opened online that syncs late is not; an app that says
    nothing gets the old inference (over two minutes late)."""
    dev = Device(client_for(classroom.aide))
    said_offline = open_session(dev, classroom.student.id)
    dev.outbox[-1]["offline"] = True
    said_online = open_session(dev, classroom.student.id)
    dev.outbox[-1]["offline"] = False
    dev.outbox[-1]["at"] = (dev.clock() - timedelta(minutes=30)).isoformat()
    silent_late = open_session(dev, classroom.student.id)
    dev.outbox[-1]["at"] = (dev.clock() - timedelta(minutes=30)).isoformat()
    silent_now = open_session(dev, classroom.student.id)
    dev.sync()
    rows = dict(
        sql.execute(
            "SELECT id::text, captured_offline FROM data_session WHERE id::text = ANY(%s)",
            ([said_offline, said_online, silent_late, silent_now],),
        ).fetchall()
    )
    assert rows == {said_offline: True, said_online: False, silent_late: True, silent_now: False}
    # Not a boolean: refused alone, like any malformed op field.
    bad = dev.body(
        [
            {
                **dev.op(
                    "session.open",
                    {"session_id": str(uuid.uuid4()), "student_id": classroom.student.id},
                ),
                "offline": "yes",
            }
        ]
    )
    assert dev.client.post("/api/sync", json=bad).status_code == 400
