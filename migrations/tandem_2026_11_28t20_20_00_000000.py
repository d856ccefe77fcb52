"""Sync ledger constraint (sync_ledger.sql)."""

from pathlib import Path

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-28T20:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Sync ledger: op_id unique except op_id_conflict rows"

SQL = (Path(__file__).resolve().parent / "sync_ledger.sql").read_text(encoding="utf-8")


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tandem", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        transaction = engine.current_transaction.get()
        assert transaction is not None, "migrations run inside Piccolo's transaction"
        await transaction.connection.execute(SQL)

    manager.add_raw(run)
    return manager
