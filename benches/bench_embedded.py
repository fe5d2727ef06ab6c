"""Embedded Python API benchmarks, each against a baseline measured in the same run.

    python benches/bench_embedded.py [--messages N] [--size BYTES] [--json FILE]

The baseline is what a Python program would write without sqsfast: a `queue.Queue` plus a
dict of in-flight messages doing put / get / ack. Every workload checks its own result (every
message sent is received once and acknowledged, the queue ends empty) and records it as
`correct`. Numbers are printed, never asserted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import queue
import threading
import time
import uuid

import sqsfast


class BaselineQueue:
    """The baseline: queue.Queue for ready messages, a dict for messages in flight."""

    def __init__(self) -> None:
        self.ready: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.in_flight: dict[str, tuple[str, bytes]] = {}
        self.lock = threading.Lock()
        self.ids = itertools.count()

    def put(self, body: bytes) -> str:
        mid = str(next(self.ids))
        self.ready.put((mid, body))
        return mid

    def get(self, n: int) -> list[tuple[str, bytes]]:
        out = []
        for _ in range(n):
            try:
                item = self.ready.get_nowait()
            except queue.Empty:
                break
            handle = uuid.uuid4().hex
            with self.lock:
                self.in_flight[handle] = item
            out.append((handle, item[1]))
        return out

    def ack(self, handle: str) -> None:
        with self.lock:
            del self.in_flight[handle]


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def bench_cycle_baseline(n: int, body: bytes, batch: int) -> dict:
    q = BaselineQueue()
    received = 0
    start = time.perf_counter()
    for _ in range(n // batch):
        for _ in range(batch):
            q.put(body)
        got = q.get(batch)
        for handle, _ in got:
            q.ack(handle)
        received += len(got)
    secs = time.perf_counter() - start
    correct = received == n // batch * batch and not q.in_flight and q.ready.empty()
    return {"msg_per_s": rate(received, secs), "correct": correct}


def bench_cycle_sqsfast(n: int, body: bytes, batch: int) -> dict:
    broker = sqsfast.Broker()
    q = broker.create_queue("bench-cycle")
    bodies = [body] * batch
    received = 0
    start = time.perf_counter()
    for _ in range(n // batch):
        results = q.send_batch(bodies)
        got = q.receive(max_messages=batch)
        q.delete_batch(got)
        received += len(got)
        if not all(r.ok for r in results):
            raise RuntimeError("send failed")
    secs = time.perf_counter() - start
    counts = q.counts()
    correct = (
        received == n // batch * batch
        and counts["visible"] == counts["in_flight"] == counts["delayed"] == 0
    )
    return {"msg_per_s": rate(received, secs), "correct": correct}


def bench_send_baseline(n: int, body: bytes) -> dict:
    q = BaselineQueue()
    start = time.perf_counter()
    for _ in range(n):
        q.put(body)
    secs = time.perf_counter() - start
    return {"msg_per_s": rate(n, secs), "correct": q.ready.qsize() == n}


def bench_send_sqsfast(n: int, body: bytes) -> dict:
    broker = sqsfast.Broker()
    q = broker.create_queue("bench-send")
    start = time.perf_counter()
    for _ in range(n):
        q.send(body)
    secs = time.perf_counter() - start
    return {"msg_per_s": rate(n, secs), "correct": q.counts()["visible"] == n}


def bench_wake(rounds: int) -> dict:
    """A receive long-polling in another thread; time from send to its return."""
    broker = sqsfast.Broker()
    q = broker.create_queue("bench-wake")
    sent_at: list[float] = []
    latencies: list[float] = []
    ready = threading.Event()

    def receiver() -> None:
        for _ in range(rounds):
            ready.set()
            msgs = q.receive(wait_seconds=20)
            now = time.perf_counter()
            if len(msgs) != 1:
                raise RuntimeError("long poll returned without the message")
            latencies.append(now - sent_at[len(latencies)])
            msgs[0].delete()

    t = threading.Thread(target=receiver)
    t.start()
    for _ in range(rounds):
        ready.wait()
        ready.clear()
        time.sleep(0.0005)  # let the receiver reach its wait
        sent_at.append(time.perf_counter())
        q.send(b"wake")
    t.join()
    lat = sorted(latencies)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(len(lat) * p))] * 1e6

    return {
        "p50_us": pct(0.50),
        "p99_us": pct(0.99),
        "max_us": lat[-1] * 1e6,
        "correct": len(lat) == rounds and q.counts()["visible"] == 0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=500_000)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--wake-rounds", type=int, default=2_000)
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args()
    body = b"x" * args.size
    n = args.messages

    results: dict[str, dict] = {}
    results["cycle_batch10_baseline"] = bench_cycle_baseline(n, body, 10)
    results["cycle_batch10_sqsfast"] = bench_cycle_sqsfast(n, body, 10)
    results["send_single_baseline_put"] = bench_send_baseline(n, body)
    results["send_single_sqsfast"] = bench_send_sqsfast(n, body)
    results["long_poll_wake"] = bench_wake(args.wake_rounds)

    print(
        f"sqsfast embedded benchmarks: {n} messages of {args.size} bytes, "
        f"Python {platform.python_version()}, {platform.machine()}"
    )
    for name, r in results.items():
        if "msg_per_s" in r:
            print(f"  {name:28s} {r['msg_per_s']:>12,.0f} msg/s   correct={r['correct']}")
    w = results["long_poll_wake"]
    print(
        f"  {'long_poll_wake':28s} p50 {w['p50_us']:.0f} us  p99 {w['p99_us']:.0f} us  "
        f"max {w['max_us']:.0f} us   correct={w['correct']}"
    )
    cyc = (
        results["cycle_batch10_sqsfast"]["msg_per_s"]
        / results["cycle_batch10_baseline"]["msg_per_s"]
    )
    put = (
        results["send_single_sqsfast"]["msg_per_s"]
        / results["send_single_baseline_put"]["msg_per_s"]
    )
    print(f"  full cycle, batches of 10: {cyc:.2f}x the baseline (goal 2x)")
    print(f"  single send:               {put:.2f}x the baseline's put (goal 1x)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    if not all(r["correct"] for r in results.values()):
        raise SystemExit("a benchmark's own result check failed")


if __name__ == "__main__":
    main()
