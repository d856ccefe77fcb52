"""Foundation schema: roster, accounts, IEPs, sync ledger, observations, messages, audit.

The DDL lives in foundation.sql beside this file (constraints, triggers and the
append-only audit log are easier to review as SQL than as Piccolo operations).
"""

from pathlib import Path

from server.db import sql_migration

ID = "2026-11-28T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Foundation schema"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("foundation.sql"))
