"""The plain-language lines of a progress note, per measurement type, in English and
Spanish: what was practised, how it went, how independently; no unexplained jargon."""

from __future__ import annotations

from typing import Any

import pytest

from server.progress.texts import describe_goal, help_sentence

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
        "On their own, with no help: 2 of the 6 correct answers.",
        "Most successes came with a spoken reminder (4 of 6).",
    ]
    assert describe_goal(TRIALS, "es") == [
        "Practicó 8 veces en 2 sesiones: 6 correctas (75 %).",
        "Sin ninguna ayuda: 2 de las 6 respuestas correctas.",
        "La mayoría de los aciertos fueron con un recordatorio hablado (4 de 6).",
    ]


@pytest.mark.parametrize(
    ("by_help", "english"),
    [
        # A true majority is "most".
        ({"verbal": 4, "independent": 2}, "Most successes came with a spoken reminder (4 of 6)."),
        # The largest share without a majority is "most often", never "most".
        (
            {"independent": 3, "model": 2, "verbal": 2},
            "Successes came most often on their own (3 of 7).",
        ),
        # Half is not a majority.
        (
            {"independent": 2, "model": 1, "verbal": 1},
            "Successes came most often on their own (2 of 4).",
        ),
        # Ties are named as ties, in the fixed order of help levels, whatever the dict order.
        (
            {"model": 3, "verbal": 1, "independent": 3},
            "Successes came as often on their own and after being shown how (3 each).",
        ),
        (
            {"full_physical": 1, "gestural": 1, "independent": 1},
            "Successes came as often on their own, with a pointing or gesture hint, and with full"
            " hands-on help (1 each).",
        ),
        ({}, None),
        ({"independent": 0}, None),
    ],
)
def test_the_help_sentence_claims_only_what_the_counts_show(
    by_help: dict[str, int], english: str | None
) -> None:
    assert help_sentence(by_help, "en") == english
    reordered = dict(reversed(list(by_help.items())))
    assert help_sentence(reordered, "en") == english
    assert help_sentence(by_help, "es") == help_sentence(reordered, "es")


def test_no_correct_answer_says_nothing_about_help() -> None:
    none = {**TRIALS, "correct": 0, "correct_by_help": {}}
    assert describe_goal(none, "en") == ["Practised 8 times in 2 sessions: 0 correct (0%)."]


def test_short_durations_read_in_seconds_and_numbers_in_the_readers_format() -> None:
    short = {"measurement": "duration", "sessions": 1, "minutes": 0.2}
    assert describe_goal(short, "en") == ["About 12 seconds in total over 1 session."]
    assert describe_goal(short, "es") == ["Unos 12 segundos en total en 1 sesión."]
    long = {"measurement": "duration", "sessions": 2, "minutes": 12.5}
    assert describe_goal(long, "es") == ["Unos 12,5 minutos en total en 2 sesiones."]


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


CALL_OUTS: dict[str, Any] = {
    "measurement": "frequency",
    "sessions": 3,
    "count": 21,
    "per_session": [12, 6, 3],
    "measure_name": "call-outs per lesson",
    "direction": "decrease",
}


def test_a_count_says_what_it_counts_and_whether_it_moved_the_right_way() -> None:
    assert describe_goal(CALL_OUTS, "en") == [
        "Call-outs per lesson: 21 in all over 3 sessions.",
        "Down from 12 in the first session to 3 in the latest: which is the goal.",
    ]
    assert describe_goal(CALL_OUTS, "es")[1] == (
        "Bajó de 12 en la primera sesión a 3 en la última: como se busca."
    )
    worse = {**CALL_OUTS, "per_session": [3, 6, 12]}
    assert describe_goal(worse, "en")[1] == (
        "Up from 3 in the first session to 12 in the latest: the goal is for it to go down."
    )
    greetings = {**CALL_OUTS, "direction": "increase", "measure_name": "greetings"}
    assert describe_goal(greetings, "en")[1] == (
        "Down from 12 in the first session to 3 in the latest: the goal is for it to go up."
    )
    one = {**CALL_OUTS, "sessions": 1, "per_session": [4], "count": 4}
    assert describe_goal(one, "en")[1] == "The goal is for this number to go down."
    same = {**CALL_OUTS, "per_session": [4, 1, 4]}
    assert describe_goal(same, "en")[1] == "The same in the first and the latest session (4)."


def test_a_continuous_duration_reads_its_longest_run() -> None:
    run = {"measurement": "duration", "sessions": 2, "minutes": 9.5, "continuous": True}
    assert describe_goal(run, "en") == ["Longest time without a break: about 9.5 minutes."]
    assert describe_goal(run, "es") == ["El tiempo más largo sin pausa: unos 9,5 minutos."]
