"""The append-only audit log. A trigger refuses UPDATE, DELETE and TRUNCATE."""

from piccolo.columns import BigInt, BigSerial, Text, Timestamptz
from piccolo.columns.column_types import JSONB
from piccolo.table import Table


class AuditLog(Table, tablename="audit_log"):
    id = BigSerial(primary_key=True)
    school_id = BigInt(null=True, default=None)
    actor_id = BigInt(null=True, default=None)
    actor_role = Text(null=True, default=None)
    student_id = BigInt(null=True, default=None)
    record_type = Text()
    record_id = Text(null=True, default=None)
    action = Text()
    request_id = Text(null=True, default=None)
    detail = JSONB(default={})
    at = Timestamptz()
