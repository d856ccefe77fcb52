"""A device's steady state: a batch judged on the facts its client's previous batch
established, written in one statement whose gate checks every one of them
(server/sync/service.py, "judging on known facts"). Run in-process against the real
database, with the prefetch counted: the known path must be taken when nothing changed,
and left, with the same outcome as the ordinary path, for each fact that did."""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import psycopg
import pytest

from server import db
from server.auth.sessions import create_session, resolve_session, token_hash
from server.sync import service
from server.sync.schemas import SyncIn, SyncOut
from tests.support.factories import Factory


def test_known_facts_are_used_only_while_every_one_still_holds(
    database_url: str,
    factory: Factory,
    sql: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    student = factory.student("Known")
    aide = factory.user("aide")
    factory.assign(aide, student)
    tally_goal, rating_goal = student.goals["frequency"], student.goals["rating"]
    reads: list[int] = []
    real_prefetch = service._prefetch

    async def counting_prefetch(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return await real_prefetch(*args, **kwargs)

    monkeypatch.setattr(service, "_prefetch", counting_prefetch)
    monkeypatch.setattr(service, "_known", OrderedDict())

    def tallies(session_id: uuid.UUID) -> int:
        row = sql.execute(
            "SELECT count(*) FROM observation WHERE session_id = %s AND kind = 'tally'"
            " AND state = 'applied'",
            (session_id,),
        ).fetchone()
        assert row is not None
        return int(row[0])

    async def scenario() -> None:
        db.configure_engine(database_url)
        await db.start_pool()
        try:
            token = await create_session(
                user_id=aide.id, school_id=factory.school_id, role="aide", device_id=None
            )
            user = await resolve_session(token)
            assert user is not None
            h = token_hash(token)
            client = await service.register_client(user, app_version="t", replaces=None, lost_ops=0)
            seq = 0

            async def post(*ops: tuple[str, dict[str, Any]], at: datetime | None = None) -> SyncOut:
                nonlocal seq
                body = []
                for kind, data in ops:
                    seq += 1
                    body.append(
                        {
                            "seq": seq,
                            "op_id": str(uuid.uuid4()),
                            "type": kind,
                            "at": (at or datetime.now(UTC)).isoformat(),
                            "data": data,
                        }
                    )
                req = msgspec.convert(
                    {
                        "protocol": 1,
                        "client_id": str(client.client_id),
                        "sent_at": datetime.now(UTC).isoformat(),
                        "ops": body,
                    },
                    SyncIn,
                )
                return await service.sync(h, req)

            def tally(sid: uuid.UUID) -> tuple[str, dict[str, Any]]:
                return ("tally.add", {"session_id": str(sid), "goal_id": tally_goal, "delta": 1})

            async def outcome_after(
                change: str, params: tuple[Any, ...], sid: uuid.UUID, op: Any = None
            ) -> tuple[str, str | None]:
                """One batch after `change`: it must go the ordinary way."""
                before = len(reads)
                sql.execute(change, params)
                out = await post(op or tally(sid))
                assert len(reads) == before + 1, f"the known path ignored: {change}"
                r = out.results[0]
                return r.status, r.code

            sid = uuid.uuid4()
            await post(("session.open", {"session_id": str(sid), "student_id": student.id}))
            rating = ("rating.record", {"session_id": str(sid), "goal_id": rating_goal, "value": 3})
            # Opening the session read every goal of its student: from here on, taps on
            # any of them are judged on known facts, with no read at all.
            for _ in range(3):
                out = await post(tally(sid), tally(sid), rating)
                assert [r.status for r in out.results] == ["applied"] * 3
            assert reads == [1]
            assert tallies(sid) == 6

            # A teacher approved the session: the tap becomes a correction, as ever.
            assert await outcome_after(
                "UPDATE data_session SET review_status = 'approved' WHERE id = %s", (sid,), sid
            ) == ("correction", "approved")
            sql.execute("UPDATE data_session SET review_status = 'open' WHERE id = %s", (sid,))
            await post(tally(sid))  # read again (the state it knew was "approved")
            n = len(reads)
            await post(tally(sid))
            assert len(reads) == n  # known again

            # The goal was deactivated.
            assert await outcome_after(
                "UPDATE goal SET active = false WHERE id = %s", (tally_goal,), sid
            ) == ("rejected", "goal_mismatch")
            sql.execute("UPDATE goal SET active = true WHERE id = %s", (tally_goal,))
            await post(tally(sid))

            # The rating goal's scale changed: a 5 was fine on 0-5, not on 0-4.
            assert await outcome_after(
                "UPDATE goal SET rating_max = 4 WHERE id = %s",
                (rating_goal,),
                sid,
                ("rating.record", {"session_id": str(sid), "goal_id": rating_goal, "value": 5}),
            ) == ("rejected", "value_out_of_range")
            await post(tally(sid))

            # The aide's assignment ended a minute ago.
            assert await outcome_after(
                "UPDATE assignment SET ends_at = now() - interval '1 minute'"
                " WHERE aide_id = %s AND student_id = %s",
                (aide.id, student.id),
                sid,
            ) == ("rejected", "forbidden")
            sql.execute(
                "UPDATE assignment SET ends_at = NULL WHERE aide_id = %s AND student_id = %s",
                (aide.id, student.id),
            )
            await post(tally(sid))

            # The IEP's start moved after the tap's time.
            later = datetime.now(UTC).date() + timedelta(days=2)
            assert await outcome_after(
                "UPDATE iep SET start_date = %s WHERE student_id = %s", (later, student.id), sid
            ) == ("rejected", "time_before_iep")
            sql.execute(
                "UPDATE iep SET start_date = %s WHERE student_id = %s",
                (datetime.now(UTC).date() - timedelta(days=60), student.id),
            )
            await post(tally(sid))

            # Another request of the same client (in another process, say) moved last_seq:
            # the known last_seq is stale; the batch is judged from a read and applied once.
            stale = service._known[(h, client.client_id)]
            await post(tally(sid))
            service._known[(h, client.client_id)] = stale
            n, before = len(reads), tallies(sid)
            out = await post(tally(sid))
            assert [r.status for r in out.results] == ["applied"]
            assert len(reads) == n + 1
            assert tallies(sid) == before + 1

            # The session ended (logout, deactivation, revocation alike): 401, nothing written.
            n, before = len(reads), tallies(sid)
            sql.execute("DELETE FROM auth_session WHERE id_hash = %s", (h,))
            with pytest.raises(service.SessionEnded):
                await post(tally(sid))
            assert len(reads) == n + 1
            assert tallies(sid) == before
        finally:
            await db.close_pool()

    asyncio.run(scenario())
