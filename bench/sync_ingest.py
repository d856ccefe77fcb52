"""Sync ingest benchmark (not a test): how fast do taps land in PostgreSQL?

Modes, against the same PostgreSQL (embedded by default, or DATABASE_URL's server):
- sync:  16 concurrent simulated devices post 200-op batches to /api/sync over HTTP;
- copy:  asyncpg COPY of the same number of observation rows in one call (the limit);
- naive: one HTTP request per tap, one Piccolo ORM insert per request, same login and
         CSRF (a bench-only route, mounted only in this benchmark's app process);
- sync1: latency of a 1-op sync with 16 devices posting at once;
- hello: latency of a Litestar hello-world under the same load from the same client.
The app and the hello-world each run in --workers processes (default 2, one per core,
as docs/deploy.md recommends; the same count for both). Each mode runs 5 times; the
median is reported. Row counts are verified for every mode. The last stdout line is
one JSON object.

    .venv/bin/python bench/sync_ingest.py [--runs 5] [--workers 2] [--profile out.pstats]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEVICES = 16
BATCH = 200
BATCHES_PER_DEVICE = 10
NAIVE_PER_DEVICE = 60
SYNC1_PER_DEVICE = 40
LATENCY_BLOCKS = 4
PASSWORD = "correct horse battery staple"


# --- the app processes -----------------------------------------------------------------


def serve_app(port: int, profile: str | None, workers: int) -> None:
    """The Tandem app plus the bench-only naive route, on `port`."""
    import uvicorn
    from litestar import Request, post

    from server import db
    from server.app import create_app
    from server.auth.guards import authenticated, current_user
    from server.cli import load_secret, run_uvicorn, tune_gc
    from server.collect.tables import Observation

    db.configure_engine(os.environ["DATABASE_URL"])

    @post("/bench/naive-tap", guards=[authenticated], status_code=200)
    async def naive_tap(request: Request[Any, Any, Any], data: dict[str, Any]) -> dict[str, str]:
        # What most peers ship: one request per tap, one ORM insert per request.
        user = current_user(request)
        now = datetime.now(UTC)
        await Observation.insert(
            Observation(
                op_id=uuid.UUID(data["op_id"]),
                school_id=user.school_id,
                student_id=int(data["student_id"]),
                session_id=uuid.UUID(data["session_id"]),
                goal_id=int(data["goal_id"]),
                user_id=user.id,
                kind="tally",
                delta=1,
                device_time=now,
                recorded_at=now,
                received_at=now,
            )
        )
        return {"status": "ok"}

    app = create_app(secret=asyncio.run(load_secret("csrf")))
    app.register(naive_tap)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    if not profile:
        run_uvicorn(config, workers)
        return
    import cProfile

    tune_gc()  # as run_uvicorn does
    prof = cProfile.Profile()  # one process: --profile implies --workers 1
    prof.enable()
    try:
        uvicorn.Server(config).run()
    finally:
        prof.disable()
        prof.dump_stats(profile)


def serve_hello(port: int, workers: int) -> None:
    import uvicorn
    from litestar import Litestar, get

    from server.cli import run_uvicorn

    @get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    config = uvicorn.Config(
        Litestar([hello]), host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    run_uvicorn(config, workers)


def spawn(mode: str, port: int, env: dict[str, str], extra: list[str]) -> subprocess.Popen[bytes]:
    import httpx

    proc = subprocess.Popen(
        [sys.executable, __file__, mode, "--port", str(port), *extra],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    path = "/hello" if mode == "--serve-hello" else "/healthz"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{mode} did not start")


# --- load ------------------------------------------------------------------------------


class BenchDevice:
    def __init__(self, client: Any, student_id: int, goal_id: int) -> None:
        self.client = client
        self.student_id = student_id
        self.goal_id = goal_id
        self.client_id = ""
        self.seq = 0
        self.session_id = str(uuid.uuid4())
        self.csrf = ""

    async def setup(self, email: str) -> None:
        await self.client.get("/login")
        self.csrf = self.client.cookies.get("tandem_csrf")
        await self.post("/api/auth/login", {"email": email, "password": PASSWORD})
        r = await self.post("/api/sync/clients", {"app_version": "bench"})
        self.client_id = r.json()["client_id"]
        await self.sync(
            [
                self.op(
                    "session.open", {"session_id": self.session_id, "student_id": self.student_id}
                )
            ]
        )

    async def post(self, url: str, body: Any) -> Any:
        r = await self.client.post(url, json=body, headers={"x-csrf-token": self.csrf})
        assert r.status_code in (200, 201), r.text
        return r

    def op(self, type_: str, data: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        return {
            "seq": self.seq,
            "op_id": str(uuid.uuid4()),
            "type": type_,
            "at": datetime.now(UTC).isoformat(),
            "data": data,
        }

    def tap(self) -> dict[str, Any]:
        return self.op(
            "tally.add", {"session_id": self.session_id, "goal_id": self.goal_id, "delta": 1}
        )

    async def sync(self, ops: list[dict[str, Any]]) -> None:
        body = {
            "protocol": 1,
            "client_id": self.client_id,
            "sent_at": datetime.now(UTC).isoformat(),
            "ops": ops,
            "pull": False,
        }
        r = await self.post("/api/sync", body)
        results = r.json()["results"]
        assert all(x["status"] == "applied" for x in results), results[:3]


async def run_sync(devices: list[BenchDevice]) -> float:
    async def one(d: BenchDevice) -> None:
        for _ in range(BATCHES_PER_DEVICE):
            await d.sync([d.tap() for _ in range(BATCH)])

    t0 = time.perf_counter()
    await asyncio.gather(*(one(d) for d in devices))
    return time.perf_counter() - t0


async def run_naive(devices: list[BenchDevice]) -> float:
    async def one(d: BenchDevice) -> None:
        for _ in range(NAIVE_PER_DEVICE):
            await d.post(
                "/bench/naive-tap",
                {
                    "op_id": str(uuid.uuid4()),
                    "session_id": d.session_id,
                    "student_id": d.student_id,
                    "goal_id": d.goal_id,
                },
            )

    t0 = time.perf_counter()
    await asyncio.gather(*(one(d) for d in devices))
    return time.perf_counter() - t0


async def run_latency(
    devices: list[BenchDevice], call: Any, per_device: int = SYNC1_PER_DEVICE
) -> list[float]:
    latencies: list[float] = []

    async def one(d: BenchDevice) -> None:
        for _ in range(per_device):
            t0 = time.perf_counter()
            await call(d)
            latencies.append((time.perf_counter() - t0) * 1000)

    await asyncio.gather(*(one(d) for d in devices))
    return latencies


class CpuMeter:
    """CPU seconds (user + system, from /proc) of the processes behind each mode: this
    client, the app's processes, the hello-world's and PostgreSQL's backends, added up
    per phase, so the figures say where the time of one op or one request goes."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, app_pid: int, hello_pid: int) -> None:
        self.roots = {"app": app_pid, "hello": hello_pid}
        self.totals: dict[str, dict[str, float]] = {}
        self.counts: dict[str, int] = {}

    def _snapshot(self) -> dict[str, float]:
        stats: dict[int, tuple[int, str, float]] = {}  # pid -> (parent, name, seconds)
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    raw = f.read()
            except OSError:
                continue
            name = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2 :].split()
            stats[int(entry)] = (
                int(fields[1]),
                name,
                (int(fields[11]) + int(fields[12])) / self.TICK,
            )
        out = {
            "client": stats.get(os.getpid(), (0, "", 0.0))[2],
            "app": 0.0,
            "hello": 0.0,
            "postgres": 0.0,
            "pg_background": 0.0,
        }
        for pid, (_, name, seconds) in stats.items():
            group = None
            walk = pid
            while walk in stats and group is None:
                for label, root in self.roots.items():
                    if walk == root:
                        group = label
                walk = stats[walk][0]
            if group is None and name == "postgres":
                group = "postgres" if self._is_backend(pid) else "pg_background"
            if group is not None:
                out[group] += seconds
        return out

    @staticmethod
    def _is_backend(pid: int) -> bool:
        """A client connection's backend (its title names a user and a database), not
        the postmaster, WAL writer, checkpointer, autovacuum and the like."""
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                title = f.read().decode("utf-8", "replace")
        except OSError:
            return False
        return (
            title.startswith("postgres: ")
            and " " in title[10:].strip()
            and not any(
                word in title for word in ("autovacuum", "writer", "checkpointer", "launcher")
            )
        )

    @contextlib.asynccontextmanager
    async def phase(self, name: str, count: int) -> Any:
        before = self._snapshot()
        client0 = time.process_time()  # the client's own, without the /proc scans
        yield
        client = time.process_time() - client0
        after = self._snapshot()
        after["client"] = before["client"] + client
        total = self.totals.setdefault(name, {k: 0.0 for k in after})
        for k in after:
            total[k] += after[k] - before[k]
        self.counts[name] = self.counts.get(name, 0) + count

    def report(self) -> dict[str, dict[str, float]]:
        """Microseconds of CPU per op (sync, naive) or per request (sync1, hello)."""
        return {
            phase: {k: round(v / self.counts[phase] * 1e6, 1) for k, v in total.items() if v}
            for phase, total in self.totals.items()
        }


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def copy_rows(
    url: str, school_id: int, student_id: int, session_id: str, user_id: int, goal_id: int, n: int
) -> float:
    import asyncpg

    now = datetime.now(UTC)
    sid = uuid.UUID(session_id)
    records = [
        (uuid.uuid4(), school_id, student_id, sid, goal_id, user_id, "tally", 1, now, now)
        for _ in range(n)
    ]
    conn = await asyncpg.connect(url)
    try:
        t0 = time.perf_counter()
        await conn.copy_records_to_table(
            "observation",
            records=records,
            columns=[
                "op_id",
                "school_id",
                "student_id",
                "session_id",
                "goal_id",
                "user_id",
                "kind",
                "delta",
                "device_time",
                "recorded_at",
            ],
        )
        return time.perf_counter() - t0
    finally:
        await conn.close()


# --- orchestration ---------------------------------------------------------------------


def setup_school(url: str) -> dict[str, Any]:
    import psycopg

    from tests.support.factories import Factory

    with psycopg.connect(url, autocommit=True) as sql:
        f = Factory(sql)
        student = f.student("Bench")
        aides = [f.user("aide") for _ in range(DEVICES)]
        for a in aides:
            f.assign(a, student)
        return {
            "school_id": f.school_id,
            "student_id": student.id,
            "goal_id": student.goals["frequency"],
            "aides": [(a.id, a.email) for a in aides],
        }


def analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as sql:
        sql.execute("ANALYZE")


def count_rows(url: str, session_ids: list[str]) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as sql:
        row = sql.execute(
            "SELECT count(*) FROM observation WHERE session_id = ANY(%s::uuid[])", (session_ids,)
        ).fetchone()
        assert row is not None
        return int(row[0])


async def measure(
    base: str,
    hello_base: str,
    url: str,
    school: dict[str, Any],
    runs: int,
    workers: int,
    cpu: CpuMeter,
) -> dict[str, Any]:
    import httpx

    limits = httpx.Limits(max_connections=DEVICES * 2, max_keepalive_connections=DEVICES * 2)
    clients = [httpx.AsyncClient(base_url=base, timeout=60, limits=limits) for _ in range(DEVICES)]
    hello_client = httpx.AsyncClient(base_url=hello_base, timeout=60, limits=limits)
    try:
        devices = [BenchDevice(c, school["student_id"], school["goal_id"]) for c in clients]
        await asyncio.gather(
            *(d.setup(email) for d, (_, email) in zip(devices, school["aides"], strict=True))
        )
        sessions = [d.session_id for d in devices]
        sync_ops = DEVICES * BATCHES_PER_DEVICE * BATCH
        sync_rates, copy_rates, naive_rates, s1, hello = [], [], [], [], []
        ratios: list[float] = []
        run_p50s: list[tuple[float, float]] = []  # (sync1, hello) per run

        async def hello_call(_: BenchDevice) -> None:
            r = await hello_client.get("/hello")
            assert r.status_code == 200

        await run_sync(devices)  # warm-up (not counted in the rates)
        # A school's database in use has statistics (autovacuum analyzes it within a
        # minute of heavy writes); a fresh one has none, and the generic plans cached
        # on the first batches would scan the ledger from end to end until autovacuum
        # got round to it, which may or may not happen during a 30-second run. Measure
        # the steady state: ANALYZE invalidates those plans.
        analyze(url)
        # Warm the latency modes too (connections to every server process, first
        # requests): without it the first run's hello-world was the slowest of all.
        block = SYNC1_PER_DEVICE // LATENCY_BLOCKS
        await run_latency(devices, lambda d: d.sync([d.tap()]), block)
        await run_latency(devices, hello_call, block)
        expected = sync_ops + DEVICES * block
        for _ in range(runs):
            before = count_rows(url, sessions)
            async with cpu.phase("sync", sync_ops):
                sync_rates.append(sync_ops / await run_sync(devices))
            assert count_rows(url, sessions) - before == sync_ops
            expected += sync_ops
            d0 = devices[0]
            copy_rates.append(
                sync_ops
                / await copy_rows(
                    url,
                    school["school_id"],
                    school["student_id"],
                    d0.session_id,
                    school["aides"][0][0],
                    school["goal_id"],
                    sync_ops,
                )
            )
            expected += sync_ops
            assert count_rows(url, sessions) == expected
            naive_n = DEVICES * NAIVE_PER_DEVICE
            async with cpu.phase("naive", naive_n):
                naive_rates.append(naive_n / await run_naive(devices))
            expected += naive_n
            assert count_rows(url, sessions) == expected
            # sync1 and hello alternate in short blocks, so a drift of the machine's
            # speed (a noisy neighbour) weighs on both alike; the ratio is taken per run.
            s1_run: list[float] = []
            hello_run: list[float] = []
            for _ in range(LATENCY_BLOCKS):
                async with cpu.phase("sync1", DEVICES * block):
                    s1_run += await run_latency(devices, lambda d: d.sync([d.tap()]), block)
                async with cpu.phase("hello", DEVICES * block):
                    hello_run += await run_latency(devices, hello_call, block)
            expected += DEVICES * block * LATENCY_BLOCKS
            assert count_rows(url, sessions) == expected
            s1 += s1_run
            hello += hello_run
            ratios.append(pct(s1_run, 50) / pct(hello_run, 50))
            run_p50s.append((round(pct(s1_run, 50), 1), round(pct(hello_run, 50), 1)))
        # One device alone, one call at a time: the per-request cost without queueing.
        solo = devices[:1]
        seq_sync1 = await run_latency(solo, lambda d: d.sync([d.tap()]))
        seq_hello = await run_latency(solo, hello_call)
        seq_naive = await run_latency(
            solo,
            lambda d: d.post(
                "/bench/naive-tap",
                {
                    "op_id": str(uuid.uuid4()),
                    "session_id": d.session_id,
                    "student_id": d.student_id,
                    "goal_id": d.goal_id,
                },
            ),
        )
        expected += 2 * SYNC1_PER_DEVICE
        assert count_rows(url, sessions) == expected
        ops = statistics.median(sync_rates)
        copy = statistics.median(copy_rates)
        naive = statistics.median(naive_rates)
        return {
            "ops_per_s": round(ops),
            "copy_rows_per_s": round(copy),
            "ratio_vs_copy": round(ops / copy, 3),
            "naive_ops_per_s": round(naive),
            "ratio_vs_naive": round(ops / naive, 1),
            "sync1_p50_ms": round(pct(s1, 50), 2),
            "sync1_p99_ms": round(pct(s1, 99), 2),
            "hello_p50_ms": round(pct(hello, 50), 2),
            # The median over runs of each run's sync1 p50 / hello p50.
            "sync1_vs_hello": round(statistics.median(ratios), 2),
            "sync1_vs_hello_runs": [round(r, 2) for r in ratios],
            "sync1_hello_p50_ms_runs": run_p50s,
            "solo_sync1_p50_ms": round(pct(seq_sync1, 50), 2),
            "solo_naive_p50_ms": round(pct(seq_naive, 50), 2),
            "solo_hello_p50_ms": round(pct(seq_hello, 50), 2),
            "cpu_us": cpu.report(),
            "runs": runs,
            "server_processes": workers,
            "ops_per_run": sync_ops,
            "devices": DEVICES,
            "batch": BATCH,
            "rows_verified": expected,
        }
    finally:
        for c in [*clients, hello_client]:
            await c.aclose()


def main() -> None:
    with contextlib.suppress(KeyboardInterrupt):  # the app processes are stopped with SIGINT
        _main()


def _main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve-app", action="store_true")
    parser.add_argument("--serve-hello", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", default=None)
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="processes for the app and for hello-world alike (docs/deploy.md: one per core)",
    )
    args = parser.parse_args()
    if args.profile:
        args.workers = 1  # cProfile sees one process
    if args.serve_app:
        serve_app(args.port, args.profile, args.workers)
        return
    if args.serve_hello:
        serve_hello(args.port, args.workers)
        return

    from tests.support.servers import app_role_url, bench_database, free_port

    procs: list[subprocess.Popen[bytes]] = []
    with bench_database() as url:
        try:
            school = setup_school(url)
            env = {
                "DATABASE_URL": app_role_url(url),
                "TANDEM_SECURE_COOKIES": "0",
                "TANDEM_WORKER_IN_PROCESS": "0",
                "TANDEM_LOGIN_LIMIT_ADDRESS": "1000000",
            }
            port, hello_port = free_port(), free_port()
            extra = ["--profile", str(Path(args.profile).resolve())] if args.profile else []
            workers = ["--workers", str(args.workers)]
            procs.append(spawn("--serve-app", port, env, extra + workers))
            procs.append(spawn("--serve-hello", hello_port, {}, workers))
            result = asyncio.run(
                measure(
                    f"http://127.0.0.1:{port}",
                    f"http://127.0.0.1:{hello_port}",
                    url,
                    school,
                    args.runs,
                    args.workers,
                    CpuMeter(procs[0].pid, procs[1].pid),
                )
            )
        finally:
            for p in procs:
                # SIGINT, not SIGTERM: uvicorn re-raises the signal after shutdown, and
                # only SIGINT (KeyboardInterrupt) lets the profiler's `finally` write its
                # file.
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
