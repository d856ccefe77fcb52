"""Settings, read once from the environment into a frozen struct."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "web.push.apple.com",
    "*.notify.windows.com",
    "*.push.apple.com",
)


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str | None
    migrate_database_url: str | None
    app_role: str
    allow_owner_role: bool
    data_dir: Path
    base_url: str
    host: str
    port: int
    workers: int
    secure_cookies: bool
    session_idle_minutes: int
    session_absolute_hours: int
    login_limit_per_account: int  # free failures per (account, address) source
    login_limit_per_address: int
    login_window_seconds: int
    login_backoff_seconds: int
    login_limit_account_ceiling: int
    max_body_bytes: int
    invite_ttl_hours: int
    reset_ttl_hours: int
    smtp_url: str | None
    mail_from: str
    push_allowed_hosts: tuple[str, ...]
    push_allow_insecure_local: bool
    push_timeout_seconds: float
    run_worker_in_process: bool
    failpoints: bool
    argon2_memory_kib: int
    argon2_time_cost: int


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else int(raw)


MAX_WORKERS = 64


def clamp_workers(n: int) -> int:
    """Server processes: at least one, at most MAX_WORKERS."""
    return max(1, min(MAX_WORKERS, n))


def load_settings() -> Settings:
    base_url = os.environ.get("TANDEM_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    hosts = os.environ.get("TANDEM_PUSH_ALLOWED_HOSTS")
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or None,
        migrate_database_url=os.environ.get("TANDEM_MIGRATE_DATABASE_URL") or None,
        app_role=os.environ.get("TANDEM_APP_ROLE") or "tandem_app",
        allow_owner_role=_bool("TANDEM_ALLOW_OWNER_ROLE", False),
        data_dir=Path(os.environ.get("TANDEM_DATA_DIR", str(ROOT / ".tandem"))).resolve(),
        base_url=base_url,
        host=os.environ.get("TANDEM_HOST", "127.0.0.1"),
        port=_int("TANDEM_PORT", 8000),
        workers=clamp_workers(_int("TANDEM_WORKERS", 1)),
        secure_cookies=_bool("TANDEM_SECURE_COOKIES", base_url.startswith("https://")),
        session_idle_minutes=_int("TANDEM_SESSION_IDLE_MINUTES", 8 * 60),
        session_absolute_hours=_int("TANDEM_SESSION_ABSOLUTE_HOURS", 14 * 24),
        login_limit_per_account=_int("TANDEM_LOGIN_LIMIT_ACCOUNT", 5),
        login_limit_per_address=_int("TANDEM_LOGIN_LIMIT_ADDRESS", 50),
        login_window_seconds=_int("TANDEM_LOGIN_WINDOW_SECONDS", 15 * 60),
        login_backoff_seconds=_int("TANDEM_LOGIN_BACKOFF_SECONDS", 60),
        login_limit_account_ceiling=_int("TANDEM_LOGIN_LIMIT_ACCOUNT_CEILING", 100),
        max_body_bytes=_int("TANDEM_MAX_BODY_BYTES", 1024 * 1024),
        invite_ttl_hours=_int("TANDEM_INVITE_TTL_HOURS", 7 * 24),
        reset_ttl_hours=_int("TANDEM_RESET_TTL_HOURS", 24),
        smtp_url=os.environ.get("TANDEM_SMTP_URL") or None,
        mail_from=os.environ.get("TANDEM_MAIL_FROM", "tandem@localhost"),
        push_allowed_hosts=tuple(h.strip() for h in hosts.split(",") if h.strip())
        if hosts
        else DEFAULT_PUSH_HOSTS,
        push_allow_insecure_local=_bool("TANDEM_PUSH_ALLOW_INSECURE_LOCAL", False),
        push_timeout_seconds=float(os.environ.get("TANDEM_PUSH_TIMEOUT_SECONDS", "10")),
        run_worker_in_process=_bool("TANDEM_WORKER_IN_PROCESS", True),
        failpoints=_bool("TANDEM_FAILPOINTS", False),
        argon2_memory_kib=_int("TANDEM_ARGON2_MEMORY_KIB", 19 * 1024),
        argon2_time_cost=_int("TANDEM_ARGON2_TIME_COST", 2),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
