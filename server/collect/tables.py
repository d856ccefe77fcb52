"""Data sessions and their immutable observation events."""

from piccolo.columns import (
    UUID,
    BigInt,
    BigSerial,
    Boolean,
    Integer,
    SmallInt,
    Text,
    Timestamptz,
)
from piccolo.table import Table


class DataSession(Table, tablename="data_session"):
    id = UUID(primary_key=True)
    school_id = BigInt()
    student_id = BigInt()
    staff_id = BigInt()
    service_id = BigInt(null=True, default=None)
    device_id = BigInt(null=True, default=None)
    client_id = UUID(null=True, default=None)
    opened_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)
    captured_offline = Boolean(default=False)
    first_synced_at = Timestamptz()
    review_status = Text(default="open")
    reviewed_by = BigInt(null=True, default=None)
    reviewed_at = Timestamptz(null=True, default=None)
    review_reason = Text(null=True, default=None)
    # Recorded before, synced after the recorder's removal (the removal's time).
    synced_after_removal = Timestamptz(null=True, default=None)


class Observation(Table, tablename="observation"):
    id = BigSerial(primary_key=True)
    op_id = UUID()
    school_id = BigInt()
    student_id = BigInt()
    session_id = UUID()
    goal_id = BigInt(null=True, default=None)
    user_id = BigInt()
    client_id = UUID(null=True, default=None)
    kind = Text()
    outcome = Text(null=True, default=None)
    prompt = Text(null=True, default=None)
    delta = SmallInt(null=True, default=None)
    timer_id = UUID(null=True, default=None)
    value = Integer(null=True, default=None)
    step_index = SmallInt(null=True, default=None)
    note = Text(null=True, default=None)
    voids_op_id = UUID(null=True, default=None)
    supersedes_id = BigInt(null=True, default=None)
    reason = Text(null=True, default=None)
    state = Text(default="applied")
    synced_after_removal = Boolean(default=False)
    device_time = Timestamptz()
    recorded_at = Timestamptz()
    received_at = Timestamptz()
