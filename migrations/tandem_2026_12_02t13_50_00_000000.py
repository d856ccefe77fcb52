"""A goal's parent-facing name and description, per language."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-12-02T13:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "goal.parent_texts: what families read about a goal, per language"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("goal_parent_texts.sql"))
