"""Which students may this user read or write: the one place that answers it.

Every route and query about a student goes through here. The rule itself is the SQL
function tandem_student_scope (migrations/foundation.sql) so raw SQL on the sync path
applies the very same rule. Out of scope is a 404, and the refusal is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from litestar.exceptions import NotFoundException

from server import db
from server.audit import service as audit
from server.auth.sessions import CurrentUser

NOT_FOUND = "No such student, or you do not have access to them."


async def student_ids(
    user: CurrentUser, *, at: datetime | None = None, conn: asyncpg.Connection | None = None
) -> list[int]:
    """The students `user` may read at moment `at` (now by default)."""
    sql = "SELECT student_id FROM tandem_student_scope($1, $2, $3, $4) ORDER BY student_id"
    args = (user.id, user.school_id, user.role, at or datetime.now(UTC))
    if conn is not None:
        return [r["student_id"] for r in await conn.fetch(sql, *args)]
    async with db.connection() as c:
        return [r["student_id"] for r in await c.fetch(sql, *args)]


async def in_scope(
    user: CurrentUser,
    student_id: int,
    *,
    at: datetime | None = None,
    conn: asyncpg.Connection | None = None,
) -> bool:
    sql = "SELECT EXISTS (SELECT 1 FROM tandem_student_scope($1, $2, $3, $4) WHERE student_id = $5)"
    args = (user.id, user.school_id, user.role, at or datetime.now(UTC), student_id)
    if conn is not None:
        return bool(await conn.fetchval(sql, *args))
    async with db.connection() as c:
        return bool(await c.fetchval(sql, *args))


def may_edit_iep(user: CurrentUser) -> bool:
    return user.role in ("admin", "teacher")


async def require_student(
    user: CurrentUser,
    student_id: int,
    *,
    action: str = "read",
    record_type: str = "student",
    request_id: str | None = None,
    write: bool = False,
) -> dict[str, Any]:
    """The student row if `user` may read it (and write it, with write=True); else 404.

    Grants and refusals are both written to the audit log.
    """
    async with db.connection() as conn:
        row = await conn.fetchrow(
            """SELECT s.id, s.school_id, s.first_name, s.last_name, s.grade, s.date_of_birth,
                      s.external_id
                 FROM student s
                WHERE s.id = $1 AND s.school_id = $2
                  AND EXISTS (SELECT 1 FROM tandem_student_scope($3, $2, $4, now()) sc
                               WHERE sc.student_id = s.id)""",
            student_id,
            user.school_id,
            user.id,
            user.role,
        )
        allowed = row is not None and (not write or user.role != "parent")
        await audit.record(
            user,
            action=action if allowed else "denied",
            record_type=record_type,
            record_id=student_id,
            student_id=student_id if row is not None else None,
            request_id=request_id,
            detail={}
            if allowed
            else {"attempted": action, "student_id": student_id, "reason": "out_of_scope"},
            conn=conn,
        )
    if not allowed or row is None:
        raise NotFoundException(NOT_FOUND)
    return dict(row)
