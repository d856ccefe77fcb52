"""Session summaries for review pages and progress notes, built on derive.py.

No counting rule lives here: every figure comes from derive.derive_goals(). This module
only loads events from the database and folds the per-session results of several
sessions into one plain, language-neutral summary per goal (texts are composed from it
by server/progress/texts.py in the reader's language).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import asyncpg

from server.collect.derive import PROMPTS, Event, GoalResult, derive_goals

EVENT_COLUMNS = """o.op_id, o.kind, o.recorded_at, o.goal_id, o.outcome, o.prompt, o.delta,
                   o.timer_id, o.value, o.step_index, o.note, o.voids_op_id, o.state"""


def to_event(row: Any) -> Event:
    return Event(
        op_id=row["op_id"],
        kind=row["kind"],
        recorded_at=row["recorded_at"],
        goal_id=row["goal_id"],
        outcome=row["outcome"],
        prompt=row["prompt"],
        delta=row["delta"],
        timer_id=row["timer_id"],
        value=row["value"],
        step_index=row["step_index"],
        note=row["note"],
        voids_op_id=row["voids_op_id"],
        state=row["state"],
    )


async def session_results(
    conn: asyncpg.Connection, session_ids: Sequence[UUID], *, include_proposed: bool = False
) -> dict[UUID, dict[int | None, GoalResult]]:
    """Per session, the derived results per goal."""
    rows = await conn.fetch(
        f"""SELECT o.session_id, {EVENT_COLUMNS}, s.closed_at
              FROM observation o JOIN data_session s ON s.id = o.session_id
             WHERE o.session_id = ANY($1::uuid[])""",
        list(session_ids),
    )
    events: dict[UUID, list[Event]] = {sid: [] for sid in session_ids}
    closed: dict[UUID, Any] = {}
    for r in rows:
        events[r["session_id"]].append(to_event(r))
        closed[r["session_id"]] = r["closed_at"]
    return {
        sid: derive_goals(evs, closed_at=closed.get(sid), include_proposed=include_proposed)
        for sid, evs in events.items()
    }


def _json_object(value: Any) -> dict[str, Any]:
    decoded = json.loads(value) if isinstance(value, str) else value
    return decoded if isinstance(decoded, dict) else {}


def _goal_summary(goal: Any, results: Iterable[GoalResult]) -> dict[str, Any]:
    results = [r for r in results if r.events > 0]
    out: dict[str, Any] = {
        "goal_id": goal["id"],
        "area": goal["area"],
        "description": goal["description"],
        "measurement": goal["measurement"],
        "sessions": len(results),
        "direction": goal["direction"],
        "measure_name": goal["measure_name"],
        # What families read about the goal, per language (the teacher writes it).
        "texts": _json_object(goal["parent_texts"]),
    }
    m = goal["measurement"]
    if m == "trials":
        correct = sum(r.trials["correct"] for r in results)
        total = sum(r.trial_total for r in results)
        by_prompt = dict.fromkeys(PROMPTS, 0)
        for r in results:
            for prompt, outcomes in r.trials_by_prompt.items():
                by_prompt[prompt] = by_prompt.get(prompt, 0) + outcomes.get("correct", 0)
        out.update(correct=correct, total=total, correct_by_help=by_prompt)
    elif m == "frequency":
        out.update(count=sum(r.tally for r in results), per_session=[r.tally for r in results])
    elif m == "duration":
        if goal["continuous"]:
            # The criterion is one unbroken run: the longest of any session.
            longest = max((r.longest_seconds for r in results), default=0.0)
            out.update(minutes=round(longest / 60.0, 1), continuous=True)
        else:
            out.update(minutes=round(sum(r.seconds for r in results) / 60.0, 1))
    elif m == "rating":
        ratings = [v for r in results for v in r.ratings]
        out.update(
            ratings=len(ratings),
            mean=round(sum(ratings) / len(ratings), 1) if ratings else None,
            best=max(ratings) if ratings else None,
            scale=goal["rating_max"],
        )
    elif m == "task_analysis":
        steps = int(goal["step_count"] or 0)
        last = results[-1] if results else None
        out.update(
            steps=steps,
            independent_last=last.steps_independent if last else 0,
            done_last=sum(1 for s in last.steps.values() if s.outcome == "correct") if last else 0,
        )
    return out


async def summarise(
    conn: asyncpg.Connection, student_id: int, session_ids: Sequence[UUID]
) -> dict[str, Any]:
    """One summary over these sessions (approved data only: applied events)."""
    return (await summarise_groups(conn, student_id, {"all": list(session_ids)}))["all"]


async def summarise_each(
    conn: asyncpg.Connection, student_id: int, session_ids: Sequence[UUID]
) -> dict[UUID, dict[str, Any]]:
    """One summary per session, from one read of the events."""
    groups = await summarise_groups(conn, student_id, {str(s): [s] for s in session_ids})
    return {UUID(key): value for key, value in groups.items()}


async def summarise_groups(
    conn: asyncpg.Connection, student_id: int, groups: dict[str, list[UUID]]
) -> dict[str, dict[str, Any]]:
    every = list({sid for ids in groups.values() for sid in ids})
    per_session = await session_results(conn, every)
    sessions = await conn.fetch(
        "SELECT id, opened_at FROM data_session WHERE id = ANY($1::uuid[]) ORDER BY opened_at",
        every,
    )
    goals = await conn.fetch(
        """SELECT g.id, g.area, g.description, g.measurement, g.rating_max, g.direction,
                  g.measure_name, g.continuous, g.parent_texts,
                  jsonb_array_length(g.task_steps) AS step_count
             FROM goal g WHERE g.student_id = $1 ORDER BY g.position, g.id""",
        student_id,
    )
    out: dict[str, dict[str, Any]] = {}
    for key, ids in groups.items():
        wanted = set(ids)
        rows = [s for s in sessions if s["id"] in wanted]
        ordered = [s["id"] for s in rows]
        summaries = []
        for goal in goals:
            results = [
                per_session[sid][goal["id"]] for sid in ordered if goal["id"] in per_session[sid]
            ]
            if results and any(r.events for r in results):
                summaries.append(_goal_summary(goal, results))
        out[key] = {
            "sessions": len(ordered),
            "first": rows[0]["opened_at"].isoformat() if rows else None,
            "last": rows[-1]["opened_at"].isoformat() if rows else None,
            "goals": summaries,
        }
    return out
