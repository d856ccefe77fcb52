"""Where a sync's database time goes (not a test): PostgreSQL backend CPU per batch,
built up piece by piece, for a 1-op tally and a 200-op batch.

Against one database with a realistic history (50,000 ledger rows and observations,
ANALYZEd), one connection with the sync pool's settings (generic plans) runs, N times
each, in rotation:
- prefetch: the batch's one read statement;
- + write: its one write statement (gate, observations, ledger, audit row, last_seq),
  a transaction of its own, as in production, so its commit's fsync counts.
The backend process's CPU time (utime + stime from /proc, so fsync's kernel time
counts) is read before and after; the minimum over rounds is reported, since this
machine's speed drifts. The difference between the steps is the write's cost.
The last stdout line is one JSON object.

    .venv/bin/python bench/sync_statements.py [--rounds 3] [--n 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HISTORY = 50_000


def backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(url: str, ids: dict[str, Any], rounds: int, n: int) -> dict[str, Any]:
    import asyncpg

    from server.db import SYNC_SERVER_SETTINGS
    from server.sync import statements
    from tests.support.sync_rows import TALLY_WRITE, tally_write_values

    conn = await asyncpg.connect(url, server_settings=SYNC_SERVER_SETTINGS)
    pid = await conn.fetchval("SELECT pg_backend_pid()")
    client_id = uuid.uuid4()
    school, student, session, goal, aide = (
        ids["school_id"],
        ids["student_id"],
        ids["session_id"],
        ids["goal_id"],
        ids["aide_id"],
    )
    session_hash = uuid.uuid4().bytes * 2  # the request's session (resolved by the prefetch)
    await conn.execute(
        """INSERT INTO auth_session (id_hash, user_id, school_id, role, created_at,
                                     last_seen_at, expires_at)
           VALUES ($1, $2, $3, 'aide', now(), now(), now() + interval '1 day')""",
        session_hash,
        aide,
        school,
    )
    await conn.execute(
        "INSERT INTO sync_client (client_id, school_id, user_id, last_seq) VALUES ($1, $2, $3, $4)",
        client_id,
        school,
        aide,
        HISTORY,
    )
    await conn.execute(
        """INSERT INTO sync_op (client_id, seq, op_id, school_id, user_id, op_type, body_hash,
                                outcome)
           SELECT $1, g, gen_random_uuid(), $2, $3, 'tally.add', '\\x00', 'applied'
             FROM generate_series(1, $4::int) g""",
        client_id,
        school,
        aide,
        HISTORY,
    )
    await conn.execute(
        """INSERT INTO observation (op_id, school_id, student_id, session_id, goal_id, user_id,
                                    kind, delta, device_time, recorded_at)
           SELECT gen_random_uuid(), $1, $2, $3, $4, $5, 'tally', 1, now(), now()
             FROM generate_series(1, $6::int)""",
        school,
        student,
        session,
        goal,
        aide,
        HISTORY,
    )
    await conn.execute("ANALYZE")
    seq = HISTORY
    prefetch = statements.prefetch(
        statements.PrefetchShape(
            seq_range=True,
            used=False,
            undo=False,
            sessions=True,
            timers=False,
            goals=True,
            services=False,
            students=False,
            scope=True,
        )
    )
    write = statements.write(TALLY_WRITE)

    def prefetch_args(k: int) -> list[Any]:
        now = datetime.now(UTC)
        return prefetch.args(
            {
                "session_hash": session_hash,
                "now": now,
                "seen_after": now - timedelta(hours=1),
                "client_id": client_id,
                "seq_lo": seq + 1,
                "seq_hi": seq + k,
                "school_id": school,
                "session_ids": [session],
                "user_id": aide,
                "goal_ids": [goal],
                "p_sess": [session] * k,
                "p_stu": [None] * k,
                "p_target": [None] * k,
                "p_at": [now] * k,
                "role": "aide",
            }
        )

    def write_args(k: int) -> list[Any]:
        return write.args(
            tally_write_values(
                k=k,
                session_hash=session_hash,
                school_id=school,
                user_id=aide,
                client_id=client_id,
                expected_seq=seq,
                session=(session, "open", None),
                student_id=student,
                goal_id=goal,
            )
        )

    async def transaction(step: int, k: int) -> None:
        nonlocal seq
        await conn.fetchrow(prefetch.sql, *prefetch_args(k))
        if step >= 1:
            status = await conn.execute(write.sql, *write_args(k))
            assert status == "UPDATE 1", status
            seq += k

    best: dict[tuple[int, int], float] = {}
    for _ in range(rounds):
        for k, reps in ((1, n), (200, max(1, n // 5))):
            for step in (0, 1):
                for _ in range(20):
                    await transaction(step, k)
                cpu0 = backend_cpu(pid)
                for _ in range(reps):
                    await transaction(step, k)
                per = (backend_cpu(pid) - cpu0) / reps * 1e6
                best[(k, step)] = min(best.get((k, step), per), per)
    await conn.close()
    result: dict[str, Any] = {}
    for k, label in ((1, "op1"), (200, "op200")):
        read, full = best[(k, 0)], best[(k, 1)]
        result[f"{label}_prefetch_us"] = round(read)
        result[f"{label}_write_us"] = round(full - read)
        result[f"{label}_total_us"] = round(full)
    result["op200_total_per_op_us"] = round(best[(200, 1)] / 200, 1)
    result.update(history_rows=HISTORY, rounds=rounds, n=n)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()

    import psycopg

    from tests.support.factories import Factory
    from tests.support.servers import bench_database

    with bench_database() as url:
        with psycopg.connect(url, autocommit=True) as sql:
            f = Factory(sql)
            student = f.student("Bench")
            aide = f.user("aide")
            f.assign(aide, student)
            session_id = uuid.uuid4()
            sql.execute(
                """INSERT INTO data_session (id, school_id, student_id, staff_id, opened_at)
                   VALUES (%s, %s, %s, %s, now())""",
                (session_id, f.school_id, student.id, aide.id),
            )
            ids = {
                "school_id": f.school_id,
                "student_id": student.id,
                "session_id": session_id,
                "goal_id": student.goals["frequency"],
                "aide_id": aide.id,
            }
        t0 = time.perf_counter()
        result = asyncio.run(measure(url, ids, args.rounds, args.n))
        result["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
