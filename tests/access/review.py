"""Access entries for the teacher's review pages, and the record builders the review,
progress and push tests share (sessions and entries written straight into SQL, as the
sync engine would store them)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from tests.access.spec import PAGE_REDIRECT, Ctx, Entry, Req, Scope
from tests.support.factories import Student, User
from tests.support.notes import expected_digest

REVIEWERS = ("admin", "teacher", "provider")


def make_session(
    sql: psycopg.Connection[Any],
    student: Student,
    staff: User,
    *,
    status: str = "pending",
    offline: bool = True,
    opened: datetime | None = None,
    device_label: str = "Aide's phone",
) -> uuid.UUID:
    sid = uuid.uuid4()
    opened = opened or datetime.now(UTC) - timedelta(hours=3)
    device = sql.execute(
        "INSERT INTO device (school_id, user_id, token_hash, label) VALUES (%s, %s, %s, %s) RETURNING id",
        (student.school_id, staff.id, uuid.uuid4().bytes + uuid.uuid4().bytes, device_label),
    ).fetchone()
    assert device is not None
    sql.execute(
        """INSERT INTO data_session (id, school_id, student_id, staff_id, device_id, opened_at,
                                     closed_at, captured_offline, first_synced_at, review_status)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            sid,
            student.school_id,
            student.id,
            staff.id,
            device[0],
            opened,
            None if status == "open" else opened + timedelta(minutes=20),
            offline,
            opened + timedelta(hours=1),
            status,
        ),
    )
    return sid


def observe(
    sql: psycopg.Connection[Any],
    session_id: uuid.UUID,
    student: Student,
    user: User,
    kind: str,
    *,
    goal: str | None = None,
    state: str = "applied",
    at: datetime | None = None,
    **fields: Any,
) -> int:
    """One observation; `goal` names the student's goal by measurement type."""
    at = at or datetime.now(UTC) - timedelta(hours=2, minutes=50)
    columns = {
        "op_id": uuid.uuid4(),
        "school_id": student.school_id,
        "student_id": student.id,
        "session_id": session_id,
        "goal_id": student.goals[goal] if goal else None,
        "user_id": user.id,
        "kind": kind,
        "state": state,
        "device_time": at,
        "recorded_at": at,
        **fields,
    }
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    row = sql.execute(
        f"INSERT INTO observation ({names}) VALUES ({marks}) RETURNING id", tuple(columns.values())
    ).fetchone()
    assert row is not None
    return int(row[0])


def trials(
    sql: psycopg.Connection[Any],
    session_id: uuid.UUID,
    student: Student,
    user: User,
    outcomes: list[tuple[str, str]],
) -> list[int]:
    return [
        observe(sql, session_id, student, user, "trial", goal="trials", outcome=o, prompt=p)
        for o, p in outcomes
    ]


def _recorder(ctx: Ctx, scope: Scope) -> tuple[Student, User]:
    student = ctx.student(scope)
    aide = ctx.classroom.aide
    if student.school_id != aide.school_id:
        from tests.support.factories import Factory

        aide = Factory(ctx.sql, school_id=student.school_id).user("aide")
    return student, aide


def _session(ctx: Ctx, scope: Scope, status: str = "pending") -> uuid.UUID:
    student, aide = _recorder(ctx, scope)
    sid = make_session(ctx.sql, student, aide, status=status)
    trials(ctx.sql, sid, student, aide, [("correct", "independent")])
    return sid


def _goal_text(ctx: Ctx, scope: Scope) -> Req:
    goal_id = ctx.student(scope).goals["trials"]
    return Req(
        "/teacher/review/goal-texts",
        data=_form(goal_id=str(goal_id), language="es", name="Pedir ayuda", description="Pide."),
    )


def _publish(ctx: Ctx, scope: Scope) -> Req:
    student = ctx.student(scope)
    sid = _session(ctx, scope, status="approved")
    return Req(
        f"/teacher/review/students/{student.id}/notes",
        data=_form(
            comment="Great week",
            session_id=str(sid),
            preview_digest=expected_digest(ctx.sql, student.id, [sid]),
        ),
    )


def _entry(ctx: Ctx, scope: Scope) -> int:
    student, aide = _recorder(ctx, scope)
    sid = make_session(ctx.sql, student, aide)
    return trials(ctx.sql, sid, student, aide, [("correct", "verbal")])[0]


def _proposed(ctx: Ctx, scope: Scope) -> int:
    student, aide = _recorder(ctx, scope)
    sid = make_session(ctx.sql, student, aide, status="approved")
    return observe(
        ctx.sql,
        sid,
        student,
        aide,
        "trial",
        goal="trials",
        outcome="correct",
        prompt="independent",
        state="proposed",
    )


def _form(**fields: str) -> dict[str, str]:
    return {k: v for k, v in fields.items()}


ENTRIES = [
    Entry(
        "GET",
        "/teacher/review",
        lambda c, s: Req("/teacher/review"),
        roles=REVIEWERS,
        scoped=False,
        html=True,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "GET",
        "/teacher/notes",
        lambda c, s: Req("/teacher/notes"),
        roles=REVIEWERS,
        scoped=False,
        html=True,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "GET",
        "/teacher/review/sessions/{session_id:uuid}",
        lambda c, s: Req(f"/teacher/review/sessions/{_session(c, s)}"),
        roles=REVIEWERS,
        html=True,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "POST",
        "/teacher/review/approve",
        lambda c, s: Req("/teacher/review/approve", data=_form(session_id=str(_session(c, s)))),
        roles=REVIEWERS,
        html=True,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "POST",
        "/teacher/review/sessions/{session_id:uuid}/reject",
        lambda c, s: Req(
            f"/teacher/review/sessions/{_session(c, s)}/reject", data=_form(reason="Wrong student")
        ),
        roles=REVIEWERS,
        html=True,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "POST",
        "/teacher/review/entries/{observation_id:int}/correct",
        lambda c, s: Req(
            f"/teacher/review/entries/{_entry(c, s)}/correct",
            data=_form(reason="Was incorrect", outcome="incorrect"),
        ),
        roles=REVIEWERS,
        html=True,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "POST",
        "/teacher/review/entries/{observation_id:int}/accept",
        lambda c, s: Req(f"/teacher/review/entries/{_proposed(c, s)}/accept", data=_form()),
        roles=REVIEWERS,
        html=True,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "POST",
        "/teacher/review/entries/{observation_id:int}/decline",
        lambda c, s: Req(f"/teacher/review/entries/{_proposed(c, s)}/decline", data=_form()),
        roles=REVIEWERS,
        html=True,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "GET",
        "/teacher/review/students/{student_id:int}/notes",
        lambda c, s: Req(f"/teacher/review/students/{c.student(s).id}/notes"),
        roles=REVIEWERS,
        html=True,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "POST",
        "/teacher/review/goal-texts",
        _goal_text,
        roles=("admin", "teacher"),
        html=True,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
    ),
    Entry(
        "POST",
        "/teacher/review/students/{student_id:int}/notes",
        _publish,
        roles=REVIEWERS,
        html=True,
        ok=PAGE_REDIRECT,
        anonymous=PAGE_REDIRECT,
    ),
]
