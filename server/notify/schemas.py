"""Push subscription and preference shapes."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

Endpoint = Annotated[str, Meta(min_length=10, max_length=1024)]
KeyText = Annotated[str, Meta(min_length=16, max_length=100, pattern=r"^[A-Za-z0-9_\-=]+$")]
Clock = Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Mode = Annotated[str, Meta(pattern=r"^(immediate|daily|weekly)$")]
Lang = Annotated[str, Meta(pattern=r"^(en|es)$")]
Zone = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")]
Expiry = Annotated[float, Meta(ge=0, le=1e15)]


class SubscriptionKeys(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    p256dh: KeyText
    auth: KeyText


class SubscriptionIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True, rename="camel"):
    """PushSubscription.toJSON() as the browser makes it."""

    endpoint: Endpoint
    keys: SubscriptionKeys
    expiration_time: Expiry | None = None


class UnsubscribeIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    endpoint: Endpoint


class SubscriptionOut(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    subscribed: bool


class PublicKeyOut(msgspec.Struct, frozen=True, kw_only=True):
    public_key: str


class PreferencesIO(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    notify_mode: Mode
    language: Lang
    timezone: Zone
    quiet_start: Clock | None = None
    quiet_end: Clock | None = None
