"""Messages both ways: a new message notifies the other side by push, read receipts,
staff see which guardians have not read a message."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from tests.integration.test_push import (  # the push fixtures, shared
    clients,
    push_app,
    push_service,
    run_worker,
    subscribe,
)
from tests.support.client import ApiClient
from tests.support.factories import Classroom, Factory, User
from tests.support.push_service import PushService

__all__ = ["clients", "push_app", "push_service"]

PAGE = {"accept": "text/html"}


def open_thread(teacher: ApiClient, room: Classroom) -> int:
    r = teacher.post(f"/messages/students/{room.student.id}", data={}, headers=PAGE)
    assert r.status_code in (302, 303), r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def test_messages_notify_the_other_side_by_push(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    room = factory.classroom()
    parent_sub, teacher_sub = push_service.new_subscription(), push_service.new_subscription()
    parent, teacher = clients(room.parent), clients(room.teacher)
    subscribe(parent, parent_sub)
    subscribe(teacher, teacher_sub)
    thread = open_thread(teacher, room)
    assert open_thread(teacher, room) == thread  # one conversation per student
    r = teacher.post(
        f"/messages/{thread}", data={"body": "Maya read 20 words today!"}, headers=PAGE
    )
    assert r.status_code in (302, 303)
    run_worker(database_url, push_service)
    [to_parent] = push_service.wait_for(parent_sub, 1)
    assert to_parent.payload is not None
    assert to_parent.payload["title"] == "New message"
    assert to_parent.payload["body"] == "You have a new message about Maya."
    assert to_parent.payload["url"] == f"/app/messages/{thread}"
    assert "20 words" not in json.dumps(to_parent.payload)
    assert push_service.received_for(teacher_sub) == []  # not told about their own message

    r = parent.post(
        f"/parent/messages/{thread}",
        data={"body": "Thank you! <svg onload=alert(1)>"},
        headers=PAGE,
    )
    assert r.status_code in (302, 303)
    run_worker(database_url, push_service)
    [to_teacher] = push_service.wait_for(teacher_sub, 1)
    assert to_teacher.payload is not None
    assert to_teacher.payload["url"] == f"/messages/{thread}"
    aide_row = sql.execute(
        "SELECT count(*) FROM notification WHERE user_id = %s AND kind = 'message'", (room.aide.id,)
    ).fetchone()
    assert aide_row is not None
    assert aide_row[0] == 2  # the aide is on the team: told of both messages
    page = teacher.get(f"/messages/{thread}", headers=PAGE).text
    assert "Thank you! &lt;svg onload=alert(1)&gt;" in page


def test_read_receipts_both_ways(
    client_for: Any, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    room = factory.classroom()
    mom = factory.user("parent", name="Mom Example")
    factory.guardian(mom, room.student)
    teacher = client_for(room.teacher)
    thread = open_thread(teacher, room)
    teacher.post(f"/messages/{thread}", data={"body": "Field trip on Friday"}, headers=PAGE)
    page = teacher.get(f"/messages/{thread}", headers=PAGE).text
    assert f"Not read yet by {mom.name}, {room.parent.name}." in page
    receipts = teacher.get(f"/api/messages/threads/{thread}/receipts").json()
    assert len(receipts) == 1
    assert sorted(receipts[0]["unread_by"]) == sorted([mom.name, room.parent.name])
    # One parent reads it on the page (which posts the receipt once in view), the other
    # through the app's API. Fetching the page alone records nothing.
    parent = client_for(room.parent)
    assert "Field trip on Friday" in parent.get(f"/parent/messages/{thread}", headers=PAGE).text
    receipts = teacher.get(f"/api/messages/threads/{thread}/receipts").json()
    assert sorted(receipts[0]["unread_by"]) == sorted([mom.name, room.parent.name])
    assert parent.post(f"/api/messages/threads/{thread}/read").json() == {
        "thread_id": thread,
        "marked": 1,
    }
    message_id = receipts[0]["id"]
    mom_client = client_for(mom)
    assert mom_client.post(f"/api/messages/{message_id}/read").json() == {
        "message_id": message_id,
        "read": True,
    }
    assert mom_client.post(f"/api/messages/{message_id}/read").status_code == 200  # idempotent
    receipts = teacher.get(f"/api/messages/threads/{thread}/receipts").json()
    assert receipts[0]["unread_by"] == []
    assert sorted(receipts[0]["read_by"]) == sorted([mom.name, room.parent.name])
    assert "Read by" in teacher.get(f"/messages/{thread}", headers=PAGE).text
    # A parent of another child cannot mark it, nor learn it exists.
    stranger = Factory(sql, school_id=room.student.school_id).user("parent")
    assert client_for(stranger).post(f"/api/messages/{message_id}/read").status_code == 404
    assert client_for(stranger).post(f"/api/messages/{uuid.uuid4()}/read").status_code == 404


def test_staff_send_needs_the_student_in_scope(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    row = sql.execute(
        "INSERT INTO message_thread (school_id, student_id, subject, created_by) "
        "VALUES (%s, %s, 'Noah', %s) RETURNING id",
        (classroom.other.school_id, classroom.other.id, classroom.admin.id),
    ).fetchone()
    assert row is not None
    aide = client_for(classroom.aide)
    assert aide.post(f"/messages/{row[0]}", data={"body": "hi"}, headers=PAGE).status_code == 404
    assert aide.post(f"/messages/{row[0]}", data={"body": ""}, headers=PAGE).status_code == 400
    count = sql.execute("SELECT count(*) FROM message WHERE thread_id = %s", (row[0],)).fetchone()
    assert count is not None
    assert count[0] == 0


def test_opening_a_thread_page_records_no_read_only_its_post_does(
    client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    teacher, parent = client_for(classroom.teacher), client_for(classroom.parent)
    thread = open_thread(teacher, classroom)
    parent.post(f"/parent/messages/{thread}", data={"body": "Is Friday on?"}, headers=PAGE)
    teacher.post(f"/messages/{thread}", data={"body": "Yes"}, headers=PAGE)

    def reads(user: User) -> int:
        row = sql.execute(
            "SELECT count(*) FROM message_read WHERE user_id = %s", (user.id,)
        ).fetchone()
        assert row is not None
        return int(row[0])

    page = teacher.get(f"/messages/{thread}", headers=PAGE).text
    assert f'data-read-receipt="/api/messages/threads/{thread}/read"' in page
    assert '<script type="module" src="/static/js/read-receipt.js"></script>' in page
    assert parent.get(f"/parent/messages/{thread}", headers=PAGE).status_code == 200
    assert (reads(classroom.teacher), reads(classroom.parent)) == (0, 0)
    assert teacher.post(f"/api/messages/threads/{thread}/read").json()["marked"] == 1
    assert parent.post(f"/api/messages/threads/{thread}/read").json()["marked"] == 1
    assert (reads(classroom.teacher), reads(classroom.parent)) == (1, 1)
    # Someone who may not see the thread: 404, nothing marked, the refusal audited.
    stranger = Factory(sql, school_id=classroom.student.school_id).user("aide")
    assert client_for(stranger).post(f"/api/messages/threads/{thread}/read").status_code == 404
    assert reads(stranger) == 0
    [row] = sql.execute(
        "SELECT record_type, record_id, student_id, detail FROM audit_log "
        "WHERE actor_id = %s AND action = 'denied'",
        (stranger.id,),
    ).fetchall()
    assert row == (
        "message_thread",
        str(thread),
        classroom.student.id,
        {"attempted": "mark_read", "reason": "out_of_scope"},
    )
