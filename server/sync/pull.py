"""Pull: what changed since a cursor, scoped to what the user may see now.

Rows are selected by `txid >= since` (see server/sync/cursor.py for why that never
skips a change committed out of order), walked section by section in (key, id)
order so a large delta is sent in pages. Parents get approved sessions and their
applied observations only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import msgspec

from server import db
from server.audit import service as audit
from server.auth.sessions import CurrentUser
from server.messages.schemas import DraftOut, MessageOut, ThreadOut
from server.sync import cursor as cursors
from server.sync.schemas import (
    Changes,
    GoalOut,
    ObservationOut,
    Removed,
    ServiceOut,
    SessionOut,
    StudentOut,
)

PAGE_RECORDS = 2000


@dataclass(frozen=True)
class Section:
    name: str
    select: str  # columns, then FROM/JOIN; aliases must include the student column
    student: str
    key: str
    id: str
    id_type: str
    extra: str = ""  # per-role condition (uses $4 = user id)
    parts: tuple[str, ...] = ()  # the txid columns the key is the greatest of (default: key)


def _sections(role: str) -> list[Section]:
    own_sessions = "AND d.staff_id = $4" if role == "aide" else ""
    approved = "AND d.review_status = 'approved'" if role == "parent" else ""
    if role == "parent":
        obs_key = "greatest(o.txid, d.txid)"
        obs_extra = "AND d.review_status = 'approved' AND o.state = 'applied'"
    elif role == "aide":
        # Their own events, and a teacher's corrections of entries in their sessions.
        obs_key = "o.txid"
        obs_extra = "AND (o.user_id = $4 OR (o.kind = 'correction' AND d.staff_id = $4))"
    else:
        obs_key, obs_extra = "o.txid", ""
    return [
        Section(
            "students",
            "SELECT s.id, s.first_name, s.last_name, s.grade, {key} AS k FROM student s",
            "s.id",
            "s.txid",
            "s.id",
            "bigint",
        ),
        Section(
            "goals",
            """SELECT g.id, g.student_id, g.iep_id, g.area, g.description, g.measurement,
                      g.rating_max, g.task_steps::text AS task_steps, g.home_practice, g.position,
                      g.continuous, g.rating_anchors::text AS rating_anchors,
                      (g.active AND i.status = 'active') AS usable, {key} AS k
                 FROM goal g JOIN iep i ON i.id = g.iep_id""",
            "g.student_id",
            "greatest(g.txid, i.txid)",
            "g.id",
            "bigint",
            parts=("g.txid", "i.txid"),
        ),
        Section(
            "services",
            """SELECT sv.id, sv.student_id, sv.service_type, sv.minutes, sv.period,
                      sv.provider_id, {key} AS k
                 FROM service sv JOIN iep i ON i.id = sv.iep_id""",
            "sv.student_id",
            "greatest(sv.txid, i.txid)",
            "sv.id",
            "bigint",
            "AND i.status = 'active'",
            parts=("sv.txid", "i.txid"),
        ),
        Section(
            "threads",
            "SELECT t.id, t.student_id, t.subject, {key} AS k FROM message_thread t",
            "t.student_id",
            "t.txid",
            "t.id",
            "bigint",
        ),
        Section(
            "sessions",
            """SELECT d.id, d.student_id, d.staff_id, d.service_id, d.opened_at, d.closed_at,
                      d.review_status, d.review_reason, d.reviewed_at, {key} AS k
                 FROM data_session d""",
            "d.student_id",
            "d.txid",
            "d.id",
            "uuid",
            f"{own_sessions} {approved}",
        ),
        Section(
            "observations",
            """SELECT o.id, o.op_id, o.session_id, o.student_id, o.goal_id, o.user_id, o.kind,
                      o.outcome, o.prompt, o.delta, o.timer_id, o.value, o.step_index, o.note,
                      o.voids_op_id, o.state, o.recorded_at, {key} AS k
                 FROM observation o JOIN data_session d ON d.id = o.session_id""",
            "o.student_id",
            obs_key,
            "o.id",
            "bigint",
            obs_extra,
            parts=("o.txid", "d.txid") if role == "parent" else ("o.txid",),
        ),
        Section(
            "messages",
            """SELECT m.id, m.thread_id, m.student_id, m.author_id, u.name AS author_name,
                      m.body, m.sent_at, {key} AS k
                 FROM message m JOIN app_user u ON u.id = m.author_id""",
            "m.student_id",
            "m.txid",
            "m.id",
            "uuid",
        ),
        Section(
            "drafts",
            """SELECT md.id, md.thread_id, md.body, md.version, md.conflict_body, md.updated_at,
                      {key} AS k
                 FROM message_draft md JOIN message_thread t ON t.id = md.thread_id""",
            "t.student_id",
            "md.txid",
            "md.id",
            "bigint",
            "AND md.user_id = $4",
        ),
    ]


def _query(sec: Section) -> str:
    # Changed since the last pull: not visible in its snapshot ($8), or, with no snapshot
    # in the cursor, at or above its xmin ($1).
    seen = " AND ".join(
        f"pg_visible_in_snapshot({p}, $8::text::pg_snapshot)" for p in sec.parts or (sec.key,)
    )
    return (
        sec.select.format(key=sec.key)
        + f"""
         WHERE {sec.student} = ANY($2::bigint[]) AND $4::bigint IS NOT NULL
           AND (({sec.key} >= $1::text::xid8 AND NOT coalesce({seen}, false))
                OR {sec.student} = ANY($3::bigint[]))
           AND ($5::text IS NULL OR ({sec.key}, {sec.id}) > ($5::text::xid8, $6::text::{sec.id_type}))
           {sec.extra}
         ORDER BY {sec.key}, {sec.id}
         LIMIT $7"""
    )


def _add(changes: Changes, removed_goals: list[int], name: str, r: asyncpg.Record) -> None:
    if name == "students":
        changes.students.append(
            StudentOut(
                id=r["id"], first_name=r["first_name"], last_name=r["last_name"], grade=r["grade"]
            )
        )
    elif name == "goals":
        if not r["usable"]:
            removed_goals.append(r["id"])
            return
        changes.goals.append(
            GoalOut(
                id=r["id"],
                student_id=r["student_id"],
                iep_id=r["iep_id"],
                area=r["area"],
                description=r["description"],
                measurement=r["measurement"],
                rating_max=r["rating_max"],
                task_steps=[str(x) for x in msgspec.json.decode(r["task_steps"])],
                home_practice=r["home_practice"],
                position=r["position"],
                continuous=r["continuous"],
                rating_anchors=[str(x) for x in msgspec.json.decode(r["rating_anchors"])],
            )
        )
    elif name == "services":
        changes.services.append(
            ServiceOut(
                id=r["id"],
                student_id=r["student_id"],
                service_type=r["service_type"],
                minutes=r["minutes"],
                period=r["period"],
                provider_id=r["provider_id"],
            )
        )
    elif name == "threads":
        changes.threads.append(
            ThreadOut(id=r["id"], student_id=r["student_id"], subject=r["subject"])
        )
    elif name == "sessions":
        changes.sessions.append(SessionOut(**{k: r[k] for k in SessionOut.__struct_fields__}))
    elif name == "observations":
        changes.observations.append(
            ObservationOut(**{k: r[k] for k in ObservationOut.__struct_fields__})
        )
    elif name == "messages":
        changes.messages.append(MessageOut(**{k: r[k] for k in MessageOut.__struct_fields__}))
    elif name == "drafts":
        changes.drafts.append(DraftOut(**{k: r[k] for k in DraftOut.__struct_fields__}))


def _student_of(name: str, r: asyncpg.Record) -> int | None:
    if name == "students":
        return int(r["id"])
    if name == "drafts":
        return None
    return int(r["student_id"])


async def pull(
    user: CurrentUser, cursor_text: str | None, *, request_id: str | None = None
) -> tuple[Changes, str, bool]:
    """(changes, next cursor, has_more)."""
    cur = cursors.decode(cursor_text)
    async with (
        db.connection() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        # Taken first: every transaction below xmin has ended, so its rows are visible;
        # the snapshot itself says exactly which transactions this pull can see.
        snap_row = await conn.fetchrow(
            """SELECT pg_snapshot_xmin(s)::text::bigint AS xmin, s::text AS snap
                 FROM pg_current_snapshot() AS s"""
        )
        assert snap_row is not None
        xmin = int(snap_row["xmin"])
        snap: str | None = snap_row["snap"]
        if snap is not None and len(snap) > cursors.MAX_SNAPSHOT_CHARS:
            snap = None
        scope = [
            int(r["student_id"])
            for r in await conn.fetch(
                "SELECT student_id FROM tandem_student_scope($1, $2, $3, $4) ORDER BY student_id",
                user.id,
                user.school_id,
                user.role,
                datetime.now(UTC),
            )
        ]
        first_pull = cur is cursors.START or (cur.since == 0 and not cur.scope)
        previous = set(cur.scope)
        new_students = scope if first_pull else sorted(set(scope) - previous)
        removed_students = [] if first_pull else sorted(previous - set(scope))
        paging = cur.page is not None and cur.next_since is not None
        next_since = cur.next_since if paging and cur.next_since is not None else xmin
        next_snap = cur.next_snap if paging else snap
        section_index, last_key, last_id = cur.page if cur.page is not None else (0, None, None)

        changes = Changes()
        removed_goals: list[int] = []
        seen_students: set[int] = set()
        budget = PAGE_RECORDS
        page: tuple[int, int, str] | None = None
        sections = _sections(user.role)
        for index in range(section_index, len(sections)):
            sec = sections[index]
            resume = index == section_index and last_key is not None and last_key >= 0
            after_key = str(last_key) if resume else None
            after_id = last_id if after_key is not None else None
            rows = await conn.fetch(
                _query(sec),
                str(cur.since),
                scope,
                new_students,
                user.id,
                after_key,
                after_id,
                budget + 1,
                cur.snap,
            )
            for r in rows[:budget]:
                _add(changes, removed_goals, sec.name, r)
                sid = _student_of(sec.name, r)
                if sid is not None:
                    seen_students.add(sid)
            if len(rows) > budget:
                last = rows[budget - 1]
                page = (index, int(str(last["k"])), str(last["id"]))
                break
            budget -= len(rows)
            if budget <= 0 and index + 1 < len(sections):
                page = (index + 1, -1, "")
                break
    if seen_students:
        async with db.transaction() as conn:
            for student_id in sorted(seen_students):
                await audit.record(
                    user,
                    action="sync_read",
                    record_type="student",
                    record_id=student_id,
                    student_id=student_id,
                    request_id=request_id,
                    conn=conn,
                )
    changes.removed = Removed(students=removed_students, goals=removed_goals)
    if page is not None:
        nxt = cursors.Cursor(
            since=cur.since,
            snap=cur.snap,
            scope=cur.scope,
            next_since=next_since,
            next_snap=next_snap,
            page=page,
        )
        return changes, cursors.encode(nxt), True
    done = cursors.Cursor(since=next_since, snap=next_snap, scope=scope)
    return changes, cursors.encode(done), False
