#!/usr/bin/env python3
"""User-space instructions the server spends per message, counted by valgrind's callgrind: unlike
throughput on a shared machine, this figure repeats to within a fraction of a percent, so two
builds can be compared by one run each.

    python benches/server_instructions.py --api json              # SQS JSON API, batches of 10
    python benches/server_instructions.py --api grpc --batch 100  # gRPC
    python benches/server_instructions.py --sqsfast other/.venv/bin/sqsfast --api json

It starts `sqsfast serve --in-memory --workers 1` under callgrind on free loopback ports, runs a
warm-up load, zeroes the counters, runs `sqsfast bench` (native load generator, 2 producers and 2
consumers, steady workload with --messages) against it, and divides the instructions of that run by
the messages it moved. The kernel's share (system calls, TCP) is not counted. Needs valgrind
(`apt-get install valgrind`); the server runs about 50 times slower under it, which the figure does
not depend on.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def total(path: str) -> int:
    for line in open(path):
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"no totals in {path}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sqsfast", default=shutil.which("sqsfast") or "sqsfast")
    ap.add_argument("--api", choices=["json", "grpc"], default="json")
    ap.add_argument("--batch", type=int, help="default 10 (json), 100 (grpc)")
    ap.add_argument("--messages", type=int, help="default 20 000 (json), 100 000 (grpc)")
    opts = ap.parse_args()
    for tool in ("valgrind", "callgrind_control"):
        if not shutil.which(tool):
            print(f"{tool} not found: apt-get install valgrind", file=sys.stderr)
            return 2
    batch = opts.batch or (10 if opts.api == "json" else 100)
    messages = opts.messages or (20_000 if opts.api == "json" else 100_000)
    sqsfast = str(Path(opts.sqsfast).absolute())
    # The `sqsfast` script's interpreter, so that valgrind runs Python itself, not a shell.
    python = open(sqsfast).readline().removeprefix("#!").strip()
    http, grpc = free_port(), free_port()
    out = tempfile.mkdtemp(prefix="sqsfast-callgrind-")
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/cg.out", python, sqsfast,
         "serve", "--in-memory", "--workers", "1",
         "--http-port", str(http), "--grpc-port", str(grpc)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http}/health", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    print("the server under valgrind did not start", file=sys.stderr)
                    return 1
                time.sleep(0.5)
        target = f"http://127.0.0.1:{http}" if opts.api == "json" else f"grpc://127.0.0.1:{grpc}"
        bench = [sqsfast, "bench", "--target", target, "--batch", str(batch),
                 "--producers", "2", "--consumers", "2", "--threads", "1", "--quiet"]  # fmt: skip
        subprocess.run([*bench, "--messages", "2000"], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "--zero", str(server.pid)], check=True,
                       capture_output=True)  # fmt: skip
        run = subprocess.run([*bench, "--messages", str(messages)], capture_output=True, text=True)
        subprocess.run(["callgrind_control", "--dump", str(server.pid)], check=True,
                       capture_output=True)  # fmt: skip
        if run.returncode != 0 or "result: OK" not in run.stdout:
            print(run.stdout, run.stderr, file=sys.stderr)
            return 1
        dumps = sorted(glob.glob(f"{out}/cg.out.*"), key=os.path.getmtime)
        instructions = total(dumps[-1])
        print(
            f"{opts.api}, batches of {batch}, {messages:,} messages (send, receive, delete): "
            f"{instructions:,} instructions, {instructions / messages:,.0f} per message"
        )
        return 0
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
