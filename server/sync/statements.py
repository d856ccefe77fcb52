"""The sync engine's two big statements, built from the parts a batch needs.

One statement reads everything a batch needs; one writes all its effects, and only if
what the read saw still holds (the gate, below). A batch rarely needs every part: a tally names no undo target, no timer,
no service, opens no session. PostgreSQL initialises every node of a plan on every
execution, even a branch whose filter is constant false, so a 1-op tally spent about
40 % of its prefetch in lookups it never used (bench/README.md, "Sync ingest").

So each statement is assembled from parts, keyed by a shape (which parts are present).
There are few shapes; each is built once (lru_cache), prepared once per connection by
asyncpg and planned once (generic plans: the sync pool's connections, server.db). Parameters are
named in the parts (`{op_ids}`) and numbered in order of first use, so a shape binds
only the values it reads. No value is ever formatted into the SQL text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from server.auth import sessions as auth


class _Params:
    """`{name}` in a part becomes `$n::type`, n numbered in order of first use, or, for
    a name in `derived`, that SQL expression (a value the statement reads itself)."""

    def __init__(self, types: dict[str, str], derived: dict[str, str] | None = None) -> None:
        self.types = types
        self.derived = derived or {}
        self.order: list[str] = []

    def __getitem__(self, name: str) -> str:
        if name in self.derived:
            return self.derived[name]
        if name not in self.order:
            self.order.append(name)
        return f"${self.order.index(name) + 1}::{self.types[name]}"


def _build(
    parts: list[tuple[str, str]],
    tail: str,
    types: dict[str, str],
    derived: dict[str, str] | None = None,
) -> Statement:
    params = _Params(types, derived)
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
    "seq_lo": "bigint",
    "seq_hi": "bigint",
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
    "session_hash": "bytea",
    "now": "timestamptz",
    "seen_after": "timestamptz",
    "high_seq": "bigint",
}


@dataclass(frozen=True)
class PrefetchShape:
    """Which lookups a batch needs."""

    seq_range: bool  # the batch's seqs are contiguous: read the ledger by range
    used: bool  # whether the batch's op ids were used by other ops (a retry only)
    undo: bool  # undo targets (and whether they were already undone)
    sessions: bool  # existing sessions named by ops
    timers: bool  # the starts of stopped timers
    goals: bool
    services: bool
    students: bool  # students named by session.open
    scope: bool  # (student, recorded time) pairs whose permission to check


_CLIENT = """    SELECT c.user_id, c.school_id, c.device_id, c.last_seq, d.revoked_at
      FROM sync_client c LEFT JOIN device d ON d.id = c.device_id
     WHERE c.client_id = {client_id}"""

# Facts the judging reads, as SQL expressions: the prefetch reads them, and the write's
# gate compares them with what a batch judged on known facts assumed (WriteShape.facts).
GOAL_STEPS = "jsonb_array_length(g.task_steps)"
GOAL_USABLE = "g.active AND i.status = 'active'"
IEP_START = "(SELECT min(i.start_date) FROM iep i WHERE i.student_id = {student})"

# The request's session, resolved here rather than by the middleware (one round trip
# fewer: sessions.DEFERRED_PATHS); the user's id, school and role are read from it.
_ME = f"""    SELECT {auth.SESSION_COLUMNS.replace(chr(10), chr(10) + "    ")}
      FROM {auth.SESSION_FROM.replace(chr(10), chr(10) + "    ")}
     WHERE s.id_hash = {{session_hash}}"""
_FROM_ME = {name: f"(SELECT {name} FROM me)" for name in ("user_id", "school_id", "role")}
# The session's columns in the result, prefixed: me_user_id, me_role, ...
ME_PREFIX = "me_"
_ME_COLUMNS = ", ".join(f"me.{name} AS {ME_PREFIX}{name}" for name in auth.SESSION_FIELDS)


# A sync keeps the client's high-water mark when one of its user's links ended since the
# client's previous sync (or its registration): see migrations/sync_removal.sql.
_LINK_ENDED_SINCE = """tandem_link_ended(c.user_id, c.school_id, coalesce(c.last_sync_at, c.created_at),
                             {now})"""


@functools.lru_cache(maxsize=1)
def client() -> Statement:
    """The session and the client row (a request with no ops): me_* (the session's
    SESSION_FIELDS), user_id, school_id, device_id, last_seq, revoked_at. Keeps the
    client's mark if a link of its user ended since its last sync (the client must be
    the session user's)."""
    mark = f"""    INSERT INTO sync_mark (client_id, at, high_seq)
    SELECT c.client_id, {{now}}, greatest(c.last_seq, coalesce({{high_seq}}, 0))
      FROM sync_client c JOIN me ON me.user_id = c.user_id AND me.school_id = c.school_id
     WHERE c.client_id = {{client_id}} AND {_LINK_ENDED_SINCE}
    ON CONFLICT DO NOTHING
    RETURNING client_id"""
    synced = """    UPDATE sync_client SET last_sync_at = {now}
     WHERE client_id IN (SELECT client_id FROM mark)
    RETURNING 1"""
    return _build(
        [("me", _ME), ("client", _CLIENT), ("mark", mark), ("synced", synced)],
        f"SELECT {_ME_COLUMNS}, client.*\n  FROM (SELECT) AS one"
        "\n  LEFT JOIN me ON true LEFT JOIN client ON true",
        PREFETCH_TYPES,
    )


@functools.lru_cache(maxsize=256)
def prefetch(shape: PrefetchShape) -> Statement:
    """Columns: the client row (user_id, school_id, device_id, last_seq, revoked_at;
    NULL if no such client), then arrays: seen, used, and for the parts present
    targets, voided, sessions, timers, goals, services, students, scope."""
    parts: list[tuple[str, str]] = [
        ("me", _ME),
        (
            "client",
            # Read, not locked: the write's gate checks that last_seq is unchanged.
            _CLIENT,
        ),
        (
            "seen",
            # Ledger rows of this batch's seqs: exactly its replays (rows exist up to
            # last_seq only). A batch's seqs are almost always contiguous: one range
            # probe, which finds nothing for a batch of new ops.
            """    SELECT seq, op_id, body_hash FROM sync_op
     WHERE client_id = {client_id} AND seq BETWEEN {seq_lo} AND {seq_hi}"""
            if shape.seq_range
            else """    SELECT seq, op_id, body_hash FROM sync_op
     WHERE client_id = {client_id} AND seq = ANY({seqs})""",
        ),
    ]
    out = ["ARRAY(SELECT row(seq, op_id, body_hash) FROM seen) AS seen"]
    if shape.used:
        # Op ids the ledger holds already. Only on a retry: the first attempt leaves it
        # to the unique indexes on op ids (an op id reused from another op is a client
        # bug, rare), whose violation rolls the batch back and brings the retry here.
        parts.append(
            (
                "used",
                """    SELECT op_id FROM sync_op
     WHERE op_id = ANY({op_ids}) AND code IS DISTINCT FROM 'op_id_conflict'""",
            )
        )
        out.append("ARRAY(SELECT op_id FROM used) AS used")
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
                # Not locked here: the write locks them and checks their state is still
                # what the ops were judged against.
                f"""    SELECT id, school_id, student_id, staff_id, service_id, review_status, closed_at
      FROM data_session
     WHERE id = ANY({{session_ids}}{also})""",
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
    # The goals the ops name, and every goal of the students whose sessions they name
    # or open: a device's next taps on another goal can then be judged on known facts
    # (service.Known) without a read of their own.
    whose = (["ARRAY(SELECT student_id FROM ses)"] if has_ses else []) + (
        ["{student_ids}"] if shape.students else []
    )
    if shape.goals or whose:
        which = (["g.id = ANY({goal_ids})"] if shape.goals else []) + (
            [f"g.student_id = ANY({' || '.join(whose)})"] if whose else []
        )
        parts.append(
            (
                "goals",
                f"""    SELECT g.id, g.student_id, g.measurement, g.rating_max,
           {GOAL_STEPS} AS steps, {GOAL_USABLE} AS usable
      FROM goal g JOIN iep i ON i.id = g.iep_id
     WHERE ({" OR ".join(which)}) AND g.school_id = {{school_id}}""",
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
                f"""    SELECT s.id, {IEP_START.format(student="s.id")} AS start
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
                "gone",
                # Students named that are out of scope now, when the batch arrived.
                """    SELECT DISTINCT p.sid FROM pairs p CROSS JOIN me
     WHERE p.sid IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM tandem_student_scope(me.user_id, me.school_id, me.role,
                                                          {now}) sc
                        WHERE sc.student_id = p.sid)""",
            )
        )
        parts.append(
            (
                "scope",
                # Permission at the time each op was recorded, through the one scope rule.
                # (The session's columns as plain references: a SQL function whose
                # arguments hold a subquery is not inlined.) If it has ended since: when,
                # whether the client was registered before, and the client's mark at its
                # first sync after (NULL if none yet). Fails closed: an end nobody can
                # date, or a missing mark although the client synced after the end, is
                # "not registered before" / "not the first sync", so forbidden.
                """    SELECT p.sid, p.at, e.ended,
           (SELECT e.known AND c.created_at < e.ended FROM sync_client c
             WHERE c.client_id = {client_id}) AS registered_before,
           (SELECT m.high_seq FROM sync_mark m
             WHERE m.client_id = {client_id} AND m.at >= e.ended
             ORDER BY m.at LIMIT 1) AS mark,
           (SELECT c.last_sync_at IS NULL OR c.last_sync_at < e.ended FROM sync_client c
             WHERE c.client_id = {client_id}) AS first_after
      FROM pairs p CROSS JOIN me
     CROSS JOIN LATERAL (
           SELECT CASE WHEN x.gone THEN coalesce(x.raw, {now}) END AS ended,
                  x.raw IS NOT NULL AS known
             FROM (SELECT p.sid IN (SELECT sid FROM gone) AS gone,
                          CASE WHEN p.sid IN (SELECT sid FROM gone)
                               THEN tandem_scope_ended(me.user_id, me.school_id, me.role,
                                                       p.sid, p.at)
                          END AS raw) x) e
     WHERE p.sid IS NOT NULL
       AND EXISTS (SELECT 1 FROM tandem_student_scope(me.user_id, me.school_id, me.role, p.at) sc
                    WHERE sc.student_id = p.sid)""",
            )
        )
        out.append(
            "ARRAY(SELECT row(sid, at, ended, registered_before, mark, first_after) FROM scope)"
            " AS scope"
        )
    columns = ",\n       ".join(out)
    tail = (
        f"SELECT {_ME_COLUMNS}, client.*,\n       {columns}"
        "\n  FROM (SELECT) AS one LEFT JOIN me ON true LEFT JOIN client ON true"
    )
    return _build(parts, tail, PREFETCH_TYPES, _FROM_ME)


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
    ("s_removed", "timestamptz[]"),
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
    ("o_removed", "boolean[]"),
)
CLOSE_ARRAYS = (("c_id", "uuid[]"), ("c_at", "timestamptz[]"), ("c_removed", "timestamptz[]"))
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
# The existing sessions the batch was judged against, as the prefetch read them.
READ_SESSION_ARRAYS = (("k_id", "uuid[]"), ("k_status", "text[]"), ("k_closed", "timestamptz[]"))
# Facts a batch judged without a prefetch assumed (service.Known): goals, IEP starts,
# and the (student, time) pairs it took to be in the user's scope.
KNOWN_GOAL_ARRAYS = (
    ("kg_id", "bigint[]"),
    ("kg_student", "bigint[]"),
    ("kg_measurement", "text[]"),
    ("kg_rating_max", "int[]"),
    ("kg_steps", "int[]"),
    ("kg_usable", "boolean[]"),
)
KNOWN_STUDENT_ARRAYS = (("ks_id", "bigint[]"), ("ks_start", "date[]"))
SCOPE_PAIR_ARRAYS = (("sc_student", "bigint[]"), ("sc_at", "timestamptz[]"))
# Existing sessions given ops recorded before and synced after a removal: the removal.
FLAG_ARRAYS = (("f_id", "uuid[]"), ("f_at", "timestamptz[]"))

SESSION_COLUMNS = tuple(name for name, _ in SESSION_ARRAYS)
OBSERVATION_COLUMNS = tuple(name for name, _ in OBSERVATION_ARRAYS)
CLOSE_COLUMNS = tuple(name for name, _ in CLOSE_ARRAYS)
LEDGER_COLUMNS = tuple(name for name, _ in LEDGER_ARRAYS)
AUDIT_COLUMNS = tuple(name for name, _ in AUDIT_ARRAYS)
READ_SESSION_COLUMNS = tuple(name for name, _ in READ_SESSION_ARRAYS)
KNOWN_GOAL_COLUMNS = tuple(name for name, _ in KNOWN_GOAL_ARRAYS)
KNOWN_STUDENT_COLUMNS = tuple(name for name, _ in KNOWN_STUDENT_ARRAYS)
SCOPE_PAIR_COLUMNS = tuple(name for name, _ in SCOPE_PAIR_ARRAYS)
FLAG_COLUMNS = tuple(name for name, _ in FLAG_ARRAYS)

WRITE_TYPES = {
    "school_id": "bigint",
    "user_id": "bigint",
    "device_id": "bigint",
    "client_id": "uuid",
    "now": "timestamptz",
    "last_seq": "bigint",
    "expected_seq": "bigint",
    "denied_detail": "jsonb",
    "session_hash": "bytea",
    "seen_after": "timestamptz",
    "app_version": "text",
    "role": "text",
    "request_id": "text",
    "high_seq": "bigint",
    **dict(
        SESSION_ARRAYS
        + OBSERVATION_ARRAYS
        + CLOSE_ARRAYS
        + LEDGER_ARRAYS
        + AUDIT_ARRAYS
        + READ_SESSION_ARRAYS
        + KNOWN_GOAL_ARRAYS
        + KNOWN_STUDENT_ARRAYS
        + SCOPE_PAIR_ARRAYS
        + FLAG_ARRAYS
    ),
}


# Columns whose value is usually the same in every row of a batch (a run of tallies:
# one student, session, goal, kind, delta). Such a column may be sent as a one-element
# array standing for every row (service._columns decides); encoding a value costs
# asyncpg and PostgreSQL about half a microsecond per element.
REPEATING = frozenset(
    {
        "o_student",
        "o_session",
        "o_goal",
        "o_kind",
        "o_outcome",
        "o_prompt",
        "o_delta",
        "o_timer",
        "o_value",
        "o_step",
        "o_note",
        "o_state",
        "o_removed",
        "l_type",
        "l_outcome",
        "l_code",
        "l_reason",
    }
)


def _unnest(columns: tuple[str, ...], alias: str) -> str:
    """Rows from one array per column, as `t(alias)`. A REPEATING column given as a
    one-element array stands for that value in every row; an empty array for NULL in
    every row (unnest pads shorter arrays with NULLs). The first column always has one
    element per row."""
    names = [a.strip() for a in alias.split(",")]
    assert len(names) == len(columns)
    assert columns[0] not in REPEATING
    arrays = ", ".join(f"{{{c}}}" for c in columns)
    if not REPEATING.intersection(columns):
        return f"unnest({arrays}) AS t({alias})"
    select = ", ".join(
        f"CASE WHEN cardinality({{{c}}}) = 1 THEN ({{{c}}})[1] ELSE u.{n} END AS {n}"
        if c in REPEATING
        else f"u.{n}"
        for c, n in zip(columns, names, strict=True)
    )
    return f"(SELECT {select} FROM unnest({arrays}) AS u({alias})) AS t"


@dataclass(frozen=True)
class WriteShape:
    sessions: bool  # sessions opened in this batch
    observations: bool
    closes: bool  # existing sessions closed (or reopened) by this batch
    audit: bool  # students written for (one audit row each)
    read_sessions: bool  # existing sessions the ops were judged against
    denied: bool  # ops refused as forbidden (one audit row)
    flags: bool = False  # existing sessions flagged: ops synced after a removal
    # Judged on known facts, without a prefetch: the gate also checks the session is
    # live, and the goals, IEP starts and scope the judging assumed.
    facts: bool = False


@functools.lru_cache(maxsize=64)
def write(shape: WriteShape) -> Statement:
    """Every effect of a batch, its ledger rows and the client's last_seq, written only
    if the gate holds; the statement's status is `UPDATE 1` if it wrote, `UPDATE 0` if
    not (nothing was written: the batch is judged again).

    The gate is what the batch was judged against: the client's last_seq (another
    request of the same client may have committed since the prefetch) and the review
    state of every existing session it names (a teacher may have approved one). Both
    are locked here, the client row first, then the sessions in id order, so a batch
    that passes holds them until it commits: a teacher approving meanwhile waits, and
    a second request of the same client waits, then finds last_seq moved. Everything
    else the judging read either cannot change (an observation, a session's student) or
    is guarded by a unique index (an op id, a session id, one undo per tap)."""
    parts: list[tuple[str, str]] = [
        (
            "gate",
            # The client's device not revoked meanwhile, too.
            """    SELECT client_id FROM sync_client c
     WHERE client_id = {client_id} AND last_seq = {expected_seq}
       AND NOT EXISTS (SELECT FROM device dv WHERE dv.id = c.device_id
                                               AND dv.revoked_at IS NOT NULL)
     FOR UPDATE""",
        )
    ]
    conditions = ["EXISTS (SELECT FROM gate)"]
    if shape.read_sessions:
        conditions.append("(SELECT count(*) FROM fresh) = cardinality({k_id})")
    # The session is still this user's and may still act (the one rule:
    # sessions.SESSION_LIVE): a logout or a revocation that committed after the read
    # stops the write too.
    conditions.append(
        f"""EXISTS (SELECT FROM {auth.SESSION_FROM.replace(chr(10), chr(10) + "                   ")}
                    WHERE s.id_hash = {{session_hash}} AND s.user_id = {{user_id}}
                      AND s.school_id = {{school_id}} AND s.role = {{role}}
                      AND {auth.SESSION_LIVE})"""
    )
    if shape.facts:
        conditions += [
            # The client is this user's.
            """EXISTS (SELECT FROM sync_client c WHERE c.client_id = {client_id}
                       AND c.user_id = {user_id} AND c.school_id = {school_id})""",
            # Each goal as assumed (the prefetch's expressions).
            f"""(SELECT count(*) FROM goal g JOIN iep i ON i.id = g.iep_id
              JOIN {_unnest(KNOWN_GOAL_COLUMNS, "id, student_id, measurement, rating_max, steps, usable")} ON t.id = g.id
             WHERE g.school_id = {{school_id}} AND g.student_id = t.student_id
               AND g.measurement = t.measurement
               AND g.rating_max IS NOT DISTINCT FROM t.rating_max
               AND {GOAL_STEPS} = t.steps AND ({GOAL_USABLE}) = t.usable)
           = cardinality({{kg_id}})""",
            # Each student's IEP start as assumed.
            f"""(SELECT count(*) FROM {_unnest(KNOWN_STUDENT_COLUMNS, "id, start")}
              JOIN student st ON st.id = t.id AND st.school_id = {{school_id}}
             WHERE {IEP_START.format(student="t.id")} IS NOT DISTINCT FROM t.start)
           = cardinality({{ks_id}})""",
            # Every (student, time) the judging took to be in scope is (the one rule).
            f"""NOT EXISTS (SELECT FROM {_unnest(SCOPE_PAIR_COLUMNS, "sid, at")}
                WHERE NOT EXISTS (SELECT FROM tandem_student_scope({{user_id}}, {{school_id}},
                                                                   {{role}}, t.at) sc
                                   WHERE sc.student_id = t.sid))""",
            # And every student is in scope now: an op after a removal is judged by its
            # seq (the prefetch), never on known facts.
            """(SELECT count(*) FROM tandem_student_scope({user_id}, {school_id}, {role}, {now}) sc
              WHERE sc.student_id = ANY({ks_id}))
           = cardinality({ks_id})""",
        ]
    if shape.read_sessions:
        parts.append(
            (
                "fresh",
                # Under READ COMMITTED a row lock that waited re-checks the conditions on
                # the row's newest version: a changed session drops out of the count.
                f"""    SELECT d.id FROM data_session d
      JOIN {_unnest(READ_SESSION_COLUMNS, "id, status, closed")} ON t.id = d.id
     WHERE EXISTS (SELECT FROM gate)
       AND d.review_status = t.status AND d.closed_at IS NOT DISTINCT FROM t.closed
     ORDER BY d.id
       FOR UPDATE OF d""",
            )
        )
    parts.append(("ok", "    SELECT " + "\n       AND ".join(conditions) + " AS ok"))
    if shape.sessions:
        parts.append(
            (
                "new_sessions",
                f"""    INSERT INTO data_session (id, school_id, student_id, staff_id, service_id, device_id,
                              client_id, opened_at, captured_offline, closed_at, review_status,
                              synced_after_removal)
    SELECT t.id, {{school_id}}, t.student_id, {{user_id}}, t.service_id, {{device_id}},
           {{client_id}}, t.opened_at, t.offline, t.closed_at, t.review_status, t.removed
      FROM {_unnest(SESSION_COLUMNS, "id, student_id, service_id, opened_at, offline, closed_at, review_status, removed")}
     WHERE (SELECT ok FROM ok)
    RETURNING 1""",
            )
        )
    if shape.observations:
        parts.append(
            (
                "observations",
                f"""    INSERT INTO observation (op_id, school_id, student_id, session_id, goal_id, user_id,
                             client_id, kind, outcome, prompt, delta, timer_id, value,
                             step_index, note, voids_op_id, state, device_time, recorded_at,
                             synced_after_removal)
    SELECT t.op_id, {{school_id}}, t.student_id, t.session_id, t.goal_id, {{user_id}},
           {{client_id}}, t.kind, t.outcome, t.prompt, t.delta, t.timer_id, t.value,
           t.step_index, t.note, t.voids, t.state, t.device_time, t.recorded_at,
           coalesce(t.removed, false)
      FROM {_unnest(OBSERVATION_COLUMNS, "op_id, student_id, session_id, goal_id, kind, outcome, prompt, delta, timer_id, value, step_index, note, voids, state, device_time, recorded_at, removed")}
     WHERE (SELECT ok FROM ok)
    RETURNING 1""",
            )
        )
    if shape.closes:
        parts.append(
            (
                "closes",
                # A session's final state after the batch: closed at t.at, or reopened
                # (t.at null: a pending session goes back to open). Closing keeps a
                # close already recorded unless this batch reopened it first.
                f"""    UPDATE data_session d
       SET closed_at = t.at,
           review_status = CASE WHEN t.at IS NULL THEN 'open'
                                WHEN d.review_status = 'open' THEN 'pending'
                                ELSE d.review_status END,
           synced_after_removal = greatest(d.synced_after_removal, t.removed)
      FROM {_unnest(CLOSE_COLUMNS, "id, at, removed")}
     WHERE d.id = t.id AND d.review_status <> 'approved'
       AND (d.closed_at IS NULL OR d.review_status = 'pending')
       AND (SELECT ok FROM ok)
    RETURNING 1""",
            )
        )
    if shape.flags:
        parts.append(
            (
                "flags",
                # (A session the batch also closes is flagged by "closes": one statement
                # may not update a row twice.)
                f"""    UPDATE data_session d
       SET synced_after_removal = greatest(d.synced_after_removal, t.at)
      FROM {_unnest(FLAG_COLUMNS, "id, at")}
     WHERE d.id = t.id AND (SELECT ok FROM ok)
    RETURNING 1""",
            )
        )
    parts.append(
        (
            "mark",
            # The client's mark, if one of the user's links ended since its last sync.
            f"""    INSERT INTO sync_mark (client_id, at, high_seq)
    SELECT c.client_id, {{now}}, {{high_seq}} FROM sync_client c
     WHERE c.client_id = {{client_id}} AND (SELECT ok FROM ok) AND {_LINK_ENDED_SINCE}
    ON CONFLICT DO NOTHING
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
     WHERE (SELECT ok FROM ok)
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
     WHERE (SELECT ok FROM ok)
    RETURNING 1""",
            )
        )
    if shape.denied:
        parts.append(
            (
                "denied",
                # Every refusal of permission, one row per batch.
                """    INSERT INTO audit_log (school_id, actor_id, actor_role, record_type, record_id,
                           action, request_id, detail)
    SELECT {school_id}, {user_id}, {role}, 'sync_op', {client_id}::text, 'denied',
           {request_id}, {denied_detail}
     WHERE (SELECT ok FROM ok)
    RETURNING 1""",
            )
        )
    tail = """UPDATE sync_client SET last_seq = {last_seq}, last_sync_at = {now}, app_version = {app_version}
 WHERE client_id = {client_id} AND (SELECT ok FROM ok)"""
    return _build(parts, tail, WRITE_TYPES)
