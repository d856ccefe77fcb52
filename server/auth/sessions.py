"""Server-side sessions in Postgres, and the middleware that resolves the current user.

The cookie carries a random token; only its SHA-256 is stored. An id the server did not
issue resolves to no one, and login always issues a fresh one, so a planted cookie never
survives login. Idle and absolute timeouts, revoked devices and deactivated users end a
session on the next request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from server import db
from server.asgi import ASGIApp, Receive, Scope, Send
from server.settings import get_settings

SESSION_COOKIE = "tandem_session"
DEVICE_COOKIE = "tandem_device"
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


class CurrentUser(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    school_id: int
    role: str
    name: str
    email: str
    language: str
    timezone: str
    device_id: int | None
    session_hash: bytes
    # Something happened to the account that its holder has not yet seen (auth/notices.py).
    notice_pending: bool = False


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def read_cookie(scope: Any, name: str) -> str | None:
    """The value of cookie `name` in the request's Cookie headers (the first one named
    so), or None. A plain split, not http.cookies: this runs on every request, and the
    standard parser (regular expressions, a Morsel per cookie) cost tens of
    microseconds for one value the app never needs unquoted beyond a pair of quotes."""
    for key, value in scope.get("headers", []):
        if key != b"cookie":
            continue
        text: str = value.decode("latin-1")
        for part in text.split(";"):
            k, sep, v = part.partition("=")
            if sep and k.strip() == name:
                v = v.strip()
                if len(v) >= 2 and v[0] == v[-1] == '"':
                    v = v[1:-1]
                return v
    return None


async def create_session(*, user_id: int, school_id: int, role: str, device_id: int | None) -> str:
    """Issue a fresh session id; returns the token for the cookie."""
    s = get_settings()
    token = new_token()
    now = datetime.now(UTC)
    async with db.connection() as conn:
        await conn.execute(
            """INSERT INTO auth_session (id_hash, user_id, school_id, role, device_id,
                                         created_at, last_seen_at, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $6, $7)""",
            token_hash(token),
            user_id,
            school_id,
            role,
            device_id,
            now,
            now + timedelta(hours=s.session_absolute_hours),
        )
    return token


async def delete_session(token: str) -> None:
    async with db.connection() as conn:
        await conn.execute("DELETE FROM auth_session WHERE id_hash = $1", token_hash(token))


async def end_user_sessions(user_id: int) -> None:
    async with db.connection() as conn:
        await conn.execute("DELETE FROM auth_session WHERE user_id = $1", user_id)


# Whether a session may act, the one rule, in SQL: not past its absolute timeout
# ({now}) nor idle since before {seen_after} (now minus the idle timeout), its user
# active, its device not revoked. Every lookup computes it (the middleware's, the sync
# prefetch's) and the sync write's gate checks it again (server/sync/statements.py).
SESSION_LIVE = (
    "s.expires_at > {now} AND s.last_seen_at > {seen_after}"
    " AND u.is_active AND d.revoked_at IS NULL"
)
# The columns a session resolves to, and where they come from: shared with the sync
# engine, which resolves the session inside its first statement (DEFERRED_PATHS).
SESSION_COLUMNS = f"""s.user_id, s.school_id, s.role, s.device_id, s.last_seen_at, s.expires_at,
       u.name, u.email, u.language, u.timezone, u.is_active, u.notice_pending,
       d.revoked_at AS device_revoked_at, ({SESSION_LIVE}) AS live"""
SESSION_FIELDS = (
    "user_id",
    "school_id",
    "role",
    "device_id",
    "last_seen_at",
    "expires_at",
    "name",
    "email",
    "language",
    "timezone",
    "is_active",
    "notice_pending",
    "device_revoked_at",
    "live",
)
SESSION_FROM = """auth_session s
  JOIN app_user u ON u.id = s.user_id
  LEFT JOIN device d ON d.id = s.device_id"""


def seen_after(now: datetime) -> datetime:
    """The {seen_after} of SESSION_LIVE: a session last seen before this is idle."""
    return now - timedelta(minutes=get_settings().session_idle_minutes)


def session_is_live(row: Any) -> bool:
    """Whether a session row (SESSION_COLUMNS, computed at the lookup) may still act."""
    return bool(row["live"])


def session_user(row: Any, h: bytes) -> CurrentUser:
    return CurrentUser(
        id=row["user_id"],
        school_id=row["school_id"],
        role=row["role"],
        name=row["name"],
        email=row["email"],
        language=row["language"],
        timezone=row["timezone"],
        device_id=row["device_id"],
        session_hash=h,
        notice_pending=row["notice_pending"],
    )


async def end_session(conn: Any, h: bytes) -> None:
    await conn.execute("DELETE FROM auth_session WHERE id_hash = $1", h)


async def touch_session(conn: Any, row: Any, h: bytes, now: datetime) -> datetime:
    """Record activity, at most once a minute (the idle timeout counts from it); returns
    when the session was last seen, as stored now."""
    if now - row["last_seen_at"] <= LAST_SEEN_RESOLUTION:
        last_seen: datetime = row["last_seen_at"]
        return last_seen
    await conn.execute("UPDATE auth_session SET last_seen_at = $2 WHERE id_hash = $1", h, now)
    if row["device_id"] is not None:
        await conn.execute(
            "UPDATE device SET last_seen_at = $2 WHERE id = $1", row["device_id"], now
        )
    return now


async def resolve_session(token: str) -> CurrentUser | None:
    h = token_hash(token)
    now = datetime.now(UTC)
    async with db.connection() as conn:
        row = await conn.fetchrow(
            f"SELECT {SESSION_COLUMNS.format(now='$2', seen_after='$3')}"
            f"\n  FROM {SESSION_FROM}\n WHERE s.id_hash = $1",
            h,
            now,
            seen_after(now),
        )
        if row is None:
            return None
        if not session_is_live(row):
            await end_session(conn, h)
            return None
        await touch_session(conn, row, h, now)
    return session_user(row, h)


# Paths whose handler resolves the session itself, in its own first statement: the sync
# endpoint, where a separate lookup was a third of its database round trips. The
# middleware leaves scope["user"] None there and puts the token's hash in
# scope["session_hash"]; the handler must refuse the request unless it resolves it
# (server/sync/service.py, with the same SESSION_COLUMNS and session_is_live).
DEFERRED_PATHS = frozenset({"/api/sync"})


class SessionMiddleware:
    """Sets scope["user"] to a CurrentUser or None for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            user: CurrentUser | None = None
            if not path.startswith("/static/") and path not in ("/sw.js", "/healthz"):
                token = read_cookie(scope, SESSION_COOKIE)
                if token and len(token) <= 128:
                    if path in DEFERRED_PATHS:
                        scope["session_hash"] = token_hash(token)
                    else:
                        user = await resolve_session(token)
            scope["user"] = user
        await self.app(scope, receive, send)
