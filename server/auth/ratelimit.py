"""Failed-attempt limits in Postgres, shared by every app process.

Only failures count: a correct password costs nothing, so many people signing in to one
account at once (a class's tablets behind one school address) never trip a limit. An
attempt is judged against several buckets (the caller says which); each is one of:

- fixed: at most `limit` failures in a window that starts at the first failure; the
  limit-th failure closes the bucket until the window ends;
- growing: `limit` failures are free; the limit-th and every later one closes the bucket
  for backoff·2^(n−limit) seconds (at most MAX_BACKOFF_S), and lets one attempt at a
  time through after it. The run is forgotten a window after its last failure or block.

While its password is checked, an attempt holds a place in each bucket (in_flight), and
failures + places may not pass the limit: otherwise a burst of parallel guesses would all
be checked before any of them was counted. A bucket full of places (not of failures)
makes the next attempt wait for them, not fail. Places not renewed for IN_FLIGHT_TTL
(a process killed mid-check) are forgotten.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from server import db

MAX_BACKOFF_S = 3600
IN_FLIGHT_TTL = timedelta(seconds=30)
WAIT_FOR_PLACE_S = 10.0
POLL_S = 0.05


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Bucket:
    key: str
    limit: int
    window_seconds: int
    backoff_seconds: int | None = None  # set: a growing bucket

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_seconds)


# The run (growing) or the window (fixed) is over: its failures no longer count.
_EXPIRED = """(CASE WHEN $4 THEN coalesce(greatest(r.last_failed_at, r.blocked_until),
                                          '-infinity')
                   ELSE r.window_start END) < now() - $3::interval"""
_STALE = "r.in_flight_at < now() - $5::interval"

_TAKE = f"""
INSERT INTO rate_limit AS r (key, in_flight, in_flight_at) VALUES ($1, 1, now())
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN {_EXPIRED} THEN 0 ELSE r.failures END,
    blocked_until = CASE WHEN {_EXPIRED} THEN NULL ELSE r.blocked_until END,
    in_flight = CASE WHEN {_STALE} THEN 1 ELSE r.in_flight + 1 END,
    in_flight_at = now()
  WHERE ({_EXPIRED} OR r.blocked_until IS NULL OR r.blocked_until <= now())
    AND ((CASE WHEN {_EXPIRED} THEN 0 ELSE r.failures END)
         + (CASE WHEN {_STALE} THEN 0 ELSE r.in_flight END) < $2
         -- past the free failures, a growing bucket lets one attempt at a time through
         OR ($4 AND (r.in_flight = 0 OR {_STALE})))
RETURNING 1"""

# A bucket closed now is never expired (a block ends before its run or window does).
_BLOCKED_FOR = """
SELECT GREATEST(1, ceil(extract(epoch FROM blocked_until - now())))::int
  FROM rate_limit WHERE key = $1 AND blocked_until > now()"""

_FAILED = """
UPDATE rate_limit AS r SET
    in_flight = GREATEST(r.in_flight - 1, 0),
    failures = r.failures + 1,
    window_start = CASE WHEN r.failures = 0 THEN now() ELSE r.window_start END,
    last_failed_at = now(),
    blocked_until = CASE
        WHEN r.failures + 1 < $2 THEN r.blocked_until
        WHEN $3::int IS NOT NULL THEN now() + make_interval(secs => LEAST(
            $3::int * 2 ^ LEAST(r.failures + 1 - $2, 20), $5::int))
        ELSE (CASE WHEN r.failures = 0 THEN now() ELSE r.window_start END) + $4::interval
    END
 WHERE key = $1"""

_RELEASE = """
UPDATE rate_limit SET in_flight = GREATEST(in_flight - 1, 0),
       failures = CASE WHEN $2 THEN 0 ELSE failures END,
       blocked_until = CASE WHEN $2 THEN NULL ELSE blocked_until END
 WHERE key = $1"""


async def _take_one(conn: asyncpg.Connection, b: Bucket) -> bool:
    taken = await conn.fetchval(
        _TAKE, b.key, b.limit, b.window, b.backoff_seconds is not None, IN_FLIGHT_TTL
    )
    return taken is not None


async def _give_back(conn: asyncpg.Connection, buckets: Sequence[Bucket]) -> None:
    for b in buckets:
        await conn.execute(_RELEASE, b.key, False)


async def take(buckets: Sequence[Bucket]) -> None:
    """Hold a place in every bucket for one attempt; raise RateLimited if one is closed.

    Every successful take() must be followed by failed() or release().
    """
    deadline = time.monotonic() + WAIT_FOR_PLACE_S
    while True:
        async with db.connection() as conn:
            held: list[Bucket] = []
            refused: Bucket | None = None
            for b in buckets:
                if not await _take_one(conn, b):
                    refused = b
                    break
                held.append(b)
            if refused is None:
                return
            await _give_back(conn, held)
            blocked_for = await conn.fetchval(_BLOCKED_FOR, refused.key)
        if blocked_for is not None:
            raise RateLimited(int(blocked_for))
        # Full of attempts being checked right now: their outcome decides.
        if time.monotonic() > deadline:
            raise RateLimited(1)
        await asyncio.sleep(POLL_S)


async def failed(buckets: Sequence[Bucket]) -> None:
    """The attempt failed: count it in every bucket (and close those at their limit)."""
    async with db.connection() as conn:
        for b in buckets:
            await conn.execute(_FAILED, b.key, b.limit, b.backoff_seconds, b.window, MAX_BACKOFF_S)


async def release(buckets: Sequence[Bucket], *, forget: Sequence[Bucket] = ()) -> None:
    """The attempt did not fail: give the places back; the `forget` buckets start afresh."""
    async with db.connection() as conn:
        for b in buckets:
            await conn.execute(_RELEASE, b.key, b in forget)
