"""IEPs, goals, objectives, accommodations and services: reads and writes.

Every call names the acting user. Which student a record belongs to is looked up here,
never taken from the client, and checked with server/auth/scope.py on every request (so a
teacher taken off a caseload loses access on the next one). Out of scope, or no such
record in the user's school, is the same 404. Each read and write appends an audit row:
writes in the same transaction as the change, refusals on their own so that a refusal is
recorded even though nothing else is.

Raw SQL over the shared asyncpg pool (not Piccolo) because each write and its audit row
must share one transaction and one connection.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg
import msgspec
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.status_codes import HTTP_409_CONFLICT

from server import db
from server.audit import service as audit
from server.auth import scope
from server.auth.sessions import CurrentUser
from server.iep.schemas import (
    AccommodationIn,
    AccommodationOut,
    GoalIn,
    GoalOut,
    GoalPatch,
    IepIn,
    IepOut,
    IepPatch,
    ObjectiveIn,
    ObjectiveOut,
    Provider,
    ServiceIn,
    ServiceOut,
    StudentRecord,
    StudentSummary,
    goal_measurement_problem,
    iep_dates_problem,
    rating_anchors_problem,
)

NOT_FOUND = scope.NOT_FOUND
IEP_NOT_FOUND = "No such IEP, or you do not have access to it."
GOAL_NOT_FOUND = "No such goal, or you do not have access to it."
CLOSED = "This IEP is closed. Reopen it (set its status to draft or active) before editing it."
ONE_ACTIVE = "This student already has an active IEP. Close it before activating another one."
MEASUREMENT_LOCKED = (
    "Data has already been recorded for this goal, so its measurement type cannot change. "
    "Deactivate it and add a new goal instead."
)
NOT_A_PROVIDER = "Choose a provider or teacher from your school."
MAY_NOT_EDIT = "Your role cannot edit IEPs."


class Conflict(HTTPException):
    status_code = HTTP_409_CONFLICT


class Written(msgspec.Struct, frozen=True, kw_only=True):
    """What a write touched: the record, and the IEP and student it belongs to."""

    id: int
    iep_id: int
    student_id: int


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """A record the user reached, resolved to its student and IEP."""

    student_id: int
    iep_id: int
    iep_status: str
    goal_id: int | None = None


# ---------------------------------------------------------------- access


async def _deny(
    user: CurrentUser,
    *,
    attempted: str,
    record_type: str,
    record_id: object,
    student_id: int | None,
    request_id: str | None,
    message: str,
) -> NotFoundException:
    # Its own connection: the refusal stays recorded whatever happens to the caller's
    # transaction.
    await audit.record(
        user,
        action="denied",
        record_type=record_type,
        record_id=record_id,
        student_id=student_id,
        request_id=request_id,
        detail={"attempted": attempted},
    )
    return NotFoundException(message)


def _require_editor(user: CurrentUser) -> None:
    if not scope.may_edit_iep(user):
        raise PermissionDeniedException(MAY_NOT_EDIT)


async def _student_in_scope(
    conn: asyncpg.Connection, user: CurrentUser, student_id: int, attempted: str, rid: str | None
) -> asyncpg.Record:
    row = None
    if await scope.in_scope(user, student_id, conn=conn):
        row = await conn.fetchrow(
            "SELECT id, first_name, last_name, grade FROM student WHERE id = $1 AND school_id = $2",
            student_id,
            user.school_id,
        )
    if row is None:
        raise await _deny(
            user,
            attempted=attempted,
            record_type="student",
            record_id=student_id,
            student_id=None,
            request_id=rid,
            message=NOT_FOUND,
        )
    return row


async def _iep_target(
    conn: asyncpg.Connection,
    user: CurrentUser,
    iep_id: int,
    attempted: str,
    rid: str | None,
    *,
    lock: bool = False,
) -> Target:
    row = await conn.fetchrow(
        "SELECT student_id, status FROM iep WHERE id = $1 AND school_id = $2"
        + (" FOR UPDATE" if lock else ""),
        iep_id,
        user.school_id,
    )
    if row is None or not await scope.in_scope(user, row["student_id"], conn=conn):
        raise await _deny(
            user,
            attempted=attempted,
            record_type="iep",
            record_id=iep_id,
            student_id=None if row is None else row["student_id"],
            request_id=rid,
            message=IEP_NOT_FOUND,
        )
    return Target(student_id=row["student_id"], iep_id=iep_id, iep_status=row["status"])


async def _goal_target(
    conn: asyncpg.Connection,
    user: CurrentUser,
    goal_id: int,
    attempted: str,
    rid: str | None,
    *,
    lock: bool = False,
) -> Target:
    row = await conn.fetchrow(
        """SELECT g.student_id, g.iep_id, i.status FROM goal g JOIN iep i ON i.id = g.iep_id
            WHERE g.id = $1 AND g.school_id = $2"""
        + (" FOR UPDATE OF g" if lock else ""),
        goal_id,
        user.school_id,
    )
    if row is None or not await scope.in_scope(user, row["student_id"], conn=conn):
        raise await _deny(
            user,
            attempted=attempted,
            record_type="goal",
            record_id=goal_id,
            student_id=None if row is None else row["student_id"],
            request_id=rid,
            message=GOAL_NOT_FOUND,
        )
    return Target(
        student_id=row["student_id"],
        iep_id=row["iep_id"],
        iep_status=row["status"],
        goal_id=goal_id,
    )


def _require_open(target: Target) -> None:
    if target.iep_status == "closed":
        raise Conflict(CLOSED)


async def _ensure_single_active(conn: asyncpg.Connection, student_id: int, iep_id: int) -> None:
    # The student row lock serialises two editors activating two IEPs at once.
    await conn.execute("SELECT 1 FROM student WHERE id = $1 FOR UPDATE", student_id)
    other = await conn.fetchval(
        "SELECT id FROM iep WHERE student_id = $1 AND status = 'active' AND id <> $2 LIMIT 1",
        student_id,
        iep_id,
    )
    if other is not None:
        raise Conflict(ONE_ACTIVE)


# ---------------------------------------------------------------- reads


def _json_value(value: Any) -> Any:
    """A json/jsonb column: text from a plain asyncpg pool, already decoded if the pool
    has a JSON codec."""
    return json.loads(value) if isinstance(value, str) else value


def current_iep(ieps: Sequence[IepOut]) -> IepOut | None:
    """The IEP in force: the active one, else the newest draft, else the newest closed."""
    for status in ("active", "draft", "closed"):
        candidates = [i for i in ieps if i.status == status]
        if candidates:
            return max(candidates, key=lambda i: (i.start_date, i.id))
    return None


async def _summaries(conn: asyncpg.Connection, student_ids: list[int]) -> list[StudentSummary]:
    rows = await conn.fetch(
        """SELECT s.id, s.first_name, s.last_name, s.grade,
                  (SELECT json_agg(json_build_object('id', i.id, 'status', i.status,
                                                     'start_date', i.start_date))
                     FROM iep i WHERE i.student_id = s.id) AS ieps
             FROM student s
            WHERE s.id = ANY($1::bigint[]) AND s.archived_at IS NULL
            ORDER BY s.last_name, s.first_name, s.id""",
        student_ids,
    )
    out = []
    for r in rows:
        ieps = _json_value(r["ieps"]) or []
        best = None
        for status in ("active", "draft", "closed"):
            same = [i for i in ieps if i["status"] == status]
            if same:
                best = max(same, key=lambda i: (i["start_date"], i["id"]))
                break
        out.append(
            StudentSummary(
                id=r["id"],
                first_name=r["first_name"],
                last_name=r["last_name"],
                grade=r["grade"],
                current_iep_id=best["id"] if best else None,
                current_iep_status=best["status"] if best else None,
            )
        )
    return out


async def caseload(user: CurrentUser, *, request_id: str | None = None) -> list[StudentSummary]:
    """The students in `user`'s scope, with their current IEP (the list read is audited)."""
    async with db.transaction() as conn:
        ids = await scope.student_ids(user, conn=conn)
        students = await _summaries(conn, ids)
        await audit.record(
            user,
            action="list",
            record_type="student",
            request_id=request_id,
            detail={"student_ids": [s.id for s in students]},
            conn=conn,
        )
    return students


async def _ieps_of(conn: asyncpg.Connection, student_id: int) -> list[IepOut]:
    ieps = await conn.fetch(
        """SELECT id, student_id, start_date, end_date, status, revision FROM iep
            WHERE student_id = $1 ORDER BY start_date DESC, id DESC""",
        student_id,
    )
    iep_ids = [r["id"] for r in ieps]
    goals = await conn.fetch(
        """SELECT id, iep_id, student_id, area, description, measurement, baseline, target,
                  mastery_criterion, rating_max, task_steps, rating_anchors, home_practice,
                  direction, measure_name, continuous, active, position
             FROM goal WHERE iep_id = ANY($1::bigint[]) ORDER BY position, id""",
        iep_ids,
    )
    objectives = await conn.fetch(
        """SELECT o.id, o.goal_id, o.description, o.position FROM objective o
             JOIN goal g ON g.id = o.goal_id
            WHERE g.iep_id = ANY($1::bigint[]) ORDER BY o.position, o.id""",
        iep_ids,
    )
    accommodations = await conn.fetch(
        """SELECT id, iep_id, description, setting FROM accommodation
            WHERE iep_id = ANY($1::bigint[]) ORDER BY id""",
        iep_ids,
    )
    services = await conn.fetch(
        """SELECT sv.id, sv.iep_id, sv.service_type, sv.minutes, sv.period, sv.provider_id,
                  u.name AS provider_name, sv.setting, sv.provider_ended_at
             FROM service sv LEFT JOIN app_user u ON u.id = sv.provider_id
            WHERE sv.iep_id = ANY($1::bigint[]) ORDER BY sv.id""",
        iep_ids,
    )
    objectives_by_goal: dict[int, list[ObjectiveOut]] = {}
    for o in objectives:
        objectives_by_goal.setdefault(o["goal_id"], []).append(ObjectiveOut(**dict(o)))
    goals_by_iep: dict[int, list[GoalOut]] = {}
    for g in goals:
        fields = dict(g)
        fields["task_steps"] = _json_value(fields["task_steps"])
        fields["rating_anchors"] = _json_value(fields["rating_anchors"])
        goals_by_iep.setdefault(g["iep_id"], []).append(
            GoalOut(**fields, objectives=objectives_by_goal.get(g["id"], []))
        )
    acc_by_iep: dict[int, list[AccommodationOut]] = {}
    for a in accommodations:
        acc_by_iep.setdefault(a["iep_id"], []).append(AccommodationOut(**dict(a)))
    svc_by_iep: dict[int, list[ServiceOut]] = {}
    for s in services:
        svc_by_iep.setdefault(s["iep_id"], []).append(ServiceOut(**dict(s)))
    return [
        IepOut(
            **dict(r),
            goals=goals_by_iep.get(r["id"], []),
            accommodations=acc_by_iep.get(r["id"], []),
            services=svc_by_iep.get(r["id"], []),
        )
        for r in ieps
    ]


async def student_record(
    user: CurrentUser, student_id: int, *, request_id: str | None = None
) -> StudentRecord:
    """A student's IEPs with goals, objectives, accommodations and services (audited)."""
    async with db.transaction() as conn:
        student = await _student_in_scope(conn, user, student_id, "read", request_id)
        ieps = await _ieps_of(conn, student_id)
        current = current_iep(ieps)
        await audit.record(
            user,
            action="read",
            record_type="iep",
            record_id=current.id if current else None,
            student_id=student_id,
            request_id=request_id,
            detail={"iep_ids": [i.id for i in ieps]},
            conn=conn,
        )
    return StudentRecord(
        id=student["id"],
        first_name=student["first_name"],
        last_name=student["last_name"],
        grade=student["grade"],
        current_iep_id=current.id if current else None,
        ieps=ieps,
    )


class StudentHead(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    first_name: str
    last_name: str


async def _head(conn: asyncpg.Connection, student_id: int) -> StudentHead:
    row = await conn.fetchrow(
        "SELECT id, first_name, last_name FROM student WHERE id = $1", student_id
    )
    return StudentHead(**dict(row))


async def student_head(
    user: CurrentUser, student_id: int, *, request_id: str | None = None
) -> StudentHead:
    """The student's name, for a page about them (in scope only; audited as a read)."""
    async with db.transaction() as conn:
        row = await _student_in_scope(conn, user, student_id, "read", request_id)
        await audit.record(
            user,
            action="read",
            record_type="student",
            record_id=student_id,
            student_id=student_id,
            request_id=request_id,
            conn=conn,
        )
    return StudentHead(id=row["id"], first_name=row["first_name"], last_name=row["last_name"])


async def iep_for_edit(
    user: CurrentUser, iep_id: int, *, request_id: str | None = None
) -> tuple[StudentHead, IepOut]:
    """One IEP and its student, for an edit form (audited as a read)."""
    _require_editor(user)
    async with db.transaction() as conn:
        target = await _iep_target(conn, user, iep_id, "read", request_id)
        iep = next(i for i in await _ieps_of(conn, target.student_id) if i.id == iep_id)
        head = await _head(conn, target.student_id)
        await audit.record(
            user,
            action="read",
            record_type="iep",
            record_id=iep_id,
            student_id=target.student_id,
            request_id=request_id,
            conn=conn,
        )
    return head, iep


async def goal_for_edit(
    user: CurrentUser, goal_id: int, *, request_id: str | None = None
) -> tuple[StudentHead, IepOut, GoalOut]:
    """One goal, its IEP and its student, for the goal's edit form (audited as a read)."""
    _require_editor(user)
    async with db.transaction() as conn:
        target = await _goal_target(conn, user, goal_id, "read", request_id)
        iep = next(i for i in await _ieps_of(conn, target.student_id) if i.id == target.iep_id)
        goal = next(g for g in iep.goals if g.id == goal_id)
        head = await _head(conn, target.student_id)
        await audit.record(
            user,
            action="read",
            record_type="goal",
            record_id=goal_id,
            student_id=target.student_id,
            request_id=request_id,
            conn=conn,
        )
    return head, iep, goal


# Who may deliver a service: related-service providers, and teachers (specialized
# instruction). tandem_student_scope gives both the students they serve.
SERVICE_PROVIDER_ROLES = ["provider", "teacher"]


async def providers(user: CurrentUser) -> list[Provider]:
    """The school's active providers and teachers, who may deliver a service."""
    async with db.connection() as conn:
        rows = await conn.fetch(
            """SELECT u.id, u.name, m.role FROM membership m JOIN app_user u ON u.id = m.user_id
                WHERE m.school_id = $1 AND m.role = ANY($2::text[]) AND u.is_active
                ORDER BY m.role, u.name, u.id""",
            user.school_id,
            SERVICE_PROVIDER_ROLES,
        )
    return [Provider(id=r["id"], name=r["name"], role=r["role"]) for r in rows]


# ---------------------------------------------------------------- writes


async def create_iep(
    user: CurrentUser, student_id: int, data: IepIn, *, request_id: str | None = None
) -> Written:
    _require_editor(user)
    async with db.transaction() as conn:
        await _student_in_scope(conn, user, student_id, "create", request_id)
        if data.status == "active":
            await _ensure_single_active(conn, student_id, 0)
        iep_id = int(
            await conn.fetchval(
                """INSERT INTO iep (school_id, student_id, start_date, end_date, status, created_by)
                   VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
                user.school_id,
                student_id,
                data.start_date,
                data.end_date,
                data.status,
                user.id,
            )
        )
        await audit.record(
            user,
            action="create",
            record_type="iep",
            record_id=iep_id,
            student_id=student_id,
            request_id=request_id,
            detail={"status": data.status},
            conn=conn,
        )
    return Written(id=iep_id, iep_id=iep_id, student_id=student_id)


async def update_iep(
    user: CurrentUser, iep_id: int, patch: IepPatch, *, request_id: str | None = None
) -> Written:
    _require_editor(user)
    async with db.transaction() as conn:
        target = await _iep_target(conn, user, iep_id, "update", request_id, lock=True)
        row = await conn.fetchrow(
            "SELECT start_date, end_date, status FROM iep WHERE id = $1", iep_id
        )
        start: date = (
            row["start_date"]
            if isinstance(patch.start_date, msgspec.UnsetType)
            else patch.start_date
        )
        end: date = (
            row["end_date"] if isinstance(patch.end_date, msgspec.UnsetType) else patch.end_date
        )
        status: str = row["status"] if isinstance(patch.status, msgspec.UnsetType) else patch.status
        problem = iep_dates_problem(start, end)
        if problem:
            raise ClientException(problem)
        if status == "active" and row["status"] != "active":
            await _ensure_single_active(conn, target.student_id, iep_id)
        changed = [
            name
            for name, old, new in (
                ("start_date", row["start_date"], start),
                ("end_date", row["end_date"], end),
                ("status", row["status"], status),
            )
            if old != new
        ]
        await conn.execute(
            """UPDATE iep SET start_date = $2, end_date = $3, status = $4, updated_at = now()
                WHERE id = $1""",
            iep_id,
            start,
            end,
            status,
        )
        await audit.record(
            user,
            action="update",
            record_type="iep",
            record_id=iep_id,
            student_id=target.student_id,
            request_id=request_id,
            detail={"fields": changed, "status": status},
            conn=conn,
        )
    return Written(id=iep_id, iep_id=iep_id, student_id=target.student_id)


async def add_goal(
    user: CurrentUser, iep_id: int, data: GoalIn, *, request_id: str | None = None
) -> Written:
    _require_editor(user)
    async with db.transaction() as conn:
        target = await _iep_target(conn, user, iep_id, "create", request_id, lock=True)
        _require_open(target)
        goal_id = int(
            await conn.fetchval(
                """INSERT INTO goal (school_id, iep_id, student_id, area, description, measurement,
                                     baseline, target, mastery_criterion, rating_max, task_steps,
                                     home_practice, direction, measure_name, continuous,
                                     rating_anchors, position)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14,
                           $15, $16::jsonb,
                           (SELECT coalesce(max(position) + 1, 0) FROM goal WHERE iep_id = $2))
                   RETURNING id""",
                user.school_id,
                iep_id,
                target.student_id,
                data.area.strip(),
                data.description.strip(),
                data.measurement,
                data.baseline.strip(),
                data.target.strip(),
                data.mastery_criterion.strip(),
                data.rating_max,
                json.dumps([s.strip() for s in data.task_steps]),
                data.home_practice,
                data.direction,
                data.measure_name.strip(),
                data.continuous and data.measurement == "duration",
                json.dumps([a.strip() for a in data.rating_anchors]),
            )
        )
        await audit.record(
            user,
            action="create",
            record_type="goal",
            record_id=goal_id,
            student_id=target.student_id,
            request_id=request_id,
            detail={"iep_id": iep_id, "measurement": data.measurement},
            conn=conn,
        )
    return Written(id=goal_id, iep_id=iep_id, student_id=target.student_id)


GOAL_FIELDS = (
    "area",
    "description",
    "measurement",
    "baseline",
    "target",
    "mastery_criterion",
    "rating_max",
    "task_steps",
    "rating_anchors",
    "home_practice",
    "direction",
    "measure_name",
    "continuous",
    "active",
)


def merge_goal(current: dict[str, Any], patch: GoalPatch) -> dict[str, Any]:
    """The goal after `patch`; a change of measurement type drops a scale or steps that
    no longer apply unless the patch sets them."""
    merged = dict(current)
    for name in GOAL_FIELDS:
        value = getattr(patch, name)
        if not isinstance(value, msgspec.UnsetType):
            stripped = name in ("task_steps", "rating_anchors")
            merged[name] = [s.strip() for s in value] if stripped else value
    if merged["measurement"] != current["measurement"]:
        if isinstance(patch.rating_max, msgspec.UnsetType) and merged["measurement"] != "rating":
            merged["rating_max"] = None
        if isinstance(patch.task_steps, msgspec.UnsetType) and (
            merged["measurement"] != "task_analysis"
        ):
            merged["task_steps"] = []
        if isinstance(patch.rating_anchors, msgspec.UnsetType) and (
            merged["measurement"] != "rating"
        ):
            merged["rating_anchors"] = []
    for name in ("area", "description", "baseline", "target", "mastery_criterion", "measure_name"):
        merged[name] = merged[name].strip()
    # Only a duration goal can ask for one continuous run.
    merged["continuous"] = bool(merged["continuous"]) and merged["measurement"] == "duration"
    return merged


async def update_goal(
    user: CurrentUser, goal_id: int, patch: GoalPatch, *, request_id: str | None = None
) -> Written:
    """Edit a goal, or (de)activate it. Goals are never deleted: data refers to them."""
    _require_editor(user)
    async with db.transaction() as conn:
        target = await _goal_target(conn, user, goal_id, "update", request_id, lock=True)
        _require_open(target)
        row = await conn.fetchrow(
            f"SELECT {', '.join(GOAL_FIELDS)} FROM goal WHERE id = $1",  # fixed column list
            goal_id,
        )
        current = dict(row)
        current["task_steps"] = _json_value(current["task_steps"])
        current["rating_anchors"] = _json_value(current["rating_anchors"])
        merged = merge_goal(current, patch)
        if not merged["area"] or not merged["description"]:
            raise ClientException("The area and the goal text may not be blank.")
        problem = goal_measurement_problem(
            merged["measurement"], merged["rating_max"], merged["task_steps"]
        ) or rating_anchors_problem(merged["rating_max"], merged["rating_anchors"])
        if problem:
            raise ClientException(problem)
        if merged["measurement"] != current["measurement"]:
            has_data = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM observation WHERE goal_id = $1)", goal_id
            )
            if has_data:
                raise Conflict(MEASUREMENT_LOCKED)
        changed = [name for name in GOAL_FIELDS if merged[name] != current[name]]
        await conn.execute(
            """UPDATE goal SET area = $2, description = $3, measurement = $4, baseline = $5,
                               target = $6, mastery_criterion = $7, rating_max = $8,
                               task_steps = $9::jsonb, home_practice = $10, active = $11,
                               direction = $12, measure_name = $13, continuous = $14,
                               rating_anchors = $15::jsonb, updated_at = now()
                WHERE id = $1""",
            goal_id,
            merged["area"],
            merged["description"],
            merged["measurement"],
            merged["baseline"],
            merged["target"],
            merged["mastery_criterion"],
            merged["rating_max"],
            json.dumps(merged["task_steps"]),
            merged["home_practice"],
            merged["active"],
            merged["direction"],
            merged["measure_name"],
            merged["continuous"],
            json.dumps(merged["rating_anchors"]),
        )
        action = "update"
        if changed == ["active"]:
            action = "activate" if merged["active"] else "deactivate"
        await audit.record(
            user,
            action=action,
            record_type="goal",
            record_id=goal_id,
            student_id=target.student_id,
            request_id=request_id,
            detail={"fields": changed, "iep_id": target.iep_id},
            conn=conn,
        )
    return Written(id=goal_id, iep_id=target.iep_id, student_id=target.student_id)


async def add_objective(
    user: CurrentUser, goal_id: int, data: ObjectiveIn, *, request_id: str | None = None
) -> Written:
    _require_editor(user)
    async with db.transaction() as conn:
        target = await _goal_target(conn, user, goal_id, "create", request_id, lock=True)
        _require_open(target)
        objective_id = int(
            await conn.fetchval(
                """INSERT INTO objective (school_id, goal_id, description, position)
                   VALUES ($1, $2, $3,
                           (SELECT coalesce(max(position) + 1, 0) FROM objective
                             WHERE goal_id = $2))
                   RETURNING id""",
                user.school_id,
                goal_id,
                data.description.strip(),
            )
        )
        await audit.record(
            user,
            action="create",
            record_type="objective",
            record_id=objective_id,
            student_id=target.student_id,
            request_id=request_id,
            detail={"goal_id": goal_id},
            conn=conn,
        )
    return Written(id=objective_id, iep_id=target.iep_id, student_id=target.student_id)


async def add_accommodation(
    user: CurrentUser, iep_id: int, data: AccommodationIn, *, request_id: str | None = None
) -> Written:
    _require_editor(user)
    async with db.transaction() as conn:
        target = await _iep_target(conn, user, iep_id, "create", request_id, lock=True)
        _require_open(target)
        accommodation_id = int(
            await conn.fetchval(
                """INSERT INTO accommodation (school_id, iep_id, description, setting)
                   VALUES ($1, $2, $3, $4) RETURNING id""",
                user.school_id,
                iep_id,
                data.description.strip(),
                data.setting.strip(),
            )
        )
        await audit.record(
            user,
            action="create",
            record_type="accommodation",
            record_id=accommodation_id,
            student_id=target.student_id,
            request_id=request_id,
            detail={"iep_id": iep_id},
            conn=conn,
        )
    return Written(id=accommodation_id, iep_id=iep_id, student_id=target.student_id)


async def add_service(
    user: CurrentUser, iep_id: int, data: ServiceIn, *, request_id: str | None = None
) -> Written:
    _require_editor(user)
    async with db.transaction() as conn:
        target = await _iep_target(conn, user, iep_id, "create", request_id, lock=True)
        _require_open(target)
        if data.provider_id is not None:
            is_provider = await conn.fetchval(
                """SELECT EXISTS (SELECT 1 FROM membership m JOIN app_user u ON u.id = m.user_id
                                   WHERE m.school_id = $1 AND m.user_id = $2
                                     AND m.role = ANY($3::text[]) AND u.is_active)""",
                user.school_id,
                data.provider_id,
                SERVICE_PROVIDER_ROLES,
            )
            if not is_provider:
                raise ClientException(NOT_A_PROVIDER)
        service_id = int(
            await conn.fetchval(
                """INSERT INTO service (school_id, iep_id, student_id, service_type, minutes,
                                        period, provider_id, setting)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id""",
                user.school_id,
                iep_id,
                target.student_id,
                data.service_type.strip(),
                data.minutes,
                data.period,
                data.provider_id,
                data.setting.strip(),
            )
        )
        await audit.record(
            user,
            action="create",
            record_type="service",
            record_id=service_id,
            student_id=target.student_id,
            request_id=request_id,
            detail={"iep_id": iep_id, "provider_id": data.provider_id},
            conn=conn,
        )
    return Written(id=service_id, iep_id=iep_id, student_id=target.student_id)


async def set_parent_text(
    user: CurrentUser,
    goal_id: int,
    *,
    language: str,
    name: str,
    description: str,
    request_id: str | None = None,
) -> int:
    """Write what families reading `language` read about a goal (its name and
    description); returns the goal's student. Allowed on any IEP state: it is a
    translation, not an amendment."""
    _require_editor(user)
    name, description = name.strip(), description.strip()
    if not name or not description:
        raise ClientException("Give the goal's name and its description for families.")
    async with db.transaction() as conn:
        target = await _goal_target(conn, user, goal_id, "translate", request_id, lock=True)
        await conn.execute(
            """UPDATE goal SET parent_texts = parent_texts || jsonb_build_object($2::text,
                   jsonb_build_object('name', $3::text, 'description', $4::text)),
                   updated_at = now()
                WHERE id = $1""",
            goal_id,
            language,
            name,
            description,
        )
        await audit.record(
            user,
            action="update",
            record_type="goal",
            record_id=goal_id,
            student_id=target.student_id,
            request_id=request_id,
            detail={"fields": ["parent_texts"], "language": language},
            conn=conn,
        )
    return target.student_id
