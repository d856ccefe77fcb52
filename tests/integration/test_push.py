"""Web Push end to end against the local push service (tests/support/push_service.py),
which verifies every VAPID signature and really decrypts every payload.

The app under test runs in its own process with the local service allowed
(push_allow_insecure_local + its host:port in push_allowed_hosts); the worker runs here,
driven with an injected "now" so quiet hours, digests, leases and Retry-After are
tested without waiting.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
import psycopg
import pytest

from server.notify.runner import build_worker
from server.notify.worker import NotificationWorker
from server.settings import load_settings
from tests.access.review import make_session, trials
from tests.support.client import ApiClient
from tests.support.factories import Classroom, Factory, User
from tests.support.notes import publish_form
from tests.support.push_service import Behaviour, LocalSubscription, PushService
from tests.support.servers import AppServer, app_role_url


class Killed(BaseException):
    """Stands for SIGKILL at a chosen point of the worker (not caught by it)."""


@pytest.fixture(scope="module")
def push_service() -> Iterator[PushService]:
    service = PushService(hang_s=5).start()
    yield service
    service.stop()


@pytest.fixture(scope="module")
def push_app(database_url: str, push_service: PushService) -> Iterator[AppServer]:
    server = AppServer(
        database_url,
        extra_env={
            "TANDEM_PUSH_ALLOWED_HOSTS": f"{push_service.host_entry},fcm.googleapis.com",
            "TANDEM_PUSH_ALLOW_INSECURE_LOCAL": "1",
        },
    ).start()
    with ApiClient(server.base_url) as c:
        # The service checks every token against the app's own key.
        c.login(Factory_admin_email(database_url))
        push_service.expected_vapid_key = c.get("/api/push/key").json()["public_key"]
    yield server
    server.stop()


def Factory_admin_email(database_url: str) -> str:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return Factory(conn).user("admin").email


def run_worker(
    database_url: str,
    push_service: PushService,
    *,
    now: datetime | None = None,
    failpoint: Callable[[str, str], None] | None = None,
    workers: int = 1,
    timeout_s: float = 1.0,
) -> int:
    """Run `workers` workers concurrently until nothing is due; returns rows claimed."""
    settings = msgspec.structs.replace(
        load_settings(),
        push_allowed_hosts=(push_service.host_entry,),
        push_allow_insecure_local=True,
        push_timeout_seconds=timeout_s,
    )

    async def go() -> int:
        # As the app role, as the worker command runs.
        pool = await asyncpg.create_pool(
            app_role_url(database_url), min_size=1, max_size=4 * workers
        )
        made: list[NotificationWorker] = []
        try:
            for _ in range(workers):
                made.append(
                    await build_worker(
                        pool,
                        settings,
                        now=(lambda: now) if now else (lambda: datetime.now(UTC)),
                        failpoint=failpoint,
                        batch_size=5,
                    )
                )
            counts = await asyncio.gather(*(w.run_until_idle() for w in made))
            return sum(counts)
        finally:
            for w in made:
                await w.sender.aclose()
            await pool.close()

    # In its own thread: browser tests call this with Playwright's loop running here.
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["claimed"] = asyncio.run(go())
        except BaseException as exc:  # Killed included: re-raised in the caller
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return int(outcome["claimed"])


def subscribe(client: ApiClient, sub: LocalSubscription) -> None:
    r = client.post("/api/push/subscriptions", json=sub.as_json())
    assert r.status_code == 201, r.text


def publish_note(
    sql: psycopg.Connection[Any], teacher: ApiClient, room: Classroom, comment: str = ""
) -> int:
    """An aide's session, approved and published by the teacher through the pages."""
    sid = make_session(sql, room.student, room.aide)
    trials(sql, sid, room.student, room.aide, [("correct", "independent"), ("incorrect", "verbal")])
    r = teacher.post("/teacher/review/approve", data={"session_id": str(sid)})
    assert r.status_code in (302, 303), r.text
    r = publish_form(teacher, room.student.id, [sid], comment)
    assert r.status_code in (302, 303), r.text
    note_id = sql.execute(
        "SELECT id FROM progress_note WHERE student_id = %s ORDER BY id DESC LIMIT 1",
        (room.student.id,),
    ).fetchone()
    assert note_id is not None
    return int(note_id[0])


def notification(
    sql: psycopg.Connection[Any], user: User, kind: str = "progress_note"
) -> dict[str, Any]:
    cur = sql.execute(
        "SELECT * FROM notification WHERE user_id = %s AND kind = %s ORDER BY created_at DESC LIMIT 1",
        (user.id, kind),
    )
    row = cur.fetchone()
    assert row is not None, "no notification queued"
    assert cur.description is not None
    return dict(zip([d.name for d in cur.description], row, strict=True))


def subscriptions(sql: psycopg.Connection[Any], user: User) -> int:
    row = sql.execute(
        "SELECT count(*) FROM push_subscription WHERE user_id = %s", (user.id,)
    ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def room(factory: Factory) -> Classroom:
    return factory.classroom()


@pytest.fixture
def clients(push_app: AppServer) -> Iterator[Callable[[User], ApiClient]]:
    made: list[ApiClient] = []

    def make(user: User) -> ApiClient:
        c = ApiClient(push_app.base_url)
        c.login(user.email)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


# -- keys and subscriptions -------------------------------------------------------------


def test_vapid_key_is_shared_by_every_process(
    push_app: AppServer, base_url: str, room: Classroom, sql: psycopg.Connection[Any]
) -> None:
    keys = set()
    for url in (push_app.base_url, base_url):
        with ApiClient(url) as c:
            c.login(room.parent.email)
            keys.add(c.get("/api/push/key").json()["public_key"])
    assert len(keys) == 1
    stored = sql.execute("SELECT value FROM app_secret WHERE name = 'vapid_private_key'").fetchone()
    assert stored is not None
    from server.notify.vapid import public_key_text

    assert public_key_text(stored[0]) == keys.pop()


@pytest.mark.parametrize(
    ("endpoint", "why"),
    [
        ("http://fcm.googleapis.com/fcm/send/abc", "HTTPS"),
        ("https://127.0.0.1/push/abc", "known push service"),
        ("https://169.254.169.254/latest/meta-data", "known push service"),
        ("http://localhost:5432/", "HTTPS"),
        ("http://127.0.0.1:5432/push", "HTTPS"),
        ("https://evil.example/push", "known push service"),
        ("https://user:pw@fcm.googleapis.com/x", "credentials"),
    ],
)
def test_subscribe_refuses_unsafe_endpoints(
    clients: Callable[[User], ApiClient],
    room: Classroom,
    push_service: PushService,
    endpoint: str,
    why: str,
) -> None:
    parent = clients(room.parent)
    body = push_service.new_subscription().as_json()
    body["endpoint"] = endpoint
    r = parent.post("/api/push/subscriptions", json=body)
    assert r.status_code == 400
    assert why in r.json()["detail"]


def test_subscribe_checks_key_lengths_and_fields(
    clients: Callable[[User], ApiClient], room: Classroom, push_service: PushService
) -> None:
    import base64

    parent = clients(room.parent)
    good = push_service.new_subscription().as_json()
    short_point = base64.urlsafe_b64encode(b"\x04" + b"\x01" * 63).rstrip(b"=").decode()
    short_auth = base64.urlsafe_b64encode(b"\x01" * 15).rstrip(b"=").decode()
    for keys, why in (
        ({**good["keys"], "p256dh": short_point}, "65-byte"),
        ({**good["keys"], "auth": short_auth}, "16 bytes"),
    ):
        r = parent.post("/api/push/subscriptions", json={**good, "keys": keys})
        assert r.status_code == 400
        assert why in r.json()["detail"]
    r = parent.post("/api/push/subscriptions", json={**good, "user_id": room.teacher.id})
    assert r.status_code == 400
    assert parent.post("/api/push/subscriptions", json=good).status_code == 201


# 65 bytes in the uncompressed form, but (1, 1) is not on the P-256 curve.
OFF_CURVE_P256DH = base64.urlsafe_b64encode(b"\x04" + b"\x01" * 64).rstrip(b"=").decode()


def test_subscribe_refuses_a_p256dh_that_is_not_a_curve_point(
    clients: Callable[[User], ApiClient],
    room: Classroom,
    push_service: PushService,
    sql: psycopg.Connection[Any],
) -> None:
    parent = clients(room.parent)
    body = push_service.new_subscription().as_json()
    body["keys"]["p256dh"] = OFF_CURVE_P256DH
    r = parent.post("/api/push/subscriptions", json=body)
    assert r.status_code == 400
    assert "not a point on the P-256 curve" in r.json()["detail"]
    assert subscriptions(sql, room.parent) == 0


def test_a_stored_key_off_the_curve_is_refused_at_send_not_retried(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    # A subscription stored before subscribe checked the curve.
    room, sub = _queued_note(clients, factory, sql, push_service)
    sql.execute(
        "UPDATE push_subscription SET p256dh = %s WHERE endpoint = %s",
        (OFF_CURVE_P256DH, sub.endpoint),
    )
    run_worker(database_url, push_service)
    row = notification(sql, room.parent)
    assert (row["status"], row["attempts"]) == ("dropped", 1)
    assert subscriptions(sql, room.parent) == 0
    assert push_service.received_for(sub) == []


def test_a_row_that_used_up_its_attempts_is_never_claimed_again(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    from server.notify.worker import MAX_ATTEMPTS

    # Its last worker died holding the lease (or failed before marking it).
    room, sub = _queued_note(clients, factory, sql, push_service)
    sql.execute(
        """UPDATE notification SET attempts = %s, leased_by = 'a dead worker',
                  lease_until = now() - interval '1 minute'
            WHERE user_id = %s""",
        (MAX_ATTEMPTS, room.parent.id),
    )
    run_worker(database_url, push_service)
    run_worker(database_url, push_service, now=datetime.now(UTC) + timedelta(hours=1))
    assert push_service.received_for(sub) == []
    row = notification(sql, room.parent)
    assert (row["status"], row["attempts"]) == ("dropped", MAX_ATTEMPTS)
    assert f"gave up after {MAX_ATTEMPTS} attempts" in row["last_error"]


# -- the happy path ---------------------------------------------------------------------


def test_note_push_is_signed_encrypted_sent_once_and_says_nothing_private(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    room = factory.classroom()
    sql.execute("UPDATE app_user SET language = 'es' WHERE id = %s", (room.parent.id,))
    sub = push_service.new_subscription()
    subscribe(clients(room.parent), sub)
    note_id = publish_note(sql, clients(room.teacher), room, comment="Maya read 20 words today")
    queued = notification(sql, room.parent)
    assert queued["status"] == "queued"  # committed with the note, sent after commit
    assert queued["ref_id"] == str(note_id)

    run_worker(database_url, push_service)
    got = push_service.wait_for(sub, 1)
    assert len(got) == 1
    push = got[0]
    assert push.error is None
    assert push.status == 201
    assert push.vapid_key == push_service.expected_vapid_key
    assert push.claims is not None
    assert push.claims["aud"] == push_service.origin
    assert push.payload == {
        "id": queued["id"].hex,
        "title": "Nueva nota de progreso",
        "body": "El equipo docente de Maya compartió una novedad.",
        "url": f"/parent/notes/{note_id}",
    }
    raw = json.dumps(push.payload)
    assert room.student.last_name not in raw
    assert "20 words" not in raw
    assert push.topic == queued["id"].hex  # retries queued at the push service replace each other
    assert int(push.headers["ttl"]) > 0
    assert push.headers["urgency"] in ("normal", "high")
    assert notification(sql, room.parent)["status"] == "sent"

    run_worker(database_url, push_service)  # nothing due: never sent twice
    assert len(push_service.received_for(sub)) == 1


# -- what the push service answers ------------------------------------------------------


def _queued_note(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    *behaviours: Behaviour,
) -> tuple[Classroom, LocalSubscription]:
    room = factory.classroom()
    sub = push_service.new_subscription()
    subscribe(clients(room.parent), sub)
    push_service.respond(sub, *behaviours)
    publish_note(sql, clients(room.teacher), room)
    return room, sub


@pytest.mark.parametrize("status", [404, 410])
def test_expired_subscription_is_deleted(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
    status: int,
) -> None:
    room, sub = _queued_note(clients, factory, sql, push_service, Behaviour(status))
    run_worker(database_url, push_service)
    assert [r.status for r in push_service.received_for(sub)] == [status]
    assert subscriptions(sql, room.parent) == 0
    assert notification(sql, room.parent)["status"] == "dropped"


def test_429_waits_for_retry_after_then_delivers(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    room, sub = _queued_note(clients, factory, sql, push_service, Behaviour(429, retry_after="120"))
    now = datetime.now(UTC)
    run_worker(database_url, push_service, now=now)
    row = notification(sql, room.parent)
    assert row["status"] == "queued"
    assert timedelta(seconds=119) <= row["not_before"] - now <= timedelta(seconds=121)
    run_worker(database_url, push_service, now=now + timedelta(seconds=60))
    assert len(push_service.received_for(sub)) == 1  # not before Retry-After
    run_worker(database_url, push_service, now=now + timedelta(seconds=125))
    assert [r.status for r in push_service.received_for(sub)] == [429, 201]
    assert notification(sql, room.parent)["status"] == "sent"
    assert subscriptions(sql, room.parent) == 1


def test_413_gives_up_on_the_message_but_keeps_the_subscription(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    room, _sub = _queued_note(clients, factory, sql, push_service, Behaviour(413))
    run_worker(database_url, push_service)
    row = notification(sql, room.parent)
    assert row["status"] == "dropped"
    assert "413" in row["last_error"]
    assert subscriptions(sql, room.parent) == 1


def test_a_push_service_that_never_answers_times_out_and_others_go_on(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    slow_room, slow = _queued_note(clients, factory, sql, push_service, Behaviour(hang=True))
    _room, sub = _queued_note(clients, factory, sql, push_service)
    now = datetime.now(UTC)
    run_worker(database_url, push_service, now=now, timeout_s=0.5)
    assert len(push_service.wait_for(sub, 1)) == 1  # delivered despite the hanging one
    row = notification(sql, slow_room.parent)
    assert row["status"] == "queued"
    assert "did not answer" in row["last_error"]
    assert row["not_before"] > now  # retried later, with backoff
    run_worker(database_url, push_service, now=row["not_before"] + timedelta(seconds=1))
    assert notification(sql, slow_room.parent)["status"] == "sent"
    assert [r.status for r in push_service.received_for(slow) if r.status] == [201]


def test_redirect_is_not_followed_and_the_subscription_is_dropped(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    inward = push_service.new_subscription()  # where the redirect points: must never be hit
    room, sub = _queued_note(
        clients, factory, sql, push_service, Behaviour(307, location=inward.endpoint)
    )
    run_worker(database_url, push_service)
    assert [r.status for r in push_service.received_for(sub)] == [307]
    assert push_service.received_for(inward) == []
    assert subscriptions(sql, room.parent) == 0


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:5432/push/x",
        "https://169.254.169.254/latest/meta-data",
        "http://localhost:5432/",
        "https://evil.example/push",
    ],
)
def test_endpoint_is_checked_again_at_send(
    factory: Factory,
    sql: psycopg.Connection[Any],
    clients: Callable[[User], ApiClient],
    push_service: PushService,
    database_url: str,
    endpoint: str,
) -> None:
    room = factory.classroom()
    good = push_service.new_subscription()
    # A row that got past subscribe (older rules, or written by hand).
    sql.execute(
        """INSERT INTO push_subscription (school_id, user_id, endpoint, p256dh, auth)
           VALUES (%s, %s, %s, %s, %s)""",
        (
            room.parent.school_id,
            room.parent.id,
            endpoint + uuid.uuid4().hex,
            good.p256dh,
            good.auth,
        ),
    )
    publish_note(sql, clients(room.teacher), room)
    run_worker(database_url, push_service)
    assert subscriptions(sql, room.parent) == 0
    assert notification(sql, room.parent)["status"] == "dropped"


# -- access at send time ----------------------------------------------------------------


def test_guardian_revoked_after_queueing_gets_nothing_and_loses_subscriptions(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    room, sub = _queued_note(clients, factory, sql, push_service)
    assert notification(sql, room.parent)["status"] == "queued"
    sql.execute(
        "UPDATE guardianship SET revoked = true, revoked_at = now() WHERE parent_id = %s",
        (room.parent.id,),
    )
    run_worker(database_url, push_service)
    assert push_service.received_for(sub) == []
    row = notification(sql, room.parent)
    assert row["status"] == "dropped"
    assert "access" in row["last_error"]
    assert subscriptions(sql, room.parent) == 0


# -- quiet hours and digests ------------------------------------------------------------


def _next_local(hour: int, minute: int = 0, tz: str = "America/Chicago") -> datetime:
    """The next moment after now (a day ahead at least) at hour:minute local time."""
    zone = ZoneInfo(tz)
    day = (datetime.now(zone) + timedelta(days=1)).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)


def test_note_in_quiet_hours_is_sent_after_them(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    room = factory.classroom()
    sql.execute(
        "UPDATE app_user SET quiet_start = '21:00', quiet_end = '07:00', timezone = 'America/Chicago' "
        "WHERE id = %s",
        (room.parent.id,),
    )
    sub = push_service.new_subscription()
    subscribe(clients(room.parent), sub)
    publish_note(sql, clients(room.teacher), room)
    late = _next_local(22, 30)
    run_worker(database_url, push_service, now=late)
    row = notification(sql, room.parent)
    assert push_service.received_for(sub) == []
    assert row["status"] == "queued"
    assert row["not_before"] == _next_local(7, 0) + timedelta(days=1)  # deferred, not dropped
    run_worker(database_url, push_service, now=row["not_before"] - timedelta(minutes=1))
    assert push_service.received_for(sub) == []
    run_worker(database_url, push_service, now=row["not_before"] + timedelta(minutes=1))
    assert len(push_service.wait_for(sub, 1)) == 1
    assert notification(sql, room.parent)["status"] == "sent"


def test_daily_digest_collects_the_days_notes_into_one_push(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    room = factory.classroom()
    sister = factory.student("Lina")
    factory.caseload(room.teacher, sister)
    factory.guardian(room.parent, sister)
    sql.execute(
        "UPDATE app_user SET notify_mode = 'daily', timezone = 'America/Chicago' WHERE id = %s",
        (room.parent.id,),
    )
    sub = push_service.new_subscription()
    subscribe(clients(room.parent), sub)
    teacher = clients(room.teacher)
    publish_note(sql, teacher, room)
    sister_room = Classroom(**{**room.__dict__, "student": sister})
    factory.assign(room.aide, sister)
    publish_note(sql, teacher, sister_room)
    morning = _next_local(10, 0)
    run_worker(database_url, push_service, now=morning)
    rows = sql.execute(
        "SELECT status, not_before, digest, attempts FROM notification WHERE user_id = %s",
        (room.parent.id,),
    ).fetchall()
    assert len(rows) == 2
    assert all(r[0] == "queued" and r[2] for r in rows)
    # Waiting for the digest is not a delivery attempt: it never uses up the cap.
    assert [r[3] for r in rows] == [0, 0]
    assert {r[1] for r in rows} == {_next_local(17, 0)}
    assert push_service.received_for(sub) == []
    run_worker(database_url, push_service, now=_next_local(17, 1))
    got = push_service.wait_for(sub, 1)
    assert len(got) == 1
    assert got[0].payload is not None
    assert got[0].payload["body"] == "You have 2 new updates."
    assert got[0].payload["url"] == "/parent"
    digest_ids = sql.execute(
        "SELECT DISTINCT digest_id, status FROM notification WHERE user_id = %s", (room.parent.id,)
    ).fetchall()
    assert len(digest_ids) == 1
    assert digest_ids[0][1] == "sent"
    assert digest_ids[0][0].hex == got[0].topic == got[0].payload["id"]


# -- crashes and several workers --------------------------------------------------------


def _die_at(point: str) -> Callable[[str, str], None]:
    def failpoint(name: str, _nid: str) -> None:
        if name == point:
            raise Killed(name)

    return failpoint


def test_worker_killed_after_201_and_recording_does_not_send_twice(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    room, sub = _queued_note(clients, factory, sql, push_service)
    now = datetime.now(UTC)
    with pytest.raises(Killed):
        run_worker(
            database_url, push_service, now=now, failpoint=_die_at("after_delivery_recorded")
        )
    assert notification(sql, room.parent)["status"] == "queued"  # never marked: it died
    run_worker(database_url, push_service, now=now + timedelta(seconds=30))
    assert notification(sql, room.parent)["status"] == "queued"  # still leased by the dead one
    run_worker(database_url, push_service, now=now + timedelta(minutes=3))  # lease expired
    assert notification(sql, room.parent)["status"] == "sent"
    assert len(push_service.received_for(sub)) == 1


def test_worker_killed_between_201_and_recording_resends_with_the_same_topic_and_tag(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    room, sub = _queued_note(clients, factory, sql, push_service)
    now = datetime.now(UTC)
    with pytest.raises(Killed):
        run_worker(database_url, push_service, now=now, failpoint=_die_at("after_push_accepted"))
    run_worker(database_url, push_service, now=now + timedelta(minutes=3))
    got = push_service.received_for(sub)
    assert len(got) == 2  # this window cannot be known: sent again ...
    assert got[0].topic == got[1].topic  # ... replacing the first at the push service
    assert got[0].payload is not None
    assert got[1].payload is not None
    assert got[0].payload["id"] == got[1].payload["id"]  # ... and on screen (the tag)
    assert notification(sql, room.parent)["status"] == "sent"


def test_several_workers_share_the_outbox_and_send_each_once(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    room = factory.classroom()
    teacher = clients(room.teacher)
    subs = []
    for _ in range(12):
        parent = factory.user("parent")
        factory.guardian(parent, room.student)
        sub = push_service.new_subscription()
        subscribe(clients(parent), sub)
        subs.append(sub)
    publish_note(sql, teacher, room)
    run_worker(database_url, push_service, workers=3)
    assert [len(push_service.received_for(s)) for s in subs] == [1] * 12


def test_in_process_worker_sends_by_itself(
    database_url: str, push_service: PushService, factory: Factory, sql: psycopg.Connection[Any]
) -> None:
    server = AppServer(
        database_url,
        extra_env={
            "TANDEM_PUSH_ALLOWED_HOSTS": push_service.host_entry,
            "TANDEM_PUSH_ALLOW_INSECURE_LOCAL": "1",
            "TANDEM_WORKER_IN_PROCESS": "1",
        },
    ).start()
    try:
        room = factory.classroom()
        sub = push_service.new_subscription()
        with ApiClient(server.base_url) as parent, ApiClient(server.base_url) as teacher:
            parent.login(room.parent.email)
            teacher.login(room.teacher.email)
            subscribe(parent, sub)
            publish_note(sql, teacher, room)
            assert len(push_service.wait_for(sub, 1, timeout=15)) == 1
    finally:
        server.stop()


def test_weekly_digest_waits_for_friday_afternoon(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    room = factory.classroom()
    sql.execute(
        "UPDATE app_user SET notify_mode = 'weekly', timezone = 'Europe/Madrid' WHERE id = %s",
        (room.parent.id,),
    )
    sub = push_service.new_subscription()
    subscribe(clients(room.parent), sub)
    publish_note(sql, clients(room.teacher), room)
    madrid = ZoneInfo("Europe/Madrid")
    start = datetime.now(madrid) + timedelta(days=1)
    friday = start.date() + timedelta(days=(4 - start.weekday()) % 7)
    slot = datetime(friday.year, friday.month, friday.day, 17, tzinfo=madrid).astimezone(UTC)
    if slot < start:
        slot += timedelta(days=7)
    run_worker(database_url, push_service, now=start.astimezone(UTC))
    assert notification(sql, room.parent)["not_before"] == slot
    run_worker(database_url, push_service, now=slot - timedelta(minutes=1))
    assert push_service.received_for(sub) == []
    run_worker(database_url, push_service, now=slot + timedelta(minutes=1))
    [push] = push_service.wait_for(sub, 1)
    assert push.payload is not None
    assert push.payload["body"] == "You have 1 new update."


def test_push_service_errors_back_off_then_give_up(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    from server.notify.worker import MAX_ATTEMPTS

    room, sub = _queued_note(
        clients, factory, sql, push_service, *[Behaviour(503)] * (MAX_ATTEMPTS + 2)
    )
    now = datetime.now(UTC)
    delays = []
    for _ in range(MAX_ATTEMPTS + 1):
        run_worker(database_url, push_service, now=now)
        row = notification(sql, room.parent)
        if row["status"] != "queued":
            break
        delays.append((row["not_before"] - now).total_seconds())
        now = row["not_before"] + timedelta(seconds=1)
    assert delays[:3] == [30.0, 60.0, 120.0]  # backoff doubles
    assert row["status"] == "dropped"
    assert "503" in row["last_error"]
    assert len(push_service.received_for(sub)) == row["attempts"] == MAX_ATTEMPTS
    assert subscriptions(sql, room.parent) == 1  # a failing service is not the subscription's fault


def test_guardian_of_another_child_keeps_subscriptions_after_one_revocation(
    clients: Callable[[User], ApiClient],
    factory: Factory,
    sql: psycopg.Connection[Any],
    push_service: PushService,
    database_url: str,
) -> None:
    room, sub = _queued_note(clients, factory, sql, push_service)
    sibling = factory.student("Theo")
    factory.guardian(room.parent, sibling)
    sql.execute(
        "UPDATE guardianship SET revoked = true WHERE parent_id = %s AND student_id = %s",
        (room.parent.id, room.student.id),
    )
    run_worker(database_url, push_service)
    assert notification(sql, room.parent)["status"] == "dropped"
    assert push_service.received_for(sub) == []
    assert subscriptions(sql, room.parent) == 1
