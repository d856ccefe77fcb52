"""Account notices: a person hears in the app about password links made for them."""

from pathlib import Path

from server.db import sql_migration

ID = "2026-12-02T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Account notices (reset link made, password reset) and app_user.notice_pending"

forwards = sql_migration(ID, DESCRIPTION, Path(__file__).with_name("account_notices.sql"))
