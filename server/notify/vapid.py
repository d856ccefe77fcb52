"""The VAPID key pair, kept in Postgres (app_secret) so every app process and worker
signs with the same key, and the per-audience signed tokens.

The private key is stored as the raw 32-byte scalar, base64url; the public key handed to
browsers (applicationServerKey) is the uncompressed P-256 point, base64url.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field

import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

SECRET_NAME = "vapid_private_key"  # noqa: S105 (the app_secret row name, not a secret)
TOKEN_LIFETIME_S = 12 * 3600  # RFC 8292 allows up to 24 h
TOKEN_REFRESH_MARGIN_S = 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_private_key_text() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def public_key_text(private_text: str) -> str:
    key = ec.derive_private_key(int.from_bytes(b64url_decode(private_text), "big"), ec.SECP256R1())
    return b64url(
        key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


async def ensure_keys(conn: asyncpg.Connection, *, replace: bool = False) -> str:
    """The stored private key, created on first use (or replaced when asked)."""
    if replace:
        await conn.execute(
            """INSERT INTO app_secret (name, value) VALUES ($1, $2)
               ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, created_at = now()""",
            SECRET_NAME,
            new_private_key_text(),
        )
    else:
        await conn.execute(
            "INSERT INTO app_secret (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            SECRET_NAME,
            new_private_key_text(),
        )
    value = await conn.fetchval("SELECT value FROM app_secret WHERE name = $1", SECRET_NAME)
    return str(value)


@dataclass
class VapidSigner:
    """Signs VAPID tokens with the shared key; one token per push-service origin is
    reused until close to its expiry (a fresh claims dict every time: pywebpush's
    webpush() mutates the one it is given, we never hand ours out)."""

    private_text: str
    subject: str
    _vapid: Vapid02 = field(init=False)
    _tokens: dict[str, tuple[float, str]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._vapid = Vapid02.from_raw(self.private_text.encode("ascii"))
        self.public_key = public_key_text(self.private_text)

    def authorization(self, audience: str, *, now: float | None = None) -> str:
        current = time.time() if now is None else now
        cached = self._tokens.get(audience)
        if cached and cached[0] - current > TOKEN_REFRESH_MARGIN_S:
            return cached[1]
        exp = int(current) + TOKEN_LIFETIME_S
        claims = {"aud": audience, "exp": exp, "sub": self.subject}
        header = self._vapid.sign(dict(claims))["Authorization"]
        self._tokens[audience] = (float(exp), header)
        return str(header)
