"""Hypothesis stateful test: several devices record offline and sync in random
interleavings, with duplicated, reordered, partial, dropped-response and retried
batches. After every step the totals read back by SQL must equal a model of plain
counters over exactly the ops the server has acknowledged in its ledger (seq <=
sync_client.last_seq): no op applied twice, none lost."""

from __future__ import annotations

import random
import uuid
from typing import Any

import psycopg
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.integration.test_sync import Device
from tests.support.client import ApiClient
from tests.support.factories import Classroom

DEVICES = 3


class SimDevice:
    def __init__(self, device: Device, session_id: str) -> None:
        self.device = device
        self.session_id = session_id
        # seq -> (kind, effect on the tally sum / trial count); undo: (target seq)
        self.effects: dict[int, tuple[str, int]] = {}
        self.undone: set[int] = set()


def run_model(classroom: Classroom, clients: list[ApiClient], sql: psycopg.Connection[Any]) -> None:
    st_ = classroom.student
    tally_goal, trial_goal = st_.goals["frequency"], st_.goals["trials"]

    class SyncMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.devices: list[SimDevice] = []
            for c in clients:
                dev = Device(c)
                sid = str(uuid.uuid4())
                dev.op("session.open", {"session_id": sid, "student_id": st_.id})
                sim = SimDevice(dev, sid)
                sim.effects[1] = ("open", 0)
                self.devices.append(sim)

        @rule(i=st.integers(0, DEVICES - 1), delta=st.sampled_from([1, -1]), n=st.integers(1, 4))
        def tally(self, i: int, delta: int, n: int) -> None:
            sim = self.devices[i]
            for _ in range(n):
                op = sim.device.op(
                    "tally.add",
                    {"session_id": sim.session_id, "goal_id": tally_goal, "delta": delta},
                )
                sim.effects[op["seq"]] = ("tally", delta)

        @rule(i=st.integers(0, DEVICES - 1), outcome=st.sampled_from(["correct", "incorrect"]))
        def trial(self, i: int, outcome: str) -> None:
            sim = self.devices[i]
            op = sim.device.op(
                "trial.record",
                {
                    "session_id": sim.session_id,
                    "goal_id": trial_goal,
                    "outcome": outcome,
                    "prompt": "verbal",
                },
            )
            sim.effects[op["seq"]] = ("trial", 1)

        @rule(i=st.integers(0, DEVICES - 1), pick=st.integers(0, 10_000))
        def undo(self, i: int, pick: int) -> None:
            sim = self.devices[i]
            candidates = [
                s
                for s, (k, _) in sim.effects.items()
                if k in ("tally", "trial") and s not in sim.undone
            ]
            if not candidates:
                return
            target = candidates[pick % len(candidates)]
            op_id = next(o["op_id"] for o in self._all_ops(sim) if o["seq"] == target)
            op = sim.device.op("undo", {"target_op_id": op_id})
            sim.undone.add(target)
            sim.effects[op["seq"]] = ("undo", target)

        def _all_ops(self, sim: SimDevice) -> list[dict[str, Any]]:
            if not hasattr(sim, "history"):
                sim.history = []  # type: ignore[attr-defined]
            known = {o["seq"] for o in sim.history}  # type: ignore[attr-defined]
            sim.history.extend(o for o in sim.device.outbox if o["seq"] not in known)  # type: ignore[attr-defined]
            return sim.history  # type: ignore[attr-defined,no-any-return]

        @rule(
            i=st.integers(0, DEVICES - 1),
            mode=st.sampled_from(
                ["normal", "drop_response", "duplicate", "reorder", "from_middle", "resend_old"]
            ),
            limit=st.integers(1, 12),
            seed=st.integers(0, 2**16),
        )
        def sync(self, i: int, mode: str, limit: int, seed: int) -> None:
            sim = self.devices[i]
            dev = sim.device
            self._all_ops(sim)
            batch = dev.outbox[:limit]
            rnd = random.Random(seed)
            if mode == "reorder":
                rnd.shuffle(batch)
            elif mode == "duplicate":
                batch = batch + batch
            elif mode == "from_middle" and len(batch) > 1:
                batch = batch[rnd.randrange(1, len(batch)) :]
            elif mode == "resend_old":
                history = sim.history  # type: ignore[attr-defined]
                batch = rnd.sample(history, min(len(history), limit)) + batch
            r = dev.post(batch)
            assert r.status_code == 200, r.text
            out = r.json()
            for res in out["results"]:
                assert res["status"] in ("applied", "duplicate"), res
            if mode != "drop_response":
                dev.ack(out)

        def _model(self, sim: SimDevice, last_seq: int) -> tuple[int, int]:
            tally = trials = 0
            voided = {t for s, (k, t) in sim.effects.items() if k == "undo" and s <= last_seq}
            for s, (k, v) in sim.effects.items():
                if s > last_seq or s in voided:
                    continue
                if k == "tally":
                    tally += v
                elif k == "trial":
                    trials += 1
            return tally, trials

        @invariant()
        def totals_match_the_ledger(self) -> None:
            for sim in self.devices:
                row = sql.execute(
                    "SELECT last_seq FROM sync_client WHERE client_id = %s", (sim.device.client_id,)
                ).fetchone()
                assert row is not None
                last_seq = int(row[0])
                assert last_seq <= sim.device.seq
                got = sql.execute(
                    """SELECT coalesce(sum(delta) FILTER (WHERE kind = 'tally'), 0),
                              count(*) FILTER (WHERE kind = 'trial')
                         FROM observation o
                        WHERE session_id = %s
                          AND NOT EXISTS (SELECT 1 FROM observation u WHERE u.voids_op_id = o.op_id)""",
                    (sim.session_id,),
                ).fetchone()
                assert got is not None
                assert (int(got[0]), int(got[1])) == self._model(sim, last_seq)
                ledger = sql.execute(
                    "SELECT count(*), count(DISTINCT op_id) FROM sync_op WHERE client_id = %s",
                    (sim.device.client_id,),
                ).fetchone()
                assert ledger == (last_seq, last_seq)

        @precondition(lambda self: True)
        @rule()
        def drain_all(self) -> None:
            for sim in self.devices:
                rounds = 0
                while sim.device.outbox:
                    rounds += 1
                    assert rounds < 50, "the queue never drained"
                    self._all_ops(sim)
                    sim.device.sync(limit=25)
                assert self._last_seq(sim) == sim.device.seq

        def _last_seq(self, sim: SimDevice) -> int:
            row = sql.execute(
                "SELECT last_seq FROM sync_client WHERE client_id = %s", (sim.device.client_id,)
            ).fetchone()
            assert row is not None
            return int(row[0])

        def teardown(self) -> None:
            self.drain_all()
            self.totals_match_the_ledger()

    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


def test_random_offline_interleavings_apply_every_op_exactly_once(
    classroom: Classroom, client_for: Any, sql: psycopg.Connection[Any]
) -> None:
    clients = [
        client_for(classroom.aide),
        client_for(classroom.teacher),
        client_for(classroom.provider),
    ]
    run_model(classroom, clients, sql)
