"""Two database roles: the owner migrates, the app runs as a role that owns nothing.

A role that owns a table (or is a member of its owner, or owns the schema or the
database) can disable its triggers, truncate or drop it: the audit log's append-only
triggers protect it only from a role that cannot. So the migrate step, as the owner,
keeps an app role and grants it only what the app needs, again at every migrate so new
tables are covered: rows of every table, but only INSERT and SELECT on audit_log and
only SELECT on Piccolo's migration table. The app refuses to start while migrations are
pending or when its role could undo those limits (docs/deploy.md).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import asyncpg

DEFAULT_APP_ROLE = "tandem_app"
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
DOCS = "see docs/deploy.md, 'Two database roles'"


class DatabaseNotReady(Exception):
    """The database is not ready for this command; the message says what to do."""


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def app_role_name(name: str) -> str:
    if not ROLE_NAME.fullmatch(name):
        raise DatabaseNotReady(f"not a role name Tandem accepts: {name!r} (a-z, 0-9, _)")
    return name


def with_user(url: str, user: str) -> str:
    """The same database URL, connecting as `user` (no password: the server's
    authentication for that role decides, e.g. trust on the embedded server)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{user}@{host}", parts.path, parts.query, parts.fragment))


# Race-safe: roles are shared by every database on the server, and several databases
# (parallel tests) may be migrated at once.
CREATE_ROLE = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN
        CREATE ROLE {ident} LOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$
"""

GRANTS = """
GRANT CONNECT ON DATABASE {database} TO {role};
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role};
REVOKE UPDATE, DELETE ON audit_log FROM {role};
REVOKE INSERT, UPDATE, DELETE ON migration FROM {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role};
"""


async def grant_app_role(conn: asyncpg.Connection, role: str) -> None:
    """As the owner, after migrating: make sure `role` exists and has exactly the app's
    privileges on this database."""
    role = app_role_name(role)
    me = await conn.fetchval("SELECT current_user")
    if role == me:
        raise DatabaseNotReady(
            f"the app role ({role}) is the role that migrates; give the app its own ({DOCS})"
        )
    try:
        await conn.execute(CREATE_ROLE.format(name=role, ident=quote_ident(role)))
    except asyncpg.InsufficientPrivilegeError as exc:
        raise DatabaseNotReady(
            f"role {role} does not exist and {me} may not create roles: create it "
            f"(CREATE ROLE {role} LOGIN PASSWORD '…'), then migrate again ({DOCS})"
        ) from exc
    database = await conn.fetchval("SELECT current_database()")
    async with conn.transaction():
        await conn.execute(GRANTS.format(database=quote_ident(database), role=quote_ident(role)))


async def check_may_migrate(conn: asyncpg.Connection) -> None:
    """Migrating needs the owner: say so instead of failing half-way with 'permission
    denied' (e.g. `migrate` run with only the app's DATABASE_URL)."""
    if not await conn.fetchval("SELECT has_schema_privilege('public', 'CREATE')"):
        me = await conn.fetchval("SELECT current_user")
        raise DatabaseNotReady(
            f"{me} may not create tables here: migrate as the owner of the tables, "
            f"with TANDEM_MIGRATE_DATABASE_URL ({DOCS})"
        )


ROLE_FACTS = """
SELECT current_user AS role, r.rolsuper, r.rolcreaterole,
       pg_has_role(current_user, d.datdba, 'MEMBER') AS owns_database,
       pg_has_role(current_user, n.nspowner, 'MEMBER') AS owns_schema,
       has_schema_privilege(n.oid, 'CREATE') AS may_create,
       ARRAY(SELECT c.relname::text FROM pg_class c
              WHERE c.relnamespace = n.oid AND pg_has_role(current_user, c.relowner, 'MEMBER')
              ORDER BY 1 LIMIT 5) AS owned_relations,
       ARRAY(SELECT p.proname::text FROM pg_proc p
              WHERE p.pronamespace = n.oid AND pg_has_role(current_user, p.proowner, 'MEMBER')
              ORDER BY 1 LIMIT 5) AS owned_functions
  FROM pg_roles r, pg_database d, pg_namespace n
 WHERE r.rolname = current_user AND d.datname = current_database() AND n.nspname = 'public'
"""


async def owner_powers(conn: asyncpg.Connection) -> list[str]:
    """What the connection's role could use to undo the app's limits (empty: none)."""
    facts = await conn.fetchrow(ROLE_FACTS)
    assert facts is not None
    powers = []
    if facts["rolsuper"]:
        powers.append("is a superuser")
    if facts["rolcreaterole"]:
        powers.append("may create roles (and grant itself the owner's)")
    if facts["owns_database"]:
        powers.append("owns the database (or is a member of its owner)")
    if facts["owns_schema"]:
        powers.append("owns the schema public (or is a member of its owner)")
    if facts["may_create"]:
        powers.append("may create objects in the schema public")
    if facts["owned_relations"]:
        powers.append(
            "owns (or is a member of the owner of) " + ", ".join(facts["owned_relations"])
        )
    if facts["owned_functions"]:
        powers.append("owns functions " + ", ".join(facts["owned_functions"]))
    return powers


def migration_ids() -> list[str]:
    """Every migration this version of Tandem has, in order."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    from server.piccolo_app import MIGRATIONS_DIR

    return sorted(BaseMigrationManager().get_migration_modules(str(MIGRATIONS_DIR)))


async def pending_migrations(conn: asyncpg.Connection) -> list[str]:
    if await conn.fetchval("SELECT to_regclass('public.migration') IS NULL"):
        return migration_ids()
    try:
        rows = await conn.fetch("SELECT name FROM migration WHERE app_name = 'tandem'")
    except asyncpg.InsufficientPrivilegeError as exc:
        role = await conn.fetchval("SELECT current_user")
        raise DatabaseNotReady(
            f"{role} has no privileges on Tandem's tables: run `python -m server.cli "
            f"migrate` as the owner with TANDEM_APP_ROLE={role} ({DOCS})"
        ) from exc
    applied = {r["name"] for r in rows}
    return [m for m in migration_ids() if m not in applied]


async def check_app_database(url: str, *, refuse_owner_role: bool) -> list[str]:
    """Refuse (DatabaseNotReady) a database with pending migrations and, when
    `refuse_owner_role`, a role with an owner's powers. Returns those powers otherwise
    (to warn about when they are allowed)."""
    conn = await asyncpg.connect(url)
    try:
        pending = await pending_migrations(conn)
        if pending:
            raise DatabaseNotReady(
                f"{len(pending)} migration(s) pending ({', '.join(pending)}): run "
                "`python -m server.cli migrate` as the owner first; the app does not "
                "start on an older schema"
            )
        powers = await owner_powers(conn)
        role = await conn.fetchval("SELECT current_user")
    finally:
        await conn.close()
    if powers and refuse_owner_role:
        raise DatabaseNotReady(
            f"the app's role {role} {'; '.join(powers)}: it could alter or empty the "
            f"audit log. Run the app as a role that owns nothing ({DOCS}); "
            "TANDEM_ALLOW_OWNER_ROLE=1 lifts this check on a development machine"
        )
    return powers
