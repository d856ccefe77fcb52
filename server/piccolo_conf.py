"""Piccolo's configuration module (PICCOLO_CONF=server.piccolo_conf).

The engine here is a placeholder: server.db.configure_engine() replaces DB at start-up
with one pointed at the resolved database (embedded by default, DATABASE_URL otherwise).
"""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine


class TandemEngine(PostgresEngine):
    """Piccolo's engine without its blocking connect-at-construction version probe (it
    opens a connection from inside __init__, even at import time). Tandem checks the
    server version once at start-up instead (server.db.migrate)."""

    async def check_version(self) -> None:
        return None

    async def prep_database(self) -> None:
        return None


DB = TandemEngine(config={"dsn": os.environ.get("DATABASE_URL", "postgresql:///tandem")})

APP_REGISTRY = AppRegistry(apps=["server.piccolo_app"])
