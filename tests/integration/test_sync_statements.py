"""Every shape of the sync engine's two statements is valid SQL on the real schema, binds
exactly the values it names, and leaves nothing out (the integration tests exercise the
common shapes end to end; rare combinations are checked here)."""

from __future__ import annotations

import asyncio
import itertools
import re
import uuid
from dataclasses import fields
from typing import Any, TypeVar

import asyncpg
import psycopg

from server.auth.sessions import SESSION_FIELDS
from server.sync import statements
from tests.support.factories import Factory
from tests.support.sync_rows import TALLY_WRITE, tally_write_values

T = TypeVar("T")


def all_shapes(cls: type[T]) -> list[T]:
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    return [
        cls(**dict(zip(names, bits, strict=True)))
        for bits in itertools.product([False, True], repeat=len(names))
    ]


CLIENT_COLUMNS = ["user_id", "school_id", "device_id", "last_seq", "revoked_at"]
ME_COLUMNS = [statements.ME_PREFIX + name for name in SESSION_FIELDS]


def placeholders(sql: str) -> list[int]:
    return sorted({int(n) for n in re.findall(r"\$(\d+)", sql)})


def test_every_shape_numbers_its_parameters_one_to_n() -> None:
    for shape in all_shapes(statements.PrefetchShape):
        st = statements.prefetch(shape)
        assert placeholders(st.sql) == list(range(1, len(st.params) + 1)), shape
        assert "{" not in st.sql, shape
    for wshape in all_shapes(statements.WriteShape):
        st = statements.write(wshape)
        assert placeholders(st.sql) == list(range(1, len(st.params) + 1)), wshape
        assert "{" not in st.sql, wshape


def test_every_shape_prepares_against_the_schema(database_url: str) -> None:
    async def check() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            for shape in all_shapes(statements.PrefetchShape):
                st = statements.prefetch(shape)
                prepared = await conn.prepare(st.sql)
                assert len(prepared.get_parameters()) == len(st.params)
                columns = [a.name for a in prepared.get_attributes()]
                assert columns[: len(ME_COLUMNS) + 6] == [*ME_COLUMNS, *CLIENT_COLUMNS, "seen"]
                assert ("used" in columns) == shape.used
                assert ("targets" in columns) == shape.undo
                assert ("timers" in columns) == shape.timers
                assert ("scope" in columns) == shape.scope
            alone = await conn.prepare(statements.client().sql)
            assert [a.name for a in alone.get_attributes()] == ME_COLUMNS + CLIENT_COLUMNS
            for wshape in all_shapes(statements.WriteShape):
                st = statements.write(wshape)
                prepared = await conn.prepare(st.sql)
                assert len(prepared.get_parameters()) == len(st.params)
        finally:
            await conn.close()

    asyncio.run(check())


def _tally_write(**facts: Any) -> tuple[str, list[Any]]:
    """The write statement of a one-tally batch judged against `session` as read."""
    st = statements.write(TALLY_WRITE)
    return st.sql, st.args(tally_write_values(k=1, **facts))


def test_the_write_writes_nothing_unless_what_the_batch_was_judged_against_holds(
    database_url: str, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    """The gate: the client's last_seq as read, the client itself, each session's review
    state as read, and the request's session still live. Any of them changed →
    `UPDATE 0` and no row anywhere."""
    student = factory.student("Gate")
    aide = factory.user("aide")
    factory.assign(aide, student)
    client_id, session_id = uuid.uuid4(), uuid.uuid4()
    session_hash, ended_hash = uuid.uuid4().bytes * 2, uuid.uuid4().bytes * 2
    for h, expires in ((session_hash, "1 day"), (ended_hash, "-1 second")):
        sql.execute(
            """INSERT INTO auth_session (id_hash, user_id, school_id, role, created_at,
                                         last_seen_at, expires_at)
               VALUES (%s, %s, %s, 'aide', now(), now(), now() + %s::interval)""",
            (h, aide.id, factory.school_id, expires),
        )
    sql.execute(
        "INSERT INTO sync_client (client_id, school_id, user_id, last_seq) VALUES (%s, %s, %s, 5)",
        (client_id, factory.school_id, aide.id),
    )
    sql.execute(
        """INSERT INTO data_session (id, school_id, student_id, staff_id, opened_at)
           VALUES (%s, %s, %s, %s, now())""",
        (session_id, factory.school_id, student.id, aide.id),
    )
    common = {
        "school_id": factory.school_id,
        "user_id": aide.id,
        "student_id": student.id,
        "goal_id": student.goals["frequency"],
    }

    def rows() -> tuple[int, int, int]:
        found = sql.execute(
            """SELECT (SELECT count(*) FROM observation WHERE session_id = %s),
                      (SELECT count(*) FROM sync_op WHERE client_id = %s),
                      (SELECT last_seq FROM sync_client WHERE client_id = %s)""",
            (session_id, client_id, client_id),
        ).fetchone()
        assert found is not None
        return (int(found[0]), int(found[1]), int(found[2]))

    async def run() -> list[str]:
        conn = await asyncpg.connect(database_url)
        try:
            out = []
            for client, seq, state, h in (
                (client_id, 4, "open", session_hash),  # another request moved last_seq
                (uuid.uuid4(), 5, "open", session_hash),  # no such client
                (client_id, 5, "approved", session_hash),  # the review state changed
                (client_id, 5, "open", ended_hash),  # the session ended since the read
                (client_id, 5, "open", session_hash),  # all as read: written
            ):
                st, args = _tally_write(
                    session_hash=h,
                    client_id=client,
                    expected_seq=seq,
                    session=(session_id, state, None),
                    **common,
                )
                out.append(await conn.execute(st, *args))
            return out
        finally:
            await conn.close()

    before = rows()
    statuses = asyncio.run(run())
    assert statuses == ["UPDATE 0", "UPDATE 0", "UPDATE 0", "UPDATE 0", "UPDATE 1"]
    assert before == (0, 0, 5)
    assert rows() == (1, 1, 6)
