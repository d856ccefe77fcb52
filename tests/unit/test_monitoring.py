"""Progress monitoring's pure rules (server/collect/monitoring.py) with the issue's
vectors: both trend methods, the aim line, mastery and at-risk, and the edge cases."""

from __future__ import annotations

import pytest

from server.collect.derive import Figures
from server.collect.monitoring import (
    Criterion,
    Line,
    Point,
    aim_line,
    at_risk,
    least_squares,
    mastered_at,
    quarter_intersect,
    session_value,
    split_middle,
)

VALUES = [40, 45, 50, 48, 55, 60, 62, 58, 66, 70]
POINTS = [Point(float(x), float(y)) for x, y in enumerate(VALUES)]


def test_least_squares_vector() -> None:
    line = least_squares(POINTS)
    assert line is not None
    assert line.slope == pytest.approx(3.0545, abs=1e-4)
    assert line.intercept == pytest.approx(41.6545, abs=1e-4)


def test_quarter_intersect_and_split_middle_vectors() -> None:
    quarter = quarter_intersect(POINTS)
    assert quarter is not None
    assert quarter.slope == pytest.approx(2.8)
    assert quarter.intercept == pytest.approx(42.4)
    split = split_middle(POINTS)
    assert split is not None
    assert split.slope == pytest.approx(2.8)
    assert split.intercept == pytest.approx(43.7)
    above = sum(1 for p in POINTS if p.y >= split.at(p.x) - 1e-9)
    assert above == len(POINTS) // 2
    # An odd count drops the middle point from both halves.
    odd = quarter_intersect(POINTS[:9])
    assert odd is not None
    assert odd.slope == pytest.approx((61 - 46.5) / (6.5 - 1.5))


@pytest.mark.parametrize("n", [0, 1, 2])
def test_no_trend_under_three_points(n: int) -> None:
    assert least_squares(POINTS[:n]) is None
    assert split_middle(POINTS[:n]) is None


def test_all_equal_values_give_a_flat_trend() -> None:
    flat = [Point(float(x), 50.0) for x in range(5)]
    assert least_squares(flat) == Line(0.0, 50.0)
    assert split_middle(flat) == Line(0.0, 50.0)
    assert least_squares([Point(1.0, 3.0)] * 3) is None  # one session repeated: no slope


def test_aim_line_runs_from_baseline_to_target() -> None:
    aim = aim_line(0, 30.0, 100, 80.0)
    assert aim is not None
    assert (aim.at(0), aim.at(50), aim.at(100)) == (30.0, 55.0, 80.0)
    assert aim_line(5, 1.0, 5, 2.0) is None


def test_mastery_vectors() -> None:
    c = Criterion(threshold=80.0, sessions=3)
    assert mastered_at([(70, 10), (80, 10), (90, 10), (90, 10)], c) == 3  # session 4
    c5 = Criterion(threshold=80.0, sessions=3, min_trials=5)
    # 3/4 has too few trials: it neither counts nor breaks the run.
    assert mastered_at([(80, 10), (75, 4), (90, 10)], c5) is None
    assert mastered_at([(80, 10), (75, 4), (90, 10), (80, 10)], c5) == 3
    # A miss breaks a consecutive run; "3 of the last 5" forgives it.
    values = [(90, 10), (90, 10), (60, 10), (90, 10), (90, 10)]
    assert mastered_at(values, c) is None
    assert mastered_at(values, Criterion(threshold=80.0, sessions=3, of_last=5)) == 3
    # A goal to decrease: at most 3 per lesson.
    assert mastered_at([(5, 1), (3, 1), (2, 1), (3, 1)], Criterion(3, "<=", 3)) == 3


def test_at_risk_is_direction_aware() -> None:
    aim = aim_line(0, 40.0, 9, 80.0)
    behind = [Point(float(x), 40.0) for x in range(6)]
    risk = at_risk(behind, aim, least_squares(behind), end_x=9, target=80.0)
    assert risk is not None
    assert risk.reason == "below_aim"
    # On course: the last points around the aim, the trend (69.1 by the end) past 68.
    on_course = aim_line(0, 40.0, 9, 68.0)
    assert at_risk(POINTS, on_course, least_squares(POINTS), end_x=9, target=68.0) is None
    # The same points for a goal to decrease: above the aim is behind.
    down = aim_line(0, 12.0, 9, 3.0)
    high = [Point(float(x), 12.0) for x in range(4)]
    flagged = at_risk(high, down, least_squares(high), end_x=9, target=3.0, direction="decrease")
    assert flagged is not None
    assert flagged.reason == "below_aim"
    low = [Point(float(x), 1.0) for x in range(4)]
    assert at_risk(low, down, least_squares(low), end_x=9, target=3.0, direction="decrease") is None
    # On the aim lately, but the trend will not reach the target by the end.
    slow = [Point(0.0, 40.0), Point(1.0, 48.0), Point(2.0, 50.0), Point(3.0, 51.0)]
    short = at_risk(slow, aim, least_squares(slow), end_x=9, target=80.0, last=5)
    assert short is not None
    assert short.reason == "trend_short"
    assert short.projected < 80.0
    # No numeric baseline: no aim line, no flag.
    assert at_risk(behind, None, least_squares(behind), end_x=9, target=80.0) is None


def test_session_values_by_measurement() -> None:
    assert session_value(Figures(entries=10, correct=7, total=10, independent=4), "trials") == 70.0
    assert (
        session_value(
            Figures(entries=10, correct=7, total=10, independent=4), "trials", independent=True
        )
        == 40.0
    )
    assert session_value(Figures(entries=0), "trials") is None
    assert session_value(Figures(entries=3, count=3), "frequency") == 3.0
    assert session_value(Figures(entries=2, seconds=90.0), "duration") == 1.5
    assert session_value(Figures(entries=2, ratings=2, rating_mean=2.5), "rating") == 2.5
    assert (
        session_value(Figures(entries=4, steps_done=3, independent=2), "task_analysis", steps=4)
        == 50.0
    )
