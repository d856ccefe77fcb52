"""Progress monitoring, as pure rules: a goal's data series, its trend and aim lines,
mastery and "at risk" (issue "Progress monitoring"; the pages and graphs build on this).

Plain data in, plain data out: no database, no clock. Sessions are numbered from 0 in
the order they happened; lines are in data units per session (or per school day, when
the caller numbers points by school day).

- Series: one point per session, its figure by measurement type from derive.figures()
  (the one definition of every figure).
- Trend: ordinary least squares by default; the split-middle (celeration) line as an
  option: the quarter-intersect line (through the median session and median value of
  each half; with an odd count the middle point is dropped), shifted so that half the
  points lie on or above it. Drawn only with at least MIN_TREND_POINTS points.
- Mastery: a threshold on the session figure over N consecutive sessions (or N of the
  last M), counting only sessions with at least `min_trials`; a session below the
  minimum neither counts nor breaks a run.
- At risk: the last K points on the wrong side of the aim line, or a trend that does not
  reach the target by the end date; the direction of the goal decides which side is
  wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import Literal

from server.collect.derive import Figures

MIN_TREND_POINTS = 3
Direction = Literal["increase", "decrease"]


@dataclass(frozen=True, slots=True)
class Line:
    slope: float
    intercept: float

    def at(self, x: float) -> float:
        return self.intercept + self.slope * x


@dataclass(frozen=True, slots=True)
class Point:
    x: float  # the session's number (or its school day)
    y: float
    # Too few trials to count toward mastery: drawn hollow, never joined into a run.
    counts: bool = True


def session_value(
    f: Figures, measurement: str, *, steps: int = 0, independent: bool = False
) -> float | None:
    """The figure a goal's graph plots for one session; None when the session has no
    data for it. Trials: percent correct (or percent independent); frequency: the count;
    duration: minutes; rating: the mean; task analysis: percent of steps independent."""
    if measurement == "trials":
        if not f.total:
            return None
        return 100.0 * (f.independent if independent else f.correct) / f.total
    if measurement == "frequency":
        return float(f.count) if f.entries else None
    if measurement == "duration":
        return f.seconds / 60.0 if f.entries else None
    if measurement == "rating":
        return f.rating_mean
    if measurement == "task_analysis":
        return 100.0 * f.independent / steps if steps and f.entries else None
    return None


def least_squares(points: Sequence[Point]) -> Line | None:
    if len(points) < MIN_TREND_POINTS:
        return None
    n = len(points)
    mx = sum(p.x for p in points) / n
    my = sum(p.y for p in points) / n
    sxx = sum((p.x - mx) ** 2 for p in points)
    if sxx == 0:
        return None
    slope = sum((p.x - mx) * (p.y - my) for p in points) / sxx
    return Line(slope, my - slope * mx)


def quarter_intersect(points: Sequence[Point]) -> Line | None:
    if len(points) < MIN_TREND_POINTS:
        return None
    ordered = sorted(points, key=lambda p: p.x)
    half = len(ordered) // 2
    first, second = ordered[:half], ordered[len(ordered) - half :]
    x1, y1 = median(p.x for p in first), median(p.y for p in first)
    x2, y2 = median(p.x for p in second), median(p.y for p in second)
    if x2 == x1:
        return None
    slope = (y2 - y1) / (x2 - x1)
    return Line(slope, y1 - slope * x1)


def split_middle(points: Sequence[Point]) -> Line | None:
    """The quarter-intersect line moved up or down so that half the points lie on or
    above it (by the median of the residuals)."""
    line = quarter_intersect(points)
    if line is None:
        return None
    shift = median(p.y - line.at(p.x) for p in points)
    return Line(line.slope, line.intercept + shift)


def aim_line(x0: float, baseline: float, x1: float, target: float) -> Line | None:
    """From the baseline at the start (x0) to the target at the end (x1)."""
    if x1 == x0:
        return None
    slope = (target - baseline) / (x1 - x0)
    return Line(slope, baseline - slope * x0)


@dataclass(frozen=True, slots=True)
class Criterion:
    """A structured mastery criterion: `op` `threshold` on the session figure, over
    `sessions` consecutive counted sessions, or `sessions` of the last `of_last`."""

    threshold: float
    op: Literal[">=", "<="] = ">="
    sessions: int = 3
    of_last: int | None = None
    min_trials: int = 0


def _meets(value: float, c: Criterion) -> bool:
    return value >= c.threshold if c.op == ">=" else value <= c.threshold


def mastered_at(values: Sequence[tuple[float, int]], c: Criterion) -> int | None:
    """The 0-based index of the session at which the criterion was first met, or None.
    `values`: (the session's figure, its number of trials) in order. A session with
    fewer than `min_trials` trials neither counts nor breaks a run."""
    counted: list[bool] = []
    for i, (value, trials) in enumerate(values):
        if trials < c.min_trials:
            continue
        counted.append(_meets(value, c))
        if c.of_last is None:
            run = 0
            for ok in reversed(counted):
                if not ok:
                    break
                run += 1
            if run >= c.sessions:
                return i
        elif sum(counted[-c.of_last :]) >= c.sessions:
            return i
    return None


@dataclass(frozen=True, slots=True)
class Risk:
    reason: Literal["below_aim", "trend_short"]
    # For the words: how many recent points, or where the trend lands by the end.
    points: int = 0
    projected: float = 0.0


def at_risk(
    points: Sequence[Point],
    aim: Line | None,
    trend: Line | None,
    *,
    end_x: float,
    target: float,
    direction: Direction = "increase",
    last: int = 3,
) -> Risk | None:
    """Why a goal is at risk, or None. Wrong side: below the aim line for a goal to
    increase, above it for one to decrease."""
    if aim is None:
        return None  # no numeric baseline: no aim line, no flag (the page says so)
    up = direction == "increase"

    def behind(y: float, expected: float) -> bool:
        return y < expected if up else y > expected

    recent = [p for p in points if p.counts][-last:]
    if len(recent) >= last and all(behind(p.y, aim.at(p.x)) for p in recent):
        return Risk("below_aim", points=len(recent))
    if trend is not None:
        projected = trend.at(end_x)
        if behind(projected, target):
            return Risk("trend_short", projected=projected)
    return None
