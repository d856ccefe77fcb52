"""Pull: large deltas in pages, scope growing and shrinking, and the messages service's
thread rules that the pull and message.send rely on."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import psycopg

from server.messages import service as messages
from tests.integration.test_sync import Device, open_session
from tests.support.factories import Classroom, Factory


def pull_all(dev: Device) -> tuple[list[dict[str, Any]], int]:
    """Pull until has_more is false; returns every page's changes and the page count."""
    pages: list[dict[str, Any]] = []
    while True:
        out = dev.sync(pull=True)
        pages.append(out["changes"])
        if not out["has_more"]:
            return pages, len(pages)
        assert len(pages) < 20


def test_large_delta_comes_in_pages_without_loss(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    st = classroom.student
    aide = Device(client_for(classroom.aide))
    sid = open_session(aide, st.id)
    for _ in range(4499):
        aide.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1})
    while aide.outbox:
        aide.sync()
    teacher = Device(client_for(classroom.teacher))
    pages, n = pull_all(teacher)
    assert n >= 3
    seen = [o["op_id"] for p in pages for o in p["observations"]]
    assert len(seen) == len(set(seen)) == 4499
    for p in pages:
        total = sum(len(v) for k, v in p.items() if k != "removed")
        assert total <= 2000
    # Nothing changed since: the next pull is empty.
    out = teacher.sync(pull=True)
    assert out["changes"]["observations"] == []
    assert out["has_more"] is False


def test_scope_growth_sends_the_new_student_whole(
    classroom: Classroom, factory: Factory, client_for: Any
) -> None:
    aide = Device(client_for(classroom.aide))
    first = aide.sync(pull=True)["changes"]
    assert [s["id"] for s in first["students"]] == [classroom.student.id]
    newcomer = factory.student("Lena")
    factory.assign(classroom.aide, newcomer)
    out = aide.sync(pull=True)["changes"]
    assert [s["id"] for s in out["students"]] == [newcomer.id]
    assert {g["id"] for g in out["goals"]} == set(newcomer.goals.values())
    # The assignment ends: the student is removed from the device.
    factory.conn.execute(
        "UPDATE assignment SET ends_at = now() WHERE aide_id = %s AND student_id = %s",
        (classroom.aide.id, newcomer.id),
    )
    out = aide.sync(pull=True)["changes"]
    assert out["removed"]["students"] == [newcomer.id]


def test_a_garbage_cursor_is_a_full_pull(classroom: Classroom, client_for: Any) -> None:
    dev = Device(client_for(classroom.teacher))
    dev.cursor = "not-a-cursor!!"
    out = dev.sync(pull=True)
    assert [s["id"] for s in out["changes"]["students"]] == [classroom.student.id]


def test_default_thread_and_participants(
    classroom: Classroom, factory: Factory, database_url: str, sql: psycopg.Connection[Any]
) -> None:
    st = classroom.student
    revoked = factory.user("parent")
    factory.guardian(revoked, st, revoked=True)

    async def run() -> tuple[int, int, list[int]]:
        conn = await asyncpg.connect(database_url)
        try:
            async with conn.transaction():
                a = await messages.ensure_student_thread(
                    conn, st.school_id, st.id, classroom.teacher.id
                )
            async with conn.transaction():
                b = await messages.ensure_student_thread(
                    conn, st.school_id, st.id, classroom.aide.id
                )
            people = await messages.participants(conn, st.school_id, st.id)
            return a, b, people
        finally:
            await conn.close()

    a, b, people = asyncio.run(run())
    assert a == b
    assert sql.execute("SELECT subject FROM message_thread WHERE id = %s", (a,)).fetchone() == (
        "Maya's team",
    )
    assert set(people) == {
        classroom.teacher.id,
        classroom.provider.id,
        classroom.aide.id,
        classroom.parent.id,
    }
    assert revoked.id not in people


def test_an_unrelated_long_transaction_causes_no_resends(
    classroom: Classroom, client_for: Any, database_url: str
) -> None:
    """A transaction left open elsewhere holds the cluster's xmin back. A cursor built on
    xmin alone would then send the same rows on every pull; the snapshot in the cursor
    keeps deltas exact, and the held transaction's own change still arrives once it
    commits."""
    st = classroom.student
    aide = Device(client_for(classroom.aide))
    sid = open_session(aide, st.id)
    with psycopg.connect(database_url) as held:  # not autocommit: one open transaction
        held.execute("SELECT pg_current_xact_id()")  # takes an xid: xmin stays at or below it
        for _ in range(3):
            aide.op("tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1})
        while aide.outbox:
            aide.sync()
        teacher = Device(client_for(classroom.teacher))
        pages, _ = pull_all(teacher)
        assert sum(len(p["observations"]) for p in pages) == 3
        again = teacher.sync(pull=True)
        assert again["changes"]["observations"] == []
        assert again["changes"]["sessions"] == []
        # The held transaction changes the student and commits after the pulls above.
        held.execute("UPDATE student SET grade = '4' WHERE id = %s", (st.id,))
        held.commit()
    after = teacher.sync(pull=True)["changes"]
    assert [(s["id"], s["grade"]) for s in after["students"]] == [(st.id, "4")]
    assert teacher.sync(pull=True)["changes"]["students"] == []


def test_aide_pull_carries_the_teachers_corrections_of_their_entries(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    st = classroom.student
    aide = Device(client_for(classroom.aide))
    sid = open_session(aide, st.id)
    trial = aide.op(
        "trial.record",
        {
            "session_id": sid,
            "goal_id": st.goals["trials"],
            "outcome": "incorrect",
            "prompt": "verbal",
        },
    )
    aide.op("session.close", {"session_id": sid})
    aide.sync()
    aide.sync(pull=True)
    row = sql.execute("SELECT id FROM observation WHERE op_id = %s", (trial["op_id"],)).fetchone()
    assert row is not None
    teacher = client_for(classroom.teacher)
    r = teacher.post(
        f"/teacher/review/entries/{row[0]}/correct",
        data={
            "reason": "Watched the video: it was correct",
            "outcome": "correct",
            "prompt": "verbal",
        },
    )
    assert r.status_code in (302, 303), r.text
    out = aide.sync(pull=True)["changes"]["observations"]
    corrections = [o for o in out if o["kind"] == "correction"]
    assert len(corrections) == 1
    assert corrections[0]["session_id"] == sid
    # Another aide's pull does not get it.
    other_aide = Device(client_for(Factory(sql, school_id=st.school_id).user("aide")))
    assert other_aide.sync(pull=True)["changes"]["observations"] == []
