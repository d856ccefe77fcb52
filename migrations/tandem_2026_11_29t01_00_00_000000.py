"""The ledger's client is checked by the sync write's gate (ledger_client_key.sql)."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-11-29T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Ledger rows: the client is checked by the write's gate, not per row"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("ledger_client_key.sql"))
