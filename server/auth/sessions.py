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
from http.cookies import SimpleCookie
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


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def read_cookie(scope: Any, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is no session
                return None
            if name in jar:
                return jar[name].value
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


async def resolve_session(token: str) -> CurrentUser | None:
    s = get_settings()
    h = token_hash(token)
    now = datetime.now(UTC)
    async with db.connection() as conn:
        row = await conn.fetchrow(
            """SELECT s.user_id, s.school_id, s.role, s.device_id, s.last_seen_at, s.expires_at,
                      u.name, u.email, u.language, u.timezone, u.is_active,
                      d.revoked_at AS device_revoked_at
                 FROM auth_session s
                 JOIN app_user u ON u.id = s.user_id
                 LEFT JOIN device d ON d.id = s.device_id
                WHERE s.id_hash = $1""",
            h,
        )
        if row is None:
            return None
        idle_deadline = row["last_seen_at"] + timedelta(minutes=s.session_idle_minutes)
        if (
            row["expires_at"] <= now
            or idle_deadline <= now
            or not row["is_active"]
            or row["device_revoked_at"] is not None
        ):
            await conn.execute("DELETE FROM auth_session WHERE id_hash = $1", h)
            return None
        if now - row["last_seen_at"] > LAST_SEEN_RESOLUTION:
            await conn.execute(
                "UPDATE auth_session SET last_seen_at = $2 WHERE id_hash = $1", h, now
            )
            if row["device_id"] is not None:
                await conn.execute(
                    "UPDATE device SET last_seen_at = $2 WHERE id = $1", row["device_id"], now
                )
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
    )


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
                    user = await resolve_session(token)
            scope["user"] = user
        await self.app(scope, receive, send)
