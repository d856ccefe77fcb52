"""Sync ledger constraint (sync_ledger.sql)."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-11-28T20:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Sync ledger: op_id unique except op_id_conflict rows"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("sync_ledger.sql"))
