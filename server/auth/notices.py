"""Account notices: a person hears from the app itself what happened to their account.

A password link made for someone, and that link's use, are exactly what an attacker who
takes an account over would rather the holder never learned. So each is written, in the
transaction that does it, as an account notice for the holder, and `app_user.notice_pending`
is set; the session lookup reads that column with the user (no extra query), so every page
shows "news about your account" until the holder opens /account. Mail tells them too,
where the school configured mail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import asyncpg
import msgspec

from server import db, mail

NoticeKind = Literal["reset_link_made", "password_reset"]


class AccountNotice(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: str
    at: datetime
    actor_name: str | None
    seen: bool


async def record(
    conn: asyncpg.Connection,
    *,
    user_id: int,
    school_id: int,
    kind: NoticeKind,
    actor_id: int | None,
) -> None:
    """Write a notice for `user_id` in the caller's transaction."""
    await conn.execute(
        """INSERT INTO account_notice (user_id, school_id, kind, actor_id)
           VALUES ($1, $2, $3, $4)""",
        user_id,
        school_id,
        kind,
        actor_id,
    )
    await conn.execute("UPDATE app_user SET notice_pending = true WHERE id = $1", user_id)


async def for_user(user_id: int, *, limit: int = 20) -> list[AccountNotice]:
    """The person's latest notices, newest first."""
    async with db.connection() as conn:
        rows = await conn.fetch(
            """SELECT n.id, n.kind, n.at, a.name AS actor_name, n.seen_at IS NOT NULL AS seen
                 FROM account_notice n LEFT JOIN app_user a ON a.id = n.actor_id
                WHERE n.user_id = $1 ORDER BY n.at DESC, n.id DESC LIMIT $2""",
            user_id,
            limit,
        )
    return [AccountNotice(**dict(r)) for r in rows]


async def mark_seen(user_id: int) -> None:
    """The person has seen their notices: the banner goes away until the next one."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE account_notice SET seen_at = now() WHERE user_id = $1 AND seen_at IS NULL",
            user_id,
        )
        await conn.execute("UPDATE app_user SET notice_pending = false WHERE id = $1", user_id)


async def mail_password_changed(email: str, school_name: str) -> bool:
    """Tell the holder by mail that their password was just changed through a link."""
    return await mail.send(
        email,
        f"Your Tandem password was changed ({school_name})",
        "The password of your Tandem account was just changed with a password link.\n\n"
        "If you did this, there is nothing to do. If you did not, tell your school at once:\n"
        "someone else may be using your account.\n",
    )
