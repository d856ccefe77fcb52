"""Input rules without the app: raw-input checks, field limits and the IEP/goal rules."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.iep import forms
from server.iep.schemas import (
    GoalIn,
    GoalOut,
    GoalPatch,
    IepIn,
    IepOut,
    IepPatch,
    ServiceIn,
    goal_measurement_problem,
    iep_dates_problem,
)
from server.iep.service import current_iep, merge_goal
from server.validation import (
    MAX_DATE,
    MAX_JSON_DEPTH,
    MIN_DATE,
    json_depth,
    raw_input_problem,
    text_problem,
)

# ---------------------------------------------------------------- raw input


@pytest.mark.parametrize(
    ("raw", "urlencoded", "needle"),
    [
        (b'{"a": "x\x00y"}', False, "NUL"),
        (b'{"a": "x\\u0000y"}', False, "NUL"),
        (b"a=x%00y", True, "NUL"),
        (b"a=x\x00y", True, "NUL"),
        (b'{"a": "\\ud800"}', False, "surrogate"),
        (b'{"a": "\\uDBFF x"}', False, "surrogate"),
        (b'{"a": "\\udc00"}', False, "surrogate"),
        (b'{"a": "\xed\xa0\x80"}', False, "UTF-8"),
        (b"a=%ED%A0%80", True, "UTF-8"),
        (b'{"a": "\xff"}', False, "UTF-8"),
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), False, "nested"),
    ],
)
def test_raw_input_problems_are_named(raw: bytes, urlencoded: bool, needle: str) -> None:
    problem = raw_input_problem(raw, urlencoded=urlencoded)
    assert problem is not None
    assert needle in problem


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "\\ud83d\\ude00"}',  # a surrogate *pair* is one real character
        b'{"a": "\\\\u0000"}',  # an escaped backslash followed by text, not a NUL
        "Grüße, 你好, 😀".encode(),
        b"a=caf%C3%A9&b=1+2",
        b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH,
        b'{"a": "' + b"[" * 1000 + b'"}',  # brackets inside a string do not nest
    ],
)
def test_ordinary_input_passes(raw: bytes) -> None:
    assert raw_input_problem(raw, urlencoded=raw.startswith(b"a=")) is None


def test_json_depth_counts_structure_not_strings() -> None:
    assert json_depth(b"{}") == 1
    assert json_depth(b'{"a": [1, {"b": "[[[["}]}') == 3
    assert json_depth(b'["\\"[[[", []]') == 2
    assert json_depth(b"plain text") == 0
    assert json_depth(b"[" * 100_000, limit=10) == 11  # stops counting past the limit


@given(st.text())
def test_any_text_without_nul_or_surrogates_passes_as_json(text: str) -> None:
    clean = "".join(ch for ch in text if ch != "\x00" and not 0xD800 <= ord(ch) <= 0xDFFF)
    body = json.dumps({"text": clean}).encode()
    assert raw_input_problem(body) is None
    assert text_problem(clean) is None


@given(st.text(min_size=1))
def test_any_text_with_a_nul_is_refused_raw_and_escaped(text: str) -> None:
    poisoned = text + "\x00"
    assert raw_input_problem(json.dumps({"t": poisoned}).encode()) is not None
    assert raw_input_problem(json.dumps({"t": poisoned}, ensure_ascii=False).encode()) is not None
    assert text_problem(poisoned) is not None


# ---------------------------------------------------------------- IEP and goal rules


def test_iep_dates_bounds_and_order() -> None:
    assert iep_dates_problem(date(2026, 9, 1), date(2027, 8, 31)) is None
    assert iep_dates_problem(MIN_DATE, MIN_DATE) is None
    assert "before 2100-01-01" in (iep_dates_problem(date(2026, 1, 1), MAX_DATE) or "")
    assert "on or after 1990-01-01" in (iep_dates_problem(date(1900, 1, 1), date(2026, 1, 1)) or "")
    assert "end date must be on or after" in (
        iep_dates_problem(date(2026, 2, 1), date(2026, 1, 31)) or ""
    )


def decode(kind: type[Any], body: dict[str, Any]) -> Any:
    return msgspec.json.decode(json.dumps(body).encode(), type=kind)


def test_iep_in_refuses_bad_dates_and_unknown_fields() -> None:
    ok = decode(IepIn, {"start_date": "2026-09-01", "end_date": "2027-06-30"})
    assert ok.status == "draft"
    for body, needle in (
        ({"start_date": "2027-01-01", "end_date": "2026-01-01"}, "end date"),
        ({"start_date": "1900-01-01", "end_date": "2026-01-01"}, "1990-01-01"),
        ({"start_date": "2026-01-01", "end_date": "2026-01-01", "student_id": 3}, "unknown field"),
        ({"start_date": "2026-01-01", "end_date": "2026-01-01", "status": "done"}, "status"),
    ):
        with pytest.raises(msgspec.ValidationError, match=needle):
            decode(IepIn, body)
    with pytest.raises(msgspec.ValidationError, match="before 2100"):
        decode(IepPatch, {"end_date": "2100-01-01"})
    assert decode(IepPatch, {}).status is msgspec.UNSET


@pytest.mark.parametrize(
    ("measurement", "rating_max", "steps", "ok"),
    [
        ("trials", None, [], True),
        ("frequency", None, [], True),
        ("duration", None, [], True),
        ("rating", 2, [], True),
        ("rating", 10, [], True),
        ("rating", None, [], False),
        ("rating", 1, [], False),
        ("rating", 11, [], False),
        ("trials", 5, [], False),
        ("task_analysis", None, ["a"], True),
        ("task_analysis", None, ["s"] * 30, True),
        ("task_analysis", None, [], False),
        ("task_analysis", None, ["s"] * 31, False),
        ("task_analysis", None, ["x" * 121], False),
        ("task_analysis", None, [" "], False),
        ("task_analysis", 4, ["a"], False),
        ("duration", None, ["a"], False),
    ],
)
def test_goal_measurement_rules(
    measurement: str, rating_max: int | None, steps: list[str], ok: bool
) -> None:
    problem = goal_measurement_problem(measurement, rating_max, steps)
    assert (problem is None) == ok, problem
    body: dict[str, Any] = {"area": "A", "description": "D", "measurement": measurement}
    if rating_max is not None:
        body["rating_max"] = rating_max
    if steps:
        body["task_steps"] = steps
    if ok:
        assert decode(GoalIn, body).measurement == measurement
    else:
        with pytest.raises(msgspec.ValidationError):
            decode(GoalIn, body)


def test_goal_in_refuses_blank_text_and_fields_it_does_not_own() -> None:
    with pytest.raises(msgspec.ValidationError, match="may not be blank"):
        decode(GoalIn, {"area": "  ", "description": "D", "measurement": "trials"})
    for name in ("student_id", "iep_id", "active", "approved", "created_by"):
        with pytest.raises(msgspec.ValidationError, match="unknown field"):
            decode(GoalIn, {"area": "A", "description": "D", "measurement": "trials", name: 1})


def test_service_minutes_and_period() -> None:
    ok = decode(ServiceIn, {"service_type": "OT", "minutes": 10000, "period": "month"})
    assert ok.minutes == 10000
    for body in (
        {"service_type": "OT", "minutes": 0, "period": "week"},
        {"service_type": "OT", "minutes": -5, "period": "week"},
        {"service_type": "OT", "minutes": 10001, "period": "week"},
        {"service_type": "OT", "minutes": 30, "period": "year"},
        {"service_type": "OT", "minutes": 30.5, "period": "week"},
        {"service_type": " ", "minutes": 30, "period": "week"},
    ):
        with pytest.raises(msgspec.ValidationError):
            decode(ServiceIn, body)


# ---------------------------------------------------------------- merging and choosing


GOAL = {
    "area": "A",
    "description": "D",
    "measurement": "rating",
    "baseline": "",
    "target": "",
    "mastery_criterion": "",
    "rating_max": 5,
    "task_steps": [],
    "home_practice": False,
    "direction": "increase",
    "measure_name": "",
    "continuous": False,
    "active": True,
}


def test_merge_goal_drops_what_a_new_measurement_no_longer_uses() -> None:
    merged = merge_goal(GOAL, GoalPatch(measurement="trials"))
    assert (merged["measurement"], merged["rating_max"]) == ("trials", None)
    kept = merge_goal(GOAL, GoalPatch(target="4"))
    assert (kept["rating_max"], kept["target"]) == (5, "4")
    steps = merge_goal(GOAL, GoalPatch(measurement="task_analysis", task_steps=[" a ", "b"]))
    assert steps["task_steps"] == ["a", "b"]
    assert steps["rating_max"] is None
    # A patch that sets the old scale explicitly keeps it (and the rules then refuse it).
    explicit = merge_goal(GOAL, GoalPatch(measurement="trials", rating_max=5))
    assert goal_measurement_problem(
        explicit["measurement"], explicit["rating_max"], explicit["task_steps"]
    )
    # Only a duration goal keeps "one continuous run".
    timed = merge_goal(
        {**GOAL, "measurement": "duration", "rating_max": None}, GoalPatch(continuous=True)
    )
    assert timed["continuous"] is True
    assert merge_goal(timed, GoalPatch(measurement="frequency"))["continuous"] is False


def _iep(iep_id: int, status: str, start: str) -> IepOut:
    return IepOut(
        id=iep_id,
        student_id=1,
        start_date=date.fromisoformat(start),
        end_date=date(2099, 1, 1),
        status=status,
        revision=1,
        goals=[],
        accommodations=[],
        services=[],
    )


def test_the_current_iep_is_the_active_one_else_the_newest_draft() -> None:
    assert current_iep([]) is None
    ieps = [
        _iep(1, "closed", "2024-09-01"),
        _iep(2, "draft", "2026-09-01"),
        _iep(3, "active", "2025-09-01"),
    ]
    assert current_iep(ieps) == ieps[2]
    assert current_iep(ieps[:2]) == ieps[1]
    assert current_iep(ieps[:1]) == ieps[0]
    drafts = [_iep(4, "draft", "2026-01-01"), _iep(5, "draft", "2026-06-01")]
    current = current_iep(drafts)
    assert current is not None
    assert current.id == 5


# ---------------------------------------------------------------- forms


def test_form_fields_are_shaped_and_checked_like_json() -> None:
    shaped = forms.goal_fields(
        {
            "area": "A",
            "description": "D",
            "measurement": "task_analysis",
            "rating_max": " ",
            "task_steps": "one\r\n\r\n  two \n",
        }
    )
    goal = forms.convert(shaped, GoalIn)
    assert goal.task_steps == ["one", "two"]
    assert goal.rating_max is None
    assert goal.home_practice is False
    assert forms.goal_fields({"home_practice": "true"})["home_practice"] is True
    # Anchors: one per line from 0; blank lines between are kept (no label), trailing dropped.
    shaped = forms.goal_fields({"rating_anchors": " not yet\n\n on their own \n\n"})
    assert shaped["rating_anchors"] == ["not yet", "", "on their own"]
    assert forms.goal_fields({"rating_anchors": "\n \n"})["rating_anchors"] == []
    with pytest.raises(forms.FormProblem, match="Unknown field “student_id”"):
        forms.convert({"description": "x", "student_id": "4"}, GoalIn)
    with pytest.raises(forms.FormProblem, match=r"^Minutes must be a whole number\.$"):
        forms.convert({"service_type": "OT", "minutes": "many", "period": "week"}, ServiceIn)
    with pytest.raises(forms.FormProblem, match=r"^Area may be at most 80 characters\.$"):
        forms.convert({"area": "a" * 81, "description": "D", "measurement": "trials"}, GoalIn)
    with pytest.raises(forms.FormProblem, match=r"^The end date must be on or after"):
        forms.convert({"start_date": "2026-02-01", "end_date": "2026-01-01"}, IepIn)


def test_goal_out_round_trips_as_json() -> None:
    out = GoalOut(
        id=1,
        iep_id=2,
        student_id=3,
        area="<b>",
        description="d",
        measurement="trials",
        baseline="",
        target="",
        mastery_criterion="",
        rating_max=None,
        task_steps=[],
        home_practice=False,
        direction="increase",
        measure_name="",
        continuous=False,
        active=True,
        position=0,
        objectives=[],
    )
    assert msgspec.json.decode(msgspec.json.encode(out), type=GoalOut) == out


def _true_depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_true_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_true_depth(v) for v in value.values()), default=0)
    return 0


# Strings full of what could fool a scanner: quotes, backslashes, brackets.
_TRICKY_TEXT = st.text(alphabet='\\"[]{}ab', max_size=8)
_JSON_VALUES = st.recursive(
    st.none() | st.integers() | _TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY_TEXT, inner, max_size=3),
    max_leaves=20,
)


@given(value=_JSON_VALUES, ascii_only=st.booleans())
def test_json_depth_is_the_real_nesting_whatever_the_strings_hold(
    value: object, ascii_only: bool
) -> None:
    encoded = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert json_depth(encoded) == _true_depth(value)
