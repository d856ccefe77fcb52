"""Access entries for the parent's pages (/parent)."""

from __future__ import annotations

import json

from tests.access.review import make_session, trials
from tests.access.spec import PAGE_REDIRECT, Ctx, Entry, Req, Scope

PARENT = ("parent",)


def _note(ctx: Ctx, scope: Scope) -> int:
    """A published note about the in-scope (or out-of-scope) student."""
    student = ctx.student(scope)
    teacher = ctx.classroom.teacher
    sid = make_session(ctx.sql, student, ctx.classroom.aide, status="approved")
    trials(ctx.sql, sid, student, ctx.classroom.aide, [("correct", "independent")])
    row = ctx.sql.execute(
        """INSERT INTO progress_note (school_id, student_id, author_id, session_ids, summary)
           VALUES (%s, %s, %s, %s, %s::jsonb) RETURNING id""",
        (
            student.school_id,
            student.id,
            teacher.id,
            [sid],
            json.dumps({"sessions": 1, "goals": []}),
        ),
    ).fetchone()
    assert row is not None
    return int(row[0])


SETTINGS = {"notify_mode": "immediate", "language": "en", "timezone": "America/Chicago"}

ENTRIES = [
    Entry(
        "GET",
        "/parent",
        lambda c, s: Req("/parent"),
        roles=PARENT,
        scoped=False,
        html=True,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "GET",
        "/parent/notes/{note_id:int}",
        lambda c, s: Req(f"/parent/notes/{_note(c, s)}"),
        roles=PARENT,
        html=True,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "POST",
        "/api/progress-notes/{note_id:int}/read",
        lambda c, s: Req(f"/api/progress-notes/{_note(c, s)}/read"),
        roles=PARENT,
    ),
    Entry(
        "GET",
        "/parent/students/{student_id:int}",
        lambda c, s: Req(f"/parent/students/{c.student(s).id}"),
        roles=PARENT,
        html=True,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "GET",
        "/parent/settings",
        lambda c, s: Req("/parent/settings"),
        roles=PARENT,
        scoped=False,
        html=True,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "POST",
        "/parent/settings",
        lambda c, s: Req("/parent/settings", data=dict(SETTINGS)),
        roles=PARENT,
        scoped=False,
        html=True,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
    ),
]
