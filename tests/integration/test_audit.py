"""The audit log: reads and writes of student records leave a row, refusals too, and
the application's own database connection cannot rewrite history."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.support.factories import Classroom
from tests.support.servers import AppServer

HTML = {"accept": "text/html"}


def audit_rows(sql: psycopg.Connection[Any], actor_id: int) -> list[dict[str, Any]]:
    cur = sql.execute(
        """SELECT school_id, actor_id, actor_role, student_id, record_type, record_id, action,
                  request_id, detail, at
             FROM audit_log WHERE actor_id = %s ORDER BY id""",
        (actor_id,),
    )
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_viewing_an_iep_is_audited(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    assert teacher.get(f"/teacher/students/{classroom.student.id}", headers=HTML).status_code == 200
    assert teacher.get(f"/api/students/{classroom.student.id}").status_code == 200
    reads = [r for r in audit_rows(sql, classroom.teacher.id) if r["action"] == "read"]
    assert len(reads) == 2
    for row in reads:
        assert row["record_type"] == "iep"
        assert row["record_id"] == str(classroom.student.iep_id)
        assert row["student_id"] == classroom.student.id
        assert row["actor_role"] == "teacher"
        assert row["school_id"] == classroom.teacher.school_id
        assert row["request_id"]  # ties the row to one request
        assert row["at"] is not None
    assert reads[0]["request_id"] != reads[1]["request_id"]
    # An aide's read is recorded the same way, with the aide's role.
    aide = client_for(classroom.aide)
    assert aide.get(f"/api/students/{classroom.student.id}").status_code == 200
    (aide_read,) = [r for r in audit_rows(sql, classroom.aide.id) if r["action"] == "read"]
    assert (aide_read["actor_role"], aide_read["student_id"]) == ("aide", classroom.student.id)


def test_editing_a_goal_is_audited_in_the_same_transaction(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    goal_id = classroom.student.goals["trials"]
    r = teacher.patch(f"/api/goals/{goal_id}", json={"target": "9/10", "home_practice": True})
    assert r.status_code == 200
    (edit,) = [r for r in audit_rows(sql, classroom.teacher.id) if r["record_type"] == "goal"]
    assert edit["action"] == "update"
    assert edit["record_id"] == str(goal_id)
    assert edit["student_id"] == classroom.student.id
    assert sorted(edit["detail"]["fields"]) == ["home_practice", "target"]
    # A refused edit (closed IEP) changes nothing and logs no change either.
    sql.execute("UPDATE iep SET status = 'closed' WHERE id = %s", (classroom.student.iep_id,))
    assert teacher.patch(f"/api/goals/{goal_id}", json={"target": "10/10"}).status_code == 409
    updates = [
        r
        for r in audit_rows(sql, classroom.teacher.id)
        if r["record_type"] == "goal" and r["action"] == "update"
    ]
    assert len(updates) == 1
    # Form edits are audited too.
    sql.execute("UPDATE iep SET status = 'active' WHERE id = %s", (classroom.student.iep_id,))
    r = teacher.post(f"/teacher/goals/{goal_id}/active", data={"active": "false"}, headers=HTML)
    assert r.status_code in (302, 303)
    assert audit_rows(sql, classroom.teacher.id)[-1]["action"] == "deactivate"


def test_a_denied_out_of_scope_read_is_audited(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    aide = client_for(classroom.aide)
    other = classroom.other
    assert aide.get(f"/api/students/{other.id}").status_code == 404
    assert aide.get(f"/teacher/students/{other.id}", headers=HTML).status_code == 404
    teacher = client_for(classroom.teacher)
    assert (
        teacher.patch(f"/api/goals/{other.goals['trials']}", json={"target": "x"}).status_code
        == 404
    )
    denied = [r for r in audit_rows(sql, classroom.aide.id) if r["action"] == "denied"]
    assert len(denied) == 2
    for row in denied:
        assert row["record_type"] == "student"
        assert row["record_id"] == str(other.id)
        assert row["detail"]["attempted"] == "read"
        assert row["actor_role"] == "aide"
    (write,) = [r for r in audit_rows(sql, classroom.teacher.id) if r["action"] == "denied"]
    assert (write["record_type"], write["record_id"]) == ("goal", str(other.goals["trials"]))
    assert write["detail"]["attempted"] == "update"
    assert write["student_id"] == other.id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET action = 'nothing happened' WHERE id = (SELECT max(id) FROM audit_log)",
        "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)",
        "TRUNCATE audit_log",
    ],
)
@pytest.mark.parametrize("who", ["app", "owner"])
def test_neither_the_app_nor_the_owner_can_update_delete_or_truncate_the_audit_log(
    statement: str,
    who: str,
    app_server: AppServer,
    database_url: str,
    client_for: Any,
    classroom: Classroom,
) -> None:
    # Make sure there is a row to tamper with, through the app itself.
    assert (
        client_for(classroom.teacher).get(f"/api/students/{classroom.student.id}").status_code
        == 200
    )
    # The very URL the running app uses: it has no such privilege. The owner has, and
    # the triggers stop it (by mistake; an owner could drop them, see test_db_roles.py).
    url, refusal = (
        (app_server.database_url, "permission denied for table audit_log")
        if who == "app"
        else (database_url, "append-only")
    )
    with psycopg.connect(url, autocommit=True) as conn:
        before = conn.execute("SELECT count(*), max(id) FROM audit_log").fetchone()
        last = conn.execute(
            "SELECT action FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)"
        ).fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=refusal):
            conn.execute(statement)
        assert conn.execute("SELECT count(*), max(id) FROM audit_log").fetchone() == before
        assert (
            conn.execute(
                "SELECT action FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)"
            ).fetchone()
            == last
        )
