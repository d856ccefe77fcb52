"""Push subscriptions, outbox delivery state, progress notes (push_notes.sql)."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-11-28T20:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Push subscriptions, outbox delivery state, progress notes"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("push_notes.sql"))
