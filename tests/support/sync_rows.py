"""Values of the sync write statement for a batch of new tallies, encoded as the sync
engine encodes a batch (service._columns): for tests and benchmarks that drive the
statement directly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from server.sync import statements
from server.sync.service import _columns

# Tallies into an existing session, with the per-student audit row.
TALLY_WRITE = statements.WriteShape(
    sessions=False,
    observations=True,
    closes=False,
    audit=True,
    read_sessions=True,
    denied=False,
)


def tally_write_values(
    *,
    k: int,
    session_hash: bytes,
    school_id: int,
    user_id: int,
    client_id: uuid.UUID,
    expected_seq: int,
    session: tuple[uuid.UUID, str, datetime | None],
    student_id: int,
    goal_id: int,
) -> dict[str, Any]:
    """`k` new tallies after `expected_seq`, judged against `session` as read
    (id, review_status, closed_at), by a user whose session hashes to `session_hash`."""
    now = datetime.now(UTC)
    ops = [uuid.uuid4() for _ in range(k)]
    observations = [
        # op, student, session, goal, kind, outcome, prompt, delta, timer, value, step,
        # note, voids, state, device time, recorded at (statements.OBSERVATION_ARRAYS)
        (op, student_id, session[0], goal_id, "tally", None, None, 1)
        + (None,) * 5
        + ("applied", now, now, None)
        for op in ops
    ]
    ledger = [
        (expected_seq + n, op, "tally.add", b"\0" * 32, "applied", None, None, now, now)
        for n, op in enumerate(ops, start=1)
    ]
    return {
        "school_id": school_id,
        "user_id": user_id,
        "device_id": None,
        "client_id": client_id,
        "now": now,
        "session_hash": session_hash,
        "seen_after": now - timedelta(hours=1),
        "expected_seq": expected_seq,
        "last_seq": expected_seq + k,
        "app_version": "test",
        "role": "aide",
        "request_id": None,
        "high_seq": expected_seq + k,
        "a_student": [student_id],
        "a_count": [k],
        **_columns(statements.READ_SESSION_COLUMNS, [session]),
        **_columns(statements.OBSERVATION_COLUMNS, observations),
        **_columns(statements.LEDGER_COLUMNS, ledger),
    }
