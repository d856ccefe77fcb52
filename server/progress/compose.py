"""The words of a progress note, composed once, previewed and published byte for byte.

A note's text is composed from its summary (collect/summary.py) in every language a
parent may read, by compose_note(): pure and deterministic, so the teacher's preview and
the note stored at publishing are the same function of the same input. The preview form
carries the digest of what the teacher saw; publishing composes again from the data as it
is then and refuses (409) if the digest differs, so what a family reads is exactly what
its teacher approved; the composed texts are stored with the note, and the parent's page
shows the stored words, never a re-composition by newer code.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

import msgspec
from babel.dates import format_date

from server import i18n
from server.i18n import LANGUAGES, tr, trn
from server.progress.texts import describe_goal


class GoalText(msgspec.Struct, frozen=True, kw_only=True):
    goal_id: int | None = None
    area: str
    description: str
    lines: list[str]
    # False: no text in the reader's language yet, the staff's own words stand in (the
    # composer lists these for the teacher before publishing).
    translated: bool = True


class NoteText(msgspec.Struct, frozen=True, kw_only=True):
    sessions_line: str | None
    goals: list[GoalText]


def _day(iso: str, language: str, timezone: str) -> str:
    moment = datetime.fromisoformat(iso)
    local: date = moment.astimezone(i18n.zone(timezone)).date()
    return format_date(local, format="long", locale=language)


def compose_note(summary: dict[str, Any], language: str, school_timezone: str) -> NoteText:
    """The note's words in `language`; dates are the school's days (a note is a school
    document: every reader sees the same dates)."""
    line = None
    if summary.get("first"):
        first = _day(summary["first"], language, school_timezone)
        last = _day(summary["last"], language, school_timezone)
        n = summary.get("sessions", 0)
        if first == last:
            line = trn(
                language,
                "Based on %(n)s approved session, on %(first)s.",
                "Based on %(n)s approved sessions, on %(first)s.",
                n,
            ) % {"n": n, "first": first}
        else:
            line = tr(language, "Based on %(n)s approved sessions, %(first)s to %(last)s.") % {
                "n": n,
                "first": first,
                "last": last,
            }
    goals = []
    for g in summary.get("goals", []):
        name, description, translated = goal_words(g, language)
        goals.append(
            GoalText(
                goal_id=g.get("goal_id"),
                area=name,
                description=description,
                lines=describe_goal(g, language),
                translated=translated,
            )
        )
    return NoteText(sessions_line=line, goals=goals)


def goal_words(goal: dict[str, Any], language: str) -> tuple[str, str, bool]:
    """A goal's name and description as a family reads them in `language`: the teacher's
    text for that language; else the staff's own (area, description), which is taken to
    be English: a translation then is missing."""
    own = (goal.get("texts") or {}).get(language) or {}
    name, description = str(own.get("name") or ""), str(own.get("description") or "")
    if name and description:
        return name, description, True
    staff = (str(goal.get("area", "")), str(goal.get("description", "")))
    return name or staff[0], description or staff[1], language == i18n.SOURCE_LANGUAGE


def compose_all(summary: dict[str, Any], school_timezone: str) -> dict[str, NoteText]:
    """The note in every language Tandem speaks (a guardian may change language later)."""
    return {code: compose_note(summary, code, school_timezone) for code in LANGUAGES}


def digest(texts: dict[str, NoteText]) -> str:
    """A fingerprint of exactly these words (keys in a fixed order)."""
    encoded = msgspec.json.encode({code: texts[code] for code in sorted(texts)})
    return hashlib.sha256(encoded).hexdigest()
