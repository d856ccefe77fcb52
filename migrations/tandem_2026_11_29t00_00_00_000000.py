"""Invitations carry the guardian's relationship (invite_relationship.sql)."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-11-29T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Invitations carry the guardian's relationship"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("invite_relationship.sql"))
