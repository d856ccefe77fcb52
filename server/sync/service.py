"""The sync engine: register clients, merge a batch of ops exactly once, pull changes.

A batch is merged in two statements. The first reads everything the batch needs: the
request's session (sessions.DEFERRED_PATHS), the client's row, the ledger entries of
its seqs (duplicates are recognised from the ledger, sync_op), sessions, goals,
permission at each op's recorded time. The new ops
are then judged in seq order, in Python. The second statement writes their effects,
the ledger rows and the client's last_seq together, and only if what the judging
relied on still holds (statements.write's gate: the client's last_seq and the sessions'
review state, locked); otherwise it writes nothing and the batch is judged again from
a fresh read. One statement is one transaction, so the batch commits whole or not at
all, in two round trips; a batch that carries messages runs in an explicit transaction
instead (they are written by the messages service, each in a savepoint). A device's
steady state skips the first statement: see "judging on known facts" below.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from server import db
from server.audit import service as audit
from server.auth.sessions import (
    LAST_SEEN_RESOLUTION,
    SESSION_FIELDS,
    CurrentUser,
    end_session,
    seen_after,
    session_is_live,
    session_user,
    touch_session,
)
from server.messages import service as messages
from server.messages.schemas import DraftSave, MessageSend
from server.sync import failpoints, statements
from server.sync.pull import pull
from server.sync.schemas import (
    MAX_OP_BYTES,
    OP_DATA,
    PROTOCOL,
    ClientOut,
    NoteAdd,
    OpIn,
    OpResult,
    RatingRecord,
    SessionOpen,
    SessionRef,
    SessionReopen,
    StepRecord,
    Stopped,
    SyncIn,
    SyncOut,
    TallyAdd,
    TimerStart,
    TimerStop,
    TrialRecord,
    Undo,
)

log = logging.getLogger("tandem.sync")

RECORDING_ROLES = ("admin", "teacher", "provider", "aide")
FUTURE_SLACK = timedelta(minutes=5)
OFFLINE_AFTER = timedelta(minutes=2)
MIN_YEAR, MAX_YEAR = 2000, 2099
OBSERVATION_KIND = {
    "trial.record": "trial",
    "tally.add": "tally",
    "timer.start": "timer_start",
    "timer.stop": "timer_stop",
    "rating.record": "rating",
    "step.record": "step",
    "note.add": "note",
    "undo": "undo",
}
MEASUREMENT_FOR = {
    "trial.record": "trials",
    "tally.add": "frequency",
    "timer.start": "duration",
    "rating.record": "rating",
    "step.record": "task_analysis",
}


class ClientForbidden(Exception):
    """The client id is unknown, another user's, or its device was revoked."""


class SessionEnded(Exception):
    """The request's session does not exist or may no longer act: log in again."""

    def __init__(self, *, exists: bool) -> None:
        super().__init__("Please log in.")
        self.exists = exists  # a row that is past its time (to be deleted)


class StaleBatch(Exception):
    """What the batch was judged against changed before its write: nothing was written;
    judge it again from a fresh read."""


class Rejected(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


# --- clients ---------------------------------------------------------------------------


async def register_client(
    user: CurrentUser,
    *,
    app_version: str,
    replaces: UUID | None,
    lost_ops: int,
    device_label: str | None = None,
) -> ClientOut:
    client_id = uuid.uuid4()
    async with db.transaction() as conn:
        if replaces is not None:
            owner = await conn.fetchval(
                "SELECT user_id FROM sync_client WHERE client_id = $1", replaces
            )
            if owner != user.id:
                raise ClientForbidden("The client to replace is not yours.")
        await conn.execute(
            """INSERT INTO sync_client (client_id, school_id, user_id, device_id, app_version)
               VALUES ($1, $2, $3, $4, $5)""",
            client_id,
            user.school_id,
            user.id,
            user.device_id,
            app_version,
        )
        if device_label and user.device_id is not None:
            await conn.execute(
                "UPDATE device SET label = $3 WHERE id = $1 AND user_id = $2",
                user.device_id,
                user.id,
                device_label,
            )
        if replaces is not None:
            await audit.record(
                user,
                action="client_replaced",
                record_type="sync_client",
                record_id=replaces,
                detail={"new_client_id": str(client_id), "lost_ops": lost_ops},
                conn=conn,
            )
    return ClientOut(client_id=client_id, last_seq=0)


# --- helpers ---------------------------------------------------------------------------


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 time with an offset, or None."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    return value.astimezone(UTC)


def canonical_data(op: OpIn) -> bytes:
    """The op's data as JSON with sorted keys: its size is the op's size."""
    return msgspec.json.encode(op.data, order="sorted")


def body_hash(op: OpIn, data: bytes | None = None) -> bytes:
    """sha256 of the JSON array [type, at, data, oversize] with sorted keys, built from
    the already-encoded data (byte for byte what encoding the whole array gives; the
    ledger keeps these hashes, so the bytes may never change)."""
    if data is None:
        data = canonical_data(op)
    encode = msgspec.json.encode
    canonical = b"".join(
        (b"[", encode(op.type), b",", encode(op.at), b",", data, b",", encode(op.oversize), b"]")
    )
    return hashlib.sha256(canonical).digest()


def _invalid_reason(exc: msgspec.ValidationError) -> str:
    return f"Invalid data: {exc}"


def _iep_floor(start: date) -> datetime:
    # A day of slack covers every school time zone.
    return datetime.combine(start, time.min, UTC) - timedelta(days=1)


@dataclass
class SessionState:
    id: UUID
    school_id: int
    student_id: int
    staff_id: int
    service_id: int | None
    review_status: str
    closed_at: datetime | None
    new: bool = False
    removed: datetime | None = None  # opened by an op synced after a removal


@dataclass
class GoalInfo:
    id: int
    student_id: int
    measurement: str
    rating_max: int | None
    steps: int
    usable: bool


@dataclass
class Judged:
    """A new op after judging: its ledger outcome and, if any, its effect."""

    op: OpIn
    hash: bytes
    outcome: str  # applied / rejected / correction
    code: str | None = None
    reason: str | None = None
    device_time: datetime | None = None
    recorded_at: datetime | None = None
    student_id: int | None = None
    # Recorded before, synced after the end of the user's link to the student (then).
    removed: datetime | None = None


def _captured_offline(b: Batch, session_id: UUID) -> bool:
    """Recorded offline: as the app said when it opened the session; for apps that do not
    say, inferred from how late the opening op arrived."""
    said = b.new_session_offline.get(session_id)
    if said is not None:
        return said
    return bool(b.now - b.new_session_times[session_id] > OFFLINE_AFTER)


@dataclass(frozen=True)
class Removal:
    """The user's permission for a student at an op's time has ended since."""

    ended: datetime
    registered_before: bool  # the client was registered before the end
    mark: int | None  # its high-water mark at its first sync after; None: this one
    # No sync of the client since the end: this batch is its first after (else a missing
    # mark means the end committed during a sync that wrote none: fail closed).
    first_after: bool = True


@dataclass
class Batch:
    """Everything prefetched for one batch, and what the judged ops will write."""

    client_id: UUID
    device_id: int | None
    now: datetime
    offset: timedelta
    careful: bool = False  # a retry: also look up which op ids the ledger holds
    # The request's user: resolved from its session by the prefetch statement.
    resolved: CurrentUser | None = None
    sessions: dict[UUID, SessionState] = field(default_factory=dict)
    # Existing sessions as read: (id, review_status, closed_at), for the write's gate.
    read_sessions: list[tuple[UUID, str, datetime | None]] = field(default_factory=list)
    goals: dict[int, GoalInfo] = field(default_factory=dict)
    services: dict[int, int] = field(default_factory=dict)  # service -> student
    students: dict[int, date | None] = field(default_factory=dict)  # student -> IEP start
    # (student, recorded time) in scope then -> None, or how that permission ended since.
    in_scope: dict[tuple[int, datetime], Removal | None] = field(default_factory=dict)
    # The highest seq the client had assigned when it sent this batch: what it reports,
    # but never below the seqs it sends or the server has (an older app reports none).
    high_mark: int = 0
    flagged: dict[UUID, datetime] = field(default_factory=dict)  # existing sessions
    observations: dict[UUID, tuple[int, UUID, int | None, str, int]] = field(default_factory=dict)
    voided: set[UUID] = field(default_factory=set)
    timer_goals: dict[UUID, int | None] = field(default_factory=dict)
    new_sessions: list[SessionState] = field(default_factory=list)
    new_session_times: dict[UUID, datetime] = field(default_factory=dict)
    # The opening op's own word on whether it was recorded offline (None: older apps).
    new_session_offline: dict[UUID, bool | None] = field(default_factory=dict)
    # Existing sessions closed or reopened by this batch: their final closed_at (None:
    # reopened), one entry per session so the write updates each row once.
    closes: dict[UUID, datetime | None] = field(default_factory=dict)
    obs_rows: list[tuple[Any, ...]] = field(default_factory=list)
    message_ops: list[tuple[Judged, DraftSave | MessageSend]] = field(default_factory=list)
    # Judging on known facts (no prefetch): scope is assumed, and every (student, time)
    # taken to be in scope is listed for the write's gate to check.
    assume_scope: bool = False
    scope_assumed: list[tuple[int, datetime]] = field(default_factory=list)
    last_seen_at: datetime | None = None  # the session's, as the prefetch left it

    @property
    def user(self) -> CurrentUser:
        if self.resolved is None:
            raise RuntimeError("the session is resolved by the prefetch")
        return self.resolved


# --- push ------------------------------------------------------------------------------


def _client_last_seq(client: Any, user: CurrentUser) -> int:
    """The client's last_seq, if the client is this user's and its device not revoked."""
    if (
        client is None
        or client["user_id"] != user.id
        or client["school_id"] != user.school_id
        or client["revoked_at"] is not None
    ):
        raise ClientForbidden(
            "This sync client is not registered to you, or its device was revoked."
        )
    return int(client["last_seq"])


async def _session(
    conn: asyncpg.Connection, row: Any, session_hash: bytes
) -> tuple[CurrentUser, datetime]:
    """The user of the request's session, from the me_* columns of the statement that
    read it (statements._ME: the middleware's lookup, in the same round trip), checked
    as the middleware checks (sessions.session_is_live); activity recorded likewise.
    Also when the session was last seen (a lower bound once recorded)."""
    me = {name: row[statements.ME_PREFIX + name] for name in SESSION_FIELDS}
    if me["user_id"] is None:
        raise SessionEnded(exists=False)
    now = datetime.now(UTC)
    if not session_is_live(me):
        raise SessionEnded(exists=True)
    last_seen = await touch_session(conn, me, session_hash, now)
    return session_user(me, session_hash), last_seen


async def sync(
    session_hash: bytes,
    req: SyncIn,
    *,
    request_id: str | None = None,
    careful: bool = False,
) -> SyncOut:
    """Merge the batch and pull, for the session whose token hashes to `session_hash`
    (sessions.DEFERRED_PATHS: the first statement resolves it). `careful` on a retry
    after a unique violation: the prefetch then also reads which of the batch's op ids
    the ledger already holds."""
    received = datetime.now(UTC)
    sent_at = parse_time(req.sent_at)
    offset = timedelta(0) if sent_at is None else received - sent_at
    results: list[OpResult] = []
    stopped: Stopped | None = None
    async with db.sync_connection() as conn:
        failpoints.fail(
            "sync.connection_state",
            str(req.client_id),
            asyncpg.InternalClientError(
                "cannot switch to state 15; another operation (2) is in progress"
            ),
        )
        try:
            if req.ops:
                results, stopped, last_seq, user = await _merge(
                    conn,
                    session_hash,
                    req,
                    now=received,
                    offset=offset,
                    sent_at_valid=sent_at is not None,
                    request_id=request_id,
                    careful=careful,
                )
            else:
                only_client = statements.client()
                row = await conn.fetchrow(
                    only_client.sql,
                    *only_client.args(
                        {
                            "client_id": req.client_id,
                            "session_hash": session_hash,
                            "now": received,
                            "seen_after": seen_after(received),
                            "high_seq": req.high_seq,
                        }
                    ),
                )
                user, _ = await _session(conn, row, session_hash)
                last_seq = _client_last_seq(row, user)
        except SessionEnded as exc:
            if exc.exists:  # outside any transaction of the batch: the delete stays
                await end_session(conn, session_hash)
            raise
    await failpoints.hit("sync.after_commit", str(req.client_id))
    changes, cursor, has_more = (None, req.cursor, False)
    if req.pull:
        changes, cursor, has_more = await pull(user, req.cursor, request_id=request_id)
    return SyncOut(
        protocol=PROTOCOL,
        server_time=datetime.now(UTC),
        last_seq=last_seq,
        results=results,
        stopped=stopped,
        changes=changes,
        cursor=cursor,
        has_more=has_more,
    )


async def _merge(
    conn: asyncpg.Connection,
    session_hash: bytes,
    req: SyncIn,
    *,
    now: datetime,
    offset: timedelta,
    sent_at_valid: bool,
    request_id: str | None,
    careful: bool,
) -> tuple[list[OpResult], Stopped | None, int, CurrentUser]:
    ops = sorted(req.ops, key=lambda o: o.seq)
    high_mark = max(req.high_seq or 0, ops[-1].seq)
    batch = Batch(
        client_id=req.client_id,
        device_id=None,
        now=now,
        offset=offset,
        careful=careful,
        high_mark=high_mark,
    )
    # One statement reads the session, the client row, the ledger entries of the
    # batch's seqs and everything the ops need. Until it has run, last_seq is unknown,
    # so every op is decoded as if new; replays (rare: a retry after a lost response)
    # only add lookups.
    decoded = _decode_all(batch, ops, sent_at_valid=sent_at_valid)
    key = str(req.client_id)
    # Messages are written by the messages service in savepoints: an explicit
    # transaction. So is a batch a test holds before its commit (failpoints); the
    # write statement is the same.
    explicit = any(isinstance(d, (DraftSave, MessageSend)) for _, d in decoded)
    held = failpoints.armed("sync.before_commit", key) is not None
    known = None if explicit or held or careful else _known_for(session_hash, req.client_id)
    if known is not None and _judgeable_on(known, decoded, now):
        fast = await _judge_and_write_known(
            conn, batch, known, session_hash, req, decoded, request_id=request_id
        )
        if fast is not None:
            return (*fast, batch.user)
        # Something it assumed changed: nothing was written. From the start, reading.
        _forget(session_hash, req.client_id)
        batch = Batch(
            client_id=req.client_id,
            device_id=None,
            now=now,
            offset=offset,
            careful=careful,
            high_mark=high_mark,
        )
        decoded = _decode_all(batch, ops, sent_at_valid=sent_at_valid)
    if explicit or held:
        async with conn.transaction():
            merged = await _judge_and_write(
                conn, batch, session_hash, req, decoded, request_id=request_id
            )
            await failpoints.hit("sync.before_commit", key)
        return (*merged, batch.user)
    merged = await _judge_and_write(conn, batch, session_hash, req, decoded, request_id=request_id)
    return (*merged, batch.user)


async def _judge_and_write(
    conn: asyncpg.Connection,
    batch: Batch,
    session_hash: bytes,
    req: SyncIn,
    decoded: list[tuple[Judged, Any]],
    *,
    request_id: str | None,
) -> tuple[list[OpResult], Stopped | None, int]:
    prefetched = await _prefetch(conn, batch, decoded, session_hash)
    user, batch.last_seen_at = await _session(conn, prefetched.row, session_hash)
    batch.resolved = user
    last_seq = _client_last_seq(prefetched.client, user)
    batch.high_mark = max(batch.high_mark, last_seq)
    batch.device_id = prefetched.client["device_id"]
    ledger = prefetched.ledger

    # Split: replays of processed seqs, and the contiguous run of new ones.
    results: dict[int, OpResult] = {}
    order: list[int] = []
    new_ops: list[tuple[Judged, Any]] = []
    stopped: Stopped | None = None
    expected = last_seq + 1
    for j, data in decoded:
        op = j.op
        if op.seq < expected:
            if op.seq in results and op.seq not in ledger:
                # The same seq twice in one batch: judge the copy against the first.
                first = next(n for n, _ in new_ops if n.op.seq == op.seq)
                ledger_entry = (first.op.op_id, first.hash)
            else:
                ledger_entry = ledger.get(op.seq, (op.op_id, b""))
            results.setdefault(op.seq, _replay(op, ledger_entry))
            if op.seq not in order:
                order.append(op.seq)
            continue
        if op.seq > expected:
            stopped = Stopped(
                code="gap",
                expected_seq=expected,
                reason=f"Op {op.seq} arrived but {expected} is the next the server expects; "
                f"resend from {expected}.",
            )
            break
        new_ops.append((j, data))
        order.append(op.seq)
        results[op.seq] = OpResult(seq=op.seq, op_id=op.op_id, status="applied")
        expected += 1

    if new_ops:
        judged = _judge_new(batch, new_ops, prefetched.used)
        expected_seq, last_seq = last_seq, new_ops[-1][0].op.seq
        if not await _write(
            conn,
            batch,
            judged,
            session_hash=session_hash,
            expected_seq=expected_seq,
            last_seq=last_seq,
            app_version=req.app_version,
            request_id=request_id,
        ):
            raise StaleBatch(f"client {batch.client_id}: judged against a state that changed")
        for j in judged:
            results[j.op.seq] = _result(j)
    _remember(session_hash, batch, last_seq)
    return [results[s] for s in order], stopped, last_seq


def _result(j: Judged) -> OpResult:
    return OpResult(
        seq=j.op.seq,
        op_id=j.op.op_id,
        status=j.outcome,  # type: ignore[arg-type]
        code=j.code,
        reason=j.reason,
    )


# --- a device's steady state: judging on known facts -----------------------------------
#
# Most batches of a device come seconds after its previous one, name the same session
# and goals, and hold taps only. For those the prefetch would read what the previous
# one read. So the facts a batch was judged on (the user, the client's last_seq, the
# sessions as the write left them, the goals, the IEP starts) are kept per process, and
# the next batch of that client is judged on them by the same code, with its scope at
# each op's time assumed; then written at once. The write's gate checks every one of
# those facts, and the scope of every (student, time) assumed, that every student is
# still in scope now (an op after a removal is judged by its seq, which needs the read:
# docs/security.md), and the session's
# liveness (statements.write, WriteShape.facts): if anything differs it writes nothing
# and the batch goes the ordinary way (prefetch, judge, write). One round trip instead
# of two, and no judging rule is written twice.

KNOWN_TYPES = frozenset(
    {"trial.record", "tally.add", "rating.record", "step.record", "note.add", "timer.start"}
)
KNOWN_CLIENTS = 4096  # per process, least recently used dropped first


@dataclass(frozen=True)
class Known:
    user: CurrentUser
    device_id: int | None
    last_seq: int
    last_seen_at: datetime
    sessions: dict[UUID, SessionState]  # as the database holds them after the last write
    goals: dict[int, GoalInfo]
    students: dict[int, date | None]


_known: OrderedDict[tuple[bytes, UUID], Known] = OrderedDict()


def _known_for(session_hash: bytes, client_id: UUID) -> Known | None:
    key = (session_hash, client_id)
    known = _known.get(key)
    if known is not None:
        _known.move_to_end(key)
    return known


def _forget(session_hash: bytes, client_id: UUID) -> None:
    _known.pop((session_hash, client_id), None)


def _remember(session_hash: bytes, b: Batch, last_seq: int) -> None:
    if b.resolved is None or b.last_seen_at is None or b.message_ops:
        return
    key = (session_hash, b.client_id)
    prev = _known.get(key)
    sessions = {sid: dataclasses.replace(st, new=False) for sid, st in b.sessions.items()}
    goals, students = dict(b.goals), dict(b.students)
    if prev is not None and prev.user == b.resolved:
        # What this batch read is newer; what it did not read stays known (every fact
        # is checked again when used). The newest few hundred of each are kept.
        sessions = _newest({**prev.sessions, **sessions})
        goals = _newest({**prev.goals, **goals})
        students = _newest({**prev.students, **students})
    _known[key] = Known(
        user=b.resolved,
        device_id=b.device_id,
        last_seq=last_seq,
        last_seen_at=b.last_seen_at,
        sessions=sessions,
        goals=goals,
        students=students,
    )
    _known.move_to_end(key)
    while len(_known) > KNOWN_CLIENTS:
        _known.popitem(last=False)


def _newest(facts: dict[Any, Any], keep: int = 256) -> dict[Any, Any]:
    return facts if len(facts) <= keep else dict(list(facts.items())[-keep:])


def _judgeable_on(known: Known, decoded: list[tuple[Judged, Any]], now: datetime) -> bool:
    """Whether every op of the batch can be judged on `known` alone: new (no replays,
    no gap), of a kind that reads only sessions, goals, IEP starts and scope, naming
    known ones; and no record of activity due on the session."""
    if known.user.role not in RECORDING_ROLES:
        return False
    if now - known.last_seen_at >= LAST_SEEN_RESOLUTION:
        return False
    expected = known.last_seq + 1
    for j, data in decoded:
        if j.op.seq != expected:
            return False
        expected += 1
        if data is None:
            continue  # refused at decoding: judged without any fact
        if j.op.type not in KNOWN_TYPES:
            return False
        st = known.sessions.get(data.session_id)
        if st is None or st.student_id not in known.students:
            return False
        goal_id = getattr(data, "goal_id", None)
        if goal_id is not None and goal_id not in known.goals:
            return False
    return True


async def _judge_and_write_known(
    conn: asyncpg.Connection,
    b: Batch,
    known: Known,
    session_hash: bytes,
    req: SyncIn,
    decoded: list[tuple[Judged, Any]],
    *,
    request_id: str | None,
) -> tuple[list[OpResult], Stopped | None, int] | None:
    """The batch judged on `known` and written in one statement, or None if the write's
    gate found a fact changed (nothing written)."""
    b.resolved = known.user
    b.device_id = known.device_id
    b.last_seen_at = known.last_seen_at
    b.assume_scope = True
    named = {d.session_id for _, d in decoded if d is not None}
    # Copies of the sessions it names (judging may change its own); the goals and
    # students are only read.
    b.sessions = {sid: dataclasses.replace(known.sessions[sid]) for sid in named}
    b.goals = known.goals
    b.students = known.students
    b.read_sessions = [(sid, st.review_status, st.closed_at) for sid, st in b.sessions.items()]
    judged = _judge_new(b, decoded, set())
    last_seq = decoded[-1][0].op.seq
    goal_ids = {g for _, d in decoded if (g := getattr(d, "goal_id", None)) is not None}
    facts = {
        **_columns(
            statements.KNOWN_GOAL_COLUMNS,
            [
                (g.id, g.student_id, g.measurement, g.rating_max, g.steps, g.usable)
                for gid, g in b.goals.items()
                if gid in goal_ids
            ],
        ),
        **_columns(
            statements.KNOWN_STUDENT_COLUMNS,
            sorted({(st.student_id, known.students[st.student_id]) for st in b.sessions.values()}),
        ),
        **_columns(statements.SCOPE_PAIR_COLUMNS, sorted(set(b.scope_assumed))),
    }
    if not await _write(
        conn,
        b,
        judged,
        session_hash=session_hash,
        expected_seq=known.last_seq,
        last_seq=last_seq,
        app_version=req.app_version,
        request_id=request_id,
        facts=facts,
    ):
        return None
    # These ops change no session, goal or student: what was known still is.
    key = (session_hash, b.client_id)
    if _known.get(key) is known:
        _known[key] = dataclasses.replace(known, last_seq=last_seq)
    return [_result(j) for j in judged], None, last_seq


def _replay(op: OpIn, entry: tuple[UUID, bytes]) -> OpResult:
    op_id, stored_hash = entry
    if op_id != op.op_id:
        return OpResult(
            seq=op.seq,
            op_id=op.op_id,
            status="rejected",
            code="seq_conflict",
            reason=f"Sequence number {op.seq} was already used by another op; nothing changed.",
        )
    if stored_hash and stored_hash != body_hash(op):
        return OpResult(
            seq=op.seq,
            op_id=op.op_id,
            status="rejected",
            code="op_id_conflict",
            reason="This op id was already processed with a different body; nothing changed.",
        )
    return OpResult(seq=op.seq, op_id=op.op_id, status="duplicate")


def _decode_all(b: Batch, ops: list[OpIn], *, sent_at_valid: bool) -> list[tuple[Judged, Any]]:
    """Every op decoded, sized and timed: (judged so far, data struct or None)."""
    out: list[tuple[Judged, Any]] = []
    for op in ops:
        data_json = canonical_data(op)
        j = Judged(op=op, hash=body_hash(op, data_json), outcome="applied")
        out.append((j, _decode(j, b, sent_at_valid, size=len(data_json))))
    return out


@dataclass
class Prefetched:
    row: Any  # the whole row: the session's me_* columns among others
    client: Any  # the client's row (user, school, device, last_seq, revoked_at) or None
    ledger: dict[int, tuple[UUID, bytes]]  # seq -> (op_id, body hash) of replays
    used: set[UUID]  # op ids of the batch already in the ledger


async def _prefetch(
    conn: asyncpg.Connection, b: Batch, decoded: list[tuple[Judged, Any]], session_hash: bytes
) -> Prefetched:
    """Gather every id the ops name, and for each op the (session | student | undo
    target, recorded time) whose permission to check; read it all in one statement."""
    session_ids: set[UUID] = set()
    goal_ids: set[int] = set()
    service_ids: set[int] = set()
    student_ids: set[int] = set()
    targets: set[UUID] = set()
    timer_ids: set[UUID] = set()
    opened: dict[UUID, int] = {}  # sessions opened in this batch -> student
    op_sessions: dict[UUID, UUID] = {}  # ops of this batch -> their session
    p_sess: list[UUID | None] = []
    p_stu: list[int | None] = []
    p_target: list[UUID | None] = []
    p_at: list[datetime] = []
    for j, data in decoded:
        if data is None:
            continue
        op = j.op
        sess: UUID | None = getattr(data, "session_id", None)
        stu: int | None = None
        target: UUID | None = None
        if isinstance(data, SessionOpen):
            student_ids.add(data.student_id)
            opened.setdefault(data.session_id, data.student_id)
            # Read too, if it exists: opened again (a re-sent op under a new id) or an
            # id already taken is then judged, not left to the primary key.
            session_ids.add(data.session_id)
            stu, sess = data.student_id, None
            if data.service_id is not None:
                service_ids.add(data.service_id)
        elif isinstance(data, Undo):
            targets.add(data.target_op_id)
            target = data.target_op_id
            sess = op_sessions.get(target)
        elif isinstance(data, TimerStop):
            timer_ids.add(data.timer_id)
        if sess is not None:
            session_ids.add(sess)
            op_sessions[op.op_id] = sess
            stu = opened.get(sess)
        gid = getattr(data, "goal_id", None)
        if isinstance(gid, int):
            goal_ids.add(gid)
        if j.recorded_at is not None:  # permission to check (recording roles only)
            p_sess.append(sess)
            p_stu.append(stu)
            p_target.append(target)
            p_at.append(j.recorded_at)

    seqs = sorted({j.op.seq for j, _ in decoded})
    seq_range = seqs[-1] - seqs[0] + 1 == len(seqs)
    statement = statements.prefetch(
        statements.PrefetchShape(
            seq_range=seq_range,
            used=b.careful,
            undo=bool(targets),
            sessions=bool(session_ids),
            timers=bool(timer_ids),
            goals=bool(goal_ids),
            services=bool(service_ids),
            students=bool(student_ids),
            scope=bool(p_at),
        )
    )
    row = await conn.fetchrow(
        statement.sql,
        *statement.args(
            {
                "session_hash": session_hash,
                "now": b.now,
                "seen_after": seen_after(b.now),
                "client_id": b.client_id,
                "seqs": seqs,
                "seq_lo": seqs[0],
                "seq_hi": seqs[-1],
                "op_ids": [j.op.op_id for j, _ in decoded],
                "targets": list(targets),
                "session_ids": list(session_ids),
                "timer_ids": list(timer_ids),
                "goal_ids": list(goal_ids),
                "service_ids": list(service_ids),
                "student_ids": list(student_ids),
                "p_sess": p_sess,
                "p_stu": p_stu,
                "p_target": p_target,
                "p_at": p_at,
            }
        ),
    )
    assert row is not None
    for op_id, student_id, session_id, goal_id, kind, owner in row.get("targets") or ():
        b.observations[op_id] = (student_id, session_id, goal_id, kind, owner)
    b.voided = set(row.get("voided") or ())
    for sid, school_id, student_id, staff_id, service_id, review_status, closed_at in (
        row.get("sessions") or ()
    ):
        b.read_sessions.append((sid, review_status, closed_at))
        b.sessions[sid] = SessionState(
            id=sid,
            school_id=school_id,
            student_id=student_id,
            staff_id=staff_id,
            service_id=service_id,
            review_status=review_status,
            closed_at=closed_at,
        )
    for timer_id, goal_id in row.get("timers") or ():
        b.timer_goals[timer_id] = goal_id
    for gid, student_id, measurement, rating_max, steps, usable in row.get("goals") or ():
        b.goals[gid] = GoalInfo(
            id=gid,
            student_id=student_id,
            measurement=measurement,
            rating_max=rating_max,
            steps=steps,
            usable=usable,
        )
    for service_id, student_id in row.get("services") or ():
        b.services[service_id] = student_id
    for student_id, start in row.get("students") or ():
        b.students[student_id] = start
    b.in_scope = {
        (sid, at): None if ended is None else Removal(ended, bool(before), mark, bool(first))
        for sid, at, ended, before, mark, first in row.get("scope") or ()
    }
    return Prefetched(
        row=row,
        client=None if row["user_id"] is None else row,
        ledger={int(seq): (op_id, bytes(h)) for seq, op_id, h in row["seen"] or ()},
        used=set(row.get("used") or ()),
    )


def _judge_new(b: Batch, new_ops: list[tuple[Judged, Any]], used_ids: set[UUID]) -> list[Judged]:
    """Judge the new ops in seq order against the batch's evolving state."""
    out: list[Judged] = []
    for j, data in new_ops:
        if j.op.op_id in used_ids:
            # Whatever else is wrong with it (a refusal at decoding too): its ledger row
            # must not claim the op id another op holds.
            _reject(j, "op_id_conflict", "This op id was already used by another op.")
        if j.outcome == "applied" and data is not None:
            try:
                _judge(b, j, data)
            except Rejected as exc:
                _reject(j, exc.code, exc.reason)
        used_ids.add(j.op.op_id)
        out.append(j)
    return out


def _reject(j: Judged, code: str, reason: str) -> None:
    j.outcome, j.code, j.reason = "rejected", code, reason


def _decode(j: Judged, b: Batch, sent_at_valid: bool, *, size: int) -> Any:
    """Op data as its struct, with times set; None (and j rejected) if it cannot apply.
    `size` is the length of the data's JSON."""
    op = j.op
    size = op.oversize if op.oversize is not None else size
    if op.oversize is not None or size > MAX_OP_BYTES:
        _reject(
            j, "op_too_large", f"This op is {size} bytes; one op may be at most {MAX_OP_BYTES}."
        )
        return None
    kind = OP_DATA.get(op.type)
    if kind is None:
        _reject(j, "unknown_type", f"Unknown op type {op.type[:40]!r} for protocol 1.")
        return None
    try:
        data = msgspec.convert(op.data, kind)
    except msgspec.ValidationError as exc:
        _reject(j, "invalid", _invalid_reason(exc))
        return None
    device_time = parse_time(op.at)
    if device_time is None or not sent_at_valid:
        _reject(
            j, "invalid", "Invalid data: `at` and `sent_at` must be RFC 3339 times with an offset."
        )
        return None
    try:
        recorded = device_time + b.offset
    except OverflowError:
        recorded = device_time.replace(year=1)
    j.device_time, j.recorded_at = device_time, recorded
    if not (MIN_YEAR <= device_time.year <= MAX_YEAR and MIN_YEAR <= recorded.year <= MAX_YEAR):
        _reject(j, "time_invalid", f"The time {op.at[:40]} is outside {MIN_YEAR}–{MAX_YEAR}.")
        return None
    if recorded > b.now + FUTURE_SLACK:
        _reject(
            j,
            "time_in_future",
            "This op's time is in the future, even after correcting the device clock.",
        )
        return None
    return data


FORBIDDEN = "No such student, or you may not record for them at that time."
AFTER_REMOVAL = (
    "Recorded before your work with this student ended, synced after: "
    "kept and flagged for the teacher's review."
)


def _check_student(b: Batch, j: Judged, student_id: int) -> None:
    assert j.recorded_at is not None
    if b.user.role not in RECORDING_ROLES:
        raise Rejected("forbidden", FORBIDDEN)
    if b.assume_scope:
        b.scope_assumed.append((student_id, j.recorded_at))
    else:
        key = (student_id, j.recorded_at)
        if key not in b.in_scope:
            raise Rejected("forbidden", FORBIDDEN)
        removal = b.in_scope[key]
        if removal is not None:
            # Recorded before the removal only if the client existed then and had
            # assigned this seq by its first sync after it (docs/security.md).
            if removal.mark is None and not removal.first_after:
                raise Rejected("forbidden", FORBIDDEN)
            mark = b.high_mark if removal.mark is None else removal.mark
            if not removal.registered_before or j.op.seq > mark:
                raise Rejected("forbidden", FORBIDDEN)
            j.removed = removal.ended
            j.code, j.reason = "after_removal", AFTER_REMOVAL
    start = b.students.get(student_id)
    if start is None or j.recorded_at < _iep_floor(start):
        raise Rejected("time_before_iep", "This op's time is before the student's IEP started.")


def _session_for(b: Batch, session_id: UUID) -> SessionState:
    s = b.sessions.get(session_id)
    if s is None or s.school_id != b.user.school_id or s.staff_id != b.user.id:
        raise Rejected("unknown_session", "No such session of yours; open it first.")
    return s


def _goal_for(b: Batch, s: SessionState, goal_id: int, op_type: str) -> GoalInfo:
    g = b.goals.get(goal_id)
    if g is None or g.student_id != s.student_id or not g.usable:
        raise Rejected("goal_mismatch", "That goal is not an active goal of this student.")
    wanted = MEASUREMENT_FOR.get(op_type)
    if wanted is not None and g.measurement != wanted:
        raise Rejected(
            "goal_mismatch", f"That goal is measured as {g.measurement}, not with {op_type}."
        )
    return g


def _judge(b: Batch, j: Judged, data: Any) -> None:
    user = b.user
    if isinstance(data, (DraftSave, MessageSend)):
        b.message_ops.append((j, data))
        return
    if isinstance(data, SessionOpen):
        _check_student(b, j, data.student_id)
        assert j.recorded_at is not None
        if data.service_id is not None and b.services.get(data.service_id) != data.student_id:
            raise Rejected("service_mismatch", "That service does not belong to this student.")
        existing = b.sessions.get(data.session_id)
        if existing is not None:
            if existing.staff_id != user.id or existing.student_id != data.student_id:
                raise Rejected("session_conflict", "That session id already names another session.")
            return  # opened again by a re-sent op: nothing to change
        s = SessionState(
            id=data.session_id,
            school_id=user.school_id,
            student_id=data.student_id,
            staff_id=user.id,
            service_id=data.service_id,
            review_status="open",
            closed_at=None,
            new=True,
            removed=j.removed,
        )
        b.sessions[s.id] = s
        b.new_sessions.append(s)
        b.new_session_times[s.id] = j.recorded_at
        b.new_session_offline[s.id] = j.op.offline
        j.student_id = s.student_id
        return
    if isinstance(data, Undo):
        target = b.observations.get(data.target_op_id)
        if target is None or target[4] != user.id or target[3] == "undo":
            raise Rejected("undo_target", "Nothing of yours to undo with that op id.")
        if data.target_op_id in b.voided:
            raise Rejected("undo_target", "That op was already undone.")
        s = _session_for(b, target[1])
        _check_student(b, j, s.student_id)
        _flag(b, j, s)
        b.voided.add(data.target_op_id)
        _observe(b, j, s, goal_id=target[2], voids=data.target_op_id)
        return
    s = _session_for(b, data.session_id)
    _check_student(b, j, s.student_id)
    _flag(b, j, s)
    if isinstance(data, SessionRef):  # session.close
        j.student_id = s.student_id
        if s.review_status == "approved":
            j.outcome, j.code = "correction", "approved"
            j.reason = "The session was already approved; the close is kept for review."
            return
        assert j.recorded_at is not None
        if s.closed_at is None:
            s.closed_at = j.recorded_at
            s.review_status = "pending" if s.review_status == "open" else s.review_status
            if not s.new:  # a session opened in this batch is inserted closed
                b.closes[s.id] = j.recorded_at
        return
    if isinstance(data, SessionReopen):
        j.student_id = s.student_id
        if s.review_status == "approved":
            j.outcome, j.code = "correction", "approved"
            j.reason = "The session was already approved; the reopen is kept for review."
            return
        if s.review_status == "rejected":
            raise Rejected("session_reviewed", "The teacher already reviewed this session.")
        if j.removed is not None and not s.new:
            # Synced after the user's removal: the session stays in the teacher's queue
            # with its flag (reopened, it would leave review for good: the user can no
            # longer close it). Kept in the ledger for review, no effect.
            j.outcome, j.code = "correction", "after_removal"
            j.reason = AFTER_REMOVAL + " The session stays in the teacher's review queue."
            return
        if s.closed_at is not None:  # pending: back to open, out of the review queue
            s.closed_at = None
            s.review_status = "open"
            if not s.new:
                b.closes[s.id] = None
        return
    if isinstance(data, (TrialRecord, TallyAdd, RatingRecord, StepRecord)):
        g = _goal_for(b, s, data.goal_id, j.op.type)
        if isinstance(data, RatingRecord) and data.value > (g.rating_max or 10):
            raise Rejected(
                "value_out_of_range", f"A rating for this goal is 0–{g.rating_max or 10}."
            )
        if isinstance(data, StepRecord) and data.step_index >= g.steps:
            raise Rejected(
                "value_out_of_range", f"This task has {g.steps} steps (0–{g.steps - 1})."
            )
        _observe(b, j, s, goal_id=g.id, data=data)
        return
    if isinstance(data, TimerStart):
        goal_id = None
        if data.goal_id is not None:
            goal_id = _goal_for(b, s, data.goal_id, j.op.type).id
        b.timer_goals.setdefault(data.timer_id, goal_id)
        _observe(b, j, s, goal_id=goal_id, data=data)
        return
    if isinstance(data, TimerStop):
        _observe(b, j, s, goal_id=b.timer_goals.get(data.timer_id), data=data)
        return
    if isinstance(data, NoteAdd):
        _observe(b, j, s, goal_id=None, data=data)
        return
    raise Rejected("unknown_type", f"Unknown op type {j.op.type!r}.")  # pragma: no cover


def _flag(b: Batch, j: Judged, s: SessionState) -> None:
    """An op synced after a removal flags its session for review."""
    if j.removed is None:
        return
    if s.new:
        s.removed = max(s.removed or j.removed, j.removed)
    else:
        b.flagged[s.id] = max(b.flagged.get(s.id, j.removed), j.removed)


def _observe(
    b: Batch,
    j: Judged,
    s: SessionState,
    *,
    goal_id: int | None,
    data: Any = None,
    voids: UUID | None = None,
) -> None:
    assert j.recorded_at is not None
    assert j.device_time is not None
    state = "applied"
    if s.review_status == "approved":
        state = "proposed"
        j.outcome, j.code = "correction", "approved"
        j.reason = "The session was already approved; this is kept as a correction for review."
    kind = OBSERVATION_KIND[j.op.type]
    j.student_id = s.student_id
    b.obs_rows.append(
        (
            j.op.op_id,
            s.student_id,
            s.id,
            goal_id,
            kind,
            getattr(data, "outcome", None),
            getattr(data, "prompt", None),
            getattr(data, "delta", None),
            getattr(data, "timer_id", None),
            getattr(data, "value", None),
            getattr(data, "step_index", None),
            getattr(data, "text", None),
            voids,
            state,
            j.device_time,
            j.recorded_at,
            True if j.removed is not None else None,
        )
    )
    b.observations[j.op.op_id] = (s.student_id, s.id, goal_id, kind, b.user.id)


def _columns(names: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> dict[str, Sequence[Any]]:
    """Rows turned into one array per column for `unnest(...)`, by column name. A column
    that is NULL in every row is sent as an empty array, and a REPEATING column with
    one value in every row as that one value (statements._unnest): asyncpg's array
    encoder costs about a microsecond per element, and a batch of tallies has nine
    all-NULL columns and seven repeating ones. The first column of every caller is
    never NULL, so the row count is kept."""
    if not rows:
        return {name: () for name in names}
    cols = list(zip(*rows, strict=True))
    assert len(cols) == len(names)
    out: dict[str, Sequence[Any]] = {}
    for name, c in zip(names, cols, strict=True):
        first = c[0]
        if first is None and c.count(None) == len(c):
            out[name] = ()
        elif name in statements.REPEATING and len(c) > 1 and c.count(first) == len(c):
            out[name] = (first,)
        else:
            out[name] = c
    return out


async def _write(
    conn: asyncpg.Connection,
    b: Batch,
    judged: list[Judged],
    *,
    session_hash: bytes,
    expected_seq: int,
    last_seq: int,
    app_version: str,
    request_id: str | None,
    facts: dict[str, Any] | None = None,
) -> bool:
    """Every effect of the batch, its ledger rows and the client's last_seq: one
    statement, which writes only if its gate holds (statements.write). False if it
    wrote nothing."""
    user = b.user
    # Messages and drafts go through the messages service (rare; each in a savepoint).
    for j, data in b.message_ops:
        await _message_op(conn, b, j, data, request_id=request_id)
    sessions = [
        (
            s.id,
            s.student_id,
            s.service_id,
            b.new_session_times[s.id],
            _captured_offline(b, s.id),
            s.closed_at,
            s.review_status,
            s.removed,
        )
        for s in b.new_sessions
    ]
    # A session the batch closes is flagged by the close (one update per row).
    flags = dict(b.flagged)
    closes = [(sid, at, flags.pop(sid, None)) for sid, at in b.closes.items()]
    ledger = [
        (
            j.op.seq,
            j.op.op_id,
            j.op.type,
            j.hash,
            j.outcome,
            j.code,
            j.reason,
            j.device_time,
            j.recorded_at,
        )
        for j in judged
    ]
    # The audit trail: one row per student written in this batch (in WRITE_SQL), and
    # every refusal (below).
    written: dict[int, int] = {}
    for j in judged:
        if j.student_id is not None and j.outcome != "rejected":
            written[j.student_id] = written.get(j.student_id, 0) + 1
    students = sorted(written)
    denied = [j for j in judged if j.code == "forbidden"]
    values: dict[str, Any] = {
        "school_id": user.school_id,
        "user_id": user.id,
        "device_id": b.device_id,
        "client_id": b.client_id,
        "now": b.now,
        "expected_seq": expected_seq,
        "session_hash": session_hash,
        "seen_after": seen_after(b.now),
        "last_seq": last_seq,
        "app_version": app_version,
        "role": user.role,
        "request_id": request_id,
        **_columns(statements.SESSION_COLUMNS, sessions),
        **_columns(statements.OBSERVATION_COLUMNS, b.obs_rows),
        **_columns(statements.CLOSE_COLUMNS, closes),
        **_columns(statements.FLAG_COLUMNS, sorted(flags.items())),
        "high_seq": b.high_mark,
        **_columns(statements.LEDGER_COLUMNS, ledger),
        "a_student": students,
        "a_count": [written[sid] for sid in students],
        **_columns(statements.READ_SESSION_COLUMNS, b.read_sessions),
        **(facts or {}),
        "denied_detail": msgspec.json.encode(
            {"op_ids": [str(j.op.op_id) for j in denied[:50]], "count": len(denied)}
        ).decode(),
    }
    statement = statements.write(
        statements.WriteShape(
            sessions=bool(sessions),
            observations=bool(b.obs_rows),
            closes=bool(b.closes),
            audit=bool(students),
            read_sessions=bool(b.read_sessions),
            denied=bool(denied),
            flags=bool(flags),
            facts=facts is not None,
        )
    )
    status = await conn.execute(statement.sql, *statement.args(values))
    return bool(status == "UPDATE 1")


async def _message_op(
    conn: asyncpg.Connection,
    b: Batch,
    j: Judged,
    data: DraftSave | MessageSend,
    *,
    request_id: str | None,
) -> None:
    assert j.recorded_at is not None
    try:
        async with db.savepoint(conn):  # a refused op leaves no trace
            if isinstance(data, MessageSend):
                sent = await messages.send_message(
                    conn,
                    user=b.user,
                    message_id=j.op.op_id,
                    thread_id=data.thread_id,
                    body=data.body,
                    sent_at=j.recorded_at,
                    request_id=request_id,
                )
                if not sent:
                    _reject(j, "op_id_conflict", "A message with this op id already exists.")
            else:
                result = await messages.save_draft(
                    conn,
                    user=b.user,
                    thread_id=data.thread_id,
                    body=data.body,
                    base_version=data.base_version,
                    saved_at=j.recorded_at,
                )
                if result.conflict:
                    j.code = "draft_conflict"
                    j.reason = "This draft was also edited on another device; both texts are kept."
    except messages.MessageRefused as exc:
        _reject(j, exc.code, exc.reason)
