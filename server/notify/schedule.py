"""When a notification may be delivered: the recipient's mode and quiet hours, in the
recipient's own time zone. Pure functions; the worker passes "now" in.

Digests are delivered at DIGEST_TIME local time: daily ones every day, weekly ones on
WEEKLY_DIGEST_DAY. Quiet hours defer, never drop: a moment inside them moves to their end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DIGEST_TIME = time(17, 0)
WEEKLY_DIGEST_DAY = 4  # Friday (Monday is 0)
MODES = ("immediate", "daily", "weekly")


@dataclass(frozen=True)
class Preferences:
    mode: str = "immediate"
    quiet_start: time | None = None
    quiet_end: time | None = None
    timezone: str = "UTC"

    @property
    def is_digest(self) -> bool:
        return self.mode in ("daily", "weekly")


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def in_quiet_hours(moment: time, start: time | None, end: time | None) -> bool:
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # the window wraps past midnight


def after_quiet_hours(local: datetime, prefs: Preferences) -> datetime:
    """`local` itself, or the end of the quiet hours it falls in (same zone)."""
    if prefs.quiet_end is None or not in_quiet_hours(
        local.timetz().replace(tzinfo=None), prefs.quiet_start, prefs.quiet_end
    ):
        return local
    tz = local.tzinfo
    end = datetime.combine(local.date(), prefs.quiet_end, tzinfo=tz)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), prefs.quiet_end, tzinfo=tz)
    return end


def next_digest(local: datetime, mode: str) -> datetime:
    """The next digest slot at or after `local` for a daily or weekly digest."""
    tz = local.tzinfo
    slot = datetime.combine(local.date(), DIGEST_TIME, tzinfo=tz)
    if mode == "weekly":
        days = (WEEKLY_DIGEST_DAY - local.weekday()) % 7
        slot = datetime.combine(local.date() + timedelta(days=days), DIGEST_TIME, tzinfo=tz)
        if slot < local:
            slot = datetime.combine(local.date() + timedelta(days=days + 7), DIGEST_TIME, tzinfo=tz)
        return slot
    if slot < local:
        slot = datetime.combine(local.date() + timedelta(days=1), DIGEST_TIME, tzinfo=tz)
    return slot


def deliver_at(now: datetime, prefs: Preferences) -> datetime:
    """The earliest moment (UTC) a notification created at `now` may be pushed."""
    local = now.astimezone(zone(prefs.timezone))
    if prefs.is_digest:
        local = next_digest(local, prefs.mode)
    return after_quiet_hours(local, prefs).astimezone(UTC)
