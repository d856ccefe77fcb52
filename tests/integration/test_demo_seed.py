"""The demo school, seeded into an empty database of its own: idempotent, every
measurement type covered, realistic links, and every printed login works."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.support.client import ApiClient
from tests.support.servers import (
    AppServer,
    app_role_url,
    create_database,
    drop_database,
    migrate,
    run_cli,
)

HOMES = {
    "admin": "/admin",
    "teacher": "/teacher",
    "provider": "/app",
    "aide": "/app",
    "parent": "/parent",
}
MEASUREMENTS = {"trials", "frequency", "duration", "rating", "task_analysis"}


@pytest.fixture(scope="module")
def empty_database(pg_server_url: str) -> Iterator[str]:
    url = create_database(pg_server_url, prefix="tandem_demo")
    migrate(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="module")
def seeded(empty_database: str) -> tuple[str, str, str]:
    env = {"DATABASE_URL": app_role_url(empty_database), "TANDEM_BASE_URL": "http://127.0.0.1:8000"}
    first = run_cli(["seed-demo"], env)
    second = run_cli(["seed-demo"], env)
    return empty_database, first, second


def counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    tables = (
        "school",
        "app_user",
        "student",
        "iep",
        "goal",
        "service",
        "caseload_link",
        "assignment",
        "guardianship",
    )
    out = {}
    for t in tables:
        row = conn.execute(f"SELECT count(*) FROM {t}").fetchone()
        assert row is not None
        out[t] = int(row[0])
    return out


def logins(output: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s+(admin|teacher|provider|aide|parent)\s+(\S+@\S+)", output, re.M)


def password(output: str) -> str:
    match = re.search(r"Password for all: (\S+)", output)
    assert match, output
    return match.group(1)


def test_demo_seed_is_idempotent_and_prints_the_same_logins(seeded: tuple[str, str, str]) -> None:
    url, first, second = seeded
    assert "Maple Grove Elementary" in first
    assert "http://127.0.0.1:8000/login" in first
    assert logins(first) == logins(second)
    assert password(first) == password(second)
    with psycopg.connect(url, autocommit=True) as conn:
        before = counts(conn)
        run_cli(["seed-demo"], {"DATABASE_URL": url})
        assert counts(conn) == before
    assert before["school"] == 1
    assert before["student"] == 3
    roles = [role for role, _ in logins(first)]
    assert sorted(roles) == sorted(
        ["admin", "teacher", "provider", "aide", "aide", "parent", "parent"]
    )


def test_demo_covers_every_measurement_type_and_the_links(seeded: tuple[str, str, str]) -> None:
    url, _, _ = seeded
    with psycopg.connect(url, autocommit=True) as conn:
        kinds = {r[0] for r in conn.execute("SELECT DISTINCT measurement FROM goal").fetchall()}
        assert kinds == MEASUREMENTS
        task = conn.execute(
            "SELECT jsonb_array_length(task_steps) FROM goal WHERE measurement = 'task_analysis'"
        ).fetchone()
        assert task is not None
        assert task[0] >= 4
        rating = conn.execute("SELECT rating_max FROM goal WHERE measurement = 'rating'").fetchone()
        assert rating is not None
        assert rating[0] is not None
        # Every student has an active IEP, a case manager, an aide; two have a parent.
        per_student = conn.execute(
            """SELECT s.first_name,
                      (SELECT count(*) FROM iep i WHERE i.student_id = s.id AND i.status = 'active'),
                      (SELECT count(*) FROM caseload_link c WHERE c.student_id = s.id),
                      (SELECT count(*) FROM assignment a WHERE a.student_id = s.id),
                      (SELECT count(*) FROM guardianship g WHERE g.student_id = s.id)
                 FROM student s ORDER BY s.first_name"""
        ).fetchall()
        assert [r[0] for r in per_student] == ["Ava", "Leo", "Mateo"]
        assert all(r[1] == 1 and r[2] == 1 and r[3] >= 1 for r in per_student)
        assert sum(r[4] for r in per_student) == 2
        services = conn.execute("SELECT count(*), count(provider_id) FROM service").fetchone()
        assert services is not None
        assert services[0] >= 2
        assert services[0] == services[1]
        # The speech provider sees exactly the students she serves.
        slp = conn.execute(
            """SELECT u.id, m.school_id FROM app_user u JOIN membership m ON m.user_id = u.id
                WHERE m.role = 'provider'"""
        ).fetchone()
        assert slp is not None
        seen = conn.execute(
            """SELECT s.first_name FROM tandem_student_scope(%s, %s, 'provider', now()) sc
                 JOIN student s ON s.id = sc.student_id ORDER BY 1""",
            (slp[0], slp[1]),
        ).fetchall()
        assert seen == [("Leo",), ("Mateo",)]


def test_every_demo_login_works_and_lands_on_its_home(seeded: tuple[str, str, str]) -> None:
    url, first, _ = seeded
    server = AppServer(url).start()
    try:
        for role, email in logins(first):
            with ApiClient(server.base_url) as c:
                r = c.post("/login", data={"email": email, "password": password(first)})
                assert r.status_code in (302, 303), (email, r.text[:200])
                assert r.headers["location"] == HOMES[role]
                assert c.get("/api/me").json()["role"] == role
    finally:
        server.stop()
