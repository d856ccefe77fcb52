"""One definition of every figure: the shared vectors (tests/vectors/figures.json) through
server/collect/derive.py. tests/e2e/test_figures_js.py runs the same file through the
aide's app (pwa/js/figures.js)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from server.collect.derive import Event, derive_goals, figures, session_entries

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "figures.json").read_text("utf-8")
)


def event(raw: dict[str, Any]) -> Event:
    def uuid(key: str) -> UUID | None:
        return UUID(raw[key]) if raw.get(key) else None

    return Event(
        op_id=UUID(raw["op_id"]),
        kind=raw["kind"],
        recorded_at=datetime.fromisoformat(raw["at"]),
        goal_id=raw.get("goal_id"),
        outcome=raw.get("outcome"),
        prompt=raw.get("prompt"),
        delta=raw.get("delta"),
        timer_id=uuid("timer_id"),
        value=raw.get("value"),
        step_index=raw.get("step_index"),
        note=raw.get("note"),
        voids_op_id=uuid("voids_op_id"),
        state=raw.get("state", "applied"),
    )


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_the_shared_figure_vectors(vector: dict[str, Any]) -> None:
    events = [event(e) for e in vector["events"]]
    closed = datetime.fromisoformat(vector["closed_at"]) if vector.get("closed_at") else None
    for order in (events, list(reversed(events))):  # arrival order never matters
        results = derive_goals(order, closed_at=closed)
        got = figures(
            results.get(VECTORS["goal_id"]),
            vector["measurement"],
            continuous=vector.get("continuous", False),
        )
        for name, expected in vector["expect"].items():
            assert getattr(got, name) == pytest.approx(expected), name
        if "session_entries" in vector:
            assert session_entries(results) == vector["session_entries"]


def test_every_measurement_type_has_vectors() -> None:
    kinds = {v["measurement"] for v in VECTORS["vectors"]}
    assert kinds == {"trials", "frequency", "duration", "rating", "task_analysis"}
