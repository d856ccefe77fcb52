"""Push subscription and notification-preference APIs (every signed-in user)."""

from __future__ import annotations

from datetime import time
from typing import Any

from litestar import Request, get, post, put
from litestar.exceptions import ClientException

from server.auth.guards import authenticated, current_user
from server.notify import service
from server.notify.schemas import (
    PreferencesIO,
    PublicKeyOut,
    SubscriptionIn,
    SubscriptionOut,
    UnsubscribeIn,
)

SIGNED_IN = [authenticated]


@get("/api/push/key", guards=SIGNED_IN, tags=["push"])
async def vapid_public_key() -> PublicKeyOut:
    """The applicationServerKey for pushManager.subscribe()."""
    return PublicKeyOut(public_key=await service.public_key())


@post("/api/push/subscriptions", guards=SIGNED_IN, tags=["push"], status_code=201)
async def subscribe(request: Request[Any, Any, Any], data: SubscriptionIn) -> SubscriptionOut:
    try:
        sid = await service.subscribe(
            current_user(request),
            endpoint=data.endpoint,
            p256dh=data.keys.p256dh,
            auth=data.keys.auth,
            user_agent=request.headers.get("user-agent", ""),
        )
    except service.SubscriptionRefused as exc:
        raise ClientException(f"This push subscription was refused: {exc}") from None
    return SubscriptionOut(id=sid, subscribed=True)


@post("/api/push/subscriptions/remove", guards=SIGNED_IN, tags=["push"], status_code=200)
async def unsubscribe(request: Request[Any, Any, Any], data: UnsubscribeIn) -> dict[str, bool]:
    return {"removed": await service.unsubscribe(current_user(request), data.endpoint)}


def _clock(value: str | None) -> time | None:
    if value is None:
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _preferences_out(row: dict[str, Any]) -> PreferencesIO:
    return PreferencesIO(
        notify_mode=row["notify_mode"],
        language=row["language"],
        timezone=row["timezone"],
        quiet_start=row["quiet_start"].strftime("%H:%M") if row["quiet_start"] else None,
        quiet_end=row["quiet_end"].strftime("%H:%M") if row["quiet_end"] else None,
    )


@get("/api/notify/preferences", guards=SIGNED_IN, tags=["push"])
async def get_preferences(request: Request[Any, Any, Any]) -> PreferencesIO:
    return _preferences_out(await service.preferences(current_user(request)))


@put("/api/notify/preferences", guards=SIGNED_IN, tags=["push"])
async def put_preferences(request: Request[Any, Any, Any], data: PreferencesIO) -> PreferencesIO:
    if (data.quiet_start is None) != (data.quiet_end is None):
        raise ClientException("Give both the start and the end of the quiet hours, or neither.")
    user = current_user(request)
    await service.save_preferences(
        user,
        notify_mode=data.notify_mode,
        quiet_start=_clock(data.quiet_start),
        quiet_end=_clock(data.quiet_end),
        language=data.language,
        timezone=service.check_timezone(data.timezone),
    )
    return _preferences_out(await service.preferences(user))


ROUTES: list[Any] = [
    vapid_public_key,
    subscribe,
    unsubscribe,
    get_preferences,
    put_preferences,
]
