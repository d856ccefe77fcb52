"""A rating goal may say what each value of its scale means (anchors for the aide)."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-12-02T15:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "goal.rating_anchors: one short label per value of a rating scale, optional"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("goal_rating_anchors.sql"))
