"""The operator CLI (python -m server.cli …) against the test database: create a school
with its first admin, create users, invite, reset links, and import a roster from CSV
(all rows checked first; any bad row imports nothing)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.support.client import ApiClient
from tests.support.factories import Factory
from tests.support.servers import ROOT, app_role_url, run_cli

PASSWORD = "a long operator chosen passphrase"


@pytest.fixture
def cli_env(database_url: str, base_url: str) -> dict[str, str]:
    # As the app role: the operator commands need no more than the app does.
    return {"DATABASE_URL": app_role_url(database_url), "TANDEM_BASE_URL": base_url}


def cli_fails(
    args: list[str], env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return proc


def link_in(output: str, base_url: str) -> str:
    match = re.search(re.escape(base_url) + r"/(?:invite|reset)/[A-Za-z0-9_\-]+", output)
    assert match, output
    return urlsplit(match.group(0)).path


def use_link(base_url: str, path: str, password: str = PASSWORD) -> tuple[int, str]:
    with ApiClient(base_url) as c:
        assert c.get(path).status_code == 200
        r = c.post(path, data={"password": password})
        return r.status_code, r.headers.get("location", "")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@cli.example"


def test_create_school_with_its_first_admin_and_a_set_password_link(
    cli_env: dict[str, str], base_url: str, sql: psycopg.Connection[Any]
) -> None:
    email = unique("Admin").upper()
    out = run_cli(
        [
            "create-school",
            "--name",
            "Oak Ridge Middle",
            "--timezone",
            "America/Denver",
            "--admin-email",
            email,
            "--admin-name",
            "Pat Okoye",
        ],
        cli_env,
    )
    school_id = int(re.search(r"school (\d+) created", out).group(1))  # type: ignore[union-attr]
    row = sql.execute(
        """SELECT s.name, s.timezone, u.email, u.password_hash, m.role FROM school s
             JOIN membership m ON m.school_id = s.id JOIN app_user u ON u.id = m.user_id
            WHERE s.id = %s""",
        (school_id,),
    ).fetchall()
    assert row == [("Oak Ridge Middle", "America/Denver", email.lower(), None, "admin")]
    status, home = use_link(base_url, link_in(out, base_url))
    assert (status, home) == (303, "/admin")
    with ApiClient(base_url) as c:
        c.login(email.lower(), PASSWORD)


def test_password_from_stdin_and_clear_errors(
    cli_env: dict[str, str], base_url: str, sql: psycopg.Connection[Any]
) -> None:
    email = unique("boss")
    ok = cli_fails(
        ["create-school", "--name", "Elm", "--admin-email", email, "--admin-name", "E"],
        cli_env,
        stdin=PASSWORD + "\n",
    )
    assert ok.returncode == 0, ok.stderr
    assert "/reset/" in ok.stdout  # without --password-stdin the link is printed
    school_id = int(re.search(r"school (\d+) created", ok.stdout).group(1))  # type: ignore[union-attr]
    teacher = unique("teach")
    made = cli_fails(
        [
            "create-user",
            "--school",
            str(school_id),
            "--email",
            teacher,
            "--name",
            "Tess",
            "--role",
            "teacher",
            "--password-stdin",
        ],
        cli_env,
        stdin=PASSWORD + "\n",
    )
    assert made.returncode == 0, made.stderr
    assert "/reset/" not in made.stdout
    with ApiClient(base_url) as c:
        c.login(teacher, PASSWORD)
    again = cli_fails(
        [
            "create-user",
            "--school",
            str(school_id),
            "--email",
            teacher,
            "--name",
            "T",
            "--role",
            "aide",
        ],
        cli_env,
    )
    assert again.returncode == 1
    assert "already has an account" in again.stderr
    short = cli_fails(
        [
            "create-user",
            "--school",
            str(school_id),
            "--email",
            unique("x"),
            "--name",
            "X",
            "--role",
            "aide",
            "--password-stdin",
        ],
        cli_env,
        stdin="short\n",
    )
    assert short.returncode == 1
    assert "at least 8 characters" in short.stderr
    nowhere = cli_fails(
        [
            "create-user",
            "--school",
            "999999999",
            "--email",
            unique("y"),
            "--name",
            "Y",
            "--role",
            "aide",
        ],
        cli_env,
    )
    assert nowhere.returncode == 1
    assert "no school with id" in nowhere.stderr
    bad_email = cli_fails(
        ["create-school", "--name", "X", "--admin-email", "not-an-email", "--admin-name", "X"],
        cli_env,
    )
    assert bad_email.returncode == 1
    assert "not an email" in bad_email.stderr


def test_invite_and_reset_link_commands(
    cli_env: dict[str, str], base_url: str, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    factory.user("admin")
    student = factory.student("Nia", with_iep=False)
    school = str(factory.school_id)
    staff = unique("aide")
    out = run_cli(["invite", "--school", school, "--email", staff, "--role", "aide"], cli_env)
    assert use_link(base_url, link_in(out, base_url)) == (303, "/app")
    parent = unique("mum")
    out = run_cli(
        [
            "invite",
            "--school",
            school,
            "--email",
            parent,
            "--role",
            "parent",
            "--student",
            str(student.id),
        ],
        cli_env,
    )
    assert use_link(base_url, link_in(out, base_url)) == (303, "/parent")
    linked = sql.execute(
        """SELECT g.student_id FROM guardianship g JOIN app_user u ON u.id = g.parent_id
            WHERE u.email = %s""",
        (parent,),
    ).fetchall()
    assert linked == [(student.id,)]
    missing_student = cli_fails(
        ["invite", "--school", school, "--email", unique("p"), "--role", "parent"], cli_env
    )
    assert missing_student.returncode == 1
    assert "needs --student" in missing_student.stderr
    # A revoked guardian cannot be invited back from the command line either.
    barred = factory.user("parent")
    factory.guardian(barred, student, revoked=True)
    refused = cli_fails(
        [
            "invite",
            "--school",
            school,
            "--email",
            barred.email,
            "--role",
            "parent",
            "--student",
            str(student.id),
        ],
        cli_env,
    )
    assert refused.returncode == 1
    assert "revoked" in refused.stderr
    # Reset link: the old password stops working, the new one works.
    out = run_cli(["reset-link", "--email", staff.upper()], cli_env)
    assert use_link(base_url, link_in(out, base_url), "an even newer passphrase") == (303, "/app")
    with ApiClient(base_url) as c:
        c.login(staff, "an even newer passphrase")


def write_csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_roster_with_links_and_guardian_invitations(
    cli_env: dict[str, str],
    base_url: str,
    factory: Factory,
    sql: psycopg.Connection[Any],
    tmp_path: Path,
) -> None:
    factory.user("admin")
    teacher = factory.user("teacher")
    provider = factory.user("provider")
    aide = factory.user("aide")
    parent = factory.user("parent")
    new_parent = unique("guardian")
    csv_text = (
        "first_name,last_name,grade,date_of_birth,external_id,teacher_email,aide_email,"
        "guardian_email,guardian_name,guardian_relationship\n"
        f"Nia,Brown,5,2015-05-05,IMP-{factory.tag}-1,{teacher.email};{provider.email},"
        f"{aide.email},{parent.email},,mother\n"
        f"Omar,Haddad,6,,IMP-{factory.tag}-2,{teacher.email},,{new_parent},Rana Haddad,"
        "grandmother\n"
        'Zoë,"O\'Neil, Jr",K,,,,,,,\n'
    )
    out = run_cli(
        ["import-roster", "--school", str(factory.school_id), write_csv(tmp_path, csv_text)],
        cli_env,
    )
    assert "imported 3 students, 3 caseload links, 1 aide assignments, 1 guardianships" in out
    students = sql.execute(
        "SELECT first_name, last_name, grade, external_id FROM student WHERE school_id = %s ORDER BY id",
        (factory.school_id,),
    ).fetchall()
    assert [s[:3] for s in students] == [
        ("Nia", "Brown", "5"),
        ("Omar", "Haddad", "6"),
        ("Zoë", "O'Neil, Jr", "K"),
    ]
    scope = sql.execute(
        "SELECT count(*) FROM tandem_student_scope(%s, %s, 'aide', now())",
        (aide.id, factory.school_id),
    ).fetchone()
    assert scope == (1,)
    rel = sql.execute(
        "SELECT relationship FROM guardianship WHERE parent_id = %s", (parent.id,)
    ).fetchone()
    assert rel == ("mother",)
    assert use_link(base_url, link_in(out, base_url)) == (303, "/parent")
    # The guardian who had no account yet keeps the relationship the roster named.
    invited = sql.execute(
        """SELECT g.relationship FROM guardianship g JOIN app_user u ON u.id = g.parent_id
            WHERE lower(u.email) = lower(%s)""",
        (new_parent,),
    ).fetchall()
    assert invited == [("grandmother",)]


def test_import_roster_with_bad_rows_reports_each_and_imports_nothing(
    cli_env: dict[str, str], factory: Factory, sql: psycopg.Connection[Any], tmp_path: Path
) -> None:
    factory.user("admin")
    teacher = factory.user("teacher")
    aide = factory.user("aide")
    existing = factory.one(
        "INSERT INTO student (school_id, first_name, last_name, external_id) "
        "VALUES (%s, 'Old', 'Student', %s) RETURNING id",
        factory.school_id,
        f"OLD-{factory.tag}",
    )
    assert existing
    csv_text = (
        "first_name,last_name,date_of_birth,external_id,teacher_email,aide_email,guardian_email\n"
        f"Good,Row,2016-01-01,G-{factory.tag},{teacher.email},{aide.email},\n"  # row 2: fine
        ",Nofirst,,,,,\n"  # row 3
        "Bad,Date,2016-02-30,,,,\n"  # row 4
        f"Wrong,Role,,,{aide.email},,\n"  # row 5
        f"Dup,Id,,G-{factory.tag},,,\n"  # row 6
        f"Taken,Id,,OLD-{factory.tag},,,\n"  # row 7
        "Bad,Email,,,,,not-an-email\n"  # row 8
        "Nobody,Here,,,ghost@cli.example,,\n" + "Long," + "x" * 101 + ",,,,,\n"  # row 9  # row 10
    )
    proc = cli_fails(
        ["import-roster", "--school", str(factory.school_id), write_csv(tmp_path, csv_text)],
        cli_env,
    )
    assert proc.returncode == 1
    err = proc.stderr
    assert "nothing was imported" in err
    for expected in (
        "row 3: first_name is required",
        "row 4: date_of_birth '2016-02-30' is not a date",
        f"row 5: teacher_email {aide.email} has the role aide",
        "row 6: external_id",
        f"row 7: external_id 'OLD-{factory.tag}' already exists",
        "row 8: guardian_email 'not-an-email' is not an email",
        "row 9: teacher_email ghost@cli.example has no account here",
        "row 10: last_name must have 1–100 characters",
    ):
        assert expected in err, (expected, err)
    assert "row 2:" not in err
    count = sql.execute(
        "SELECT count(*) FROM student WHERE school_id = %s", (factory.school_id,)
    ).fetchone()
    assert count == (1,)  # only the student that was there before
    links = sql.execute(
        "SELECT count(*) FROM caseload_link WHERE school_id = %s", (factory.school_id,)
    ).fetchone()
    assert links == (0,)


def test_import_roster_refuses_a_wrong_header(
    cli_env: dict[str, str], factory: Factory, tmp_path: Path
) -> None:
    proc = cli_fails(
        [
            "import-roster",
            "--school",
            str(factory.school_id),
            write_csv(tmp_path, "first,last,role\nA,B,admin\n"),
        ],
        cli_env,
    )
    assert proc.returncode == 1
    assert "row 1: missing column(s): first_name, last_name" in proc.stderr
    assert "unknown column(s): first, last, role" in proc.stderr
