"""The exactly-once ledger: registered clients and every op they sent."""

from piccolo.columns import UUID, BigInt, Bytea, Text, Timestamptz
from piccolo.table import Table


class SyncClient(Table, tablename="sync_client"):
    client_id = UUID(primary_key=True)
    school_id = BigInt()
    user_id = BigInt()
    device_id = BigInt(null=True, default=None)
    last_seq = BigInt(default=0)
    app_version = Text(default="")
    created_at = Timestamptz()
    last_sync_at = Timestamptz(null=True, default=None)


class SyncOp(Table, tablename="sync_op"):
    # The database key is (client_id, seq); Piccolo needs one column to call primary.
    op_id = UUID(primary_key=True)
    client_id = UUID()
    seq = BigInt()
    school_id = BigInt()
    user_id = BigInt()
    op_type = Text()
    body_hash = Bytea()
    outcome = Text()
    code = Text(null=True, default=None)
    reason = Text(null=True, default=None)
    device_time = Timestamptz(null=True, default=None)
    recorded_at = Timestamptz(null=True, default=None)
    received_at = Timestamptz()


class SyncMark(Table, tablename="sync_mark"):
    """A client's high-water mark at a sync after one of its user's links ended."""

    # The database key is (client_id, at).
    client_id = UUID(primary_key=True)
    at = Timestamptz()
    high_seq = BigInt()
