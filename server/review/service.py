"""The teacher's review: the queue of pending sessions with their provenance, approval
(one or many), rejection with a reason, corrections of single entries, and the
decision on pending corrections (late offline edits to approved sessions).

Every query is limited to the reviewer's students through tandem_student_scope, and
every decision is audited. Approved sessions are locked: they are never edited here; a
late edit arrives as a 'proposed' observation and waits for accept/decline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
from litestar.exceptions import NotFoundException

from server import db
from server.audit import service as audit
from server.auth.devices import shown_label
from server.auth.sessions import CurrentUser
from server.collect.derive import GoalResult, figures, session_entries
from server.collect.summary import session_results

SESSION_NOT_FOUND = "No such session, or it is not one of your students'."
ENTRY_NOT_FOUND = "No such entry, or it is not one of your students'."
MAX_BULK = 200
CORRECTABLE = ("trial", "tally", "rating", "step", "note", "timer_start", "timer_stop")

SCOPED = "s.student_id IN (SELECT student_id FROM tandem_student_scope($1, $2, $3, now()))"


class ReviewConflict(Exception):
    """The request does not fit the session's state (the message says why)."""


@dataclass(frozen=True)
class Correction:
    reason: str
    remove: bool = False
    outcome: str | None = None
    prompt: str | None = None
    delta: int | None = None
    value: int | None = None


def _scope_args(user: CurrentUser) -> tuple[int, int, str]:
    return (user.id, user.school_id, user.role)


PROVENANCE = """s.id, s.student_id, st.first_name, st.last_name, s.staff_id, u.name AS staff_name,
       coalesce(m.role, '') AS staff_role, s.opened_at, s.closed_at, s.captured_offline,
       s.first_synced_at, s.synced_after_removal, s.device_id, coalesce(d.label, '') AS device_label,
       d.revoked_at AS device_revoked_at, s.review_status, s.reviewed_at, s.review_reason,
       rv.name AS reviewer_name,
       (SELECT max(o.received_at) FROM observation o WHERE o.session_id = s.id) AS last_synced_at"""

PROVENANCE_FROM = """data_session s
       JOIN student st ON st.id = s.student_id
       JOIN app_user u ON u.id = s.staff_id
       LEFT JOIN membership m ON m.user_id = s.staff_id AND m.school_id = s.school_id
       LEFT JOIN device d ON d.id = s.device_id
       LEFT JOIN app_user rv ON rv.id = s.reviewed_by"""


async def queue(user: CurrentUser, *, request_id: str | None = None) -> dict[str, Any]:
    """Pending sessions grouped by student, then by the staff member who recorded them,
    and the pending corrections. Showing a student's sessions is a read: audited."""
    async with db.connection() as conn:
        rows = await conn.fetch(
            f"""SELECT {PROVENANCE} FROM {PROVENANCE_FROM}
                 WHERE s.school_id = $2 AND s.review_status = 'pending' AND {SCOPED}
                 ORDER BY st.first_name, st.last_name, st.id, u.name, s.opened_at""",
            *_scope_args(user),
        )
        proposed = await conn.fetch(
            f"""SELECT o.id, o.kind, o.outcome, o.prompt, o.delta, o.value, o.step_index, o.note,
                       o.recorded_at, o.received_at, o.voids_op_id, o.session_id,
                       s.student_id, st.first_name, st.last_name, u.name AS staff_name, g.area AS goal
                  FROM observation o JOIN data_session s ON s.id = o.session_id
                  JOIN student st ON st.id = s.student_id
                  JOIN app_user u ON u.id = o.user_id
                  LEFT JOIN goal g ON g.id = o.goal_id
                 WHERE s.school_id = $2 AND o.state = 'proposed' AND {SCOPED}
                 ORDER BY o.received_at""",
            *_scope_args(user),
        )
        results = await session_results(conn, [r["id"] for r in rows])
        goals = await _goal_names(conn, {r["student_id"] for r in rows})
        shown = sorted({r["student_id"] for r in rows} | {p["student_id"] for p in proposed})
        for student_id in shown:
            await audit.record(
                user,
                action="read",
                record_type="review_queue",
                student_id=student_id,
                request_id=request_id,
                conn=conn,
            )
    students: list[dict[str, Any]] = []
    empty: list[dict[str, Any]] = []
    for r in rows:
        session = _shown(r, results.get(r["id"], {}), goals)
        if r["closed_at"] is not None and session["entries"] == 0:
            # Nothing to judge: kept out of the queue (a late entry brings it back).
            empty.append(session)
            continue
        if not students or students[-1]["id"] != r["student_id"]:
            students.append(
                {
                    "id": r["student_id"],
                    "name": f"{r['first_name']} {r['last_name']}",
                    "sessions": [],
                }
            )
        students[-1]["sessions"].append(session)
    return {
        "students": students,
        "empty": empty,
        "proposed": [dict(p) for p in proposed],
        "count": sum(len(st["sessions"]) for st in students),
    }


def _shown(
    r: asyncpg.Record, per_goal: dict[int | None, GoalResult], goals: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    """A session as the review pages show it: its provenance, a readable device name,
    its entry count and per-goal figures (collect/derive.py, as the aide's app)."""
    return {
        **dict(r),
        "device_label": shown_label(r["device_label"]) if r["device_label"] else "",
        "entries": session_entries(per_goal),
        "goals": _goal_figures(per_goal, goals),
    }


async def _goal_names(conn: asyncpg.Connection, student_ids: set[int]) -> dict[int, dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT id, area, description, measurement, rating_max, continuous, position
             FROM goal WHERE student_id = ANY($1::bigint[])""",
        list(student_ids),
    )
    return {r["id"]: dict(r) for r in rows}


def _goal_figures(
    per_goal: dict[int | None, GoalResult], goals: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    """One line per goal with live entries: the goal's short name (its area) and its
    figures by derive.figures(), the one definition; the words are the template's."""
    out = []
    for goal_id, r in per_goal.items():
        if r.events == 0:
            continue
        goal = goals.get(goal_id) if goal_id is not None else None
        if goal is None:
            # The session's own service timer (and entries of no goal).
            measurement = "duration" if (r.intervals or r.running_since) else ""
            name, continuous, position = "Service time", False, 1 << 30
        else:
            measurement = goal["measurement"]
            name, continuous, position = goal["area"], goal["continuous"], goal["position"]
        shown = figures(r, measurement, continuous=continuous)
        out.append(
            {
                "name": name,
                "measurement": measurement,
                "rating_max": goal["rating_max"] if goal else None,
                "figures": shown,
                "minutes": round(shown.seconds / 60, 1),
                "orphan_stops": r.orphan_stops,
                "position": position,
            }
        )
    return sorted(out, key=lambda g: (g["position"], g["name"]))


async def session_detail(
    user: CurrentUser, session_id: UUID, *, request_id: str | None = None
) -> dict[str, Any]:
    async with db.connection() as conn:
        s = await conn.fetchrow(
            f"SELECT {PROVENANCE} FROM {PROVENANCE_FROM} WHERE s.id = $4 AND s.school_id = $2 AND {SCOPED}",
            *_scope_args(user),
            session_id,
        )
        if s is None:
            await audit.record(
                user,
                action="denied",
                record_type="data_session",
                record_id=session_id,
                request_id=request_id,
                detail={"attempted": "review", "reason": "out_of_scope"},
                conn=conn,
            )
            raise NotFoundException(SESSION_NOT_FOUND)
        entries = await conn.fetch(
            """SELECT o.id, o.op_id, o.kind, o.outcome, o.prompt, o.delta, o.value, o.step_index,
                      o.note, o.timer_id, o.voids_op_id, o.supersedes_id, o.reason, o.state,
                      o.recorded_at, o.received_at, o.goal_id, u.name AS author,
                      g.area AS goal, g.measurement
                 FROM observation o JOIN app_user u ON u.id = o.user_id
                 LEFT JOIN goal g ON g.id = o.goal_id
                WHERE o.session_id = $1 ORDER BY o.recorded_at, o.op_id""",
            session_id,
        )
        results = await session_results(conn, [session_id])
        goals = await _goal_names(conn, {s["student_id"]})
        await audit.record(
            user,
            action="read",
            record_type="data_session",
            record_id=session_id,
            student_id=s["student_id"],
            request_id=request_id,
            conn=conn,
        )
    shown = _shown(s, results.get(session_id, {}), goals)
    voided = {
        e["voids_op_id"]
        for e in entries
        if e["voids_op_id"] is not None and e["state"] == "applied"
    }
    rows = []
    for e in entries:
        row = dict(e)
        row["voided"] = e["op_id"] in voided
        row["correctable"] = (
            s["review_status"] in ("open", "pending", "rejected")
            and e["state"] == "applied"
            and e["kind"] in CORRECTABLE
            and not row["voided"]
        )
        rows.append(row)
    return {"session": shown, "entries": rows, "figures": shown["goals"]}


async def approve(
    user: CurrentUser, session_ids: list[UUID], *, request_id: str | None = None
) -> list[dict[str, Any]]:
    """Approve pending sessions of the reviewer's students; returns those approved.
    Sessions not pending (or not in scope) are left alone."""
    if not session_ids:
        return []
    session_ids = list(dict.fromkeys(session_ids))[:MAX_BULK]
    async with db.transaction() as conn:
        # Locked in id order, as the sync write locks sessions: no lock cycle with it.
        visible = await conn.fetchval(
            f"""SELECT count(*) FROM (SELECT s.id FROM data_session s
                 WHERE s.id = ANY($4::uuid[]) AND s.school_id = $2 AND {SCOPED}
                 ORDER BY s.id FOR UPDATE) locked""",
            *_scope_args(user),
            session_ids,
        )
        if visible != len(session_ids):
            # One of them is not the reviewer's: approve nothing, say "not found".
            await audit.record(
                user,
                action="denied",
                record_type="data_session",
                request_id=request_id,
                detail={
                    "attempted": "approve",
                    "reason": "out_of_scope",
                    "sessions": [str(s) for s in session_ids],
                },
            )  # on its own connection: this transaction is rolled back
            raise NotFoundException(SESSION_NOT_FOUND)
        rows = await conn.fetch(
            f"""UPDATE data_session s SET review_status = 'approved', reviewed_by = $1,
                       reviewed_at = now(), review_reason = NULL
                 WHERE s.id = ANY($4::uuid[]) AND s.school_id = $2 AND s.review_status = 'pending'
                   AND {SCOPED}
             RETURNING s.id, s.student_id""",
            *_scope_args(user),
            session_ids,
        )
        for r in rows:
            await audit.record(
                user,
                action="approve",
                record_type="data_session",
                record_id=r["id"],
                student_id=r["student_id"],
                request_id=request_id,
                conn=conn,
            )
    return [dict(r) for r in rows]


async def _session_in_scope(
    conn: asyncpg.Connection,
    user: CurrentUser,
    session_id: UUID,
    *,
    attempted: str,
    request_id: str | None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""SELECT s.id, s.student_id, s.review_status FROM data_session s
             WHERE s.id = $4 AND s.school_id = $2 AND {SCOPED} FOR UPDATE""",
        *_scope_args(user),
        session_id,
    )
    if row is None:
        student_id = await conn.fetchval(
            "SELECT student_id FROM data_session WHERE id = $1 AND school_id = $2",
            session_id,
            user.school_id,
        )
        await audit.refusal(
            user,
            attempted=attempted,
            record_type="data_session",
            record_id=session_id,
            student_id=student_id,
            request_id=request_id,
            reason="out_of_scope",
        )
        raise NotFoundException(SESSION_NOT_FOUND)
    return row


async def reject(
    user: CurrentUser, session_id: UUID, reason: str, *, request_id: str | None = None
) -> None:
    async with db.transaction() as conn:
        s = await _session_in_scope(
            conn, user, session_id, attempted="reject", request_id=request_id
        )
        if s["review_status"] != "pending":
            raise ReviewConflict(
                "Only a session waiting for review can be rejected "
                f"(this one is {s['review_status']})."
            )
        await conn.execute(
            """UPDATE data_session SET review_status = 'rejected', reviewed_by = $2,
                      reviewed_at = now(), review_reason = $3 WHERE id = $1""",
            session_id,
            user.id,
            reason,
        )
        await audit.record(
            user,
            action="reject",
            record_type="data_session",
            record_id=session_id,
            student_id=s["student_id"],
            request_id=request_id,
            detail={"reason": reason},
            conn=conn,
        )


async def _entry(
    conn: asyncpg.Connection,
    user: CurrentUser,
    observation_id: int,
    *,
    attempted: str,
    request_id: str | None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""SELECT o.*, s.review_status, m.measurement, m.rating_max,
                   jsonb_array_length(coalesce(m.task_steps, '[]'::jsonb)) AS step_count
              FROM observation o JOIN data_session s ON s.id = o.session_id
              LEFT JOIN goal m ON m.id = o.goal_id
             WHERE o.id = $4 AND s.school_id = $2 AND {SCOPED} FOR UPDATE OF s""",
        *_scope_args(user),
        observation_id,
    )
    if row is None:
        student_id = await conn.fetchval(
            "SELECT student_id FROM observation WHERE id = $1 AND school_id = $2",
            observation_id,
            user.school_id,
        )
        await audit.refusal(
            user,
            attempted=attempted,
            record_type="observation",
            record_id=observation_id,
            student_id=student_id,
            request_id=request_id,
            reason="out_of_scope",
        )
        raise NotFoundException(ENTRY_NOT_FOUND)
    return row


async def correct(
    user: CurrentUser, observation_id: int, change: Correction, *, request_id: str | None = None
) -> UUID:
    """Correct one entry of a session not yet approved: a 'correction' event voids the
    original (which stays stored and visible), and unless the entry is removed a
    replacement event with the corrected values takes its place. Returns the session id."""
    async with db.transaction() as conn:
        e = await _entry(conn, user, observation_id, attempted="correct", request_id=request_id)
        if e["review_status"] == "approved":
            raise ReviewConflict("This session is approved and locked; it cannot be corrected.")
        if e["state"] != "applied" or e["kind"] not in CORRECTABLE:
            raise ReviewConflict("Only a recorded entry that counts can be corrected.")
        already = await conn.fetchval(
            "SELECT 1 FROM observation WHERE voids_op_id = $1 AND state = 'applied'", e["op_id"]
        )
        if already:
            raise ReviewConflict("This entry was already undone or corrected.")
        replacement = _replacement(e, change)
        now = datetime.now(UTC)
        await conn.execute(
            """INSERT INTO observation (op_id, school_id, student_id, session_id, goal_id, user_id,
                                        kind, voids_op_id, supersedes_id, reason, device_time, recorded_at)
               VALUES ($1, $2, $3, $4, $5, $6, 'correction', $7, $8, $9, $10, $10)""",
            uuid.uuid4(),
            e["school_id"],
            e["student_id"],
            e["session_id"],
            e["goal_id"],
            user.id,
            e["op_id"],
            e["id"],
            change.reason,
            now,
        )
        if replacement is not None:
            await conn.execute(
                """INSERT INTO observation (op_id, school_id, student_id, session_id, goal_id, user_id,
                                            kind, outcome, prompt, delta, timer_id, value, step_index, note,
                                            supersedes_id, reason, device_time, recorded_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)""",
                uuid.uuid4(),
                e["school_id"],
                e["student_id"],
                e["session_id"],
                e["goal_id"],
                user.id,
                e["kind"],
                replacement["outcome"],
                replacement["prompt"],
                replacement["delta"],
                e["timer_id"],
                replacement["value"],
                e["step_index"],
                e["note"],
                e["id"],
                change.reason,
                e["device_time"],
                e["recorded_at"],
            )
        await audit.record(
            user,
            action="correct",
            record_type="observation",
            record_id=e["id"],
            student_id=e["student_id"],
            request_id=request_id,
            detail={"reason": change.reason, "remove": change.remove},
            conn=conn,
        )
        return UUID(str(e["session_id"]))


def _replacement(e: asyncpg.Record, change: Correction) -> dict[str, Any] | None:
    if change.remove:
        return None
    kind = e["kind"]
    new = {"outcome": e["outcome"], "prompt": e["prompt"], "delta": e["delta"], "value": e["value"]}
    if kind in ("trial", "step"):
        if change.outcome is None and change.prompt is None:
            raise ReviewConflict("Give the corrected answer or help level, or remove the entry.")
        new["outcome"] = change.outcome or e["outcome"]
        new["prompt"] = change.prompt or e["prompt"]
    elif kind == "tally":
        if change.delta is None:
            raise ReviewConflict("Give the corrected count (+1 or -1), or remove the entry.")
        new["delta"] = change.delta
    elif kind == "rating":
        if change.value is None:
            raise ReviewConflict("Give the corrected rating, or remove the entry.")
        if e["rating_max"] is not None and change.value > e["rating_max"]:
            raise ReviewConflict(f"The rating must be between 0 and {e['rating_max']}.")
        new["value"] = change.value
    else:
        raise ReviewConflict("This kind of entry can only be removed.")
    if new == {
        "outcome": e["outcome"],
        "prompt": e["prompt"],
        "delta": e["delta"],
        "value": e["value"],
    }:
        raise ReviewConflict("The correction changes nothing.")
    return new


async def decide_proposed(
    user: CurrentUser, observation_id: int, *, accept: bool, request_id: str | None = None
) -> UUID:
    """Accept or decline a pending correction (a late edit to an approved session)."""
    async with db.transaction() as conn:
        e = await _entry(
            conn,
            user,
            observation_id,
            attempted="accept_correction" if accept else "decline_correction",
            request_id=request_id,
        )
        if e["state"] != "proposed":
            raise ReviewConflict("This entry is not waiting for a decision.")
        await conn.execute(
            "UPDATE observation SET state = $2 WHERE id = $1",
            observation_id,
            "applied" if accept else "declined",
        )
        await audit.record(
            user,
            action="accept_correction" if accept else "decline_correction",
            record_type="observation",
            record_id=observation_id,
            student_id=e["student_id"],
            request_id=request_id,
            conn=conn,
        )
        return UUID(str(e["session_id"]))
