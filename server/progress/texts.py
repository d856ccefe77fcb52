"""The plain-language sentences of a progress note, composed in the reader's language from
the note's derived figures (every word through the catalogs of server/i18n.py).

Special-education terms are avoided or explained: a "prompt" is "help", an "IEP goal" is
explained where it appears. A sentence claims only what its figures show ("most" only
for a majority, ties named as ties, the direction a goal wants said).
"""

from __future__ import annotations

from typing import Any

from babel.lists import format_list
from babel.numbers import format_decimal

from server.collect.derive import PROMPTS
from server.i18n import N_, language, tr, trn

# The kind of help behind a correct answer, in plain words (msgids; tr() translates).
HELP = {
    "independent": N_("on their own"),
    "gestural": N_("with a pointing or gesture hint"),
    "verbal": N_("with a spoken reminder"),
    "model": N_("after being shown how"),
    "partial_physical": N_("with some hands-on help"),
    "full_physical": N_("with full hands-on help"),
}


def lang(code: str | None) -> str:
    return language(code)


def _times(code: str, n: int) -> str:
    return trn(code, "%(n)s time", "%(n)s times", n) % {"n": n}


def _sessions(code: str, n: int) -> str:
    return trn(code, "%(n)s session", "%(n)s sessions", n) % {"n": n}


def help_sentence(by_help: dict[str, int], code: str) -> str | None:
    """Which kind of help the correct answers came with, claiming only what the counts
    show: "most" only for a true majority, "most often" for a lone plurality, and a tie
    named as a tie (in the fixed order of PROMPTS, never a dictionary's order)."""
    counts = [(p, by_help.get(p, 0)) for p in PROMPTS if by_help.get(p, 0) > 0]
    if not counts:
        return None
    total = sum(n for _, n in counts)
    top = max(n for _, n in counts)
    leaders = [tr(code, HELP[p]) for p, n in counts if n == top]
    if len(leaders) > 1:
        return tr(code, "Successes came as often %(helps)s (%(n)s each).") % {
            "helps": format_list(leaders, locale=code),
            "n": top,
        }
    if 2 * top > total:
        return tr(code, "Most successes came %(help)s (%(n)s of %(total)s).") % {
            "help": leaders[0],
            "n": top,
            "total": total,
        }
    return tr(code, "Successes came most often %(help)s (%(n)s of %(total)s).") % {
        "help": leaders[0],
        "n": top,
        "total": total,
    }


def direction_sentence(per_session: list[int], direction: str | None, code: str) -> str | None:
    """Whether the count moved the way the goal wants, first session against the latest.
    A goal to decrease (call-outs) reads "fewer" as progress."""
    down = direction == "decrease"
    if len(per_session) < 2:
        return tr(code, "The goal is for this number to go down.") if down else None
    first, last = per_session[0], per_session[-1]
    values = {"first": first, "last": last}
    if first == last:
        return tr(code, "The same in the first and the latest session (%(first)s).") % values
    if last < first and down:
        return (
            tr(
                code,
                "Down from %(first)s in the first session to %(last)s in the latest: which is the goal.",
            )
            % values
        )
    if last < first:
        return (
            tr(
                code,
                "Down from %(first)s in the first session to %(last)s in the latest: the goal is for it to go up.",
            )
            % values
        )
    if down:
        return (
            tr(
                code,
                "Up from %(first)s in the first session to %(last)s in the latest: the goal is for it to go down.",
            )
            % values
        )
    return (
        tr(
            code,
            "Up from %(first)s in the first session to %(last)s in the latest: which is the goal.",
        )
        % values
    )


def minutes_text(minutes: float, code: str) -> str:
    """A duration in words a parent reads: seconds under a minute, else minutes in the
    reader's number format ("12.5 minutes", "12,5 minutos")."""
    if minutes < 1:
        seconds = round(minutes * 60)
        return trn(code, "%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    value = round(minutes, 1)
    return trn(code, "%(n)s minute", "%(n)s minutes", 1 if value == 1 else 2) % {
        "n": format_decimal(value, locale=code)
    }


def describe_goal(goal: dict[str, Any], code: str) -> list[str]:
    """Plain sentences for one goal of a note: what was practised, how it went, how
    independently."""
    code = language(code)
    m = goal["measurement"]
    n = goal.get("sessions", 0)
    lines: list[str] = []
    if m == "trials":
        correct, total = goal.get("correct", 0), goal.get("total", 0)
        alone = goal.get("correct_by_help", {}).get("independent", 0)
        lines.append(
            tr(code, "Practised %(times)s in %(sessions)s: %(correct)s (%(pct)s%%).")
            % {
                "times": _times(code, total),
                "sessions": _sessions(code, n),
                "correct": trn(code, "%(n)s correct", "%(n)s correct", correct) % {"n": correct},
                "pct": round(100 * correct / total) if total else 0,
            }
        )
        if correct:
            lines.append(
                tr(
                    code,
                    "On their own, with no help: %(alone)s of the %(correct)s correct answers.",
                )
                % {"alone": alone, "correct": correct}
            )
        sentence = help_sentence(goal.get("correct_by_help", {}), code)
        if sentence:
            lines.append(sentence)
    elif m == "frequency":
        count = goal.get("count", 0)
        what = str(goal.get("measure_name") or "").strip()
        if what:
            lines.append(
                tr(code, "%(what)s: %(count)s in all over %(sessions)s.")
                % {
                    "what": what[:1].upper() + what[1:],
                    "count": count,
                    "sessions": _sessions(code, n),
                }
            )
        else:
            lines.append(
                tr(code, "Counted %(times)s over %(sessions)s.")
                % {"times": _times(code, count), "sessions": _sessions(code, n)}
            )
        sentence = direction_sentence(goal.get("per_session") or [], goal.get("direction"), code)
        if sentence:
            lines.append(sentence)
    elif m == "duration":
        amount = minutes_text(goal.get("minutes", 0), code)
        if goal.get("continuous"):
            lines.append(
                tr(code, "Longest time without a break: about %(amount)s.") % {"amount": amount}
            )
        else:
            lines.append(
                tr(code, "About %(amount)s in total over %(sessions)s.")
                % {"amount": amount, "sessions": _sessions(code, n)}
            )
    elif m == "rating":
        mean, best, scale = goal.get("mean"), goal.get("best"), goal.get("scale") or 5
        if mean is not None:
            lines.append(
                tr(
                    code,
                    "Scored %(mean)s out of %(scale)s on average (best: %(best)s), where %(scale)s is the highest.",
                )
                % {
                    "mean": format_decimal(mean, format="0.0", locale=code),
                    "scale": scale,
                    "best": best,
                }
            )
    elif m == "task_analysis":
        lines.append(
            tr(
                code,
                "In the latest session: %(done)s of %(steps)s steps done, %(alone)s of them on their own.",
            )
            % {
                "done": goal.get("done_last", 0),
                "steps": goal.get("steps", 0),
                "alone": goal.get("independent_last", 0),
            }
        )
    return lines
