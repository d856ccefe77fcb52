"""Devices, server-side sessions, rate limits, single-use links and shared secrets."""

from piccolo.columns import BigInt, BigSerial, Bytea, Integer, Text, Timestamptz
from piccolo.table import Table


class Device(Table, tablename="device"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    user_id = BigInt()
    token_hash = Bytea()
    label = Text(default="")
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = BigInt(null=True, default=None)


class AuthSession(Table, tablename="auth_session"):
    id_hash = Bytea(primary_key=True)
    user_id = BigInt()
    school_id = BigInt()
    role = Text()
    device_id = BigInt(null=True, default=None)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    expires_at = Timestamptz()


class RateLimit(Table, tablename="rate_limit"):
    key = Text(primary_key=True)
    failures = Integer()
    window_start = Timestamptz()
    last_failed_at = Timestamptz(null=True, default=None)
    blocked_until = Timestamptz(null=True, default=None)
    in_flight = Integer()
    in_flight_at = Timestamptz()


class AccountLink(Table, tablename="account_link"):
    id = BigSerial(primary_key=True)
    school_id = BigInt()
    kind = Text()
    token_hash = Bytea()
    email = Text()
    name = Text(default="")
    role = Text()
    student_id = BigInt(null=True, default=None)
    user_id = BigInt(null=True, default=None)
    created_by = BigInt()
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    relationship = Text(null=True, default=None)


class AppSecret(Table, tablename="app_secret"):
    name = Text(primary_key=True)
    value = Text()
    created_at = Timestamptz()


class AccountNotice(Table, tablename="account_notice"):
    """Something that happened to a person's account that they hear about in the app."""

    id = BigSerial(primary_key=True)
    user_id = BigInt()
    school_id = BigInt()
    kind = Text()
    actor_id = BigInt(null=True, default=None)
    at = Timestamptz()
    seen_at = Timestamptz(null=True, default=None)
