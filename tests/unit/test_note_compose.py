"""A note's words: the same input composes the same words and digest; dates are the
school's days, in the reader's language."""

from __future__ import annotations

from typing import Any

from server.progress.compose import compose_all, compose_note, digest

SUMMARY: dict[str, Any] = {
    "sessions": 2,
    # 03:00 UTC on 2 December is still 1 December in Chicago.
    "first": "2026-11-20T15:00:00+00:00",
    "last": "2026-12-02T03:00:00+00:00",
    "goals": [
        {
            "area": "Communication",
            "description": "Asks for a break",
            "measurement": "trials",
            "sessions": 2,
            "correct": 2,
            "total": 3,
            "correct_by_help": {"independent": 1, "model": 1},
        }
    ],
}


def test_dates_are_the_schools_days_in_the_readers_language() -> None:
    en = compose_note(SUMMARY, "en", "America/Chicago")
    assert (
        en.sessions_line == "Based on 2 approved sessions, November 20, 2026 to December 1, 2026."
    )
    es = compose_note(SUMMARY, "es", "America/Chicago")
    assert es.sessions_line == (
        "Basado en 2 sesiones aprobadas, del 20 de noviembre de 2026 al 1 de diciembre de 2026."
    )
    assert "2026-" not in str(es)


def test_the_same_input_gives_the_same_words_and_digest_and_any_change_moves_it() -> None:
    one = compose_all(SUMMARY, "America/Chicago")
    assert digest(one) == digest(compose_all(dict(reversed(SUMMARY.items())), "America/Chicago"))
    changed = {**SUMMARY, "goals": [{**SUMMARY["goals"][0], "correct": 3}]}
    assert digest(compose_all(changed, "America/Chicago")) != digest(one)
    assert digest(compose_all(SUMMARY, "Asia/Tokyo")) != digest(one)  # other days
