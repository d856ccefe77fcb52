"""Reading threads and messages for the message pages, and read receipts.

Every query is limited to threads of students the reader may see now (through
tandem_student_scope); a thread out of scope is "not found" and the refusal audited.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from litestar.exceptions import NotFoundException

from server.audit import service as audit
from server.auth.sessions import CurrentUser

THREAD_NOT_FOUND = "No such conversation, or you do not have access to it."
IN_SCOPE = "t.student_id IN (SELECT student_id FROM tandem_student_scope($1, $2, $3, now()))"


def _args(user: CurrentUser) -> tuple[int, int, str]:
    return (user.id, user.school_id, user.role)


async def threads(conn: asyncpg.Connection, user: CurrentUser) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"""SELECT t.id, t.subject, t.student_id, st.first_name, st.last_name,
                   (SELECT max(m.sent_at) FROM message m WHERE m.thread_id = t.id) AS last_at,
                   (SELECT count(*) FROM message m
                     WHERE m.thread_id = t.id AND m.author_id <> $1
                       AND NOT EXISTS (SELECT 1 FROM message_read r
                                        WHERE r.message_id = m.id AND r.user_id = $1)) AS unread
              FROM message_thread t JOIN student st ON st.id = t.student_id
             WHERE t.school_id = $2 AND {IN_SCOPE}
             ORDER BY last_at DESC NULLS LAST, t.id""",
        *_args(user),
    )
    return [dict(r) for r in rows]


async def students_without_thread(
    conn: asyncpg.Connection, user: CurrentUser
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT s.id, s.first_name, s.last_name FROM student s
            WHERE s.school_id = $2
              AND s.id IN (SELECT student_id FROM tandem_student_scope($1, $2, $3, now()))
              AND NOT EXISTS (SELECT 1 FROM message_thread t WHERE t.student_id = s.id)
            ORDER BY s.first_name, s.last_name""",
        *_args(user),
    )
    return [dict(r) for r in rows]


async def thread(
    conn: asyncpg.Connection, user: CurrentUser, thread_id: int, *, request_id: str | None = None
) -> dict[str, Any]:
    row = await conn.fetchrow(
        f"""SELECT t.id, t.subject, t.student_id, st.first_name
              FROM message_thread t JOIN student st ON st.id = t.student_id
             WHERE t.id = $4 AND t.school_id = $2 AND {IN_SCOPE}""",
        *_args(user),
        thread_id,
    )
    if row is None:
        await audit.record(
            user,
            action="denied",
            record_type="message_thread",
            record_id=thread_id,
            request_id=request_id,
            detail={"attempted": "read", "reason": "out_of_scope"},
            conn=conn,
        )
        raise NotFoundException(THREAD_NOT_FOUND)
    await audit.record(
        user,
        action="read",
        record_type="message_thread",
        record_id=thread_id,
        student_id=row["student_id"],
        request_id=request_id,
        conn=conn,
    )
    return dict(row)


async def messages(
    conn: asyncpg.Connection, user: CurrentUser, thread_id: int
) -> list[dict[str, Any]]:
    """The thread's messages, oldest first, each with who has read it."""
    rows = await conn.fetch(
        """SELECT m.id, m.author_id, u.name AS author_name, m.body, m.sent_at,
                  coalesce(array_agg(ru.name ORDER BY r.read_at) FILTER (WHERE r.user_id IS NOT NULL), '{}')
                      AS read_by
             FROM message m JOIN app_user u ON u.id = m.author_id
             LEFT JOIN message_read r ON r.message_id = m.id
             LEFT JOIN app_user ru ON ru.id = r.user_id
            WHERE m.thread_id = $1
            GROUP BY m.id, u.name ORDER BY m.sent_at, m.id""",
        thread_id,
    )
    return [{**dict(r), "mine": r["author_id"] == user.id} for r in rows]


async def mark_thread_read(
    conn: asyncpg.Connection, user: CurrentUser, thread_id: int, *, request_id: str | None = None
) -> int:
    """Record that `user` has read every message of the thread written by someone else
    (the thread's page posts this once it is in view). A thread out of scope is "not
    found", and the refusal audited."""
    student_id = await conn.fetchval(
        f"SELECT t.student_id FROM message_thread t WHERE t.id = $4 AND t.school_id = $2 AND {IN_SCOPE}",
        *_args(user),
        thread_id,
    )
    if student_id is None:
        await audit.refusal(
            user,
            attempted="mark_read",
            record_type="message_thread",
            record_id=thread_id,
            student_id=await conn.fetchval(
                "SELECT student_id FROM message_thread WHERE id = $1 AND school_id = $2",
                thread_id,
                user.school_id,
            ),
            request_id=request_id,
            reason="out_of_scope",
        )
        raise NotFoundException(THREAD_NOT_FOUND)
    result = await conn.execute(
        """INSERT INTO message_read (message_id, user_id)
           SELECT m.id, $2 FROM message m WHERE m.thread_id = $1 AND m.author_id <> $2
           ON CONFLICT DO NOTHING""",
        thread_id,
        user.id,
    )
    return int(result.split()[-1])


async def mark_message_read(
    conn: asyncpg.Connection,
    user: CurrentUser,
    message_id: UUID,
    *,
    request_id: str | None = None,
) -> bool:
    """A read receipt for one message in a thread the user may see; False (and the
    refusal audited) if none such."""
    thread_id = await conn.fetchval(
        f"""SELECT t.id FROM message m JOIN message_thread t ON t.id = m.thread_id
             WHERE m.id = $4 AND t.school_id = $2 AND {IN_SCOPE}""",
        *_args(user),
        message_id,
    )
    if thread_id is None:
        student_id = await conn.fetchval(
            "SELECT student_id FROM message WHERE id = $1 AND school_id = $2",
            message_id,
            user.school_id,
        )
        await audit.refusal(
            user,
            attempted="mark_read",
            record_type="message",
            record_id=message_id,
            student_id=student_id,
            request_id=request_id,
            reason="out_of_scope",
        )
        return False
    await conn.execute(
        """INSERT INTO message_read (message_id, user_id) SELECT $1, $2
            WHERE NOT EXISTS (SELECT 1 FROM message WHERE id = $1 AND author_id = $2)
           ON CONFLICT DO NOTHING""",
        message_id,
        user.id,
    )
    return True


async def receipts(conn: asyncpg.Connection, thread: dict[str, Any]) -> list[dict[str, Any]]:
    """Per message: the current guardians who have not read it (what staff want to know)."""
    rows = await conn.fetch(
        """SELECT m.id,
                  coalesce(array_agg(u.name ORDER BY u.name) FILTER (WHERE u.id IS NOT NULL), '{}') AS unread_by
             FROM message m
             LEFT JOIN guardianship g ON g.student_id = m.student_id AND NOT g.revoked
                  AND g.starts_at <= now() AND (g.ends_at IS NULL OR now() < g.ends_at)
                  AND g.parent_id <> m.author_id
                  AND NOT EXISTS (SELECT 1 FROM message_read r
                                   WHERE r.message_id = m.id AND r.user_id = g.parent_id)
             LEFT JOIN app_user u ON u.id = g.parent_id
            WHERE m.thread_id = $1 GROUP BY m.id""",
        thread["id"],
    )
    return [{"id": r["id"], "unread_by": list(r["unread_by"])} for r in rows]
