"""Sending one push message: pywebpush encrypts (aes128gcm), we sign VAPID and POST.

pywebpush's own senders follow redirects, default to TTL 0 and no timeout, and post to
whatever URL they are given. So WebPusher only encrypts here; the POST goes through one
reused client (server/notify/http.py: keep-alive connections, no proxy from the
environment) that never follows redirects and has a timeout, after the endpoint
is checked again (allowed host, public address) right before sending.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import ssl
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from cryptography.hazmat.primitives.asymmetric import ec
from pywebpush import WebPusher

from server.notify.endpoints import EndpointRefused, check_resolved, check_static
from server.notify.http import PushHTTPClient, PushHTTPError
from server.notify.vapid import VapidSigner

DEFAULT_TTL_S = 4 * 24 * 3600  # keep undelivered notes at the push service for 4 days
MAX_RETRY_AFTER_S = 24 * 3600


class Outcome(enum.Enum):
    DELIVERED = "delivered"  # 201: the push service accepted it
    GONE = "gone"  # 404/410: the subscription is dead, delete it
    REFUSED = "refused"  # endpoint not allowed (or it redirected): delete it
    RETRY = "retry"  # 429, 5xx, timeout, network: try again later
    REJECTED = "rejected"  # 413 and other 4xx: this message will never be accepted


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    status: int | None = None
    retry_after_s: float | None = None
    detail: str = ""


class InvalidKeys(ValueError):
    pass


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_keys(p256dh: str, auth: str) -> None:
    """p256dh: an uncompressed point on the P-256 curve (65 bytes); auth: a 16-byte secret."""
    try:
        point, secret = _b64(p256dh), _b64(auth)
    except (ValueError, TypeError):
        raise InvalidKeys("The subscription keys are not base64url.") from None
    if len(point) != 65 or point[0] != 4:
        raise InvalidKeys("The p256dh key must be a 65-byte uncompressed P-256 point.")
    try:
        # 65 bytes are not yet a key: a point off the curve makes every encryption fail.
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise InvalidKeys("The p256dh key is not a point on the P-256 curve.") from None
    if len(secret) != 16:
        raise InvalidKeys("The auth secret must be 16 bytes.")


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float:
    """Retry-After in seconds (delta-seconds or an HTTP date), clamped to [1 s, 1 day]."""
    if not value:
        return 60.0
    value = value.strip()
    seconds: float
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 60.0
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 1.0), float(MAX_RETRY_AFTER_S))


class PushSender:
    """One reused HTTP client for every push; encryption optionally in a thread pool."""

    def __init__(
        self,
        signer: VapidSigner,
        *,
        allowed_hosts: tuple[str, ...],
        allow_insecure_local: bool,
        timeout_s: float,
        max_connections: int = 32,
        executor: Executor | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.signer = signer
        self.allowed_hosts = allowed_hosts
        self.allow_insecure_local = allow_insecure_local
        self.executor = executor
        self.client = PushHTTPClient(
            timeout_s=timeout_s, max_per_origin=max_connections, ssl_context=ssl_context
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    def prepare(
        self,
        sub: Subscription,
        data: bytes,
        *,
        audience: str,
        topic: str,
        urgency: str = "normal",
        ttl_s: int = DEFAULT_TTL_S,
    ) -> tuple[bytes, dict[str, str]]:
        """The per-message work: encrypt for this subscription, build the headers."""
        check_keys(sub.p256dh, sub.auth)
        pusher = WebPusher(
            {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
        )
        encoded: Mapping[str, bytes] = pusher.encode(data, "aes128gcm")
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "aes128gcm",
            "TTL": str(ttl_s),
            "Urgency": urgency,
            "Topic": topic,
            "Authorization": self.signer.authorization(audience),
        }
        return encoded["body"], headers

    async def send(
        self,
        sub: Subscription,
        data: bytes,
        *,
        topic: str,
        urgency: str = "normal",
        ttl_s: int = DEFAULT_TTL_S,
    ) -> SendResult:
        try:
            endpoint = check_static(
                sub.endpoint,
                allowed_hosts=self.allowed_hosts,
                allow_insecure_local=self.allow_insecure_local,
            )
            await check_resolved(endpoint)
        except EndpointRefused as exc:
            return SendResult(Outcome.REFUSED, detail=str(exc))
        try:
            if self.executor is not None:
                loop = asyncio.get_running_loop()
                body, headers = await loop.run_in_executor(
                    self.executor,
                    lambda: self.prepare(
                        sub,
                        data,
                        audience=endpoint.audience,
                        topic=topic,
                        urgency=urgency,
                        ttl_s=ttl_s,
                    ),
                )
            else:
                body, headers = self.prepare(
                    sub, data, audience=endpoint.audience, topic=topic, urgency=urgency, ttl_s=ttl_s
                )
        except InvalidKeys as exc:
            return SendResult(Outcome.REFUSED, detail=str(exc))
        try:
            status, response_headers = await self.client.post(sub.endpoint, body, headers)
        except TimeoutError:
            return SendResult(Outcome.RETRY, detail="the push service did not answer in time")
        except PushHTTPError as exc:
            return SendResult(Outcome.RETRY, detail=f"network error: {exc}")
        return classify(status, response_headers.get("retry-after"))


def classify(status: int, retry_after: str | None) -> SendResult:
    if status in (200, 201, 202):
        return SendResult(Outcome.DELIVERED, status)
    if status in (404, 410):
        return SendResult(Outcome.GONE, status, detail="the subscription has expired")
    if 300 <= status < 400:
        return SendResult(
            Outcome.REFUSED, status, detail="the push service redirected; not followed"
        )
    if status == 429:
        return SendResult(
            Outcome.RETRY,
            status,
            retry_after_s=parse_retry_after(retry_after),
            detail="rate limited by the push service",
        )
    if status >= 500:
        return SendResult(
            Outcome.RETRY,
            status,
            retry_after_s=parse_retry_after(retry_after) if retry_after else None,
            detail=f"push service error {status}",
        )
    return SendResult(
        Outcome.REJECTED, status, detail=f"the push service refused the message ({status})"
    )
