"""Threads, messages and drafts: the rules, on the caller's connection and transaction.

- One default thread per student ("Maya's team"), created on first need.
- Who may write in a thread: staff with the student in scope, or a guardian (not
  revoked) of the student; judged when the message or draft arrives, never at the
  time the client claims (a removed user could otherwise backdate one).
- Participants (who is notified): guardians (not revoked) of the student and the
  teachers, providers and aides whose scope includes the student now.
- One message per op id: the message's id *is* the op id, so retries never duplicate.
- Drafts: one per user per thread; a save based on an older version keeps both texts
  (the stored one in conflict_body) and flags the conflict. Nothing is discarded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from server.audit import service as audit
from server.auth.sessions import CurrentUser
from server.messages.schemas import DraftResult
from server.notify.outbox import enqueue

NOTIFIED_STAFF_ROLES = ("teacher", "provider", "aide")


class MessageRefused(Exception):
    """The user may not write in this thread (code and reason for the sync result)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


THREAD_FORBIDDEN = "No such thread, or you may not write in it."


async def ensure_student_thread(
    conn: asyncpg.Connection, school_id: int, student_id: int, created_by: int
) -> int:
    """The student's default thread (the oldest one), created if the student has none."""
    # Serialise creators so two first messages at once make one thread.
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('message_thread'), $1::int)", student_id % 2**31
    )
    existing = await conn.fetchval(
        "SELECT id FROM message_thread WHERE student_id = $1 AND school_id = $2 ORDER BY id LIMIT 1",
        student_id,
        school_id,
    )
    if existing is not None:
        return int(existing)
    first_name = await conn.fetchval(
        "SELECT first_name FROM student WHERE id = $1 AND school_id = $2", student_id, school_id
    )
    if first_name is None:
        raise ValueError(f"no student {student_id} in school {school_id}")
    return int(
        await conn.fetchval(
            """INSERT INTO message_thread (school_id, student_id, subject, created_by)
               VALUES ($1, $2, $3, $4) RETURNING id""",
            school_id,
            student_id,
            f"{first_name}'s team"[:200],
            created_by,
        )
    )


async def writable_thread_student(
    conn: asyncpg.Connection, user: CurrentUser, thread_id: int, at: datetime
) -> int | None:
    """The thread's student id if `user` may write in it at `at`, else None."""
    value = await conn.fetchval(
        """SELECT t.student_id FROM message_thread t
            WHERE t.id = $1 AND t.school_id = $2
              AND EXISTS (SELECT 1 FROM tandem_student_scope($3, $2, $4, $5) sc
                           WHERE sc.student_id = t.student_id)""",
        thread_id,
        user.school_id,
        user.id,
        user.role,
        at,
    )
    return None if value is None else int(value)


async def participants(conn: asyncpg.Connection, school_id: int, student_id: int) -> list[int]:
    """Guardians (not revoked) and the staff whose scope includes the student now."""
    rows = await conn.fetch(
        """SELECT g.parent_id AS user_id FROM guardianship g
            WHERE g.student_id = $2 AND g.school_id = $1 AND NOT g.revoked
              AND g.starts_at <= now() AND (g.ends_at IS NULL OR now() < g.ends_at)
           UNION
           SELECT m.user_id FROM membership m
            WHERE m.school_id = $1 AND m.role = ANY($3::text[])
              AND EXISTS (SELECT 1 FROM tandem_student_scope(m.user_id, m.school_id, m.role, now()) sc
                           WHERE sc.student_id = $2)""",
        school_id,
        student_id,
        list(NOTIFIED_STAFF_ROLES),
    )
    return sorted(int(r["user_id"]) for r in rows)


async def send_message(
    conn: asyncpg.Connection,
    *,
    user: CurrentUser,
    message_id: UUID,
    thread_id: int,
    body: str,
    sent_at: datetime,
    request_id: str | None = None,
) -> bool:
    """Send one message (id = the op id). True if sent now, False if it already existed.

    Raises MessageRefused when the user may not write in the thread. Call inside a
    transaction: the message, the notifications and the audit row commit together.
    """
    student_id = await writable_thread_student(conn, user, thread_id, datetime.now(UTC))
    if student_id is None:
        raise MessageRefused("forbidden", THREAD_FORBIDDEN)
    inserted = await conn.fetchval(
        """INSERT INTO message (id, school_id, thread_id, student_id, author_id, body, sent_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (id) DO NOTHING RETURNING id""",
        message_id,
        user.school_id,
        thread_id,
        student_id,
        user.id,
        body,
        sent_at,
    )
    if inserted is None:
        return False
    recipients = [u for u in await participants(conn, user.school_id, student_id) if u != user.id]
    await enqueue(
        conn,
        school_id=user.school_id,
        user_ids=recipients,
        kind="message",
        ref_id=str(message_id),
        student_id=student_id,
    )
    # The draft this message came from is done.
    await conn.execute(
        """UPDATE message_draft SET body = '', conflict_body = NULL, version = version + 1,
                                    updated_at = now()
            WHERE thread_id = $1 AND user_id = $2""",
        thread_id,
        user.id,
    )
    await audit.record(
        user,
        action="create",
        record_type="message",
        record_id=message_id,
        student_id=student_id,
        request_id=request_id,
        detail={"thread_id": thread_id},
        conn=conn,
    )
    return True


async def save_draft(
    conn: asyncpg.Connection,
    *,
    user: CurrentUser,
    thread_id: int,
    body: str,
    base_version: int,
    saved_at: datetime,
) -> DraftResult:
    """Save the user's draft in a thread (see the module docstring for the conflict rule).

    Raises MessageRefused when the user may not write in the thread.
    """
    student_id = await writable_thread_student(conn, user, thread_id, datetime.now(UTC))
    if student_id is None:
        raise MessageRefused("forbidden", THREAD_FORBIDDEN)
    row = await conn.fetchrow(
        "SELECT body, version, conflict_body FROM message_draft "
        "WHERE thread_id = $1 AND user_id = $2 FOR UPDATE",
        thread_id,
        user.id,
    )
    if row is None:
        await conn.execute(
            """INSERT INTO message_draft (school_id, thread_id, user_id, body, version, updated_at)
               VALUES ($1, $2, $3, $4, 1, $5)
               ON CONFLICT (thread_id, user_id) DO NOTHING""",
            user.school_id,
            thread_id,
            user.id,
            body,
            saved_at,
        )
        return DraftResult(thread_id=thread_id, version=1, conflict=False)
    stored_body: str = row["body"]
    version: int = row["version"]
    if base_version == version or stored_body == body:
        # Saved on top of the latest text (or the same text): no conflict, and a save on
        # the current version resolves an earlier one.
        conflict_body = None if base_version == version else row["conflict_body"]
    else:
        # Another device saved in between: keep both texts.
        conflict_body = stored_body
    new_version = version + 1
    await conn.execute(
        """UPDATE message_draft SET body = $3, version = $4, conflict_body = $5, updated_at = $6
            WHERE thread_id = $1 AND user_id = $2""",
        thread_id,
        user.id,
        body,
        new_version,
        conflict_body,
        saved_at,
    )
    return DraftResult(thread_id=thread_id, version=new_version, conflict=conflict_body is not None)
