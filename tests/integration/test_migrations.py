"""Migrations run forward from an empty database, a second run applies nothing, and the
schema they build matches the Piccolo tables exactly (both ways)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from server.piccolo_app import MIGRATIONS_DIR, TABLES
from tests.support.servers import create_database, drop_database, run_cli

# Piccolo column type -> PostgreSQL udt_name (information_schema.columns).
PG_TYPES = {
    "BIGSERIAL": "int8",
    "SERIAL": "int4",
    "BIGINT": "int8",
    "INTEGER": "int4",
    "SMALLINT": "int2",
    "TEXT": "text",
    "VARCHAR": "varchar",
    "TIMESTAMPTZ": "timestamptz",
    "TIMESTAMP": "timestamp",
    "DATE": "date",
    "TIME": "time",
    "BOOLEAN": "bool",
    "JSONB": "jsonb",
    "JSON": "json",
    "UUID": "uuid",
    "BYTEA": "bytea",
    "DOUBLE PRECISION": "float8",
    "REAL": "float4",
    "NUMERIC": "numeric",
}


def pg_type(piccolo_type: str) -> str:
    base = re.sub(r"\(.*\)$", "", piccolo_type)  # VARCHAR(255) -> VARCHAR
    if base.endswith("[]"):
        return "_" + pg_type(base[:-2])
    return PG_TYPES.get(base, base.lower())


def migration_ids() -> list[str]:
    """Every migration module's ID, in order."""
    ids = []
    for path in sorted(MIGRATIONS_DIR.glob("tandem_*.py")):
        match = re.search(r'^ID = "([^"]+)"', path.read_text(encoding="utf-8"), re.MULTILINE)
        assert match, f"{path.name} has no ID"
        ids.append(match.group(1))
    return ids


@pytest.fixture(scope="module")
def fresh_database(pg_server_url: str) -> Iterator[tuple[str, str, str]]:
    """An empty database, migrated twice with the real CLI; yields (url, first, second)."""
    url = create_database(pg_server_url, prefix="tandem_migrate")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchone()
            assert tables == (0,), "the database is not empty before migrating"
        first = run_cli(["migrate"], {"DATABASE_URL": url})
        second = run_cli(["migrate"], {"DATABASE_URL": url})
        yield url, first, second
    finally:
        drop_database(url)


def test_migrations_run_forward_from_empty_and_a_second_run_applies_nothing(
    fresh_database: tuple[str, str, str],
) -> None:
    url, first, second = fresh_database
    ids = migration_ids()
    assert ids, "no migrations found"
    assert len(set(ids)) == len(ids), "two migrations share an ID"
    applied_line = first.strip().splitlines()[-1]
    assert applied_line == "applied: " + ", ".join(ids)
    assert second.strip().splitlines()[-1] == "applied: nothing (up to date)"
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT name FROM migration WHERE app_name = 'tandem' ORDER BY id"
        ).fetchall()
    assert [r[0] for r in rows] == ids


def database_columns(url: str) -> dict[str, dict[str, tuple[str, bool]]]:
    """table -> column -> (udt_name, nullable) for every base table in public."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            """SELECT c.table_name, c.column_name, c.udt_name, c.is_nullable = 'YES'
                 FROM information_schema.columns c
                 JOIN information_schema.tables t
                   ON t.table_schema = c.table_schema AND t.table_name = c.table_name
                WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"""
        ).fetchall()
    out: dict[str, dict[str, tuple[str, bool]]] = {}
    for table, column, udt, nullable in rows:
        out.setdefault(table, {})[column] = (udt, nullable)
    return out


def piccolo_columns() -> dict[str, dict[str, tuple[str, bool]]]:
    out: dict[str, dict[str, tuple[str, bool]]] = {}
    for table in TABLES:
        cols: dict[str, tuple[str, bool]] = {}
        for column in table._meta.columns:
            cols[column._meta.db_column_name] = (pg_type(column.column_type), column._meta.null)
        out[table._meta.tablename] = cols
    return out


def test_every_piccolo_table_matches_its_database_table(
    fresh_database: tuple[str, str, str],
) -> None:
    url = fresh_database[0]
    db = database_columns(url)
    problems: list[str] = []
    for table, columns in piccolo_columns().items():
        if table not in db:
            problems.append(f"{table}: Piccolo table with no database table")
            continue
        actual = db[table]
        for name, (typ, nullable) in columns.items():
            if name not in actual:
                problems.append(f"{table}.{name}: in Piccolo, not in the database")
                continue
            db_type, db_nullable = actual[name]
            if db_type != typ:
                problems.append(f"{table}.{name}: Piccolo {typ}, database {db_type}")
            if db_nullable != nullable:
                problems.append(
                    f"{table}.{name}: Piccolo null={nullable}, database nullable={db_nullable}"
                )
        for name, (db_type, _) in actual.items():
            if name in columns:
                continue
            if name == "txid" and db_type == "xid8":
                continue  # stamped by trigger, never written by the application
            problems.append(f"{table}.{name}: in the database, not in Piccolo")
    assert not problems, "\n".join(problems)


def test_every_database_table_has_a_piccolo_table(fresh_database: tuple[str, str, str]) -> None:
    db_tables = set(database_columns(fresh_database[0])) - {"migration"}
    piccolo_tables = {t._meta.tablename for t in TABLES}
    assert sorted(db_tables - piccolo_tables) == []
    assert sorted(piccolo_tables - db_tables) == []


def test_piccolo_types_map_to_the_names_postgres_reports() -> None:
    """The comparison above is not vacuous: Piccolo types map to udt_name values."""
    assert pg_type("BIGSERIAL") == "int8"
    assert pg_type("UUID[]") == "_uuid"
    assert pg_type("VARCHAR(255)") == "varchar"
    cols: dict[str, Any] = piccolo_columns()
    assert cols["goal"]["task_steps"] == ("jsonb", False)
    assert cols["goal"]["rating_max"] == ("int4", True)
    assert cols["iep"]["start_date"] == ("date", False)
