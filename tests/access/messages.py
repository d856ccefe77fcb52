"""Access entries for the message pages, the parent's thread pages and read receipts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.access.spec import ALL_ROLES, PAGE_REDIRECT, Ctx, Entry, Req, Scope

STAFF = ("admin", "teacher", "provider", "aide")
PARENT = ("parent",)


def _thread(ctx: Ctx, scope: Scope) -> int:
    student = ctx.student(scope)
    row = ctx.sql.execute(
        """INSERT INTO message_thread (school_id, student_id, subject, created_by)
           VALUES (%s, %s, %s, %s) RETURNING id""",
        (student.school_id, student.id, f"{student.first_name}'s team", ctx.classroom.teacher.id),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _message(ctx: Ctx, scope: Scope) -> uuid.UUID:
    thread_id = _thread(ctx, scope)
    student = ctx.student(scope)
    mid = uuid.uuid4()
    author = (
        ctx.classroom.teacher.id if student.school_id == ctx.classroom.teacher.school_id else None
    )
    if author is None:
        from tests.support.factories import Factory

        author = Factory(ctx.sql, school_id=student.school_id).user("teacher").id
    ctx.sql.execute(
        """INSERT INTO message (id, school_id, thread_id, student_id, author_id, body, sent_at)
           VALUES (%s, %s, %s, %s, %s, 'Hello', %s)""",
        (mid, student.school_id, thread_id, student.id, author, datetime.now(UTC)),
    )
    return mid


ENTRIES = [
    Entry(
        "GET",
        "/messages",
        lambda c, s: Req("/messages"),
        roles=STAFF,
        scoped=False,
        html=True,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "GET",
        "/messages/{thread_id:int}",
        lambda c, s: Req(f"/messages/{_thread(c, s)}"),
        roles=STAFF,
        html=True,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "POST",
        "/messages/{thread_id:int}",
        lambda c, s: Req(f"/messages/{_thread(c, s)}", data={"body": "Hello from school"}),
        roles=STAFF,
        html=True,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "POST",
        "/messages/students/{student_id:int}",
        lambda c, s: Req(f"/messages/students/{c.student(s).id}", data={}),
        roles=STAFF,
        html=True,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "GET",
        "/parent/messages",
        lambda c, s: Req("/parent/messages"),
        roles=PARENT,
        scoped=False,
        html=True,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "GET",
        "/parent/messages/{thread_id:int}",
        lambda c, s: Req(f"/parent/messages/{_thread(c, s)}"),
        roles=PARENT,
        html=True,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "POST",
        "/parent/messages/{thread_id:int}",
        lambda c, s: Req(f"/parent/messages/{_thread(c, s)}", data={"body": "Thank you!"}),
        roles=PARENT,
        html=True,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "POST",
        "/api/messages/{message_id:uuid}/read",
        lambda c, s: Req(f"/api/messages/{_message(c, s)}/read"),
        roles=ALL_ROLES,
    ),
    Entry(
        "POST",
        "/api/messages/threads/{thread_id:int}/read",
        lambda c, s: Req(f"/api/messages/threads/{_thread(c, s)}/read"),
        roles=ALL_ROLES,
    ),
    Entry(
        "GET",
        "/api/messages/threads/{thread_id:int}/receipts",
        lambda c, s: Req(f"/api/messages/threads/{_thread(c, s)}/receipts"),
        roles=STAFF,
    ),
]
