"""Operator commands for notifications: `vapid` shows the key every process shares (and
rotates it), `worker --once` sends what is due."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.support.client import ApiClient
from tests.support.factories import Classroom
from tests.support.servers import app_role_url, run_cli


def test_vapid_shows_the_shared_key_and_rotation_drops_subscriptions(
    database_url: str, client_for: Any, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    parent: ApiClient = client_for(classroom.parent)
    served = parent.get("/api/push/key").json()["public_key"]
    shown = (
        run_cli(["vapid"], {"DATABASE_URL": app_role_url(database_url)}).strip().splitlines()[-1]
    )
    assert shown == served
    sql.execute(
        """INSERT INTO push_subscription (school_id, user_id, endpoint, p256dh, auth)
           VALUES (%s, %s, 'https://fcm.googleapis.com/fcm/send/cli-test', %s, %s)""",
        (classroom.parent.school_id, classroom.parent.id, "B" + "A" * 86, "A" * 22),
    )
    rotated = (
        run_cli(["vapid", "--rotate"], {"DATABASE_URL": app_role_url(database_url)})
        .strip()
        .splitlines()[-1]
    )
    assert rotated != served
    assert parent.get("/api/push/key").json()["public_key"] == rotated  # every process agrees
    left = sql.execute("SELECT count(*) FROM push_subscription").fetchone()
    assert left is not None
    assert left[0] == 0  # bound to the old key: useless now


def test_worker_once_processes_what_is_due(
    database_url: str, classroom: Classroom, sql: psycopg.Connection[Any]
) -> None:
    sql.execute(
        """INSERT INTO notification (id, school_id, user_id, student_id, kind, ref_id)
           VALUES (gen_random_uuid(), %s, %s, %s, 'progress_note', 'cli-worker-test')""",
        (classroom.student.school_id, classroom.parent.id, classroom.student.id),
    )
    out = run_cli(["worker", "--once"], {"DATABASE_URL": app_role_url(database_url)})
    assert "processed" in out
    row = sql.execute(
        "SELECT status, scheduled, last_error FROM notification WHERE ref_id = 'cli-worker-test'"
    ).fetchone()
    assert row == ("dropped", True, "no push subscription")
