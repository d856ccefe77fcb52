"""The sync wire format (docs/sync-protocol.md): envelope, op data per type, results,
changes. Every struct refuses unknown fields; every field has explicit limits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from server.messages.schemas import DraftOut, DraftSave, MessageOut, MessageSend, ThreadOut
from server.validation import Id

PROTOCOL = 1
MAX_OPS = 500
MAX_OP_BYTES = 64 * 1024
MAX_CURSOR_CHARS = 16 * 1024

Seq = Annotated[int, Meta(ge=1, le=2**62)]
OpType = Annotated[str, Meta(min_length=1, max_length=40)]
AppVersion = Annotated[str, Meta(max_length=40)]
Stamp = Annotated[str, Meta(min_length=1, max_length=40)]
Outcome = Literal["correct", "incorrect", "no_response"]
Prompt = Literal["independent", "gestural", "verbal", "model", "partial_physical", "full_physical"]


class OpIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One queued op. `type`, `at` and `data` are judged per op (a bad one is rejected
    alone); `seq` and `op_id` must parse or the whole request is refused."""

    seq: Seq
    op_id: UUID
    type: OpType
    at: Stamp
    data: dict[str, Any] | None = None
    oversize: Annotated[int, Meta(ge=0, le=2**40)] | None = None
    # Whether the app could not reach the server when the op was recorded: a fact the
    # review pages show ("captured offline"); not part of the op's body hash.
    offline: bool | None = None


class SyncIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    protocol: Annotated[int, Meta(ge=0, le=1000)]
    client_id: UUID
    sent_at: Stamp
    ops: list[OpIn]
    app_version: AppVersion = ""
    cursor: Annotated[str, Meta(max_length=MAX_CURSOR_CHARS)] | None = None
    pull: bool = True
    # The highest seq the client has assigned (its newest queued op), sent or not.
    high_seq: Annotated[int, Meta(ge=0, le=2**62)] | None = None


class DeviceHints(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """What the browser says about its device (User-Agent Client Hints), where it can:
    only used to name the device for people ("Pixel 8 · Chrome")."""

    model: Annotated[str, Meta(max_length=100)] = ""
    platform: Annotated[str, Meta(max_length=100)] = ""
    platform_version: Annotated[str, Meta(max_length=100)] = ""


class ClientIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    app_version: AppVersion = ""
    replaces: UUID | None = None
    lost_ops: Annotated[int, Meta(ge=0, le=2**40)] = 0
    device: DeviceHints | None = None


class ClientOut(msgspec.Struct, frozen=True, kw_only=True):
    client_id: UUID
    last_seq: int


# --- op data, per type ---------------------------------------------------------------


class SessionOpen(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    session_id: UUID
    student_id: Id
    service_id: Id | None = None


class SessionRef(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    session_id: UUID


class SessionReopen(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Take back a close the teacher has not reviewed (the app offers it only while the
    close has not left the phone, so both usually arrive in one batch)."""

    session_id: UUID


class TrialRecord(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    session_id: UUID
    goal_id: Id
    outcome: Outcome
    prompt: Prompt


class TallyAdd(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    session_id: UUID
    goal_id: Id
    delta: Literal[1, -1]


class TimerStart(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    session_id: UUID
    timer_id: UUID
    goal_id: Id | None = None


class TimerStop(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    session_id: UUID
    timer_id: UUID


class RatingRecord(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    session_id: UUID
    goal_id: Id
    value: Annotated[int, Meta(ge=0, le=100)]


class StepRecord(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    session_id: UUID
    goal_id: Id
    step_index: Annotated[int, Meta(ge=0, le=99)]
    outcome: Outcome
    prompt: Prompt


class NoteAdd(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    session_id: UUID
    text: Annotated[str, Meta(min_length=1, max_length=4000)]


class Undo(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    target_op_id: UUID


OP_DATA: dict[str, type[msgspec.Struct]] = {
    "session.open": SessionOpen,
    "session.close": SessionRef,
    "session.reopen": SessionReopen,
    "trial.record": TrialRecord,
    "tally.add": TallyAdd,
    "timer.start": TimerStart,
    "timer.stop": TimerStop,
    "rating.record": RatingRecord,
    "step.record": StepRecord,
    "note.add": NoteAdd,
    "undo": Undo,
    "draft.save": DraftSave,
    "message.send": MessageSend,
}

# --- response --------------------------------------------------------------------------

Status = Literal["applied", "duplicate", "rejected", "correction"]


class OpResult(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    op_id: UUID
    status: Status
    code: str | None = None
    reason: str | None = None


class Stopped(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    expected_seq: int
    reason: str


class StudentOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    first_name: str
    last_name: str
    grade: str


class GoalOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    student_id: int
    iep_id: int
    area: str
    description: str
    measurement: str
    rating_max: int | None
    task_steps: list[str]
    home_practice: bool
    position: int
    # A duration goal counting its longest run (collect/derive.py, pwa/js/figures.js).
    continuous: bool = False
    # What each rating value means, 0 first (empty: none given; the app shows defaults).
    rating_anchors: list[str] = msgspec.field(default_factory=list)


class ServiceOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    student_id: int
    service_type: str
    minutes: int
    period: str
    provider_id: int | None


class SessionOut(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    student_id: int
    staff_id: int
    service_id: int | None
    opened_at: datetime
    closed_at: datetime | None
    review_status: str
    review_reason: str | None
    reviewed_at: datetime | None


class ObservationOut(msgspec.Struct, frozen=True, kw_only=True):
    op_id: UUID
    session_id: UUID
    student_id: int
    goal_id: int | None
    user_id: int
    kind: str
    outcome: str | None
    prompt: str | None
    delta: int | None
    timer_id: UUID | None
    value: int | None
    step_index: int | None
    note: str | None
    voids_op_id: UUID | None
    state: str
    recorded_at: datetime


class Removed(msgspec.Struct, frozen=True, kw_only=True):
    students: list[int] = msgspec.field(default_factory=list)
    goals: list[int] = msgspec.field(default_factory=list)


class Changes(msgspec.Struct, kw_only=True):
    students: list[StudentOut] = msgspec.field(default_factory=list)
    goals: list[GoalOut] = msgspec.field(default_factory=list)
    services: list[ServiceOut] = msgspec.field(default_factory=list)
    sessions: list[SessionOut] = msgspec.field(default_factory=list)
    observations: list[ObservationOut] = msgspec.field(default_factory=list)
    threads: list[ThreadOut] = msgspec.field(default_factory=list)
    messages: list[MessageOut] = msgspec.field(default_factory=list)
    drafts: list[DraftOut] = msgspec.field(default_factory=list)
    removed: Removed = msgspec.field(default_factory=Removed)


class SyncOut(msgspec.Struct, frozen=True, kw_only=True):
    protocol: int
    server_time: datetime
    last_seq: int
    results: list[OpResult]
    stopped: Stopped | None
    changes: Changes | None
    cursor: str | None
    has_more: bool
