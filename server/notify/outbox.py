"""Writing to the notification outbox, inside the caller's transaction.

Whatever causes a notification (a published progress note, a sent message) calls
enqueue() on the same connection and transaction as its own write, so a notification
exists exactly when its cause committed. Workers send them after commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import asyncpg

KINDS = ("progress_note", "message", "digest")


async def enqueue(
    conn: asyncpg.Connection,
    *,
    school_id: int,
    user_ids: Iterable[int],
    kind: str,
    ref_id: str,
    student_id: int | None = None,
) -> int:
    """Queue one notification per recipient; the same (user, kind, ref) twice is one row.

    Returns how many new rows were queued.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    recipients = sorted(set(user_ids))
    if not recipients:
        return 0
    rows = await conn.fetch(
        """INSERT INTO notification (id, school_id, user_id, student_id, kind, ref_id)
           SELECT ($1::uuid[])[i], $2, u, $3, $4, $5
             FROM unnest($6::bigint[]) WITH ORDINALITY AS t(u, i)
           ON CONFLICT (user_id, kind, ref_id) DO NOTHING
           RETURNING id""",
        [uuid.uuid4() for _ in recipients],
        school_id,
        student_id,
        kind,
        ref_id,
        recipients,
    )
    return len(rows)
