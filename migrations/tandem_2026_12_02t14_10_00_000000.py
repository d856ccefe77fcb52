"""Login limits count failed attempts only, per source, with a growing delay."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-12-02T14:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rate_limit: failures, blocked_until and in-flight attempts per bucket"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("login_failures.sql"))
