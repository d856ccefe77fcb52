"""The sync engine's two big statements, built from the parts a batch needs.

One statement reads everything a batch needs (and locks its sessions); one writes all
its effects. A batch rarely needs every part: a tally names no undo target, no timer,
no service, opens no session. PostgreSQL initialises every node of a plan on every
execution, even a branch whose filter is constant false, so a 1-op tally spent about
40 % of its prefetch in lookups it never used (bench/README.md, "Sync ingest").

So each statement is assembled from parts, keyed by a shape (which parts are present).
There are few shapes; each is built once (lru_cache), prepared once per connection by
asyncpg and planned once (generic plans, see service._open_statements). Parameters are
named in the parts (`{op_ids}`) and numbered in order of first use, so a shape binds
only the values it reads. No value is ever formatted into the SQL text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any


class _Params:
    """`{name}` in a part becomes `$n::type`, n numbered in order of first use."""

    def __init__(self, types: dict[str, str]) -> None:
        self.types = types
        self.order: list[str] = []

    def __getitem__(self, name: str) -> str:
        if name not in self.order:
            self.order.append(name)
        return f"${self.order.index(name) + 1}::{self.types[name]}"


def _build(parts: list[tuple[str, str]], tail: str, types: dict[str, str]) -> Statement:
    params = _Params(types)
    ctes = ",\n".join(f"{name} AS (\n{body.format_map(params)})" for name, body in parts)
    sql = f"WITH {ctes}\n{tail.format_map(params)}" if parts else tail.format_map(params)
    return Statement(sql=sql, params=tuple(params.order))


@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple[str, ...]  # the value names bound to $1, $2, ...

    def args(self, values: dict[str, Any]) -> list[Any]:
        return [values[name] for name in self.params]


# --- prefetch ------------------------------------------------------------------------

PREFETCH_TYPES = {
    "client_id": "uuid",
    "seqs": "bigint[]",
    "op_ids": "uuid[]",
    "targets": "uuid[]",
    "school_id": "bigint",
    "session_ids": "uuid[]",
    "timer_ids": "uuid[]",
    "user_id": "bigint",
    "goal_ids": "bigint[]",
    "service_ids": "bigint[]",
    "student_ids": "bigint[]",
    "p_sess": "uuid[]",
    "p_stu": "bigint[]",
    "p_target": "uuid[]",
    "p_at": "timestamptz[]",
    "role": "text",
}


@dataclass(frozen=True)
class PrefetchShape:
    """Which lookups a batch needs."""

    undo: bool  # undo targets (and whether they were already undone)
    sessions: bool  # existing sessions named by ops (locked)
    timers: bool  # the starts of stopped timers
    goals: bool
    services: bool
    students: bool  # students named by session.open
    scope: bool  # (student, recorded time) pairs whose permission to check


_CLIENT = """    SELECT c.user_id, c.school_id, c.device_id, c.last_seq, d.revoked_at
      FROM sync_client c LEFT JOIN device d ON d.id = c.device_id
     WHERE c.client_id = {client_id}"""


@functools.lru_cache(maxsize=1)
def client() -> Statement:
    """The client row alone (a request with no ops): user_id, school_id, device_id,
    last_seq, revoked_at."""
    return _build([], _CLIENT.strip(), PREFETCH_TYPES)


@functools.lru_cache(maxsize=256)
def prefetch(shape: PrefetchShape) -> Statement:
    """Columns: the client row (user_id, school_id, device_id, last_seq, revoked_at;
    NULL if no such client), then arrays: seen, used, and for the parts present
    targets, voided, sessions, timers, goals, services, students, scope."""
    parts: list[tuple[str, str]] = [
        (
            "client",
            # Already locked by the transaction's first statement (_open_statements).
            _CLIENT,
        ),
        (
            "seen",
            # Ledger rows of this batch's seqs: exactly its replays (rows exist up to
            # last_seq only).
            """    SELECT seq, op_id, body_hash FROM sync_op
     WHERE client_id = {client_id} AND seq = ANY({seqs})""",
        ),
        (
            "used",
            """    SELECT op_id FROM sync_op
     WHERE op_id = ANY({op_ids}) AND code IS DISTINCT FROM 'op_id_conflict'""",
        ),
    ]
    out = [
        "ARRAY(SELECT row(seq, op_id, body_hash) FROM seen) AS seen",
        "ARRAY(SELECT op_id FROM used) AS used",
    ]
    if shape.undo:
        parts.append(
            (
                "tgt",
                """    SELECT op_id, student_id, session_id, goal_id, kind, user_id FROM observation
     WHERE op_id = ANY({targets}) AND school_id = {school_id}""",
            )
        )
        parts.append(
            (
                "voided",
                """    SELECT voids_op_id FROM observation
     WHERE voids_op_id = ANY({targets}) AND state <> 'declined'""",
            )
        )
        out.append(
            "ARRAY(SELECT row(op_id, student_id, session_id, goal_id, kind, user_id) FROM tgt)"
            " AS targets"
        )
        out.append("ARRAY(SELECT voids_op_id FROM voided) AS voided")
    has_ses = shape.sessions or shape.undo
    if has_ses:
        also = " || ARRAY(SELECT session_id FROM tgt)" if shape.undo else ""
        parts.append(
            (
                "ses",
                # Locked in id order: a teacher approving meanwhile waits for this batch.
                f"""    SELECT id, school_id, student_id, staff_id, service_id, review_status, closed_at
      FROM data_session
     WHERE id = ANY({{session_ids}}{also})
     ORDER BY id FOR UPDATE""",
            )
        )
        out.append(
            "ARRAY(SELECT row(id, school_id, student_id, staff_id, service_id, review_status,"
            " closed_at) FROM ses) AS sessions"
        )
    if shape.timers:
        parts.append(
            (
                "timers",
                # A timer's start is in the session its stop names (observation_session).
                """    SELECT DISTINCT ON (timer_id) timer_id, goal_id FROM observation
     WHERE session_id = ANY({session_ids}) AND timer_id = ANY({timer_ids})
       AND kind = 'timer_start' AND user_id = {user_id}
     ORDER BY timer_id, recorded_at""",
            )
        )
        out.append("ARRAY(SELECT row(timer_id, goal_id) FROM timers) AS timers")
    if shape.goals:
        parts.append(
            (
                "goals",
                """    SELECT g.id, g.student_id, g.measurement, g.rating_max,
           jsonb_array_length(g.task_steps) AS steps, g.active AND i.status = 'active' AS usable
      FROM goal g JOIN iep i ON i.id = g.iep_id
     WHERE g.id = ANY({goal_ids}) AND g.school_id = {school_id}""",
            )
        )
        out.append(
            "ARRAY(SELECT row(id, student_id, measurement, rating_max, steps, usable) FROM goals)"
            " AS goals"
        )
    if shape.services:
        parts.append(
            (
                "services",
                """    SELECT id, student_id FROM service
     WHERE id = ANY({service_ids}) AND school_id = {school_id}""",
            )
        )
        out.append("ARRAY(SELECT row(id, student_id) FROM services) AS services")
    if shape.students or has_ses:
        named = ["{student_ids}"] if shape.students else []
        if has_ses:
            named.append("ARRAY(SELECT student_id FROM ses)")
        parts.append(
            (
                "students",
                f"""    SELECT s.id, (SELECT min(i.start_date) FROM iep i WHERE i.student_id = s.id) AS start
      FROM student s
     WHERE s.id = ANY({" || ".join(named)}) AND s.school_id = {{school_id}}""",
            )
        )
        out.append("ARRAY(SELECT row(id, start) FROM students) AS students")
    if shape.scope:
        student = ["t.stu"]
        joins = ""
        if has_ses:
            student.append("ses.student_id")
            joins += "\n      LEFT JOIN ses ON ses.id = t.sess"
        if shape.undo:
            student.append("tgt.student_id")
            joins += "\n      LEFT JOIN tgt ON tgt.op_id = t.target"
        parts.append(
            (
                "pairs",
                f"""    SELECT DISTINCT coalesce({", ".join(student)}) AS sid, t.at
      FROM unnest({{p_sess}}, {{p_stu}}, {{p_target}}, {{p_at}}) AS t(sess, stu, target, at){joins}""",
            )
        )
        parts.append(
            (
                "scope",
                # Permission at the time each op was recorded, through the one scope rule.
                """    SELECT p.sid, p.at FROM pairs p
     WHERE p.sid IS NOT NULL
       AND EXISTS (SELECT 1 FROM tandem_student_scope({user_id}, {school_id}, {role}, p.at) sc
                    WHERE sc.student_id = p.sid)""",
            )
        )
        out.append("ARRAY(SELECT row(sid, at) FROM scope) AS scope")
    columns = ",\n       ".join(out)
    tail = f"SELECT client.*,\n       {columns}\n  FROM (SELECT) AS one LEFT JOIN client ON true"
    return _build(parts, tail, PREFETCH_TYPES)


# --- write ---------------------------------------------------------------------------

# Column arrays of the write, as (value name, array type), in unnest order.
SESSION_ARRAYS = (
    ("s_id", "uuid[]"),
    ("s_student", "bigint[]"),
    ("s_service", "bigint[]"),
    ("s_opened", "timestamptz[]"),
    ("s_offline", "boolean[]"),
    ("s_closed", "timestamptz[]"),
    ("s_status", "text[]"),
)
OBSERVATION_ARRAYS = (
    ("o_op_id", "uuid[]"),
    ("o_student", "bigint[]"),
    ("o_session", "uuid[]"),
    ("o_goal", "bigint[]"),
    ("o_kind", "text[]"),
    ("o_outcome", "text[]"),
    ("o_prompt", "text[]"),
    ("o_delta", "smallint[]"),
    ("o_timer", "uuid[]"),
    ("o_value", "int[]"),
    ("o_step", "smallint[]"),
    ("o_note", "text[]"),
    ("o_voids", "uuid[]"),
    ("o_state", "text[]"),
    ("o_device_time", "timestamptz[]"),
    ("o_recorded_at", "timestamptz[]"),
)
CLOSE_ARRAYS = (("c_id", "uuid[]"), ("c_at", "timestamptz[]"))
LEDGER_ARRAYS = (
    ("l_seq", "bigint[]"),
    ("l_op_id", "uuid[]"),
    ("l_type", "text[]"),
    ("l_hash", "bytea[]"),
    ("l_outcome", "text[]"),
    ("l_code", "text[]"),
    ("l_reason", "text[]"),
    ("l_device_time", "timestamptz[]"),
    ("l_recorded_at", "timestamptz[]"),
)
AUDIT_ARRAYS = (("a_student", "bigint[]"), ("a_count", "int[]"))

SESSION_COLUMNS = tuple(name for name, _ in SESSION_ARRAYS)
OBSERVATION_COLUMNS = tuple(name for name, _ in OBSERVATION_ARRAYS)
CLOSE_COLUMNS = tuple(name for name, _ in CLOSE_ARRAYS)
LEDGER_COLUMNS = tuple(name for name, _ in LEDGER_ARRAYS)
AUDIT_COLUMNS = tuple(name for name, _ in AUDIT_ARRAYS)

WRITE_TYPES = {
    "school_id": "bigint",
    "user_id": "bigint",
    "device_id": "bigint",
    "client_id": "uuid",
    "now": "timestamptz",
    "last_seq": "bigint",
    "app_version": "text",
    "role": "text",
    "request_id": "text",
    **dict(SESSION_ARRAYS + OBSERVATION_ARRAYS + CLOSE_ARRAYS + LEDGER_ARRAYS + AUDIT_ARRAYS),
}


def _unnest(columns: tuple[str, ...], alias: str) -> str:
    names = ", ".join(f"{{{c}}}" for c in columns)
    return f"unnest({names}) AS t({alias})"


@dataclass(frozen=True)
class WriteShape:
    sessions: bool  # sessions opened in this batch
    observations: bool
    closes: bool  # existing sessions closed by this batch
    audit: bool  # students written for (one audit row each)


@functools.lru_cache(maxsize=64)
def write(shape: WriteShape) -> Statement:
    """Every effect of a batch, its ledger rows and the client's last_seq."""
    parts: list[tuple[str, str]] = []
    if shape.sessions:
        parts.append(
            (
                "new_sessions",
                f"""    INSERT INTO data_session (id, school_id, student_id, staff_id, service_id, device_id,
                              client_id, opened_at, captured_offline, closed_at, review_status)
    SELECT t.id, {{school_id}}, t.student_id, {{user_id}}, t.service_id, {{device_id}},
           {{client_id}}, t.opened_at, t.offline, t.closed_at, t.review_status
      FROM {_unnest(SESSION_COLUMNS, "id, student_id, service_id, opened_at, offline, closed_at, review_status")}
    RETURNING 1""",
            )
        )
    if shape.observations:
        parts.append(
            (
                "observations",
                f"""    INSERT INTO observation (op_id, school_id, student_id, session_id, goal_id, user_id,
                             client_id, kind, outcome, prompt, delta, timer_id, value,
                             step_index, note, voids_op_id, state, device_time, recorded_at)
    SELECT t.op_id, {{school_id}}, t.student_id, t.session_id, t.goal_id, {{user_id}},
           {{client_id}}, t.kind, t.outcome, t.prompt, t.delta, t.timer_id, t.value,
           t.step_index, t.note, t.voids, t.state, t.device_time, t.recorded_at
      FROM {_unnest(OBSERVATION_COLUMNS, "op_id, student_id, session_id, goal_id, kind, outcome, prompt, delta, timer_id, value, step_index, note, voids, state, device_time, recorded_at")}
    RETURNING 1""",
            )
        )
    if shape.closes:
        parts.append(
            (
                "closes",
                f"""    UPDATE data_session d
       SET closed_at = t.at,
           review_status = CASE WHEN d.review_status = 'open' THEN 'pending'
                                ELSE d.review_status END
      FROM {_unnest(CLOSE_COLUMNS, "id, at")}
     WHERE d.id = t.id AND d.closed_at IS NULL AND d.review_status <> 'approved'
    RETURNING 1""",
            )
        )
    parts.append(
        (
            "ledger",
            f"""    INSERT INTO sync_op (client_id, seq, op_id, school_id, user_id, op_type, body_hash,
                         outcome, code, reason, device_time, recorded_at, received_at)
    SELECT {{client_id}}, t.seq, t.op_id, {{school_id}}, {{user_id}}, t.op_type, t.body_hash,
           t.outcome, t.code, t.reason, t.device_time, t.recorded_at, {{now}}
      FROM {_unnest(LEDGER_COLUMNS, "seq, op_id, op_type, body_hash, outcome, code, reason, device_time, recorded_at")}
    RETURNING 1""",
        )
    )
    if shape.audit:
        parts.append(
            (
                "audit",
                # The audit trail: one row per student written in this batch (same
                # statement, so no extra round trip; audit_log's triggers allow INSERT only).
                f"""    INSERT INTO audit_log (school_id, actor_id, actor_role, student_id, record_type,
                           record_id, action, request_id, detail)
    SELECT {{school_id}}, {{user_id}}, {{role}}, t.sid, 'observation', {{client_id}}::text,
           'sync_write', {{request_id}}, jsonb_build_object('ops', t.n)
      FROM {_unnest(AUDIT_COLUMNS, "sid, n")}
    RETURNING 1""",
            )
        )
    tail = """UPDATE sync_client SET last_seq = {last_seq}, last_sync_at = {now}, app_version = {app_version}
 WHERE client_id = {client_id}"""
    return _build(parts, tail, WRITE_TYPES)
