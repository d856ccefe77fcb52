"""Formatting for people: dates and times in the reader's locale and time zone.

Every time a person reads is formatted here, from an aware UTC datetime, in the zone of
the reader (the school's for staff pages, the person's own where they chose one) and the
reader's language, by Babel's CLDR data: "2 dic 2026, 11:14" for a Spanish reader in
Chicago, never "11:14 UTC".
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime

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
