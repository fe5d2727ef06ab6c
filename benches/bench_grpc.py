"""gRPC benchmarks: the Python client (grpcio) against a real `sqsfast serve` process.

    python benches/bench_grpc.py [--seconds S] [--size BYTES] [--json FILE]

1. cycle: one Python process, batches of 100: send_batch, receive, delete_batch (messages/s); once
   from one thread, then from --threads threads (each its own queue and cycle, one shared channel);
2. send round trip: single-message sends one after another (p50, p99, p99.9 in µs);
3. end to end: a sender process at a fixed rate (1 000 msg/s), a receiver process long-polling
   (or streaming, with the asyncio client) and deleting; latency from send to receive (p50, p99).

The server is started here (`sqsfast serve --http-port 0 --grpc-port 0`) and stopped at the end.
Every workload checks its own result (every message sent is received, the queue ends empty) and
reports it as `correct`. Numbers are printed, never asserted: this machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import sqsfast
import sqsfast.aio


def start_server() -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "sqsfast.cli", "serve", "--http-port", "0", "--grpc-port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.match(r"sqsfast: gRPC on (grpc://\S+)", line.strip())
        if m:
            return proc, m.group(1)
    raise RuntimeError("sqsfast serve did not start")


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[i]


# ---- 1. full cycle in batches of 100 -------------------------------------------------------------


def bench_cycle_threads(url: str, seconds: float, size: int, threads: int) -> dict:
    broker = sqsfast.connect(url, max_batch=1000)
    results: list[dict] = []
    workers = [
        threading.Thread(
            target=lambda: results.append(bench_cycle(url, seconds, size, broker=broker))
        )
        for _ in range(threads)
    ]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    broker.close()
    return {
        "workload": f"cycle, batches of 100, {size}-byte bodies, {threads} threads of one process",
        "messages": sum(r["messages"] for r in results),
        "messages_per_second": sum(r["messages_per_second"] for r in results),
        "correct": len(results) == threads and all(r["correct"] for r in results),
    }


def bench_cycle(url: str, seconds: float, size: int, batch: int = 100, broker: Any = None) -> dict:
    own = broker is None
    if broker is None:
        broker = sqsfast.connect(url, max_batch=1000)
    q = broker.create_queue("bench-cycle-" + uuid.uuid4().hex[:8])
    bodies = [(b"%08d" % i) + b"x" * (size - 8) for i in range(batch)]
    sent = received = deleted = 0
    seen_ids: set[str] = set()
    duplicates = 0
    # Warm up the channel.
    q.send_batch(bodies[:10])
    got = q.receive(10, wait_seconds=0)
    q.delete_batch(got)
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        results = q.send_batch(bodies)
        sent += sum(1 for r in results if r.error is None)
        want = batch
        while want:
            got = q.receive(want, wait_seconds=0)
            want -= len(got)
            received += len(got)
            for m in got:
                mid = m.message_id
                if mid in seen_ids:
                    duplicates += 1
                seen_ids.add(mid)
            dr = q.delete_batch(got)
            deleted += sum(1 for r in dr if r.error is None)
    elapsed = time.perf_counter() - start
    counts = q.counts()
    correct = (
        sent == received == deleted == len(seen_ids)
        and duplicates == 0
        and counts["visible"] == counts["in_flight"] == 0
    )
    broker.delete_queue(q)
    if own:
        broker.close()
    return {
        "workload": f"cycle, batches of {batch}, {size}-byte bodies",
        "messages": sent,
        "seconds": round(elapsed, 3),
        "messages_per_second": round(sent / elapsed),
        "correct": correct,
    }


# ---- 2. single-message send round trip -----------------------------------------------------------


def bench_send_rtt(url: str, seconds: float, size: int) -> dict:
    broker = sqsfast.connect(url)
    q = broker.create_queue("bench-rtt-" + uuid.uuid4().hex[:8])
    body = b"x" * size
    for _ in range(500):  # warm-up
        q.send(body)
    q.purge()
    samples = []
    clock = time.perf_counter_ns
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t0 = clock()
        q.send(body)
        samples.append(clock() - t0)
    samples.sort()
    counts = q.counts()
    correct = counts["visible"] == len(samples)
    broker.delete_queue(q)
    broker.close()
    us = [s / 1000 for s in samples]
    return {
        "workload": f"send round trip, one message, {size}-byte body",
        "calls": len(us),
        "p50_us": round(percentile(us, 50), 1),
        "p99_us": round(percentile(us, 99), 1),
        "p999_us": round(percentile(us, 99.9), 1),
        "mean_us": round(statistics.fmean(us), 1),
        "correct": correct,
    }


# ---- 3. end to end: producer process -> consumer process -----------------------------------------


def _producer(url: str, queue: str, rate: int, count: int, size: int, ready) -> None:
    q = sqsfast.connect(url).queue(queue)
    pad = b"x" * max(0, size - 20)
    ready.wait()
    start = time.monotonic_ns()
    interval = 1_000_000_000 // rate
    for i in range(count):
        due = start + i * interval
        while (now := time.monotonic_ns()) < due:
            if due - now > 200_000:
                time.sleep((due - now - 100_000) / 1e9)
        q.send(b"%020d" % time.monotonic_ns() + pad)


def _consumer_poll(url: str, queue: str, count: int, out, ready) -> None:
    q = sqsfast.connect(url).queue(queue)
    latencies = []
    ready.set()
    while len(latencies) < count:
        got = q.receive(10, wait_seconds=5)
        now = time.monotonic_ns()
        latencies.extend(now - int(m.body[:20]) for m in got)
        if got:
            q.delete_batch(got)
    out.put(latencies)


def _consumer_stream(url: str, queue: str, count: int, out, ready) -> None:
    async def run() -> list[int]:
        async with sqsfast.aio.connect(url) as broker:
            q = await broker.queue(queue)
            latencies: list[int] = []
            ready.set()
            pending = []
            async for m in q.consume(max_messages=10):
                latencies.append(time.monotonic_ns() - int(m.body[:20]))
                pending.append(m)
                if len(pending) >= 10 or len(latencies) >= count:
                    await q.delete_batch(pending)
                    pending = []
                if len(latencies) >= count:
                    return latencies
        return latencies

    out.put(asyncio.run(run()))


def bench_end_to_end(url: str, seconds: float, size: int, mode: str, rate: int = 1000) -> dict:
    broker = sqsfast.connect(url)
    q = broker.create_queue("bench-e2e-" + uuid.uuid4().hex[:8])
    count = int(rate * seconds)
    ctx = mp.get_context("spawn")
    out, ready = ctx.Queue(), ctx.Event()
    target = _consumer_poll if mode == "long-poll" else _consumer_stream
    consumer = ctx.Process(target=target, args=(url, q.name, count, out, ready))
    producer = ctx.Process(target=_producer, args=(url, q.name, rate, count, size, ready))
    consumer.start()
    producer.start()
    latencies = out.get(timeout=seconds + 120)
    producer.join(30)
    consumer.join(30)
    time.sleep(0.2)
    counts = q.counts()
    correct = len(latencies) == count and counts["visible"] == counts["in_flight"] == 0
    broker.delete_queue(q)
    broker.close()
    us = sorted(v / 1000 for v in latencies)
    return {
        "workload": f"end to end at {rate} msg/s, {mode} receiver, {size}-byte bodies",
        "messages": len(us),
        "p50_us": round(percentile(us, 50), 1),
        "p99_us": round(percentile(us, 99), 1),
        "p999_us": round(percentile(us, 99.9), 1),
        "max_us": round(us[-1], 1) if us else None,
        "correct": correct,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per workload (default 5)")
    parser.add_argument("--size", type=int, default=256, help="body bytes (default 256)")
    parser.add_argument("--threads", type=int, default=3, help="for the threaded cycle (default 3)")
    parser.add_argument("--url", help="an already running server (default: start one)")
    parser.add_argument("--only", choices=["cycle", "rtt", "e2e"], action="append")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    proc = None
    url = args.url
    if url is None:
        proc, url = start_server()
    only = set(args.only or ["cycle", "rtt", "e2e"])
    results = []
    try:
        if "cycle" in only:
            results.append(bench_cycle(url, args.seconds, args.size))
            results.append(bench_cycle_threads(url, args.seconds, args.size, args.threads))
        if "rtt" in only:
            results.append(bench_send_rtt(url, args.seconds, args.size))
        if "e2e" in only:
            results.append(bench_end_to_end(url, args.seconds, args.size, "long-poll"))
            results.append(bench_end_to_end(url, args.seconds, args.size, "stream"))
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "sqsfast": sqsfast.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    for r in results:
        print(json.dumps(r))
    print(json.dumps(machine))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "results": results}, f, indent=2)
    return 0 if all(r["correct"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
