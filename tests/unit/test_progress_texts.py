"""The plain-language lines of a progress note, per measurement type, in English and
Spanish: what was practised, how it went, how independently; no unexplained jargon."""

from __future__ import annotations

from typing import Any

import pytest

from server.progress.texts import HELP, UI, describe_goal

TRIALS: dict[str, Any] = {
    "measurement": "trials",
    "sessions": 2,
    "correct": 6,
    "total": 8,
    "correct_by_help": {"independent": 2, "verbal": 4},
}


def test_trials_say_how_often_how_well_and_how_independently() -> None:
    assert describe_goal(TRIALS, "en") == [
        "Practised 8 times in 2 sessions: 6 correct (75%).",
        "2 of the correct answers were done on their own, with no help.",
        "Most successes came with a spoken reminder.",
    ]
    assert describe_goal(TRIALS, "es") == [
        "Practicó 8 veces en 2 sesiones: 6 correctas (75 %).",
        "2 de las respuestas correctas fueron sin ninguna ayuda.",
        "La mayoría de los aciertos fueron con un recordatorio hablado.",
    ]


@pytest.mark.parametrize(
    ("goal", "english"),
    [
        (
            {"measurement": "frequency", "sessions": 3, "count": 7},
            "Counted 7 times over 3 sessions.",
        ),
        (
            {"measurement": "duration", "sessions": 1, "minutes": 12.5},
            "About 12.5 minutes in total over 1 session.",
        ),
        (
            {"measurement": "rating", "sessions": 2, "mean": 3.5, "best": 4, "scale": 5},
            "Scored 3.5 out of 5 on average (best: 4), where 5 is the highest.",
        ),
        (
            {
                "measurement": "task_analysis",
                "sessions": 1,
                "steps": 5,
                "done_last": 4,
                "independent_last": 3,
            },
            "In the latest session: 4 of 5 steps done, 3 of them on their own.",
        ),
    ],
)
def test_every_measurement_has_a_plain_sentence(goal: dict[str, Any], english: str) -> None:
    assert describe_goal(goal, "en") == [english]
    spanish = describe_goal(goal, "es")
    assert len(spanish) == 1
    assert spanish[0] != english


def test_one_is_singular() -> None:
    one = {"measurement": "trials", "sessions": 1, "correct": 1, "total": 1, "correct_by_help": {}}
    assert describe_goal(one, "en")[0] == "Practised 1 time in 1 session: 1 correct (100%)."
    assert describe_goal(one, "es")[0] == "Practicó 1 vez en 1 sesión: 1 correcta (100 %)."


def test_unknown_language_reads_english_and_no_jargon_leaks() -> None:
    assert describe_goal(TRIALS, "fr") == describe_goal(TRIALS, "en")
    words = " ".join(describe_goal(TRIALS, "en") + describe_goal(TRIALS, "es")).lower()
    for jargon in ("prompt", "verbal", "gestural", "trial", "partial_physical"):
        assert jargon not in words


def test_both_languages_have_every_text() -> None:
    assert set(UI["en"]) == set(UI["es"])
    assert set(HELP["en"]) == set(HELP["es"])
    assert all(UI["es"][k] for k in UI["es"])


def test_the_note_preview_is_shown_in_each_guardians_language_english_first() -> None:
    from server.review.routes import preview_readers

    assert preview_readers([]) == [("en", "English", [])]
    readers = preview_readers(
        [
            {"name": "Abuela", "language": "es"},
            {"name": "Dad", "language": "en"},
            {"name": "Tía", "language": "es"},
            {"name": "Mom", "language": None},  # no choice yet: English
        ]
    )
    assert readers == [
        ("en", "English", ["Dad", "Mom"]),
        ("es", "Spanish", ["Abuela", "Tía"]),
    ]
