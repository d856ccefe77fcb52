"""Goals say which way their number should move and what it counts."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-12-02T13:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "goal.direction, goal.measure_name, goal.continuous"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("goal_meaning.sql"))
