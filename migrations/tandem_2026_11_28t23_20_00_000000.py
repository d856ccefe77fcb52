"""An op is voided at most once among events not declined (voids_once.sql)."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-11-28T23:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique voiding event per op among events not declined"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("voids_once.sql"))
