#!/usr/bin/env python3
"""What durability costs through the server: the same workloads against `sqsfast serve` in memory,
with `--fsync interval` (the default) and with `--fsync always`, interleaved, and each durable
figure as a share of the in-memory one of the same round.

    python benches/durable_server.py                      # 2 rounds, sqsfast from PATH
    python benches/durable_server.py --rounds 3 --sqsfast .venv/bin/sqsfast --json out.json

Each server gets a free port and a fresh data directory under --dir (default: the system's temporary
directory; give a directory on the disk you want measured). Workloads (gRPC, native load generator,
256-byte bodies):

- `batch10`: fill-drain, 4 producers sending batches of 10, then 4 consumers (send figure: sends).
- `single64`: fill-drain, 64 producers each sending one message per request, the case where
  `--fsync always` depends on group commit (one fdatasync per message would allow a few thousand).
- `cycle100`: steady, 2 producers and 6 consumers, batches of 100 (full cycle figure).

Every run checks its own results (a lost message fails it), as `sqsfast bench` does. With more than
one round it ends with each durable mode's median share of memory per workload.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODES = {
    "memory": ["--in-memory"],
    "interval": ["--fsync", "interval"],
    "always": ["--fsync", "always"],
}

WORKLOADS = {
    "batch10": (
        ["--workload", "fill-drain", "--producers", "4", "--consumers", "4", "--batch", "10"],
        "--messages",
        1_000_000,
        "send",
    ),
    "single64": (
        ["--workload", "fill-drain", "--producers", "64", "--consumers", "4", "--batch", "1"],
        "--messages",
        200_000,
        "send",
    ),
    "cycle100": (
        ["--producers", "2", "--consumers", "6", "--batch", "100"],
        "--duration",
        "10s",
        "receive",
    ),
}


def start(
    sqsfast: str, mode: str, base: Path, extra: list[str]
) -> tuple[subprocess.Popen, str, Path | None]:
    data = None
    args = [sqsfast, "serve", "--http-port", "0", "--grpc-port", "0", *MODES[mode], *extra]
    if mode != "memory":
        data = Path(tempfile.mkdtemp(prefix=f"sqsfast-{mode}-", dir=base))
        args += ["--data-dir", str(data)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"gRPC on (grpc://\S+)", line)
        if m:
            return proc, m.group(1), data
    proc.kill()
    raise SystemExit(f"sqsfast serve ({mode}) did not start")


def stop(proc: subprocess.Popen, data: Path | None) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if data is not None:
        shutil.rmtree(data, ignore_errors=True)


def run(
    sqsfast: str, target: str, workload: str, scale: float, extra: list[str]
) -> tuple[dict, list[str]]:
    args, amount_flag, amount, _ = WORKLOADS[workload]
    if amount_flag == "--messages":
        amount = str(max(1000, int(amount * scale)))
    cmd = [sqsfast, "bench", "--target", target, *args, amount_flag, amount, "--quiet", *extra]
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        done = subprocess.run([*cmd, "--json", out.name], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")
        return json.loads(Path(out.name).read_text()), cmd


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sqsfast", default=shutil.which("sqsfast") or "sqsfast")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--scale", type=float, default=1.0, help="multiply message counts (default 1)")
    ap.add_argument("--dir", default=None, help="where the data directories go")
    ap.add_argument("--workers", type=int, help="`sqsfast serve --workers`, for every server")
    ap.add_argument("--threads", type=int, help="`sqsfast bench --threads`, for every run")
    ap.add_argument("--json", default=None, help="write every figure here")
    opts = ap.parse_args()
    base = Path(opts.dir or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    workloads = opts.workloads.split(",")
    serve_extra = ["--workers", str(opts.workers)] if opts.workers else []
    bench_extra = ["--threads", str(opts.threads)] if opts.threads else []
    rows = []
    now = datetime.datetime.now(datetime.timezone.utc)
    print(f"{now:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores")
    header = ("round", "workload", "mode", "load", "msg/s", "vs memory")
    print("{:>5} {:<9} {:<9} {:>5} {:>10} {:>9}  p99 send".format(*header))
    for rnd in range(1, opts.rounds + 1):
        for workload in workloads:
            memory = None
            for mode in MODES:
                proc, target, data = start(opts.sqsfast, mode, base, serve_extra)
                try:
                    report, cmd = run(opts.sqsfast, target, workload, opts.scale, bench_extra)
                finally:
                    stop(proc, data)
                figure = report[WORKLOADS[workload][3]]["msg_per_s"]
                memory = figure if mode == "memory" else memory
                share = figure / memory if memory else float("nan")
                load = os.getloadavg()[0]
                p99 = report["latency_us"]["send"]["p99"]
                print(
                    f"{rnd:>5} {workload:<9} {mode:<9} {load:>5.1f} {figure:>10,.0f} "
                    f"{share:>8.0%}  {p99 / 1000:.2f} ms",
                    flush=True,
                )
                rows.append(
                    {
                        "round": rnd,
                        "workload": workload,
                        "mode": mode,
                        "load": load,
                        "msgs_per_s": figure,
                        "share_of_memory": share,
                        "send_p99_us": p99,
                        "command": " ".join(["sqsfast serve", *MODES[mode], *serve_extra])
                        + " ; "
                        + " ".join(cmd[1:]),
                    }
                )
    if opts.rounds > 1:
        # The in-memory figure moves most from round to round: the median share says more than any
        # one round.
        print("\nshare of memory over the rounds: median (lowest-highest)")
        for workload in workloads:
            for mode in MODES:
                if mode == "memory":
                    continue
                shares = [
                    r["share_of_memory"]
                    for r in rows
                    if r["workload"] == workload and r["mode"] == mode
                ]
                print(
                    f"{workload:<9} {mode:<9} {statistics.median(shares):>4.0%} "
                    f"({min(shares):.0%}-{max(shares):.0%})"
                )
    if opts.json:
        Path(opts.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
