"""Writing the audit trail: every read, change, export and disclosure of student records."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import asyncpg
import msgspec

from server import db
from server.auth.sessions import CurrentUser


async def record(
    actor: CurrentUser | None,
    *,
    action: str,
    record_type: str,
    record_id: object = None,
    student_id: int | None = None,
    request_id: str | None = None,
    detail: dict[str, Any] | None = None,
    school_id: int | None = None,
    conn: asyncpg.Connection | None = None,
) -> None:
    """Append one audit row (in `conn`'s transaction when given)."""
    args = (
        school_id if school_id is not None else (actor.school_id if actor else None),
        actor.id if actor else None,
        actor.role if actor else None,
        student_id,
        record_type,
        None if record_id is None else str(record_id),
        action,
        request_id,
        msgspec.json.encode(detail or {}).decode(),
    )
    sql = """INSERT INTO audit_log (school_id, actor_id, actor_role, student_id, record_type,
                                    record_id, action, request_id, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)"""
    if conn is not None:
        await conn.execute(sql, *args)
        return
    async with db.connection() as c:
        await c.execute(sql, *args)


async def refusal(
    actor: CurrentUser | None,
    *,
    attempted: str,
    record_type: str,
    record_id: object = None,
    student_id: int | None = None,
    request_id: str | None = None,
    reason: str,
) -> None:
    """Append a 'denied' row for a refused request, on a connection of its own: the
    refused work is usually rolled back, and the row must outlive it."""
    await record(
        actor,
        action="denied",
        record_type=record_type,
        record_id=record_id,
        student_id=student_id,
        request_id=request_id,
        detail={"attempted": attempted, "reason": reason},
    )


async def students_listed(
    actor: CurrentUser,
    student_ids: Iterable[int],
    *,
    page: str,
    request_id: str | None = None,
    conn: asyncpg.Connection | None = None,
) -> None:
    """One row per view of a page that lists students (names, dates of birth): which
    students it showed."""
    await record(
        actor,
        action="list",
        record_type="students",
        request_id=request_id,
        detail={"page": page, "student_ids": sorted(set(student_ids))},
        conn=conn,
    )
