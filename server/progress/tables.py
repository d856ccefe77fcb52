"""Progress notes and who has read them."""

from piccolo.columns import JSONB, UUID, Array, BigInt, BigSerial, Text, Timestamptz
from piccolo.table import Table


class ProgressNote(Table, tablename="progress_note"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    student_id = BigInt()
    author_id = BigInt()
    session_ids = Array(base_column=UUID())
    summary = JSONB()
    comment = Text(default="")
    published_at = Timestamptz()
    texts = JSONB(null=True, default=None)


class ProgressNoteRead(Table, tablename="progress_note_read"):
    # The database key is (note_id, user_id).
    note_id = BigInt(primary_key=True)
    user_id = BigInt()
    read_at = Timestamptz()
