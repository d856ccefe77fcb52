"""The access matrix, generated from the application's own route table.

Every route must have an entry in tests/access/ (a new route without one fails here);
every entry is exercised as each role and anonymously, in scope and out of scope.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import psycopg
import pytest
from litestar.routes import HTTPRoute

import tests.access
from tests.access.spec import ALL_ROLES, Ctx, Entry, Scope
from tests.support.client import ApiClient
from tests.support.factories import Classroom, Factory

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def declared_entries() -> dict[tuple[str, str], Entry]:
    entries: dict[tuple[str, str], Entry] = {}
    for info in pkgutil.iter_modules(tests.access.__path__):
        if info.name == "spec":
            continue
        module = importlib.import_module(f"tests.access.{info.name}")
        for entry in getattr(module, "ENTRIES", []):
            key = (entry.method, entry.path)
            assert key not in entries, f"two access entries for {key}"
            entries[key] = entry
    return entries


def app_routes() -> set[tuple[str, str]]:
    from server.app import create_app

    app = create_app(secret="access-matrix")
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/static"):
            continue
        if route.path.startswith("/schema"):
            continue  # Litestar's OpenAPI documents: public by design
        for method in route.methods:
            if method not in IGNORED_METHODS:
                found.add((method, route.path))
    return found


def test_every_route_has_an_access_entry() -> None:
    routes = app_routes()
    entries = set(declared_entries())
    missing = sorted(routes - entries)
    stale = sorted(entries - routes)
    assert not missing, f"routes with no access-matrix entry: {missing}"
    assert not stale, f"access entries for routes that do not exist: {stale}"


@pytest.fixture(scope="module")
def matrix_clients(base_url: str, database_url: str) -> Any:
    with psycopg.connect(database_url, autocommit=True) as conn:
        factory = Factory(conn)
        classroom = factory.classroom()
        clients: dict[str | None, ApiClient] = {None: ApiClient(base_url)}
        for role in ALL_ROLES:
            c = ApiClient(base_url)
            c.login(classroom.by_role(role).email)
            clients[role] = c
        yield classroom, clients
        for c in clients.values():
            c.close()


@pytest.mark.parametrize("key", sorted(declared_entries()), ids=lambda k: f"{k[0]} {k[1]}")
def test_route_access(
    key: tuple[str, str], matrix_clients: Any, sql: psycopg.Connection[Any]
) -> None:
    entry = declared_entries()[key]
    classroom: Classroom = matrix_clients[0]
    clients: dict[str | None, ApiClient] = matrix_clients[1]
    scopes: tuple[Scope, ...] = ("in", "out") if entry.scoped else ("none",)
    failures = []
    for role in (None, *ALL_ROLES):
        for scope in scopes:
            factory = Factory(sql, school_id=classroom.student.school_id)
            ctx = Ctx(classroom=classroom, factory=factory, sql=sql, role=role)
            req = entry.build(ctx, scope)
            client = clients[role]
            if entry.method in ("POST", "PUT", "PATCH", "DELETE") and role is None:
                client.cookies.clear()
            headers = {"accept": "text/html"} if entry.html else {"accept": "application/json"}
            response = client.request(
                entry.method, req.url, json=req.json, data=req.data, headers=headers
            )
            expected = entry.expected(role, scope)
            if response.status_code not in expected:
                failures.append(
                    f"{role or 'anonymous'}/{scope}: got {response.status_code}, "
                    f"expected {expected}: {response.text[:160]!r}"
                )
            if role is not None and entry.path in ("/logout", "/api/auth/logout"):
                client.login(classroom.by_role(role).email)
    assert not failures, "\n".join(failures)
