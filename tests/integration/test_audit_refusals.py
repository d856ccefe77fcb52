"""Refused requests and list pages leave an audit row (issue "Close every hole", point 4).

A refusal (404 out of scope, 403 for a role that may not act) on a review decision, on
marking a message read and on publishing a note is audited, also when the refused work
ran inside a transaction that was rolled back. Pages that list students (names, dates
of birth) write one row per view with the ids shown.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from tests.access.review import make_session, observe, trials
from tests.integration.test_audit import audit_rows
from tests.support.factories import Classroom, Factory

PAGE = {"accept": "text/html"}


def denied(sql: psycopg.Connection[Any], actor_id: int) -> list[dict[str, Any]]:
    return [r for r in audit_rows(sql, actor_id) if r["action"] == "denied"]


def test_refused_review_decisions_are_audited(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    other, aide = classroom.other, classroom.aide
    session = make_session(sql, other, aide)
    [entry] = trials(sql, session, other, aide, [("correct", "verbal")])
    approved = make_session(sql, other, aide, status="approved")
    proposed = observe(
        sql, approved, other, aide, "trial", goal="trials", outcome="correct",
        prompt="independent", state="proposed",
    )  # fmt: skip
    teacher = client_for(classroom.teacher)  # Noah is not on this teacher's caseload
    attempts = [
        (f"/teacher/review/sessions/{session}/reject", {"reason": "x"}, "data_session", session),
        (
            f"/teacher/review/entries/{entry}/correct",
            {"reason": "x", "outcome": "incorrect"},
            "observation",
            entry,
        ),
        (f"/teacher/review/entries/{proposed}/accept", {}, "observation", proposed),
        (f"/teacher/review/entries/{proposed}/decline", {}, "observation", proposed),
    ]
    for url, form, _, _ in attempts:
        assert teacher.post(url, data=form, headers=PAGE).status_code == 404, url
    rows = denied(sql, classroom.teacher.id)
    assert [(r["record_type"], r["record_id"]) for r in rows] == [
        (kind, str(record)) for _, _, kind, record in attempts
    ]
    assert [r["detail"]["attempted"] for r in rows] == [
        "reject",
        "correct",
        "accept_correction",
        "decline_correction",
    ]
    for row in rows:
        assert row["detail"]["reason"] == "out_of_scope"
        assert (row["actor_role"], row["student_id"]) == ("teacher", other.id)
        assert row["request_id"]
    # Nothing changed.
    status = sql.execute("SELECT review_status FROM data_session WHERE id = %s", (session,))
    assert status.fetchone() == ("pending",)
    state = sql.execute("SELECT state FROM observation WHERE id = %s", (proposed,)).fetchone()
    assert state == ("proposed",)

    # Roles that may not review at all: 403, audited with the role as the reason.
    mine = make_session(sql, classroom.student, aide)
    for user in (classroom.aide, classroom.parent):
        client = client_for(user)
        r = client.post(f"/teacher/review/sessions/{mine}/reject", data={"reason": "x"})
        assert r.status_code == 403
        r = client.post(f"/teacher/review/entries/{entry}/accept", data={})
        assert r.status_code == 403
        r = client.post(f"/teacher/review/students/{classroom.student.id}/notes", data={})
        assert r.status_code == 403
        rows = denied(sql, user.id)
        assert [(r["record_type"], r["record_id"], r["detail"]) for r in rows] == [
            ("data_session", str(mine), {"attempted": "reject", "reason": "role"}),
            ("observation", str(entry), {"attempted": "accept_correction", "reason": "role"}),
            (
                "student",
                str(classroom.student.id),
                {"attempted": "disclose", "reason": "role"},
            ),
        ]
        assert {r["actor_role"] for r in rows} == {user.role}


def test_refused_note_for_another_schools_student_is_audited(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    elsewhere = Factory(sql).student("Zed")
    session = make_session(sql, elsewhere, Factory(sql, school_id=elsewhere.school_id).user("aide"))
    for user in (classroom.teacher, classroom.admin):
        r = client_for(user).post(
            f"/teacher/review/students/{elsewhere.id}/notes",
            data={"session_id": str(session)},
            headers=PAGE,
        )
        assert r.status_code == 404
        [row] = denied(sql, user.id)
        assert (row["record_type"], row["record_id"]) == ("progress_note", str(elsewhere.id))
        assert row["detail"]["attempted"] == "disclose"
        assert row["detail"]["reason"] == "out_of_scope"
        assert row["school_id"] == classroom.teacher.school_id
    count = sql.execute("SELECT count(*) FROM progress_note WHERE student_id = %s", (elsewhere.id,))
    assert count.fetchone() == (0,)


def test_a_refused_read_receipt_is_audited(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher = client_for(classroom.teacher)
    r = teacher.post(f"/messages/students/{classroom.student.id}", data={}, headers=PAGE)
    thread = int(r.headers["location"].rsplit("/", 1)[1])
    teacher.post(f"/messages/{thread}", data={"body": "Field trip on Friday"}, headers=PAGE)
    [message_id] = teacher.get(f"/api/messages/threads/{thread}/receipts").json()
    stranger = Factory(sql, school_id=classroom.student.school_id).user("parent")
    client = client_for(stranger)
    unknown = uuid.uuid4()
    assert client.post(f"/api/messages/{message_id['id']}/read").status_code == 404
    assert client.post(f"/api/messages/{unknown}/read").status_code == 404
    rows = denied(sql, stranger.id)
    assert [(r["record_type"], r["record_id"], r["student_id"]) for r in rows] == [
        ("message", message_id["id"], classroom.student.id),
        ("message", str(unknown), None),
    ]
    assert {r["detail"]["attempted"] for r in rows} == {"mark_read"}
    reads = sql.execute(
        "SELECT count(*) FROM message_read WHERE user_id = %s", (stranger.id,)
    ).fetchone()
    assert reads == (0,)


def test_pages_that_list_students_are_audited_once_per_view(
    client_for: Any, classroom: Classroom, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    archived = factory.student("Old")
    sql.execute("UPDATE student SET archived_at = now() WHERE id = %s", (archived.id,))
    mine, other = classroom.student.id, classroom.other.id
    teacher = client_for(classroom.teacher)
    r = teacher.post(f"/messages/students/{mine}", data={}, headers=PAGE)
    assert r.status_code in (302, 303)
    views = [
        (classroom.teacher, "/messages", [mine]),
        (classroom.aide, "/messages", [mine]),
        (classroom.parent, "/parent", [mine]),
        (classroom.parent, "/parent/messages", [mine]),
        (classroom.admin, "/admin/students", sorted([mine, other, archived.id])),
        (classroom.admin, "/api/admin/students", sorted([mine, other, archived.id])),
        (classroom.admin, "/admin/invitations", sorted([mine, other])),
    ]
    for user, page, shown in views:
        client = teacher if user is classroom.teacher else client_for(user)
        before = len(audit_rows(sql, user.id))
        assert client.get(page, headers=PAGE).status_code == 200, page
        [row] = [r for r in audit_rows(sql, user.id)[before:] if r["action"] == "list"]
        assert row["record_type"] == "students"
        assert row["detail"] == {"page": page, "student_ids": shown}, page
        assert (row["actor_role"], row["school_id"]) == (user.role, classroom.student.school_id)
        assert row["request_id"]
    # The admin's home shows counts only: no list to audit.
    admin = client_for(classroom.admin)
    before = len(audit_rows(sql, classroom.admin.id))
    assert admin.get("/admin", headers=PAGE).status_code == 200
    assert audit_rows(sql, classroom.admin.id)[before:] == []
