"""Login, logout, devices and role changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg
import msgspec
from litestar.exceptions import ClientException

from server import db, i18n
from server.audit import service as audit
from server.auth import ratelimit
from server.auth.devices import device_label
from server.auth.passwords import verify_password
from server.auth.ratelimit import Bucket
from server.auth.sessions import (
    CurrentUser,
    create_session,
    new_token,
    token_hash,
)
from server.settings import get_settings

HOME_BY_ROLE = {
    "admin": "/admin",
    "teacher": "/teacher",
    "provider": "/app",
    "aide": "/app",
    "parent": "/parent",
}

LOGIN_FAILED = "Email or password is incorrect."
LOGIN_LIMITED = "Too many login attempts. Please wait a few minutes and try again."


class LoginResult(msgspec.Struct, frozen=True, kw_only=True):
    session_token: str
    device_token: str | None  # set when a new device was registered
    user_id: int
    role: str
    home: str
    device_id: int | None = None


class LoginFailed(Exception):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def login(
    *,
    email: str,
    password: str,
    client_address: str,
    device_token: str | None,
    user_agent: str,
    planted_session: str | None,
) -> LoginResult:
    """Check the credentials and open a fresh session.

    Raises ratelimit.RateLimited or LoginFailed; both say the same thing whether or not
    the account exists.
    """
    email = normalise_email(email)
    row = await prove_password(
        email=email, password=password, client_address=client_address, device_token=device_token
    )
    if row is None:
        raise LoginFailed(LOGIN_FAILED)
    result = await start_session(
        user_id=row["id"],
        school_id=row["school_id"],
        role=row["role"],
        device_token=device_token,
        user_agent=user_agent,
        planted_session=planted_session,
    )
    await audit.record(
        None,
        action="login",
        record_type="user",
        record_id=row["id"],
        school_id=row["school_id"],
        detail={"device_id": result.device_id},
    )
    return result


def login_buckets(email: str, client_address: str, *, known_device: int | None) -> list[Bucket]:
    """Where a password attempt is counted (docs/security.md, "Login limits"): its source
    with a growing delay, so a stranger's wrong guesses never lock the holder out from
    elsewhere; the address across accounts; and a generous ceiling per account across
    addresses. The source is the (account, address) pair, or, for a browser that already
    signed in to this account (`known_device`, its device id), that device: the holder's
    own devices keep their own count even behind a proxy every stranger shares, and skip
    the ceiling."""
    s = get_settings()
    source = f"device:{known_device}" if known_device is not None else client_address
    buckets = [
        Bucket(
            f"login:source:{email}|{source}",
            s.login_limit_per_account,
            s.login_window_seconds,
            backoff_seconds=s.login_backoff_seconds,
        ),
        Bucket(
            f"login:address:{client_address}", s.login_limit_per_address, s.login_window_seconds
        ),
    ]
    if known_device is None:
        buckets.append(
            Bucket(f"login:account:{email}", s.login_limit_account_ceiling, s.login_window_seconds)
        )
    return buckets


async def prove_password(
    *, email: str, password: str, client_address: str, device_token: str | None
) -> asyncpg.Record | None:
    """The active account's row (id, school_id, role) if `password` is its password, else
    None (unknown, wrong or deactivated alike: audited as a failed login). Only failures
    count toward the limits. Raises ratelimit.RateLimited, the same for every account."""
    async with db.connection() as conn:
        # Looked up for unknown accounts too (finding none), so both take the same path.
        known_device = await conn.fetchval(
            """SELECT d.id FROM device d JOIN app_user u ON u.id = d.user_id
                WHERE d.token_hash = $1 AND d.revoked_at IS NULL AND lower(u.email) = $2""",
            token_hash(device_token or ""),
            email,
        )
    buckets = login_buckets(email, client_address, known_device=known_device)
    await ratelimit.take(buckets)
    try:
        async with db.connection() as conn:
            row = await conn.fetchrow(
                """SELECT u.id, u.password_hash, u.is_active, m.school_id, m.role
                     FROM app_user u JOIN membership m ON m.user_id = u.id
                    WHERE lower(u.email) = $1
                    ORDER BY m.id LIMIT 1""",
                email,
            )
        verified = await verify_password(row["password_hash"] if row else None, password)
    except BaseException:
        await ratelimit.release(buckets)  # not an answer about the password
        raise
    ok = row is not None and verified and bool(row["is_active"])
    if ok:
        await ratelimit.release(buckets, forget=buckets[:1])
    else:
        await ratelimit.failed(buckets)
    if not ok:
        await audit.record(
            None,
            action="login_failed",
            record_type="user",
            record_id=row["id"] if row else None,
            school_id=row["school_id"] if row else None,
            detail={"address": client_address},
        )
        return None
    return row


async def start_session(
    *,
    user_id: int,
    school_id: int,
    role: str,
    device_token: str | None,
    user_agent: str,
    planted_session: str | None,
) -> LoginResult:
    """Open a fresh session for a user whose identity was just proven (a password at
    login, a single-use link when accepting an invitation or a reset)."""
    if planted_session:
        # Whatever id the browser brought is dropped; login always issues a new one.
        async with db.connection() as conn:
            await conn.execute(
                "DELETE FROM auth_session WHERE id_hash = $1", token_hash(planted_session)
            )
    device_id, new_device_token = await _device_for_login(
        user_id=user_id,
        school_id=school_id,
        device_token=device_token,
        label=device_label(user_agent),
    )
    token = await create_session(
        user_id=user_id, school_id=school_id, role=role, device_id=device_id
    )
    return LoginResult(
        session_token=token,
        device_token=new_device_token,
        user_id=user_id,
        role=role,
        home=HOME_BY_ROLE[role],
        device_id=device_id,
    )


async def _device_for_login(
    *, user_id: int, school_id: int, device_token: str | None, label: str
) -> tuple[int, str | None]:
    """Reuse this browser's device record if it is this user's and not revoked."""
    async with db.connection() as conn:
        if device_token:
            existing = await conn.fetchval(
                """SELECT id FROM device
                    WHERE token_hash = $1 AND user_id = $2 AND revoked_at IS NULL""",
                token_hash(device_token),
                user_id,
            )
            if existing is not None:
                return int(existing), None
        token = new_token()
        device_id = await conn.fetchval(
            """INSERT INTO device (school_id, user_id, token_hash, label)
               VALUES ($1, $2, $3, $4) RETURNING id""",
            school_id,
            user_id,
            token_hash(token),
            label[:200],
        )
        return int(device_id), token


async def revoke_device(admin: CurrentUser, device_id: int) -> bool:
    """End the device's sessions and its right to sync. False if not in admin's school."""
    async with db.transaction() as conn:
        updated = await conn.fetchval(
            """UPDATE device SET revoked_at = now(), revoked_by = $3
                WHERE id = $1 AND school_id = $2 AND revoked_at IS NULL RETURNING user_id""",
            device_id,
            admin.school_id,
            admin.id,
        )
        if updated is None:
            exists = await conn.fetchval(
                "SELECT 1 FROM device WHERE id = $1 AND school_id = $2", device_id, admin.school_id
            )
            return exists is not None
        await conn.execute("DELETE FROM auth_session WHERE device_id = $1", device_id)
        await audit.record(
            admin, action="revoke", record_type="device", record_id=device_id, conn=conn
        )
    return True


async def change_role(admin: CurrentUser, user_id: int, role: str) -> bool:
    """Change a user's role in the admin's school; the user's sessions end."""
    async with db.transaction() as conn:
        changed = await conn.fetchval(
            "UPDATE membership SET role = $3 WHERE user_id = $1 AND school_id = $2 RETURNING id",
            user_id,
            admin.school_id,
            role,
        )
        if changed is None:
            return False
        await conn.execute("DELETE FROM auth_session WHERE user_id = $1", user_id)
        await audit.record(
            admin,
            action="change_role",
            record_type="user",
            record_id=user_id,
            detail={"role": role},
            conn=conn,
        )
    return True


def utcnow() -> datetime:
    return datetime.now(UTC)


async def reader(user_id: int) -> dict[str, str]:
    """The person's language and time zone as stored now (the session carries them as
    they were at login; settings may have changed them since): a page's `lang` and `tz`."""
    async with db.connection() as conn:
        row = await conn.fetchrow("SELECT language, timezone FROM app_user WHERE id = $1", user_id)
    return {
        "lang": i18n.language(row["language"] if row else None),
        "tz": str(row["timezone"]) if row else i18n.FALLBACK_ZONE,
    }


async def save_reader(user: CurrentUser, *, language: str, timezone: str) -> None:
    """Set the person's language and time zone (a zone the server does not know is a 400)."""
    if timezone not in i18n.ZONES:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ClientException("Choose a time zone from the list.") from None
    async with db.connection() as conn:
        await conn.execute(
            "UPDATE app_user SET language = $2, timezone = $3 WHERE id = $1",
            user.id,
            i18n.language(language),
            timezone,
        )
        await audit.record(
            user,
            action="update",
            record_type="user",
            record_id=user.id,
            detail={"fields": ["language", "timezone"]},
            conn=conn,
        )
