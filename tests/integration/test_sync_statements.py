"""Every shape of the sync engine's two statements is valid SQL on the real schema, binds
exactly the values it names, and leaves nothing out (the integration tests exercise the
common shapes end to end; rare combinations are checked here)."""

from __future__ import annotations

import asyncio
import itertools
import re
from dataclasses import fields
from typing import TypeVar

import asyncpg

from server.sync import statements

T = TypeVar("T")


def all_shapes(cls: type[T]) -> list[T]:
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    return [
        cls(**dict(zip(names, bits, strict=True)))
        for bits in itertools.product([False, True], repeat=len(names))
    ]


CLIENT_COLUMNS = ["user_id", "school_id", "device_id", "last_seq", "revoked_at"]


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
                assert columns[:7] == [*CLIENT_COLUMNS, "seen", "used"]
                assert ("targets" in columns) == shape.undo
                assert ("timers" in columns) == shape.timers
                assert ("scope" in columns) == shape.scope
            alone = await conn.prepare(statements.client().sql)
            assert [a.name for a in alone.get_attributes()] == CLIENT_COLUMNS
            for wshape in all_shapes(statements.WriteShape):
                st = statements.write(wshape)
                prepared = await conn.prepare(st.sql)
                assert len(prepared.get_parameters()) == len(st.params)
        finally:
            await conn.close()

    asyncio.run(check())
