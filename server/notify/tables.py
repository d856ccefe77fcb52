"""The notification outbox."""

from piccolo.columns import UUID, BigInt, Text, Timestamptz
from piccolo.table import Table


class Notification(Table, tablename="notification"):
    id = UUID(primary_key=True)
    school_id = BigInt()
    user_id = BigInt()
    student_id = BigInt(null=True, default=None)
    kind = Text()
    ref_id = Text()
    created_at = Timestamptz()
