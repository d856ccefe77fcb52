"""Progress notes: composed by a teacher from approved sessions, published to the
student's guardians with a notification in the same transaction, read by parents
(receipts), and the parent's view of approved data only.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
from litestar.exceptions import NotFoundException

from server import db
from server.audit import service as audit
from server.auth import scope
from server.auth.sessions import CurrentUser
from server.collect.summary import summarise, summarise_each
from server.messages.service import ensure_student_thread
from server.notify.outbox import enqueue
from server.progress.compose import compose_all, digest

NOTE_NOT_FOUND = "No such progress note."
MAX_SESSIONS = 200


class NoteRefused(Exception):
    pass


class NoteChanged(Exception):
    """The data changed between the teacher's preview and publishing."""


NOTE_CHANGED = (
    "The data changed since you looked at this note (a session was approved, corrected or "
    "already reported). Read the new preview, then publish again."
)


async def guardians(
    conn: asyncpg.Connection, school_id: int, student_id: int
) -> list[asyncpg.Record]:
    """Current guardians (not revoked) of the student."""
    return list(
        await conn.fetch(
            """SELECT u.id, u.name, u.language FROM guardianship g JOIN app_user u ON u.id = g.parent_id
                WHERE g.school_id = $1 AND g.student_id = $2 AND NOT g.revoked
                  AND g.starts_at <= now() AND (g.ends_at IS NULL OR now() < g.ends_at)
                  AND u.is_active
                ORDER BY u.name""",
            school_id,
            student_id,
        )
    )


async def unpublished_sessions(conn: asyncpg.Connection, student_id: int) -> list[UUID]:
    """Approved sessions of the student that no note has covered yet."""
    rows = await conn.fetch(
        """SELECT s.id FROM data_session s
            WHERE s.student_id = $1 AND s.review_status = 'approved'
              AND NOT EXISTS (SELECT 1 FROM progress_note n
                               WHERE n.student_id = s.student_id AND s.id = ANY(n.session_ids))
            ORDER BY s.opened_at""",
        student_id,
    )
    return [r["id"] for r in rows]


async def unreported_counts(conn: asyncpg.Connection, student_ids: list[int]) -> dict[int, int]:
    """Per student, how many approved sessions no note has covered yet (the same rule as
    unpublished_sessions)."""
    rows = await conn.fetch(
        """SELECT s.student_id, count(*) AS n FROM data_session s
            WHERE s.student_id = ANY($1::bigint[]) AND s.review_status = 'approved'
              AND NOT EXISTS (SELECT 1 FROM progress_note n
                               WHERE n.student_id = s.student_id AND s.id = ANY(n.session_ids))
            GROUP BY s.student_id""",
        student_ids,
    )
    return {r["student_id"]: int(r["n"]) for r in rows}


async def caseload_notes(
    user: CurrentUser, *, request_id: str | None = None
) -> list[dict[str, Any]]:
    """The students in the user's scope, each with how many approved sessions wait to be
    reported in a progress note (the list read is audited)."""
    async with db.connection() as conn:
        ids = await scope.student_ids(user, conn=conn)
        rows = await conn.fetch(
            """SELECT id, first_name, last_name FROM student WHERE id = ANY($1::bigint[])
                ORDER BY first_name, last_name, id""",
            list(ids),
        )
        counts = await unreported_counts(conn, [r["id"] for r in rows])
        await audit.students_listed(
            user, [r["id"] for r in rows], page="/teacher/notes", request_id=request_id, conn=conn
        )
    return [{**dict(r), "unreported": counts.get(r["id"], 0)} for r in rows]


async def school_timezone(conn: asyncpg.Connection, school_id: int) -> str:
    return str(await conn.fetchval("SELECT timezone FROM school WHERE id = $1", school_id))


async def draft(student_id: int) -> dict[str, Any]:
    """What a note published now would say (the composer's preview): its sessions, its
    words in every language and their digest, which publishing checks."""
    async with db.connection() as conn:
        # As many as one note covers (publish() takes the same first MAX_SESSIONS).
        sessions = (await unpublished_sessions(conn, student_id))[:MAX_SESSIONS]
        summary = await summarise(conn, student_id, sessions) if sessions else None
        school_id, _ = await _school_student(conn, student_id)
        people = await guardians(conn, school_id, student_id)
        texts = compose_all(summary, await school_timezone(conn, school_id)) if summary else {}
    return {
        "session_ids": sessions,
        "summary": summary,
        "texts": texts,
        "digest": digest(texts) if texts else "",
        "guardians": [dict(g) for g in people],
    }


async def _school_student(conn: asyncpg.Connection, student_id: int) -> tuple[int, int]:
    school = await conn.fetchval("SELECT school_id FROM student WHERE id = $1", student_id)
    return int(school), student_id


async def publish(
    user: CurrentUser,
    student_id: int,
    *,
    session_ids: list[UUID],
    comment: str,
    preview_digest: str,
    request_id: str | None = None,
) -> int:
    """Publish a note over approved sessions of the student (the caller checked scope),
    with exactly the words the teacher previewed (`preview_digest`, else NoteChanged).
    The note, its notifications and the audit row commit together."""
    async with db.transaction() as conn:
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('progress_note'), $1::int)", student_id % 2**31
        )
        available = set(await unpublished_sessions(conn, student_id))
        chosen = [s for s in session_ids[:MAX_SESSIONS] if s in available]
        if not chosen:
            raise NoteRefused(
                "There is no approved session to report. Approve sessions first (or they are "
                "already in a note)."
            )
        summary = await summarise(conn, student_id, chosen)
        texts = compose_all(summary, await school_timezone(conn, user.school_id))
        if digest(texts) != preview_digest:
            # A previewed session was reported meanwhile, or its figures changed.
            raise NoteChanged(NOTE_CHANGED)
        note_id = await conn.fetchval(
            """INSERT INTO progress_note (school_id, student_id, author_id, session_ids, summary,
                                          comment, texts)
               VALUES ($1, $2, $3, $4::uuid[], $5::jsonb, $6, $7::jsonb) RETURNING id""",
            user.school_id,
            student_id,
            user.id,
            chosen,
            json.dumps(summary),
            comment,
            msgspec.json.encode(texts).decode(),
        )
        # The family answers a note in the student's conversation: make sure it exists.
        await ensure_student_thread(conn, user.school_id, student_id, user.id)
        recipients = [g["id"] for g in await guardians(conn, user.school_id, student_id)]
        await enqueue(
            conn,
            school_id=user.school_id,
            user_ids=recipients,
            kind="progress_note",
            ref_id=str(note_id),
            student_id=student_id,
        )
        await audit.record(
            user,
            action="disclose",
            record_type="progress_note",
            record_id=note_id,
            student_id=student_id,
            request_id=request_id,
            detail={"sessions": [str(s) for s in chosen], "guardians": recipients},
            conn=conn,
        )
    return int(note_id)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _note(row: asyncpg.Record) -> dict[str, Any]:
    note = dict(row)
    note["summary"] = _json(row["summary"])
    if "texts" in note:
        note["texts"] = _json(row["texts"])
    return note


async def notes_for_staff(student_id: int) -> list[dict[str, Any]]:
    """The student's notes, each with who of the current guardians has read it."""
    async with db.connection() as conn:
        rows = await conn.fetch(
            """SELECT n.id, n.published_at, n.comment, n.summary, n.session_ids, u.name AS author
                 FROM progress_note n JOIN app_user u ON u.id = n.author_id
                WHERE n.student_id = $1 ORDER BY n.published_at DESC""",
            student_id,
        )
        school_id, _ = await _school_student(conn, student_id)
        people = await guardians(conn, school_id, student_id)
        reads = await conn.fetch(
            """SELECT r.note_id, r.user_id, r.read_at FROM progress_note_read r
                 JOIN progress_note n ON n.id = r.note_id WHERE n.student_id = $1""",
            student_id,
        )
    read_at = {(r["note_id"], r["user_id"]): r["read_at"] for r in reads}
    out = []
    for row in rows:
        note = _note(row)
        note["receipts"] = [
            {"name": g["name"], "read_at": read_at.get((row["id"], g["id"]))} for g in people
        ]
        note["unread_by"] = [r["name"] for r in note["receipts"] if r["read_at"] is None]
        out.append(note)
    return out


async def notes_for_parent(user: CurrentUser) -> list[dict[str, Any]]:
    """The notes of every child this parent may see now, newest first, with read state."""
    async with db.connection() as conn:
        rows = await conn.fetch(
            """SELECT n.id, n.student_id, n.published_at, st.first_name,
                      (r.read_at IS NOT NULL) AS read
                 FROM progress_note n JOIN student st ON st.id = n.student_id
                 LEFT JOIN progress_note_read r ON r.note_id = n.id AND r.user_id = $1
                WHERE n.school_id = $2
                  AND n.student_id IN (SELECT student_id FROM tandem_student_scope($1, $2, 'parent', now()))
                ORDER BY n.published_at DESC LIMIT 200""",
            user.id,
            user.school_id,
        )
    return [dict(r) for r in rows]


async def note_student(
    user: CurrentUser, note_id: int, *, attempted: str, request_id: str | None = None
) -> int:
    """The student of a note of the user's school; else 404, and the refusal audited."""
    async with db.connection() as conn:
        sid = await conn.fetchval(
            "SELECT student_id FROM progress_note WHERE id = $1 AND school_id = $2",
            note_id,
            user.school_id,
        )
    if sid is None:
        await audit.refusal(
            user,
            attempted=attempted,
            record_type="progress_note",
            record_id=note_id,
            request_id=request_id,
            reason="out_of_scope",
        )
        raise NotFoundException(NOTE_NOT_FOUND)
    return int(sid)


async def record_read(user: CurrentUser, note_id: int) -> None:
    """The parent has seen the note (the caller checked scope). Only an explicit POST
    from the page once it is visible lands here: a GET (prefetch, preview) is no read."""
    async with db.connection() as conn:
        await conn.execute(
            """INSERT INTO progress_note_read (note_id, user_id) VALUES ($1, $2)
               ON CONFLICT DO NOTHING""",
            note_id,
            user.id,
        )


async def read_note(user: CurrentUser, note_id: int) -> dict[str, Any]:
    """The note (the caller checked the reader's scope). No read receipt: see record_read."""
    async with db.connection() as conn:
        row = await conn.fetchrow(
            """SELECT n.id, n.student_id, n.published_at, n.comment, n.summary, n.texts,
                      u.name AS author, st.first_name, n.school_id
                 FROM progress_note n JOIN app_user u ON u.id = n.author_id
                 JOIN student st ON st.id = n.student_id
                WHERE n.id = $1 AND n.school_id = $2""",
            note_id,
            user.school_id,
        )
        if row is None:
            raise NotFoundException(NOTE_NOT_FOUND)
        timezone = await school_timezone(conn, row["school_id"])
        thread_id = await conn.fetchval(
            "SELECT id FROM message_thread WHERE student_id = $1 ORDER BY id LIMIT 1",
            row["student_id"],
        )
    note = _note(row)
    if note["texts"] is None:
        # Published before notes kept their words: compose them as they were summarised.
        note["texts"] = msgspec.to_builtins(compose_all(note["summary"], timezone))
    return {**note, "thread_id": thread_id}


async def approved_data(student_id: int) -> list[dict[str, Any]]:
    """Approved sessions of the student with their derived figures, newest first: what a
    parent may see. Unapproved sessions and proposed entries are never included."""
    async with db.connection() as conn:
        sessions = await conn.fetch(
            """SELECT s.id, s.opened_at, s.closed_at, u.name AS staff_name
                 FROM data_session s JOIN app_user u ON u.id = s.staff_id
                WHERE s.student_id = $1 AND s.review_status = 'approved'
                ORDER BY s.opened_at DESC LIMIT 100""",
            student_id,
        )
        summaries = await summarise_each(conn, student_id, [s["id"] for s in sessions])
    return [{**dict(s), "summary": summaries[s["id"]]} for s in sessions]
