"""``sqsfast bench``: SQS workloads against sqsfast, Amazon SQS or any SQS-compatible endpoint.

The load generator is native (``sqsfast._core.bench``, Rust, GIL released) for ``embedded``,
``grpc://`` and ``http://`` targets; ``--client python`` drives the same runner through the Python
clients (``sqsfast.Broker``, ``sqsfast.connect``, boto3) to show what a Python application sees.
Amazon SQS (``sqs://region``) needs ``--client python``: boto3 signs the requests with the user's
AWS credentials. See docs/bench.md.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from typing import Any

from sqsfast import _core

WORKLOADS = ("steady", "fill-drain", "rate", "long-poll")
SQS_BATCH_LIMIT = 10

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    """Seconds in ``30s``, ``2m``, ``500ms``, ``1.5h`` or ``10`` (seconds)."""
    m = _DURATION.match(text)
    if not m:
        raise argparse.ArgumentTypeError(
            f"invalid duration {text!r}: use e.g. 30s, 2m, 500ms (or seconds)"
        )
    return float(m.group(1)) * _UNITS[m.group(2)]


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {v}")
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if not v > 0 or math.isinf(v):
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return v


# ---- Python clients (--client python) ---------------------------------------------------------


class _SqsfastConn:
    """A connection through sqsfast's Python API (embedded Broker or gRPC RemoteBroker)."""

    def __init__(self, broker: Any) -> None:
        self._broker = broker
        self._queues: dict[str, Any] = {}

    def _queue(self, name: str) -> Any:
        q = self._queues.get(name)
        if q is None:
            q = self._queues[name] = self._broker.queue(name)
        return q

    def send(self, queue: str, bodies: list[bytes]) -> None:
        for r in self._queue(queue).send_batch(bodies):
            if r.error is not None:
                raise r.error

    def receive(self, queue: str, max_messages: int, wait: float) -> list[tuple[bytes, str]]:
        got = self._queue(queue).receive(max_messages, wait_seconds=math.ceil(wait))
        return [(m.body, m.receipt_handle) for m in got]

    def delete(self, queue: str, tokens: list[str]) -> None:
        for r in self._queue(queue).delete_batch(tokens):
            if r.error is not None:
                raise r.error


class _SqsfastDriver:
    def __init__(self, target: str) -> None:
        self.name = f"{target} (python client)"
        self._target = target
        # One engine shared by every connection in process; one gRPC channel per connection.
        self._shared: Any = _core.Broker() if target == "embedded" else None
        self._admin = self._make()

    def _make(self) -> Any:
        if self._shared is not None:
            return self._shared
        from sqsfast.client import connect

        return connect(self._target, max_batch=1000)

    def connect(self) -> _SqsfastConn:
        return _SqsfastConn(self._make())

    def create_queue(self, name: str) -> str:
        self._admin.create_queue(name)
        return name

    def delete_queue(self, queue: str) -> None:
        self._admin.delete_queue(queue)


class _Boto3Conn:
    def __init__(self, client: Any) -> None:
        self._c = client

    def send(self, queue: str, bodies: list[bytes]) -> None:
        entries = [{"Id": str(i), "MessageBody": b.decode()} for i, b in enumerate(bodies)]
        failed = self._c.send_message_batch(QueueUrl=queue, Entries=entries).get("Failed")
        if failed:
            raise RuntimeError(f"{len(failed)} entries failed, first: {failed[0]}")

    def receive(self, queue: str, max_messages: int, wait: float) -> list[tuple[bytes, str]]:
        out = self._c.receive_message(
            QueueUrl=queue,
            MaxNumberOfMessages=min(max_messages, SQS_BATCH_LIMIT),
            WaitTimeSeconds=math.ceil(wait),
        )
        return [(m["Body"].encode(), m["ReceiptHandle"]) for m in out.get("Messages", ())]

    def delete(self, queue: str, tokens: list[str]) -> None:
        entries = [{"Id": str(i), "ReceiptHandle": t} for i, t in enumerate(tokens)]
        failed = self._c.delete_message_batch(QueueUrl=queue, Entries=entries).get("Failed")
        if failed:
            raise RuntimeError(f"{len(failed)} entries failed, first: {failed[0]}")


class _Boto3Driver:
    """An SQS endpoint through boto3: ``http://host:port`` or Amazon SQS (``sqs://region``)."""

    def __init__(self, target: str) -> None:
        try:
            import boto3  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            raise SystemExit(
                "sqsfast bench: --client python needs boto3 for this target: pip install boto3"
            ) from None
        self.name = f"{target} (boto3)"
        session = boto3.session.Session()
        if target.startswith("sqs://"):
            region = target[len("sqs://") :].strip("/")
            self._kwargs: dict[str, Any] = {"region_name": region}
            if session.get_credentials() is None:
                raise SystemExit(
                    "sqsfast bench: no AWS credentials found for Amazon SQS (set AWS_PROFILE, "
                    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws configure`)"
                )
        else:
            self._kwargs = {
                "endpoint_url": target,
                "region_name": session.region_name or "us-east-1",
            }
            if session.get_credentials() is None:
                # SQS-compatible local endpoints accept any credentials.
                self._kwargs.update(aws_access_key_id="sqsfast", aws_secret_access_key="sqsfast")
        self._session = session
        self._admin = self._client()

    def _client(self) -> Any:
        from botocore.config import Config  # type: ignore[import-untyped,unused-ignore]

        config = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=60)
        return self._session.client("sqs", config=config, **self._kwargs)

    def connect(self) -> _Boto3Conn:
        return _Boto3Conn(self._client())

    def create_queue(self, name: str) -> str:
        return str(self._admin.create_queue(QueueName=name)["QueueUrl"])

    def delete_queue(self, queue: str) -> None:
        self._admin.delete_queue(QueueUrl=queue)


def python_driver(target: str) -> Any:
    """The ``--client python`` driver of ``target``."""
    if target == "embedded" or target.startswith("grpc://"):
        return _SqsfastDriver(target)
    if target.startswith(("http://", "https://", "sqs://")):
        return _Boto3Driver(target)
    raise ValueError(
        f"--target {target!r}: expected embedded, grpc://host:port, http://host:port or "
        "sqs://region"
    )


# ---- output ------------------------------------------------------------------------------------


def _n(v: float) -> str:
    return f"{v:,.0f}"


def _us(v: float) -> str:
    return f"{v / 1000:,.2f} ms" if v >= 1000 else f"{v:,.1f} µs"


def format_report(r: dict[str, Any]) -> str:
    """The human-readable table of a report."""
    c = r["config"]
    limit = []
    if c.get("duration") is not None:
        d = c["duration"]
        limit.append(f"{d['secs'] + d['nanos'] / 1e9:g}s")
    if c.get("messages") is not None:
        limit.append(f"{c['messages']:,} messages")
    rate = f", {c['rate']:,.0f} msg/s" if c.get("rate") else ""
    lines = [
        f"sqsfast bench: {r['target']}, {r['workload']}, {c['producers']} producers, "
        f"{c['consumers']} consumers, batch {c['batch']}, {max(c['size'], 60)} B, "
        f"{c['queues']} queue{'s' if c['queues'] > 1 else ''}, {' or '.join(limit)}{rate}",
        "",
        f"{'throughput':<24}{'messages':>14}{'seconds':>10}{'msg/s':>14}{'MB/s':>10}",
    ]
    for label, key in (("send", "send"), ("receive + delete", "receive")):
        t = r[key]
        lines.append(
            f"{label:<24}{_n(t['messages']):>14}{t['seconds']:>10.2f}"
            f"{_n(t['msg_per_s']):>14}{t['mb_per_s']:>10.1f}"
        )
    lines += ["", f"{'latency':<24}" + "".join(f"{h:>13}" for h in _PCTS_LABELS)]
    for label, key in (("send round trip", "send"), ("end to end", "end_to_end")):
        s = r["latency_us"][key]
        lines.append(f"{label:<24}" + "".join(f"{_us(s[k]):>13}" for k in _PCTS))
    e = r["errors"]
    cpu = r["cpu"]
    lines += [
        "",
        f"messages: sent {_n(r['sent'])}, received {_n(r['received'])}, "
        f"duplicates {_n(r['duplicates'])}, lost {_n(r['lost'])}",
        f"errors: {e['total']} (send {e['send']}, receive {e['receive']}, delete {e['delete']})",
    ]
    lines += [f"  {s}" for s in e["samples"]]
    who = "client and engine" if r["target"] == "embedded" else "client"
    lines.append(
        f"CPU ({who}): {cpu['cores']:.2f} cores (user {cpu['user_s']:.1f} s, "
        f"system {cpu['system_s']:.1f} s over {r['elapsed_s']:.1f} s)"
    )
    lines.append(f"result: {verdict(r)}")
    return "\n".join(lines)


_PCTS = ("p50", "p90", "p99", "p999", "max")
_PCTS_LABELS = ("p50", "p90", "p99", "p99.9", "max")


def verdict(r: dict[str, Any]) -> str:
    if r["interrupted"]:
        return "INTERRUPTED"
    if r["lost"]:
        why = " (drain timed out)" if r["drain_timed_out"] else ""
        return f"FAILED: {r['lost']:,} acknowledged messages never received{why}"
    if r["sent"] == 0:
        return "FAILED: no message was sent"
    return "OK: every message sent was received"


def plot(r: dict[str, Any], path: str) -> None:
    """Throughput over time and latency percentiles, as a PNG."""
    try:
        import matplotlib  # type: ignore[import-not-found,unused-ignore]

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise SystemExit("sqsfast bench: --plot needs matplotlib: pip install matplotlib") from None
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    t = [p["elapsed_s"] for p in r["timeline"]]
    a.plot(t, [p["send_per_s"] for p in r["timeline"]], label="sent")
    a.plot(t, [p["receive_per_s"] for p in r["timeline"]], label="received")
    a.set_xlabel("seconds")
    a.set_ylabel("messages/s")
    a.set_title("throughput")
    a.legend()
    x = range(len(_PCTS))
    for i, (label, key) in enumerate((("send round trip", "send"), ("end to end", "end_to_end"))):
        s = r["latency_us"][key]
        b.bar([v + i * 0.4 for v in x], [max(s[k], 0.1) for k in _PCTS], 0.4, label=label)
    b.set_xticks([v + 0.2 for v in x], list(_PCTS_LABELS))
    b.set_yscale("log")
    b.set_ylabel("µs")
    b.set_title("latency")
    b.legend(loc="upper left")
    fig.suptitle(f"sqsfast bench: {r['target']}, {r['workload']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


class _Progress:
    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()

    def __call__(self, p: dict[str, Any]) -> None:
        line = (
            f"[{p['elapsed_s']:5.0f}s] {p['phase']:<5} sent {_n(p['sent']):>12} "
            f"({_n(p['send_per_s'])}/s)  received {_n(p['received']):>12} "
            f"({_n(p['receive_per_s'])}/s)  dup {_n(p['duplicates'])}  errors {_n(p['errors'])}"
        )
        sys.stderr.write(("\r" + line + "\x1b[K") if self._tty else line + "\n")
        sys.stderr.flush()

    def end(self) -> None:
        if self._tty:
            sys.stderr.write("\n")


# ---- the command -------------------------------------------------------------------------------


def add_parser(sub: Any) -> None:
    """Adds ``bench`` to the ``sqsfast`` command's subparsers."""
    p = sub.add_parser(
        "bench",
        help="measure throughput and latency of sqsfast, Amazon SQS or an SQS endpoint",
        description="Run an SQS workload: create the run's own queues, send, receive and delete, "
        "then delete the queues. Reports throughput, send and end-to-end latency (HDR "
        "histograms), errors and the client's CPU use; every message sent must be received "
        "(a lost message fails the run with exit status 1; duplicates are counted). "
        "Targets: embedded (the engine in this process), grpc://host:port, http://host:port "
        "(any SQS-compatible endpoint: sqsfast, moto, ElasticMQ; unsigned requests), and "
        "sqs://region (Amazon SQS, with --client python only: boto3 signs with your AWS "
        "credentials, and the run is billed as SQS requests).",
    )
    p.add_argument(
        "--target", default="grpc://127.0.0.1:9325", help="what to measure (default %(default)s)"
    )
    p.add_argument(
        "--workload",
        choices=WORKLOADS,
        default="steady",
        help="steady: producers and consumers at full speed (default); fill-drain: send "
        "everything, then receive; rate: open loop at --rate msg/s, latency from each send's "
        "scheduled time; long-poll: consumers parked in long polls, --rate (default 100) "
        "single messages/s, measures wake-up latency",
    )
    p.add_argument("--producers", type=_positive_int, default=4, help="default %(default)s")
    p.add_argument("--consumers", type=_positive_int, default=4, help="default %(default)s")
    p.add_argument(
        "--batch",
        type=_positive_int,
        help="messages per send/receive/delete: 1-10 over the SQS API, 1-1000 over gRPC "
        "(default 10; 1 for long-poll)",
    )
    p.add_argument(
        "--size", type=_positive_int, default=256, help="message bytes (default 256; minimum 60)"
    )
    p.add_argument("--queues", type=_positive_int, default=1, help="default %(default)s")
    p.add_argument(
        "--duration",
        type=parse_duration,
        help="how long producers send: 30s, 2m, 500ms (default 10s unless --messages)",
    )
    p.add_argument(
        "--messages", type=_positive_int, help="how many messages in all (with --duration: first)"
    )
    p.add_argument(
        "--rate", type=_positive_float, help="messages/s in all, for rate and long-poll workloads"
    )
    p.add_argument(
        "--wait",
        type=parse_duration,
        help="long-poll wait of receives, whole seconds over the network (default 1s; "
        "5s for long-poll)",
    )
    p.add_argument(
        "--drain-timeout",
        type=parse_duration,
        default=10.0,
        help="after sending stops, how long to wait without receiving anything new before "
        "missing messages count as lost (default 10s)",
    )
    p.add_argument(
        "--client",
        choices=("native", "python"),
        default="native",
        help="native: the Rust load generator (default); python: sqsfast's Python clients and "
        "boto3, as a Python application sees it",
    )
    p.add_argument(
        "--threads",
        type=_positive_int,
        help="threads of the native load generator (default: one per core); with the server "
        "on the same machine, fewer leave it more of the cores",
    )
    p.add_argument("--json", metavar="FILE", help="write the full report as JSON ('-': stdout)")
    p.add_argument("--plot", metavar="FILE.png", help="plot throughput and latency (matplotlib)")
    p.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    p.set_defaults(func=run, _parser=p)


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args._parser
    long_poll = args.workload == "long-poll"
    batch = args.batch or (1 if long_poll else SQS_BATCH_LIMIT)
    rate = args.rate if args.rate is not None else (100.0 if long_poll else None)
    wait = args.wait if args.wait is not None else (5.0 if long_poll else 1.0)
    duration = (
        args.duration
        if args.duration is not None
        else (None if args.messages is not None else 10.0)
    )
    if args.workload == "rate" and rate is None:
        parser.error("--workload rate needs --rate (messages/s in all)")
    if args.plot and not args.plot.lower().endswith(".png"):
        parser.error("--plot writes a PNG: give a FILE.png")
    target: Any = args.target
    if args.client == "python":
        limit = 1000 if target.startswith("grpc://") else SQS_BATCH_LIMIT
        if batch > limit:
            parser.error(f"--batch {batch}: the Python client of {target} takes 1-{limit}")
        try:
            target = python_driver(target)
        except ValueError as e:
            parser.error(str(e))
    progress = None if args.quiet else _Progress()
    try:
        text = _core.bench(
            target,
            workload=args.workload,
            producers=args.producers,
            consumers=args.consumers,
            batch=batch,
            size=args.size,
            queues=args.queues,
            duration=duration,
            messages=args.messages,
            rate=rate,
            wait=wait,
            drain_timeout=args.drain_timeout,
            threads=args.threads,
            progress=progress,
        )
    except ValueError as e:
        if progress:
            progress.end()
        parser.error(str(e))
    except RuntimeError as e:
        if progress:
            progress.end()
        print(f"sqsfast bench: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if progress:
            progress.end()
        print("sqsfast bench: interrupted; the run's queues were deleted", file=sys.stderr)
        return 130
    if progress:
        progress.end()
    report = json.loads(text)
    print(format_report(report))
    if args.json:
        out = json.dumps(report, indent=2)
        if args.json == "-":
            print(out)
        else:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write(out + "\n")
    if args.plot:
        plot(report, args.plot)
    return 0 if report["ok"] and report["sent"] > 0 else 1
