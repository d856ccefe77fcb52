"""Formatting for people: dates and times in the reader's locale and time zone.

Every time a person reads is formatted here, from an aware UTC datetime, in the zone of
the reader (the school's for staff pages, the person's own where they chose one) and the
reader's language, by Babel's CLDR data: "2 dic 2026, 11:14" for a Spanish reader in
Chicago, never "11:14 UTC".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime, format_time

LANGUAGES = ("en", "es")
FALLBACK_ZONE = "America/New_York"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or FALLBACK_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK_ZONE)


def when(at: datetime, language: str, timezone: str | None) -> str:
    """A moment as the reader says it: date and time, local, in their language."""
    locale = language if language in LANGUAGES else "en"
    return format_datetime(at, format="medium", tzinfo=zone(timezone), locale=locale)


def day(on: date | datetime, language: str, timezone: str | None) -> str:
    """A date as the reader says it ("Dec 2, 2026"); a datetime is first made local."""
    locale = language if language in LANGUAGES else "en"
    if isinstance(on, datetime):
        on = on.astimezone(zone(timezone)).date()
    return format_date(on, format="medium", locale=locale)


def clock_time(at: datetime, language: str, timezone: str | None) -> str:
    """A time of day as the reader says it ("9:00 AM"), local."""
    locale = language if language in LANGUAGES else "en"
    return format_time(at, format="short", tzinfo=zone(timezone), locale=locale)


@dataclass(frozen=True)
class Clock:
    """The reader's way of telling time, for a page: staff pages use the school's zone
    and the staff member's language (templates call clock.when(x), never strftime)."""

    language: str
    timezone: str

    def when(self, at: datetime | None) -> str:
        return f"{self.day(at)}, {self.time(at)}" if at else ""

    def day(self, on: date | datetime | None) -> str:
        return day(on, self.language, self.timezone) if on else ""

    def time(self, at: datetime | None) -> str:
        return clock_time(at, self.language, self.timezone) if at else ""

    def span(self, start: datetime, end: datetime | None) -> str:
        """A session's time: "Dec 2, 2026, 9:00 – 9:20 AM" style, one date."""
        if end is None:
            return self.when(start)
        if self.day(start) == self.day(end):
            return f"{self.day(start)}, {self.time(start)}–{self.time(end)}"
        return f"{self.when(start)} – {self.when(end)}"
