"""Composite observation keys: session (with school and student) and goal (with student)
(observation_keys.sql)."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-11-28T22:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Composite observation keys into data_session and goal"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("observation_keys.sql"))
