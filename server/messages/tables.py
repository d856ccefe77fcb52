"""Message threads per student, messages, read receipts and per-user drafts."""

from piccolo.columns import UUID, BigInt, BigSerial, Integer, Text, Timestamptz
from piccolo.table import Table


class MessageThread(Table, tablename="message_thread"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    student_id = BigInt()
    subject = Text()
    created_by = BigInt()
    created_at = Timestamptz()


class Message(Table, tablename="message"):
    id = UUID(primary_key=True)
    school_id = BigInt()
    thread_id = BigInt()
    student_id = BigInt()
    author_id = BigInt()
    body = Text()
    sent_at = Timestamptz()
    received_at = Timestamptz()


class MessageRead(Table, tablename="message_read"):
    # The database key is (message_id, user_id).
    message_id = UUID(primary_key=True)
    user_id = BigInt()
    read_at = Timestamptz()


class MessageDraft(Table, tablename="message_draft"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    thread_id = BigInt()
    user_id = BigInt()
    body = Text(default="")
    version = Integer(default=0)
    conflict_body = Text(null=True, default=None)
    updated_at = Timestamptz()
