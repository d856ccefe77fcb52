"""Writes after a removal (docs/security.md, "Recorded before, synced after a removal").

Permission is judged at the recorded time, but the client sets that time: after a
link ends, a user's ops on that student apply only if the client could have recorded
them before the end (registered before it, and the op's seq at most the client's
high-water mark at its first sync after it); they land flagged for review. Messages
are judged when they arrive."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.integration.test_sync import Device, statuses
from tests.support.factories import Classroom, Factory, Student, User


def _linked(factory: Factory, role: str, st: Student) -> tuple[User, str, int]:
    """A new user of `role` linked to `st` for five days: (user, link table, link id)."""
    user = factory.user(role)
    starts = datetime.now(UTC) - timedelta(days=5)
    if role == "aide":
        return user, "assignment", factory.assign(user, st, starts=starts)
    return user, "caseload_link", factory.caseload(user, st, starts=starts)


def _end(sql: psycopg.Connection[Any], table: str, link: int) -> None:
    if table == "assignment":
        sql.execute("UPDATE assignment SET ends_at = now() WHERE id = %s", (link,))
    else:
        sql.execute("UPDATE caseload_link SET ends_at = now() WHERE id = %s", (link,))


def _before() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=30)


def _session_ops(dev: Device, st: Student, *, taps: int, at: datetime) -> str:
    sid = str(uuid.uuid4())
    dev.op("session.open", {"session_id": sid, "student_id": st.id}, at=at)
    for _ in range(taps):
        dev.op(
            "tally.add", {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1}, at=at
        )
    return sid


def _codes(out: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(r["status"], r["code"]) for r in out["results"]]


@pytest.mark.parametrize("role", ["aide", "teacher"])
def test_a_client_registered_after_the_removal_cannot_backdate_into_it(
    role: str, factory: Factory, classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    st = classroom.student
    user, table, link = _linked(factory, role, st)
    _end(sql, table, link)
    dev = Device(client_for(user))  # a fresh client: nothing it holds predates the end
    _session_ops(dev, st, taps=1, at=_before())
    out = dev.sync()
    assert _codes(out) == [("rejected", "forbidden"), ("rejected", "unknown_session")]
    assert sql.execute(
        "SELECT count(*) FROM data_session WHERE staff_id = %s", (user.id,)
    ).fetchone() == (0,)


def test_ops_queued_after_the_first_sync_since_the_removal_are_refused(
    factory: Factory, classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    st = classroom.student
    aide, table, link = _linked(factory, "aide", st)
    dev = Device(client_for(aide))
    sid = _session_ops(dev, st, taps=1, at=datetime.now(UTC))
    assert statuses(dev.sync()) == ["applied", "applied"]
    tap = {"session_id": sid, "goal_id": st.goals["frequency"], "delta": 1}
    dev.op("tally.add", tap)
    assert statuses(dev.sync()) == ["applied"]  # the steady state: judged on known facts
    _end(sql, table, link)
    # Queued before the removal, sent after it: the first sync after the end keeps the
    # client's mark (this op's seq), and the tap is applied and flagged.
    dev.op("tally.add", tap, at=_before())
    assert _codes(dev.sync()) == [("applied", "after_removal")]
    # Anything numbered after that sync was made after the removal, whatever its time.
    dev.op("tally.add", tap, at=_before())
    dev.op("session.open", {"session_id": str(uuid.uuid4()), "student_id": st.id}, at=_before())
    assert _codes(dev.sync()) == [("rejected", "forbidden")] * 2
    flags = sql.execute(
        "SELECT synced_after_removal, count(*) FROM observation WHERE session_id = %s GROUP BY 1",
        (sid,),
    ).fetchall()
    assert sorted(flags) == [(False, 2), (True, 1)]
    # A sync with nothing queued counts too: ops numbered after it are refused.
    other, table, link = _linked(factory, "aide", st)
    dev2 = Device(client_for(other))
    _end(sql, table, link)
    assert dev2.sync(pull=True)["results"] == []
    _session_ops(dev2, st, taps=0, at=_before())
    assert _codes(dev2.sync()) == [("rejected", "forbidden")]


def test_an_honest_offline_queue_lands_flagged_over_several_batches(
    factory: Factory, classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    st = classroom.student
    aide, table, link = _linked(factory, "aide", st)
    dev = Device(client_for(aide))
    # Offline for the morning: a whole session queued, then the aide is moved.
    sid = _session_ops(dev, st, taps=5, at=_before())
    dev.op("session.close", {"session_id": sid}, at=_before())
    _end(sql, table, link)
    results: list[tuple[str, str | None]] = []
    while dev.outbox:  # three batches; each reports the mark (7)
        results += _codes(dev.sync(limit=3))
    assert results == [("applied", "after_removal")] * 7
    row = sql.execute(
        """SELECT d.review_status, d.synced_after_removal IS NOT NULL,
                  (SELECT bool_and(o.synced_after_removal) FROM observation o
                    WHERE o.session_id = d.id),
                  (SELECT count(*) FROM observation o WHERE o.session_id = d.id)
             FROM data_session d WHERE d.id = %s""",
        (sid,),
    ).fetchone()
    assert row == ("pending", True, True, 5)
    # The teacher sees why in the review queue and on the session's page.
    teacher = client_for(classroom.teacher)
    for page in ("/teacher/review", f"/teacher/review/sessions/{sid}"):
        r = teacher.get(page)
        assert r.status_code == 200, r.text
        assert "Recorded before, synced after the removal" in r.text


def test_an_older_app_without_a_mark_is_judged_on_what_it_sent(
    factory: Factory, classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    """Without `high_seq` the mark is the highest seq of the first batch after the end:
    the rest of a long queue is refused (conservative; docs/sync-protocol.md)."""
    st = classroom.student
    aide, table, link = _linked(factory, "aide", st)
    dev = Device(client_for(aide), send_mark=False)
    _session_ops(dev, st, taps=3, at=_before())
    _end(sql, table, link)
    assert _codes(dev.sync(limit=2)) == [("applied", "after_removal")] * 2
    assert _codes(dev.sync()) == [("rejected", "forbidden")] * 2


def test_messages_and_drafts_are_judged_when_they_arrive(
    factory: Factory, classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    st = classroom.student
    aide, table, link = _linked(factory, "aide", st)
    thread = sql.execute(
        """INSERT INTO message_thread (school_id, student_id, subject, created_by)
           VALUES (%s, %s, 'Team', %s) RETURNING id""",
        (factory.school_id, st.id, aide.id),
    ).fetchone()
    assert thread is not None
    dev = Device(client_for(aide))
    _end(sql, table, link)
    # Written "before" the removal by the client's clock: judged now, refused.
    dev.op("message.send", {"thread_id": thread[0], "body": "Backdated"}, at=_before())
    dev.op(
        "draft.save", {"thread_id": thread[0], "body": "Backdated", "base_version": 0}, at=_before()
    )
    assert _codes(dev.sync()) == [("rejected", "forbidden")] * 2
    assert sql.execute(
        "SELECT count(*) FROM message WHERE author_id = %s", (aide.id,)
    ).fetchone() == (0,)


def test_a_provider_whose_service_access_ended_cannot_backdate_either(
    factory: Factory, classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    """The end of a provider's access through a service is a removal like any other
    (found by review: the rule only knew caseloads and assignments)."""
    st = classroom.student
    provider = factory.user("provider")
    service = factory.service(st, provider)
    sql.execute(
        "UPDATE service SET provider_ended_at = now() - interval '1 minute' WHERE id = %s",
        (service,),
    )
    dev = Device(client_for(provider))  # registered after the end
    _session_ops(dev, st, taps=1, at=datetime.now(UTC) - timedelta(minutes=30))
    # The session is refused; its tap then names no session.
    assert _codes(dev.sync()) == [("rejected", "forbidden"), ("rejected", "unknown_session")]


def test_a_missing_mark_after_a_sync_since_the_end_fails_closed(
    factory: Factory, classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    """The end committed while a sync ran (so that sync kept no mark), then the client
    synced again: with no mark to bound it, nothing on that student applies."""
    st = classroom.student
    user, table, link = _linked(factory, "aide", st)
    dev = Device(client_for(user))
    _end(sql, table, link)
    # As if the client synced after the end without a mark being kept.
    sql.execute(
        "UPDATE sync_client SET last_sync_at = now() WHERE client_id = %s", (dev.client_id,)
    )
    sql.execute("DELETE FROM sync_mark WHERE client_id = %s", (dev.client_id,))
    _session_ops(dev, st, taps=1, at=_before())
    # The session is refused; its tap then names no session.
    assert _codes(dev.sync()) == [("rejected", "forbidden"), ("rejected", "unknown_session")]


def test_a_session_reopened_after_the_removal_stays_in_review(
    factory: Factory, classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    st = classroom.student
    user, table, link = _linked(factory, "aide", st)
    dev = Device(client_for(user))
    sid = _session_ops(dev, st, taps=1, at=_before())
    dev.op("session.close", {"session_id": sid}, at=_before())
    dev.sync()
    _end(sql, table, link)
    dev.op("session.reopen", {"session_id": sid}, at=_before())
    assert _codes(dev.sync()) == [("correction", "after_removal")]
    row = sql.execute(
        "SELECT review_status, synced_after_removal IS NOT NULL FROM data_session WHERE id = %s",
        (sid,),
    ).fetchone()
    assert row == ("pending", True)
