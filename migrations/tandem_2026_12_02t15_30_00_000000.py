"""The removal rule sees the end of a provider's access through a service too."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-12-02T15:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tandem_scope_ended / tandem_link_ended: a service's provider access ends too"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("sync_removal_services.sql"))
