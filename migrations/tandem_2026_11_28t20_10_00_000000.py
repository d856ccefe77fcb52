"""Notification outbox (notify_outbox.sql)."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-11-28T20:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Notification outbox"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("notify_outbox.sql"))
