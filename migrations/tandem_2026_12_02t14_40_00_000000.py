"""Writes after a removal: sync marks, the review flag, the scope-end functions."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-12-02T14:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync_mark, synced_after_removal flags, tandem_scope_ended / tandem_link_ended"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("sync_removal.sql"))
