"""A provider's access through a service is a link the admin sees and can end."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-12-02T14:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "service.provider_since / provider_ended_at; the scope ends an ended one"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("service_provider_access.sql"))
