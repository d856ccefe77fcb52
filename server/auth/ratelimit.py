"""Fixed-window counters in Postgres, shared by every app process."""

from __future__ import annotations

from datetime import timedelta

from server import db


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited, retry after {retry_after}s")
        self.retry_after = retry_after


async def hit(key: str, *, limit: int, window_seconds: int) -> None:
    """Count one attempt against `key`; raise RateLimited past `limit` in the window."""
    async with db.connection() as conn:
        row = await conn.fetchrow(
            """INSERT INTO rate_limit AS r (key, window_start, hits) VALUES ($1, now(), 1)
               ON CONFLICT (key) DO UPDATE SET
                 window_start = CASE WHEN r.window_start < now() - $2::interval
                                     THEN now() ELSE r.window_start END,
                 hits = CASE WHEN r.window_start < now() - $2::interval
                             THEN 1 ELSE r.hits + 1 END
               RETURNING hits,
                 GREATEST(1, ceil(extract(epoch FROM
                     (window_start + $2::interval) - now())))::int AS retry_after""",
            key,
            timedelta(seconds=window_seconds),
        )
    assert row is not None
    if row["hits"] > limit:
        raise RateLimited(int(row["retry_after"]))


async def reset(key: str) -> None:
    async with db.connection() as conn:
        await conn.execute("DELETE FROM rate_limit WHERE key = $1", key)
