"""A progress note stores the words the teacher approved, per language."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-12-02T13:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "progress_note.texts: the approved words of a note per language"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("note_texts.sql"))
