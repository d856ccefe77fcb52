"""Push fan-out: one progress note to 1,000 subscriptions on a local push service that
runs in its own process and checks every VAPID signature and decrypts every payload.

    .venv/bin/python bench/push_fanout.py [--subscriptions 1000] [--concurrency 4] [--profile]

Measures, with the sender the worker uses (server/notify/sender.py):
- encrypt_only_per_s: the per-message work alone (aes128gcm encryption with a fresh
  ECDH key, VAPID header, the other headers), one after another, no HTTP;
- push_per_s: the same messages really sent, concurrently over one reused keep-alive
  httpx client (HTTP/1.1), until the push service has answered 201 to every one;
- push_pool_per_s: the same with encryption in a thread pool;
- webpush_sync_per_s: pywebpush's own webpush(), one at a time (the naive baseline), on a
  sample.
The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import secrets
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.notify.sender import PushSender, Subscription  # noqa: E402
from server.notify.vapid import VapidSigner, b64url, new_private_key_text  # noqa: E402

PAYLOAD = json.dumps(
    {
        "id": "5f0c8a0e9b8b4a3c8f1e2d3c4b5a6978",
        "title": "New progress note",
        "body": "Maya's teacher shared an update.",
        "url": "/parent/notes/12345",
    }
).encode()


def make_keys(n: int) -> tuple[dict[str, list[str]], list[tuple[str, str, str]]]:
    """Per subscription: the browser side (for the service) and the app side."""
    browser: dict[str, list[str]] = {}
    app: list[tuple[str, str, str]] = []
    for _ in range(n):
        token = secrets.token_urlsafe(12)
        key = ec.generate_private_key(ec.SECP256R1())
        auth = secrets.token_bytes(16)
        private = key.private_numbers().private_value.to_bytes(32, "big")
        public = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        browser[token] = [b64url(private), b64url(auth)]
        app.append((token, b64url(public), b64url(auth)))
    return browser, app


def start_service(keys_file: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.push_service", "--keys", keys_file],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(json.loads(proc.stdout.readline())["port"])
    return proc, port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of another process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stats(port: int) -> tuple[int, int]:
    r = httpx.get(f"http://127.0.0.1:{port}/stats")
    return int(r.headers["x-ok"]), int(r.headers["x-errors"])


async def fan_out(sender: PushSender, subs: list[Subscription], concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int, sub: Subscription) -> None:
        async with gate:
            result = await sender.send(sub, PAYLOAD, topic=f"bench{i}")
            if result.status != 201:
                raise RuntimeError(f"push {i}: {result}")

    start = time.perf_counter()
    await asyncio.gather(*(one(i, s) for i, s in enumerate(subs)))
    return time.perf_counter() - start


def encrypt_only(sender: PushSender, subs: list[Subscription], audience: str) -> float:
    start = time.perf_counter()
    for i, sub in enumerate(subs):
        sender.prepare(sub, PAYLOAD, audience=audience, topic=f"bench{i}")
    return time.perf_counter() - start


def webpush_sync(subs: list[Subscription], private_text: str) -> float:
    from pywebpush import webpush

    start = time.perf_counter()
    for sub in subs:
        webpush(
            {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}},
            data=PAYLOAD.decode(),
            vapid_private_key=private_text,
            vapid_claims={"sub": "mailto:bench@localhost"},  # a fresh dict each call
            ttl=60,
        )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="report the median round")
    parser.add_argument("--slice", type=int, default=100, help="messages per interleaved slice")
    parser.add_argument("--sample", type=int, default=200, help="webpush() baseline sample")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    n: int = args.subscriptions

    browser_keys, app_keys = make_keys(n)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(browser_keys, f)
        keys_file = f.name
    proc, port = start_service(keys_file)
    try:
        origin = f"http://127.0.0.1:{port}"
        subs = [Subscription(f"{origin}/push/{t}", p, a) for t, p, a in app_keys]
        private_text = new_private_key_text()
        signer = VapidSigner(private_text, "mailto:bench@localhost")

        def sender(executor: ThreadPoolExecutor | None = None) -> PushSender:
            return PushSender(
                signer,
                allowed_hosts=(f"127.0.0.1:{port}",),
                allow_insecure_local=True,
                timeout_s=30,
                max_connections=args.concurrency,
                executor=executor,
            )

        plain = sender()
        encrypt_only(plain, subs[:50], origin)  # warm up

        async def run_round(pool: ThreadPoolExecutor, profile: bool) -> dict[str, float]:
            """Encrypt-only and the sends interleaved in slices of `--slice` messages, so
            both see the same machine load (other processes share these cores)."""
            pooled = sender(pool)
            await fan_out(plain, subs[:50], args.concurrency)  # warm up: connections open
            await fan_out(pooled, subs[:50], args.concurrency)
            out = dict.fromkeys(("encrypt", "push", "pool", "sender_cpu", "service_cpu"), 0.0)
            profiler = cProfile.Profile() if profile else None
            for start in range(0, n, args.slice):
                part = subs[start : start + args.slice]
                out["encrypt"] += encrypt_only(plain, part, origin)
                service_cpu, own_cpu = cpu_seconds(proc.pid), time.process_time()
                if profiler:
                    profiler.enable()
                out["push"] += await fan_out(plain, part, args.concurrency)
                if profiler:
                    profiler.disable()
                out["sender_cpu"] += time.process_time() - own_cpu
                out["service_cpu"] += cpu_seconds(proc.pid) - service_cpu
                out["pool"] += await fan_out(pooled, part, args.concurrency)
            await pooled.aclose()
            if profiler:
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(20)
                print(text.getvalue())
            return out

        async def run_all() -> list[dict[str, float]]:
            with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
                rounds = [
                    await run_round(pool, args.profile and i == 0) for i in range(args.rounds)
                ]
            await plain.aclose()
            return rounds

        rounds = asyncio.run(run_all())
        sample = subs[: args.sample]
        sync_enc_s = encrypt_only(plain, sample, origin)
        sync_s = webpush_sync(sample, private_text)
        ok, errors = stats(port)
        expected = args.rounds * (50 + 50 + n + n) + len(sample)
        if errors or ok != expected:
            raise SystemExit(f"push service: {ok} accepted of {expected}, {errors} errors")

        def ratio(r: dict[str, float]) -> float:
            return (n / min(r["push"], r["pool"])) / (n / r["encrypt"])

        median = sorted(rounds, key=ratio)[len(rounds) // 2]
        enc_s, timings = median["encrypt"], median
        encrypt_per_s = n / enc_s
        push_per_s = n / timings["push"]
        pool_per_s = n / timings["pool"]
        best = max(push_per_s, pool_per_s)
        result = {
            "subscriptions": n,
            "concurrency": args.concurrency,
            "cpus": os.cpu_count(),
            "rounds": args.rounds,
            "encrypt_only_per_s": round(encrypt_per_s, 1),
            "push_per_s": round(best, 1),
            "push_inline_per_s": round(push_per_s, 1),
            "push_pool_per_s": round(pool_per_s, 1),
            "ratio_vs_encrypt_only": round(best / encrypt_per_s, 3),
            "ratios_all_rounds": sorted(round(ratio(r), 3) for r in rounds),
            # CPU per push during the inline fan-out, in each process (µs): who is busy.
            "sender_cpu_us_per_push": round(1e6 * median["sender_cpu"] / n),
            "service_cpu_us_per_push": round(1e6 * median["service_cpu"] / n),
            "push_wall_us_per_push": round(1e6 * median["push"] / n),
            "webpush_sync_per_s": round(len(sample) / sync_s, 1),
            "webpush_sync_ratio": round(sync_enc_s / sync_s, 3),
            "verified_and_decrypted": ok,
        }
        print(json.dumps(result))
    finally:
        proc.terminate()
        proc.wait(10)
        os.unlink(keys_file)


if __name__ == "__main__":
    main()
