"""The notification worker: claims due outbox rows, applies the recipient's preferences,
re-checks access, pushes, and records the outcome.

Several workers can run at once (the in-process one and any number of `tandem worker`
processes): a claim is an UPDATE of rows picked with FOR UPDATE SKIP LOCKED that sets a
lease; only the lease holder may mark a row. A delivery (the push service's 201) is
recorded per subscription endpoint at once, and the row is marked sent once every
subscription has it. A worker that dies mid-way leaves a lease that expires; the next
worker skips the endpoints already recorded. The one window that cannot be known (killed
between the 201 and recording it) resends with the same Topic and notification id, so
the push service and the service worker's tag replace rather than add (docs/push.md).

"now" is injectable so tests can move through quiet hours and digests without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from server.notify import payload as payloads
from server.notify.schedule import Preferences, after_quiet_hours, deliver_at, zone
from server.notify.sender import Outcome, PushSender, SendResult, Subscription

log = logging.getLogger("tandem.notify")

DIGEST_NAMESPACE = uuid.UUID("0f6b9a52-4a43-4f1c-9b8e-2f1e5d7c3a10")
MAX_ATTEMPTS = 8
BASE_BACKOFF_S = 30.0
MAX_BACKOFF_S = 3600.0
ERROR_MAX = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


def backoff_s(attempts: int) -> float:
    return float(min(BASE_BACKOFF_S * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S))


@dataclass
class Recipient:
    user_id: int
    school_id: int
    role: str
    language: str
    prefs: Preferences
    active: bool


class NotificationWorker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        sender: PushSender,
        *,
        worker_id: str | None = None,
        batch_size: int = 100,
        concurrency: int = 16,
        lease: timedelta = timedelta(minutes=2),
        now: Callable[[], datetime] = utcnow,
        failpoint: Callable[[str, str], None] | None = None,
    ) -> None:
        self.pool = pool
        self.sender = sender
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.lease = lease
        self.now = now
        self.failpoint = failpoint or (lambda _name, _id: None)

    # -- claiming ---------------------------------------------------------------------

    async def claim(self, now: datetime) -> list[asyncpg.Record]:
        """Lease due rows. A row that used up its attempts (its last worker died or
        failed before marking it) is dropped here, never claimed again."""
        async with self.pool.acquire() as conn:
            return list(
                await conn.fetch(
                    """WITH spent AS (
                         UPDATE notification
                            SET status = 'dropped', lease_until = NULL,
                                last_error = left(concat_ws('; ', last_error,
                                    'gave up after ' || attempts || ' attempts'), $6)
                          WHERE status = 'queued' AND not_before <= $1 AND attempts >= $5
                            AND (lease_until IS NULL OR lease_until <= $1))
                       UPDATE notification n
                          SET lease_until = $2, leased_by = $3, attempts = n.attempts + 1
                        WHERE n.id IN (
                              SELECT id FROM notification
                               WHERE status = 'queued' AND not_before <= $1 AND attempts < $5
                                 AND (lease_until IS NULL OR lease_until <= $1)
                               ORDER BY not_before, created_at
                               LIMIT $4
                               FOR UPDATE SKIP LOCKED)
                    RETURNING n.*""",
                    now,
                    now + self.lease,
                    self.worker_id,
                    self.batch_size,
                    MAX_ATTEMPTS,
                    ERROR_MAX,
                )
            )

    async def run_once(self) -> int:
        """Claim and process one batch; returns how many rows were claimed."""
        now = self.now()
        rows = await self.claim(now)
        # Recipients in parallel (a note to 1,000 families is not 1,000 round trips in a
        # row); one recipient's rows in order, so a digest is gathered once.
        by_user: dict[int, list[asyncpg.Record]] = {}
        for row in rows:
            by_user.setdefault(row["user_id"], []).append(row)
        gate = asyncio.Semaphore(self.concurrency)

        async def one_user(user_rows: list[asyncpg.Record]) -> None:
            async with gate:
                for row in user_rows:
                    try:
                        await self.process(row, now)
                    except Exception:
                        log.exception("notification %s failed; its lease will expire", row["id"])

        await asyncio.gather(*(one_user(r) for r in by_user.values()))
        return len(rows)

    async def run_until_idle(self, max_batches: int = 100) -> int:
        total = 0
        for _ in range(max_batches):
            n = await self.run_once()
            total += n
            if n == 0:
                break
        return total

    async def run_forever(self, stop: asyncio.Event, idle_s: float = 1.0) -> None:
        while not stop.is_set():
            try:
                busy = await self.run_once()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("notification worker: %s", exc)
                busy = 0
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=idle_s)

    # -- one row ----------------------------------------------------------------------

    async def recipient(self, conn: asyncpg.Connection, row: asyncpg.Record) -> Recipient | None:
        r = await conn.fetchrow(
            """SELECT u.id, u.language, u.timezone, u.notify_mode, u.quiet_start, u.quiet_end,
                      u.is_active, m.role
                 FROM app_user u JOIN membership m ON m.user_id = u.id AND m.school_id = $2
                WHERE u.id = $1""",
            row["user_id"],
            row["school_id"],
        )
        if r is None:
            return None
        return Recipient(
            user_id=r["id"],
            school_id=row["school_id"],
            role=r["role"],
            language=r["language"],
            active=r["is_active"],
            prefs=Preferences(
                mode=r["notify_mode"],
                quiet_start=r["quiet_start"],
                quiet_end=r["quiet_end"],
                timezone=r["timezone"],
            ),
        )

    async def _finish(
        self,
        conn: asyncpg.Connection,
        ids: list[Any],
        status: str,
        error: str | None,
        now: datetime,
    ) -> None:
        await conn.execute(
            """UPDATE notification
                  SET status = $2, sent_at = CASE WHEN $2 = 'sent' THEN $3::timestamptz END,
                      last_error = $4, lease_until = NULL
                WHERE id = ANY($1::uuid[]) AND leased_by = $5""",
            ids,
            status,
            now,
            error[:ERROR_MAX] if error else None,
            self.worker_id,
        )

    async def _defer(
        self,
        conn: asyncpg.Connection,
        ids: list[Any],
        until: datetime,
        error: str | None = None,
        **extra: bool,
    ) -> None:
        await conn.execute(
            # Waiting for the recipient's schedule (no error) is not a delivery attempt:
            # give back the one the claim took, so deferrals never use up the cap.
            """UPDATE notification
                  SET not_before = $2, lease_until = NULL,
                      scheduled = coalesce($4, scheduled), digest = coalesce($5, digest),
                      last_error = coalesce($3, last_error),
                      attempts = CASE WHEN $3::text IS NULL THEN greatest(attempts - 1, 0)
                                      ELSE attempts END
                WHERE id = ANY($1::uuid[]) AND leased_by = $6""",
            ids,
            until,
            error[:ERROR_MAX] if error else None,
            extra.get("scheduled"),
            extra.get("digest"),
            self.worker_id,
        )

    async def process(self, row: asyncpg.Record, now: datetime) -> None:
        nid = row["id"]
        async with self.pool.acquire() as conn:
            mine = await conn.fetchval(
                "SELECT status = 'queued' FROM notification WHERE id = $1 AND leased_by = $2",
                nid,
                self.worker_id,
            )
            if not mine:
                return  # already sent as part of a digest earlier in this batch
            who = await self.recipient(conn, row)
            if who is None or not who.active:
                await self._finish(conn, [nid], "dropped", "recipient is no longer a member", now)
                return
            if row["student_id"] is not None and not await self._may_see(
                conn, who, row["student_id"], now
            ):
                await self._finish(conn, [nid], "dropped", "recipient no longer has access", now)
                if who.role == "parent":
                    await self._forget_revoked_guardian(conn, who, now)
                return
            prefs = who.prefs
            if not row["scheduled"]:
                due = deliver_at(now, prefs)
                if due > now:
                    await self._defer(conn, [nid], due, scheduled=True, digest=prefs.is_digest)
                    return
                # Due at once: scheduled, and still ours. (Letting go of the lease here
                # and taking it back let another worker claim the row in between, and
                # both sent it.)
                kept = await conn.fetchval(
                    """UPDATE notification SET scheduled = true, digest = $2
                        WHERE id = $1 AND leased_by = $3 RETURNING true""",
                    nid,
                    prefs.is_digest,
                    self.worker_id,
                )
                if not kept:
                    return
            else:
                # Preferences may have changed since scheduling: quiet hours still defer.
                local = now.astimezone(zone(prefs.timezone))
                later = after_quiet_hours(local, prefs).astimezone(UTC)
                if later > now:
                    await self._defer(conn, [nid], later)
                    return
            group: list[Any] = [nid]
            digest = bool(row["digest"]) or (not row["scheduled"] and prefs.is_digest)
            if digest:
                siblings = await conn.fetch(
                    """UPDATE notification SET lease_until = $3, leased_by = $4
                        WHERE id IN (SELECT id FROM notification
                                      WHERE user_id = $1 AND status = 'queued' AND digest
                                        AND scheduled AND not_before <= $2 AND id <> $5
                                        AND (lease_until IS NULL OR lease_until <= $2
                                             OR leased_by = $4)
                                      FOR UPDATE SKIP LOCKED)
                    RETURNING id, student_id""",
                    who.user_id,
                    now,
                    now + self.lease,
                    self.worker_id,
                    nid,
                )
                for s in siblings:
                    if s["student_id"] is None or await self._may_see(
                        conn, who, s["student_id"], now
                    ):
                        group.append(s["id"])
                    else:
                        await self._finish(
                            conn, [s["id"]], "dropped", "recipient no longer has access", now
                        )
            message = await self._compose(conn, row, who, digest=digest, count=len(group), now=now)
            subs = await conn.fetch(
                """SELECT p.endpoint, p.p256dh, p.auth,
                          EXISTS (SELECT 1 FROM notification_delivery d
                                   WHERE d.notification_id = $2 AND d.subscription_endpoint = p.endpoint) AS done
                     FROM push_subscription p WHERE p.user_id = $1 ORDER BY p.id""",
                who.user_id,
                nid,
            )
        if not subs:
            async with self.pool.acquire() as conn:
                await self._finish(conn, group, "dropped", "no push subscription", now)
            return
        pending = [
            Subscription(s["endpoint"], s["p256dh"], s["auth"]) for s in subs if not s["done"]
        ]
        topic, data = message
        results = await asyncio.gather(*(self._deliver(nid, sub, data, topic) for sub in pending))
        digest_id = uuid.UUID(topic) if digest else None
        await self._settle(row, group, list(zip(pending, results, strict=True)), now, digest_id)

    async def _deliver(self, nid: Any, sub: Subscription, data: bytes, topic: str) -> SendResult:
        result = await self.sender.send(sub, data, topic=topic)
        if result.outcome is Outcome.DELIVERED:
            self.failpoint("after_push_accepted", str(nid))
            async with self.pool.acquire() as conn:
                await conn.execute(
                    """INSERT INTO notification_delivery (notification_id, subscription_endpoint)
                       VALUES ($1, $2) ON CONFLICT DO NOTHING""",
                    nid,
                    sub.endpoint,
                )
                await conn.execute(
                    "UPDATE push_subscription SET last_success_at = now() WHERE endpoint = $1",
                    sub.endpoint,
                )
            self.failpoint("after_delivery_recorded", str(nid))
        return result

    async def _settle(
        self,
        row: asyncpg.Record,
        group: list[Any],
        results: list[tuple[Subscription, SendResult]],
        now: datetime,
        digest_id: uuid.UUID | None,
    ) -> None:
        retry_at: datetime | None = None
        errors: list[str] = []
        async with self.pool.acquire() as conn:
            for sub, result in results:
                if result.outcome in (Outcome.GONE, Outcome.REFUSED):
                    await conn.execute(
                        "DELETE FROM push_subscription WHERE endpoint = $1", sub.endpoint
                    )
                    log.info("push subscription removed: %s", result.detail)
                elif result.outcome is Outcome.RETRY:
                    delay = result.retry_after_s or backoff_s(row["attempts"])
                    when = now + timedelta(seconds=delay)
                    retry_at = when if retry_at is None else max(retry_at, when)
                    errors.append(result.detail)
                elif result.outcome is Outcome.REJECTED:
                    errors.append(result.detail)
            if retry_at is not None and row["attempts"] < MAX_ATTEMPTS:
                await self._defer(conn, group, retry_at, "; ".join(errors))
                return
            delivered = await conn.fetchval(
                "SELECT count(*) FROM notification_delivery WHERE notification_id = $1", row["id"]
            )
            if digest_id is not None:
                await conn.execute(
                    "UPDATE notification SET digest_id = $2 WHERE id = ANY($1::uuid[])",
                    group,
                    digest_id,
                )
            if delivered:
                await self._finish(conn, group, "sent", "; ".join(errors) or None, now)
            else:
                await self._finish(
                    conn, group, "dropped", "; ".join(errors) or "no subscription accepted it", now
                )

    # -- access and content -----------------------------------------------------------

    async def _may_see(
        self, conn: asyncpg.Connection, who: Recipient, student_id: int, now: datetime
    ) -> bool:
        return bool(
            await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM tandem_student_scope($1, $2, $3, $4) WHERE student_id = $5)",
                who.user_id,
                who.school_id,
                who.role,
                now,
                student_id,
            )
        )

    async def _forget_revoked_guardian(
        self, conn: asyncpg.Connection, who: Recipient, now: datetime
    ) -> None:
        """A guardian who may see no child any more keeps no push subscription."""
        remaining = await conn.fetchval(
            "SELECT count(*) FROM tandem_student_scope($1, $2, 'parent', $3)",
            who.user_id,
            who.school_id,
            now,
        )
        if not remaining:
            await conn.execute("DELETE FROM push_subscription WHERE user_id = $1", who.user_id)

    async def _compose(
        self,
        conn: asyncpg.Connection,
        row: asyncpg.Record,
        who: Recipient,
        *,
        digest: bool,
        count: int,
        now: datetime,
    ) -> tuple[str, bytes]:
        """(Topic, payload bytes). The Topic is the notification id (32 hex characters,
        the push protocol's limit); a digest's id is derived from its user and slot so a
        re-sent digest carries the same one."""
        parent = who.role == "parent"
        if digest:
            slot = row["not_before"] if row["scheduled"] else now
            topic = uuid.uuid5(DIGEST_NAMESPACE, f"{who.user_id}:{slot.isoformat()}").hex
            url = "/parent" if parent else "/messages"
            msg = payloads.compose(
                notification_id=topic,
                kind="digest",
                language=who.language,
                first_name="",
                url=url,
                count=count,
            )
            return topic, payloads.encode(msg)
        topic = row["id"].hex
        first = ""
        if row["student_id"] is not None:
            first = (
                await conn.fetchval(
                    "SELECT first_name FROM student WHERE id = $1", row["student_id"]
                )
                or ""
            )
        if row["kind"] == "progress_note":
            url = f"/parent/notes/{row['ref_id']}" if parent else "/teacher/review"
        else:
            thread = await conn.fetchval(
                "SELECT thread_id FROM message WHERE id::text = $1", row["ref_id"]
            )
            # Parents, aides and providers answer in the app (offline drafts); teachers
            # and admins on the server-rendered message pages.
            in_app = who.role in ("parent", "aide", "provider")
            base = "/app/messages" if in_app else "/messages"
            url = f"{base}/{thread}" if thread else base
        msg = payloads.compose(
            notification_id=topic,
            kind=row["kind"],
            language=who.language,
            first_name=first,
            url=url,
        )
        return topic, payloads.encode(msg)
