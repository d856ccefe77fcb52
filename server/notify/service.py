"""Push subscriptions and notification preferences of the signed-in user."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg
from litestar.exceptions import ClientException

from server import db
from server.auth.sessions import CurrentUser
from server.notify import vapid
from server.notify.endpoints import EndpointRefused, check
from server.notify.sender import InvalidKeys, check_keys
from server.settings import get_settings

MAX_SUBSCRIPTIONS_PER_USER = 10


class SubscriptionRefused(ValueError):
    pass


async def public_key() -> str:
    async with db.connection() as conn:
        return vapid.public_key_text(await vapid.ensure_keys(conn))


async def subscribe(
    user: CurrentUser, *, endpoint: str, p256dh: str, auth: str, user_agent: str
) -> int:
    """Store (or refresh) this browser's subscription; refuses unsafe endpoints and bad keys."""
    s = get_settings()
    try:
        await check(
            endpoint,
            allowed_hosts=s.push_allowed_hosts,
            allow_insecure_local=s.push_allow_insecure_local,
        )
        check_keys(p256dh, auth)
    except (EndpointRefused, InvalidKeys) as exc:
        raise SubscriptionRefused(str(exc)) from None
    async with db.transaction() as conn:
        # An endpoint belongs to one browser profile: if another user had it (shared
        # phone), it moves to whoever subscribed last.
        sid = await conn.fetchval(
            """INSERT INTO push_subscription (school_id, user_id, device_id, endpoint, p256dh, auth, user_agent)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (endpoint) DO UPDATE
                  SET school_id = EXCLUDED.school_id, user_id = EXCLUDED.user_id,
                      device_id = EXCLUDED.device_id, p256dh = EXCLUDED.p256dh,
                      auth = EXCLUDED.auth, user_agent = EXCLUDED.user_agent
               RETURNING id""",
            user.school_id,
            user.id,
            user.device_id,
            endpoint,
            p256dh,
            auth,
            user_agent[:200],
        )
        await _trim(conn, user.id)
    return int(sid)


async def _trim(conn: asyncpg.Connection, user_id: int) -> None:
    await conn.execute(
        """DELETE FROM push_subscription WHERE user_id = $1 AND id NOT IN (
               SELECT id FROM push_subscription WHERE user_id = $1 ORDER BY id DESC LIMIT $2)""",
        user_id,
        MAX_SUBSCRIPTIONS_PER_USER,
    )


async def unsubscribe(user: CurrentUser, endpoint: str) -> bool:
    async with db.connection() as conn:
        deleted = await conn.fetchval(
            "DELETE FROM push_subscription WHERE user_id = $1 AND endpoint = $2 RETURNING id",
            user.id,
            endpoint,
        )
    return deleted is not None


async def subscription_count(user: CurrentUser) -> int:
    async with db.connection() as conn:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM push_subscription WHERE user_id = $1", user.id
            )
        )


def check_timezone(name: str) -> str:
    """A time zone the server knows (quiet hours and digests are computed in it)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ClientException("Unknown time zone.") from None
    return name


async def preferences(user: CurrentUser) -> dict[str, object]:
    async with db.connection() as conn:
        row = await conn.fetchrow(
            "SELECT notify_mode, quiet_start, quiet_end, language, timezone FROM app_user WHERE id = $1",
            user.id,
        )
    assert row is not None
    return dict(row)


async def save_preferences(
    user: CurrentUser,
    *,
    notify_mode: str,
    quiet_start: time | None,
    quiet_end: time | None,
    language: str,
    timezone: str,
) -> None:
    async with db.connection() as conn:
        await conn.execute(
            """UPDATE app_user SET notify_mode = $2, quiet_start = $3, quiet_end = $4,
                                  language = $5, timezone = $6
                WHERE id = $1""",
            user.id,
            notify_mode,
            quiet_start,
            quiet_end,
            language,
            timezone,
        )
