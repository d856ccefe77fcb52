-- The words of a progress note as the teacher approved them, per language
-- (server/progress/compose.py): {"en": {"sessions_line": ..., "goals": [...]}, "es": ...}.
-- Notes published before this column existed have none; they are composed on reading.
ALTER TABLE progress_note ADD COLUMN texts jsonb;
