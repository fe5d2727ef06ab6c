"""The SQS HTTP API under load.

1. The same boto3 workload against sqsfast and against moto's server mode (`moto[server]`), in one
   run, with the same client: per round, 10 SendMessage calls, ReceiveMessage of up to 10, one
   DeleteMessageBatch. Checks that every message came back exactly once and the queue ends empty.
2. Server-side: `wrk` (not Python) with benches/wrk_sqs.lua, batches of 10 over keep-alive
   connections (SendMessageBatch / ReceiveMessage / DeleteMessageBatch). Checks that what wrk saw
   sent equals what it deleted plus what is left in the queue (up to the requests cut off when
   wrk stops) and that no request or batch entry failed.

    python benches/bench_http.py                 # both
    python benches/bench_http.py --no-wrk        # boto3: sqsfast vs moto only
    python benches/bench_http.py --no-moto       # wrk only

Prints numbers; never asserts speed. Measure a release build (`pip install .`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sqsfast() -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "sqsfast.cli", "serve", "--http-port", "0", "--grpc-port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.search(r"SQS HTTP API on (http://\S+)", line)
        if m:
            return proc, m.group(1)
    raise RuntimeError("sqsfast serve exited before listening")


def start_moto() -> tuple[subprocess.Popen, str] | None:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        return None
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("moto server did not start")


def client(endpoint: str):
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1}),
    )


def boto3_workload(endpoint: str, rounds: int) -> dict:
    sqs = client(endpoint)
    url = sqs.create_queue(QueueName=f"bench-{os.getpid()}-{time.monotonic_ns()}")["QueueUrl"]
    # Warm up the connection pool and the server.
    sqs.send_message(QueueUrl=url, MessageBody="warm")
    for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    seen: list[str] = []
    requests = 0
    start = time.perf_counter()
    for r in range(rounds):
        for i in range(10):
            sqs.send_message(QueueUrl=url, MessageBody=f"round {r} message {i}")
        requests += 10
        got: list[dict] = []
        while len(got) < 10:
            got += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10 - len(got)).get(
                "Messages", []
            )
            requests += 1
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
            ],
        )
        requests += 1
        seen += [m["Body"] for m in got]
    elapsed = time.perf_counter() - start
    left = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    correct = sorted(seen) == sorted(
        f"round {r} message {i}" for r in range(rounds) for i in range(10)
    ) and all(v == "0" for v in left.values())
    sqs.delete_queue(QueueUrl=url)
    return {
        "messages": rounds * 10,
        "requests": requests,
        "seconds": round(elapsed, 3),
        "messages_per_s": round(rounds * 10 / elapsed),
        "requests_per_s": round(requests / elapsed),
        "correct": correct,
    }


def wrk_load(endpoint: str, threads: int, connections: int, duration: str) -> dict:
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    sqs = client(endpoint)
    url = sqs.create_queue(QueueName=f"wrk-{os.getpid()}")["QueueUrl"]
    out = subprocess.run(
        [
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}",
            "-s",
            str(HERE / "wrk_sqs.lua"),
            endpoint,
        ],
        env={**os.environ, "QUEUE_URL": url},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("wrk-sqs "))
    r = json.loads(line.split(" ", 1)[1])
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    left = int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])
    # Requests cut off when wrk stops may have been served without wrk counting them: at most one
    # batch of 10 per connection.
    slack = 10 * connections
    balance = r["sent"] - r["deleted"] - left
    seconds = r["duration_us"] / 1e6
    return {
        "threads": threads,
        "connections": connections,
        "seconds": round(seconds, 2),
        "requests_per_s": round(r["requests"] / seconds),
        "sent_per_s": round(r["sent"] / seconds),
        "received_per_s": round(r["received"] / seconds),
        "deleted_per_s": round(r["deleted"] / seconds),
        "latency_p50_ms": r["latency_p50_us"] / 1000,
        "latency_p99_ms": r["latency_p99_us"] / 1000,
        "left_in_queue": left,
        "unaccounted": balance,
        "correct": abs(balance) <= slack
        and r["http_errors"] == 0
        and r["failed_batches"] == 0
        and r["socket_errors"] == 0
        and r["received"] >= r["deleted"],
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=200, help="boto3 rounds of 10 messages")
    p.add_argument("--no-moto", action="store_true", help="skip the boto3 comparison")
    p.add_argument("--no-wrk", action="store_true", help="skip the wrk load")
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--wrk-connections", type=int, default=32)
    p.add_argument("--wrk-duration", default="10s")
    args = p.parse_args()

    proc, endpoint = start_sqsfast()
    results: dict = {}
    try:
        if not args.no_moto:
            results["boto3_sqsfast"] = boto3_workload(endpoint, args.rounds)
            print("boto3 -> sqsfast:", json.dumps(results["boto3_sqsfast"]), flush=True)
            moto = start_moto()
            if moto is None:
                print("moto is not installed (pip install 'moto[server]'): no baseline")
            else:
                moto_proc, moto_url = moto
                try:
                    results["boto3_moto"] = boto3_workload(moto_url, args.rounds)
                finally:
                    moto_proc.terminate()
                    moto_proc.wait(10)
                print("boto3 -> moto:   ", json.dumps(results["boto3_moto"]), flush=True)
                ratio = (
                    results["boto3_sqsfast"]["messages_per_s"]
                    / results["boto3_moto"]["messages_per_s"]
                )
                print(f"sqsfast / moto with the same boto3 client: {ratio:.1f}x")
        if not args.no_wrk:
            results["wrk"] = wrk_load(
                endpoint, args.wrk_threads, args.wrk_connections, args.wrk_duration
            )
            print("wrk -> sqsfast:  ", json.dumps(results["wrk"]), flush=True)
    finally:
        proc.terminate()
        proc.wait(30)
    ok = all(r.get("correct", True) for r in results.values())
    print("correct:", ok)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
