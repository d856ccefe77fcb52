"""Words and formats for people: gettext catalogs, and dates and times in the reader's
locale and time zone.

Every word a person reads is an English msgid in the code or a template, translated by
the catalog of the reader's language: server/locale/<lang>/LC_MESSAGES/messages.po (Babel;
`make i18n` extracts new strings and updates the catalogs, and tests/unit/test_catalogs.py
fails while any catalog lacks a string the templates, the server or the PWA use). Adding
a language is adding a catalog and its code to LANGUAGES. The .po files are compiled in
memory at start-up: no build step, no compiled files in the repository.

Templates call `_()` / `ngettext()` (Jinja's i18n extension, installed by setup_jinja);
the language is the template context's `lang`, else the signed-in user's, else English.
The PWA reads the same catalogs as JSON (server/pwa_routes.py).

Every time a person reads is formatted here too, from an aware UTC datetime, in the zone
of the reader (the school's for staff pages, the person's own where they chose one) and
the reader's language, by Babel's CLDR data: "2 dic 2026, 11:14" for a Spanish reader in
Chicago, never "11:14 UTC".
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.core import Locale
from babel.dates import format_date, format_datetime, format_time, get_timezone_location
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.plural import PluralRule
from babel.support import NullTranslations, Translations
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

LANGUAGES = ("en", "es")
SOURCE_LANGUAGE = "en"
FALLBACK_ZONE = "America/New_York"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
# The order gettext numbers plural forms in (Babel's, from CLDR).
PLURAL_TAGS = ("zero", "one", "two", "few", "many", "other")


def language(code: str | None) -> str:
    return code if code in LANGUAGES else SOURCE_LANGUAGE


def po_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(code: str) -> NullTranslations:
    """The compiled catalog of a language (English: the msgids themselves)."""
    code = language(code)
    if code == SOURCE_LANGUAGE:
        return NullTranslations()
    with po_path(code).open("rb") as f:
        catalog = read_po(f, locale=code)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def N_(message: str) -> str:
    """Marks a msgid kept in data (a table of labels) for extraction; tr() translates it."""
    return message


def tr(code: str | None, message: str) -> str:
    """`message` (English) in language `code`. Extracted as the keyword tr:2."""
    return translations(language(code)).gettext(message)


def trn(code: str | None, singular: str, plural: str, n: int) -> str:
    """The form for `n` of a message with a plural, in language `code` (keyword trn:2,3)."""
    return translations(language(code)).ngettext(singular, plural, n)


def plural_tags(code: str) -> list[str]:
    """The CLDR categories of a language in the order of its gettext plural forms."""
    rule: PluralRule = Locale.parse(code).plural_form
    used = set(rule.tags) | {"other"}
    return [tag for tag in PLURAL_TAGS if tag in used]


def json_catalog(code: str) -> dict[str, Any]:
    """A language's catalog for the PWA: msgid -> text, or -> [forms] for plurals, and the
    CLDR category of each form (the app picks one with Intl.PluralRules)."""
    code = language(code)
    messages: dict[str, Any] = {}
    if code != SOURCE_LANGUAGE:
        with po_path(code).open("rb") as f:
            catalog = read_po(f, locale=code)
        for m in catalog:
            if not m.id or m.fuzzy:
                continue
            if isinstance(m.id, tuple | list):
                messages[m.id[0]] = [str(form) for form in m.string or ()]
            else:
                messages[m.id] = m.string
    return {"language": code, "plural_tags": plural_tags(code), "messages": messages}


def _context_language(context: Context) -> str:
    code = context.get("lang")
    if code is None:
        request = context.get("request")
        user = request.scope.get("user") if request is not None else None
        code = getattr(user, "language", None)
    return language(code)


@pass_context
def _template_gettext(context: Context, message: str) -> str:
    return tr(_context_language(context), message)


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return trn(_context_language(context), singular, plural, n)


def _context_zone(context: Context) -> str | None:
    """The reader's zone: the context's `tz` (a staff page passes the school's), else the
    signed-in user's own."""
    zone_name = context.get("tz")
    if zone_name is None:
        request = context.get("request")
        user = request.scope.get("user") if request is not None else None
        zone_name = getattr(user, "timezone", None)
    return zone_name  # type: ignore[no-any-return]


@pass_context
def _when_filter(context: Context, at: datetime | None) -> str:
    if at is None:
        return ""
    return when(at, _context_language(context), _context_zone(context))


@pass_context
def _day_filter(context: Context, at: datetime | None) -> str:
    if at is None:
        return ""
    return day(at, _context_language(context), _context_zone(context))


def setup_jinja(env: Environment) -> None:
    """Jinja's i18n extension with the reader's catalog (`{{ _('Text %(x)s', x=…) }}`),
    and the `when` / `day` filters: a moment or its date, local, in the reader's words."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _template_gettext, _template_ngettext, newstyle=True
    )
    env.filters["when"] = _when_filter
    env.filters["day"] = _day_filter


# The zones a person picks from (a free-text field lost whole forms to a typo); the
# person's current zone is offered too when it is not among them.
ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "America/Mexico_City",
    "America/Guatemala",
    "America/El_Salvador",
    "America/Tegucigalpa",
    "America/Santo_Domingo",
    "America/Bogota",
    "America/Lima",
    "America/Caracas",
    "America/Sao_Paulo",
    "Europe/Madrid",
    "Europe/London",
    "Asia/Manila",
)


def zone_choices(language_code: str, current: str | None = None) -> list[tuple[str, str]]:
    """(zone, its name in the reader's language), e.g. ("America/Chicago",
    "hora de Estados Unidos (Chicago)")."""
    zones = list(ZONES)
    if current and current not in zones:
        zones.insert(0, current)
    code = language(language_code)
    return [(z, get_timezone_location(z, locale=code)) for z in zones]


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or FALLBACK_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK_ZONE)


def when(at: datetime, language_code: str, timezone: str | None) -> str:
    """A moment as the reader says it: date and time, local, in their language."""
    return format_datetime(
        at, format="medium", tzinfo=zone(timezone), locale=language(language_code)
    )


def day(
    on: date | datetime, language_code: str, timezone: str | None, *, form: str = "long"
) -> str:
    """A date in the reader's words ("2 de diciembre de 2026"; form="medium": "Dec 2,
    2026"); a moment is first made local."""
    if isinstance(on, datetime):
        on = on.astimezone(zone(timezone)).date()
    return format_date(on, format=form, locale=language(language_code))


def clock_time(at: datetime, language_code: str, timezone: str | None) -> str:
    """A time of day as the reader says it ("9:00 AM"), local."""
    return format_time(at, format="short", tzinfo=zone(timezone), locale=language(language_code))


@dataclass(frozen=True)
class Clock:
    """The reader's way of telling time, for a page: staff pages use the school's zone
    and the staff member's language (templates call clock.when(x), never strftime)."""

    language: str
    timezone: str

    def when(self, at: datetime | None) -> str:
        return f"{self.day(at)}, {self.time(at)}" if at else ""

    def day(self, on: date | datetime | None) -> str:
        return day(on, self.language, self.timezone, form="medium") if on else ""

    def time(self, at: datetime | None) -> str:
        return clock_time(at, self.language, self.timezone) if at else ""

    def span(self, start: datetime, end: datetime | None) -> str:
        """A session's time: "Dec 2, 2026, 9:00 – 9:20 AM" style, one date."""
        if end is None:
            return self.when(start)
        if self.day(start) == self.day(end):
            return f"{self.day(start)}, {self.time(start)}–{self.time(end)}"
        return f"{self.when(start)} – {self.when(end)}"
