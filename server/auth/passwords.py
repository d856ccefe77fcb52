"""Argon2id password hashing, always off the event loop."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from server.settings import get_settings


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    s = get_settings()
    return PasswordHasher(
        time_cost=s.argon2_time_cost,
        memory_cost=s.argon2_memory_kib,
        parallelism=1,
        type=Type.ID,
    )


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("tandem-dummy-password-for-timing")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher().hash, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """True if the password matches. With no stored hash, still does the same work, so a
    missing account answers in the same time as a wrong password."""

    def work() -> bool:
        try:
            return _hasher().verify(stored_hash or _dummy_hash(), password) and bool(stored_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(work)


def hash_password_sync(password: str) -> str:
    return _hasher().hash(password)
