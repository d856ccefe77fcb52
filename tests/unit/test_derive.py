"""The conflict rules of derived results (server/collect/derive.py), without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from server.collect.derive import Event, Interval, derive_goals, union_intervals

T0 = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
GOAL = 7


def ev(kind: str, minute: float, **kw: object) -> Event:
    return Event(
        op_id=uuid.uuid4(),
        kind=kind,
        recorded_at=T0 + timedelta(minutes=minute),
        goal_id=kw.pop("goal_id", GOAL),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_trials_count_per_outcome_and_prompt() -> None:
    events = [
        ev("trial", 1, outcome="correct", prompt="independent"),
        ev("trial", 2, outcome="correct", prompt="verbal"),
        ev("trial", 3, outcome="incorrect", prompt="verbal"),
        ev("trial", 4, outcome="no_response", prompt="model"),
    ]
    r = derive_goals(events)[GOAL]
    assert r.trials == {"correct": 2, "incorrect": 1, "no_response": 1}
    assert r.trials_by_prompt["verbal"] == {"correct": 1, "incorrect": 1}
    assert r.trial_total == 4
    assert r.percent_correct == 50.0


def test_undo_voids_its_target_only() -> None:
    keep = ev("tally", 1, delta=1)
    undone = ev("tally", 2, delta=1)
    undo = ev("undo", 3, voids_op_id=undone.op_id, goal_id=None)
    r = derive_goals([keep, undone, undo])[GOAL]
    assert r.tally == 1


def test_tally_is_sum_floored_at_zero_in_any_order() -> None:
    events = [ev("tally", 1, delta=-1), ev("tally", 2, delta=-1), ev("tally", 3, delta=1)]
    assert derive_goals(events)[GOAL].tally == 0
    events += [ev("tally", 4, delta=1), ev("tally", 5, delta=1)]
    # -1 -1 +1 +1 +1 = 1, whatever the order of arrival
    assert derive_goals(events)[GOAL].tally == 1
    assert derive_goals(list(reversed(events)))[GOAL].tally == 1


def test_proposed_and_declined_events_do_not_count_by_default() -> None:
    events = [
        ev("tally", 1, delta=1),
        ev("tally", 2, delta=1, state="proposed"),
        ev("tally", 3, delta=1, state="declined"),
    ]
    assert derive_goals(events)[GOAL].tally == 1
    assert derive_goals(events, include_proposed=True)[GOAL].tally == 2


def test_timer_simple_interval() -> None:
    t = uuid.uuid4()
    r = derive_goals([ev("timer_start", 0, timer_id=t), ev("timer_stop", 5, timer_id=t)])[GOAL]
    assert r.seconds == 300
    assert r.running_since is None


def test_timer_stop_without_start_counts_nothing() -> None:
    r = derive_goals([ev("timer_stop", 5, timer_id=uuid.uuid4())])[GOAL]
    assert r.seconds == 0
    assert r.orphan_stops == 1


def test_timer_double_stop_keeps_the_first() -> None:
    t = uuid.uuid4()
    events = [
        ev("timer_start", 0, timer_id=t),
        ev("timer_stop", 2, timer_id=t),
        ev("timer_stop", 9, timer_id=t),
    ]
    assert derive_goals(events)[GOAL].seconds == 120


def test_timer_restart_after_app_kill_resends_start_without_double_counting() -> None:
    t = uuid.uuid4()
    events = [
        ev("timer_start", 0, timer_id=t),
        ev("timer_start", 3, timer_id=t),  # the reloaded app re-sent the start
        ev("timer_stop", 4, timer_id=t),
    ]
    assert derive_goals(events)[GOAL].seconds == 240


def test_unstopped_timer_runs_until_close_or_is_reported_running() -> None:
    t = uuid.uuid4()
    events = [ev("timer_start", 0, timer_id=t)]
    open_result = derive_goals(events)[GOAL]
    assert open_result.seconds == 0
    assert open_result.running_since == T0
    closed = derive_goals(events, closed_at=T0 + timedelta(minutes=10))[GOAL]
    assert closed.seconds == 600
    assert closed.running_since is None


def test_overlapping_timers_from_two_devices_count_once() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    events = [
        ev("timer_start", 0, timer_id=a),
        ev("timer_start", 2, timer_id=b),
        ev("timer_stop", 5, timer_id=a),
        ev("timer_stop", 7, timer_id=b),
    ]
    r = derive_goals(events)[GOAL]
    assert r.intervals == [Interval(T0, T0 + timedelta(minutes=7))]
    assert r.seconds == 420


def test_timer_stop_names_no_goal_but_follows_its_start() -> None:
    t = uuid.uuid4()
    events = [ev("timer_start", 0, timer_id=t), ev("timer_stop", 1, timer_id=t, goal_id=None)]
    assert derive_goals(events)[GOAL].seconds == 60


def test_service_timer_has_no_goal() -> None:
    t = uuid.uuid4()
    events = [
        ev("timer_start", 0, timer_id=t, goal_id=None),
        ev("timer_stop", 30, timer_id=t, goal_id=None),
    ]
    assert derive_goals(events)[None].seconds == 1800


def test_ratings_and_steps() -> None:
    events = [
        ev("rating", 1, value=2),
        ev("rating", 2, value=4),
        ev("step", 3, step_index=0, outcome="incorrect", prompt="verbal"),
        ev("step", 4, step_index=0, outcome="correct", prompt="independent"),
        ev("step", 5, step_index=1, outcome="correct", prompt="model"),
    ]
    r = derive_goals(events)[GOAL]
    assert r.ratings == [2, 4]
    assert r.rating_mean == 3
    assert r.steps[0].outcome == "correct"
    assert r.steps_independent == 1


def test_union_ignores_empty_intervals() -> None:
    assert union_intervals([Interval(T0, T0)]) == []


kinds = st.sampled_from(["trial", "tally", "timer_start", "timer_stop", "rating", "step"])


@st.composite
def event_lists(draw: Any) -> list[Event]:
    timer_ids = [uuid.uuid4() for _ in range(3)]
    out: list[Event] = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(kinds)
        minute = draw(st.integers(0, 60))
        out.append(
            ev(
                kind,
                minute,
                outcome=draw(st.sampled_from(["correct", "incorrect", "no_response"])),
                prompt="independent",
                delta=draw(st.sampled_from([1, -1])),
                timer_id=draw(st.sampled_from(timer_ids)),
                value=draw(st.integers(0, 5)),
                step_index=draw(st.integers(0, 4)),
            )
        )
    if out and draw(st.booleans()):
        out.append(ev("undo", 61, voids_op_id=draw(st.sampled_from(out)).op_id, goal_id=None))
    return out


@settings(max_examples=150, deadline=None)
@given(event_lists(), st.randoms())
def test_results_do_not_depend_on_arrival_order(events: list[Event], rnd: object) -> None:
    shuffled = list(events)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a = derive_goals(events)
    b = derive_goals(shuffled)
    assert {
        k: (v.trials, v.tally, v.intervals, v.ratings.__len__(), v.steps) for k, v in a.items()
    } == {k: (v.trials, v.tally, v.intervals, v.ratings.__len__(), v.steps) for k, v in b.items()}
