"""Derived results of a session: counts, durations, ratings and steps from its events.

Pure functions over plain data (no database). The conflict rules of
docs/sync-protocol.md section 7 live here; every result is independent of the order
in which events arrived.

- Voided events (the targets of an `undo`, or of a teacher's `correction` through
  `voids_op_id`) are excluded; so are events whose state is not 'applied' unless
  `include_proposed=True` (then 'proposed' ones count too; 'declined' never do).
- Tally total = max(0, sum of deltas): the sum commutes, only the result is floored.
- Timers are intervals keyed by timer_id: earliest start wins (a re-sent start after
  an app restart is ignored), earliest stop at/after the start wins (double stop
  ignored), a stop without a start counts nothing (orphan), an unstopped timer ends
  at `closed_at` when given, else it is running and counts nothing yet. Intervals of
  one goal are unioned, so overlaps (two devices timing at once) count once.
- Task-analysis steps: the latest event per step (recorded_at, then op_id) wins.

The figures a person reads (figures() below) have one definition each, shared with the
aide's app (pwa/js/figures.js) and proven equal by one file of vectors that both test
suites read (tests/vectors/figures.json):
- entries: the live events of every kind (undone and proposed ones excluded);
- independent: correct trials (or, for task analysis, correct steps) with no prompt above
  independent; an incorrect or unanswered trial is never "independent";
- duration: the union of the timer runs, overlaps counted once; a goal whose criterion is
  continuous reads its longest uninterrupted run instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

OUTCOMES = ("correct", "incorrect", "no_response")
PROMPTS = ("independent", "gestural", "verbal", "model", "partial_physical", "full_physical")
COUNTED_STATES = ("applied",)


@dataclass(frozen=True, slots=True)
class Event:
    """One observation row, as much as derivation needs."""

    op_id: UUID
    kind: str  # trial, tally, timer_start, timer_stop, rating, step, note, undo, correction
    recorded_at: datetime
    goal_id: int | None = None
    outcome: str | None = None
    prompt: str | None = None
    delta: int | None = None
    timer_id: UUID | None = None
    value: int | None = None
    step_index: int | None = None
    note: str | None = None
    voids_op_id: UUID | None = None
    state: str = "applied"


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class StepResult:
    outcome: str | None
    prompt: str | None
    recorded_at: datetime


@dataclass
class GoalResult:
    """Everything derived for one goal (goal_id None: the session's service timer)."""

    goal_id: int | None
    trials: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    trials_by_prompt: dict[str, dict[str, int]] = field(default_factory=dict)
    tally: int = 0
    intervals: list[Interval] = field(default_factory=list)
    running_since: datetime | None = None
    orphan_stops: int = 0
    ratings: list[int] = field(default_factory=list)
    steps: dict[int, StepResult] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    events: int = 0

    @property
    def trial_total(self) -> int:
        return sum(self.trials.values())

    @property
    def percent_correct(self) -> float | None:
        total = self.trial_total
        return None if total == 0 else 100.0 * self.trials["correct"] / total

    @property
    def seconds(self) -> float:
        return sum(i.seconds for i in self.intervals)

    @property
    def rating_mean(self) -> float | None:
        return None if not self.ratings else sum(self.ratings) / len(self.ratings)

    @property
    def steps_independent(self) -> int:
        return sum(
            1
            for s in self.steps.values()
            if s.outcome == "correct" and s.prompt in (None, "independent")
        )

    @property
    def steps_done(self) -> int:
        return sum(1 for s in self.steps.values() if s.outcome == "correct")

    @property
    def trials_independent(self) -> int:
        return self.trials_by_prompt.get("independent", {}).get("correct", 0)

    @property
    def longest_seconds(self) -> float:
        return max((i.seconds for i in self.intervals), default=0.0)


def _order(e: Event) -> tuple[datetime, str]:
    return (e.recorded_at, str(e.op_id))


def live_events(events: Iterable[Event], *, include_proposed: bool = False) -> list[Event]:
    """The events that count, in deterministic order: voided and non-applied dropped."""
    states = ("applied", "proposed") if include_proposed else COUNTED_STATES
    counted = [e for e in events if e.state in states]
    voided = {e.voids_op_id for e in counted if e.voids_op_id is not None}
    return sorted(
        (e for e in counted if e.op_id not in voided and e.kind not in ("undo", "correction")),
        key=_order,
    )


def union_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Merge overlapping or touching intervals; the result is sorted and disjoint."""
    merged: list[Interval] = []
    for iv in sorted(intervals, key=lambda i: (i.start, i.end)):
        if iv.end <= iv.start:
            continue
        if merged and iv.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Interval(last.start, max(last.end, iv.end))
        else:
            merged.append(iv)
    return merged


@dataclass
class _Timer:
    goal_id: int | None
    starts: list[datetime] = field(default_factory=list)
    stops: list[datetime] = field(default_factory=list)


def _timer_intervals(
    timers: dict[UUID, _Timer], closed_at: datetime | None
) -> dict[int | None, tuple[list[Interval], datetime | None, int]]:
    """Per goal: (intervals before union, earliest running start, orphan stops)."""
    out: dict[int | None, tuple[list[Interval], datetime | None, int]] = {}
    for timer in timers.values():
        intervals, running, orphans = out.get(timer.goal_id, ([], None, 0))
        if not timer.starts:
            orphans += len(timer.stops)
        else:
            start = min(timer.starts)
            later_stops = [s for s in timer.stops if s >= start]
            orphans += len(timer.stops) - len(later_stops)
            if later_stops:
                intervals.append(Interval(start, min(later_stops)))
            elif closed_at is not None and closed_at > start:
                intervals.append(Interval(start, closed_at))
            elif closed_at is None:
                running = start if running is None else min(running, start)
        out[timer.goal_id] = (intervals, running, orphans)
    return out


def derive_goals(
    events: Iterable[Event],
    *,
    closed_at: datetime | None = None,
    include_proposed: bool = False,
) -> dict[int | None, GoalResult]:
    """Per goal id (None = not tied to a goal: service timer, session notes)."""
    results: dict[int | None, GoalResult] = {}
    timers: dict[UUID, _Timer] = {}
    # A timer's goal is the one its start named; a stop names only the timer.
    live = live_events(events, include_proposed=include_proposed)
    timer_goal: dict[UUID, int | None] = {}
    for e in live:
        if e.kind == "timer_start" and e.timer_id is not None and e.timer_id not in timer_goal:
            timer_goal[e.timer_id] = e.goal_id

    def result(goal_id: int | None) -> GoalResult:
        if goal_id not in results:
            results[goal_id] = GoalResult(goal_id=goal_id)
        return results[goal_id]

    for e in live:
        if e.kind in ("timer_start", "timer_stop"):
            if e.timer_id is None:
                continue
            goal_id = timer_goal.get(e.timer_id, e.goal_id)
            r = result(goal_id)
            r.events += 1
            t = timers.setdefault(e.timer_id, _Timer(goal_id=goal_id))
            (t.starts if e.kind == "timer_start" else t.stops).append(e.recorded_at)
            continue
        r = result(e.goal_id)
        r.events += 1
        if e.kind == "trial" and e.outcome in OUTCOMES:
            r.trials[e.outcome] += 1
            by_prompt = r.trials_by_prompt.setdefault(e.prompt or "independent", {})
            by_prompt[e.outcome] = by_prompt.get(e.outcome, 0) + 1
        elif e.kind == "tally" and e.delta is not None:
            r.tally += e.delta
        elif e.kind == "rating" and e.value is not None:
            r.ratings.append(e.value)
        elif e.kind == "step" and e.step_index is not None:
            # live is sorted, so the last one seen is the latest.
            r.steps[e.step_index] = StepResult(e.outcome, e.prompt, e.recorded_at)
        elif e.kind == "note" and e.note is not None:
            r.notes.append(e.note)

    for r in results.values():
        r.tally = max(0, r.tally)
    for goal_id, (intervals, running, orphans) in _timer_intervals(timers, closed_at).items():
        r = result(goal_id)
        r.intervals = union_intervals(intervals)
        r.running_since = running
        r.orphan_stops = orphans
    return results


def tally_total(events: Iterable[Event], goal_id: int) -> int:
    r = derive_goals(events).get(goal_id)
    return 0 if r is None else r.tally


def timer_seconds(
    events: Iterable[Event], goal_id: int | None, *, closed_at: datetime | None = None
) -> float:
    r = derive_goals(events, closed_at=closed_at).get(goal_id)
    return 0.0 if r is None else r.seconds


@dataclass(frozen=True, slots=True)
class Figures:
    """What a person reads about one goal of one session (see the module docstring)."""

    entries: int
    correct: int = 0
    total: int = 0
    independent: int = 0
    count: int = 0
    seconds: float = 0.0
    running: bool = False
    ratings: int = 0
    rating_mean: float | None = None
    steps_done: int = 0


def figures(result: GoalResult | None, measurement: str, *, continuous: bool = False) -> Figures:
    """The figures of one goal by its measurement type."""
    if result is None:
        return Figures(entries=0)
    entries = result.events
    if measurement == "trials":
        return Figures(
            entries=entries,
            correct=result.trials["correct"],
            total=result.trial_total,
            independent=result.trials_independent,
        )
    if measurement == "frequency":
        return Figures(entries=entries, count=result.tally)
    if measurement == "duration":
        seconds = result.longest_seconds if continuous else result.seconds
        return Figures(entries=entries, seconds=seconds, running=result.running_since is not None)
    if measurement == "rating":
        return Figures(entries=entries, ratings=len(result.ratings), rating_mean=result.rating_mean)
    if measurement == "task_analysis":
        return Figures(
            entries=entries,
            steps_done=result.steps_done,
            independent=result.steps_independent,
        )
    return Figures(entries=entries)


def session_entries(results: dict[int | None, GoalResult]) -> int:
    """A session's entry count: every live event of every goal and of none."""
    return sum(r.events for r in results.values())
