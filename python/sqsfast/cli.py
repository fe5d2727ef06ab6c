"""The ``sqsfast`` command: run the server, and manage queues and messages on one.

    sqsfast serve [--host H] [--grpc-port P] [--http-port P] [--config sqsfast.toml]
                  [--data-dir DIR | --in-memory] [--fsync always|interval|never]
                  [--memory-budget-mb MB] [--workers N]
    sqsfast queue create|list|delete|attributes|purge ...
    sqsfast send QUEUE BODY...
    sqsfast receive QUEUE [-n N] [--wait S] [--delete]
    sqsfast bench [--target URL] [--workload W] [--producers N] ...   (docs/bench.md)

Client commands talk gRPC to ``--url`` (default ``$SQSFAST_URL`` or ``grpc://127.0.0.1:9325``) and
print text, or JSON with ``--json``. Errors print ``error: <SQS code>: <message>`` and exit 1.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from typing import Any

from sqsfast import __version__, _bench, _core
from sqsfast.errors import SqsfastError

DEFAULT_URL = "grpc://127.0.0.1:9325"


def _serve(args: argparse.Namespace) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    try:
        _core.serve(
            host=args.host,
            http_port=args.http_port,
            grpc_port=args.grpc_port,
            config=args.config,
            log_level=args.log_level,
            data_dir=args.data_dir,
            in_memory=args.in_memory,
            fsync=args.fsync,
            fsync_interval_ms=args.fsync_interval_ms,
            skip_corrupt=args.skip_corrupt,
            memory_budget_mb=args.memory_budget_mb,
            workers=args.workers,
        )
    except (OSError, ValueError) as e:
        print(f"sqsfast: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # The server handles SIGINT itself (a graceful shutdown); Python's own handler saw it too
        # and raises once the server has returned.
        pass
    return 0


def _broker(args: argparse.Namespace) -> Any:
    from sqsfast.client import connect

    return connect(args.url, max_batch=1000)


def _print(args: argparse.Namespace, value: Any, text: str | None = None) -> None:
    if args.json:
        print(json.dumps(value, indent=None if args.compact else 2, sort_keys=False))
    elif text is not None:
        if text:
            print(text)
    elif isinstance(value, dict):
        for k, v in value.items():
            print(f"{k}\t{v}")
    elif isinstance(value, list):
        for v in value:
            print(v)
    elif value is not None:
        print(value)


def _attrs(pairs: list[str] | None) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"sqsfast: expected NAME=VALUE, not {pair!r}")
        out[name] = value
    return out


def _queue_create(args: argparse.Namespace) -> int:
    with _broker(args) as b:
        q = b.create_queue(args.name, attributes=_attrs(args.attribute), tags=_attrs(args.tag))
        _print(args, {"name": q.name, "arn": q.arn}, q.arn)
    return 0


def _queue_list(args: argparse.Namespace) -> int:
    with _broker(args) as b:
        queues = b.list_queues(args.prefix)
        _print(
            args,
            [{"name": q.name, "arn": q.arn} for q in queues],
            "\n".join(q.name for q in queues),
        )
    return 0


def _queue_delete(args: argparse.Namespace) -> int:
    with _broker(args) as b:
        for name in args.names:
            b.delete_queue(name)
        _print(args, {"deleted": args.names}, "")
    return 0


def _queue_attributes(args: argparse.Namespace) -> int:
    with _broker(args) as b:
        q = b.queue(args.name)
        if args.set:
            q.set_attributes(_attrs(args.set))
        _print(args, q.get_attributes(*(args.names or [])))
    return 0


def _queue_purge(args: argparse.Namespace) -> int:
    with _broker(args) as b:
        b.queue(args.name).purge()
        _print(args, {"purged": args.name}, "")
    return 0


def _send(args: argparse.Namespace) -> int:
    bodies = list(args.bodies) if args.bodies else [line.rstrip("\n") for line in sys.stdin]
    with _broker(args) as b:
        q = b.queue(args.queue)
        ids = []
        for start in range(0, len(bodies), 1000):
            kw = {} if args.delay is None else {"delay_seconds": args.delay}
            entries = [
                {"id": str(i), "body": body, **kw}
                for i, body in enumerate(bodies[start : start + 1000])
            ]
            for r in q.send_batch(entries):
                if r.error is not None:
                    raise r.error
                ids.append(r.message_id)
        _print(args, ids)
    return 0


def _message_json(m: Any) -> dict[str, Any]:
    try:
        body: Any = m.text
    except UnicodeDecodeError:  # pragma: no cover - the server only stores valid text
        body = base64.b64encode(m.body).decode()
    attributes = {}
    for k, v in m.attributes.items():
        if isinstance(v, bytes):
            attributes[k] = {"DataType": "Binary", "BinaryValue": base64.b64encode(v).decode()}
        elif hasattr(v, "data_type"):
            value = v.value if isinstance(v.value, str) else base64.b64encode(v.value).decode()
            attributes[k] = {"DataType": v.data_type, "Value": value}
        else:
            attributes[k] = v
    return {
        "message_id": m.message_id,
        "receipt_handle": m.receipt_handle,
        "body": body,
        "receive_count": m.receive_count,
        "attributes": attributes,
        "system_attributes": m.system_attributes,
    }


def _receive(args: argparse.Namespace) -> int:
    with _broker(args) as b:
        q = b.queue(args.queue)
        got = q.receive(
            args.max_messages, wait_seconds=args.wait, visibility_timeout=args.visibility_timeout
        )
        if args.delete and got:
            for r in q.delete_batch(got):
                if r.error is not None:
                    raise r.error
        _print(args, [_message_json(m) for m in got], "\n".join(m.text for m in got))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sqsfast",
        description="sqsfast: Amazon SQS semantics and API, fast. Run a server with `sqsfast "
        "serve`; manage queues and messages on it with the other commands.",
    )
    parser.add_argument("--version", action="version", version=f"sqsfast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the server (SQS HTTP API and gRPC)",
        description="Run the sqsfast server until SIGINT or SIGTERM: then it stops accepting, "
        "finishes requests in flight (long polls return early) and exits 0. Port 0 picks a free "
        "port; the addresses are printed once listening. Flags override --config.",
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--http-port", type=int, help="SQS HTTP API port (default 9324)")
    serve.add_argument("--grpc-port", type=int, help="gRPC port (default 9325)")
    serve.add_argument(
        "--config",
        metavar="FILE",
        help="a sqsfast.toml: host, ports, account_id, region, log_level, [limits] "
        "(max_request_bytes, max_concurrent_streams, max_connections, ...) and [[queues]] "
        "to create at start",
    )
    serve.add_argument(
        "--log-level",
        help="error, warn, info, debug, trace, or a tracing filter (default warn)",
    )
    storage = serve.add_mutually_exclusive_group()
    storage.add_argument(
        "--data-dir",
        metavar="DIR",
        help="keep queues and messages in DIR (default ./sqsfast-data); one server at a time",
    )
    storage.add_argument(
        "--in-memory",
        action="store_true",
        help="keep nothing on disk: queues and messages are gone when the server stops",
    )
    serve.add_argument(
        "--fsync",
        choices=["always", "interval", "never"],
        help="when a send is acknowledged: always = after fdatasync (survives power loss); "
        "interval = after the write, synced every --fsync-interval-ms (survives a crash of the "
        "process; the default); never = after the write, syncing left to the OS",
    )
    serve.add_argument(
        "--fsync-interval-ms", type=int, metavar="MS", help="with --fsync interval (default 10)"
    )
    serve.add_argument(
        "--skip-corrupt",
        action="store_true",
        help="start even if a log record is damaged: skip it and report what was skipped",
    )
    serve.add_argument(
        "--memory-budget-mb",
        type=int,
        metavar="MB",
        help="keep at most MB of message bodies in memory; the rest stay on disk and are read "
        "back when received (default: all in memory)",
    )
    serve.add_argument(
        "--workers",
        type=_bench._positive_int,
        metavar="N",
        help="threads serving requests (default: one per core); fewer leave cores to other "
        "programs on the machine, such as a load generator",
    )
    serve.set_defaults(func=_serve)

    client = argparse.ArgumentParser(add_help=False)
    client.add_argument(
        "--url",
        default=os.environ.get("SQSFAST_URL", DEFAULT_URL),
        help="the server's gRPC URL (default $SQSFAST_URL or %(default)s)",
    )
    client.add_argument("--json", action="store_true", help="print JSON, for scripts")
    client.add_argument("--compact", action="store_true", help="with --json: on one line")

    queue = sub.add_parser("queue", help="create, list, delete, inspect or purge queues")
    qsub = queue.add_subparsers(dest="queue_command", required=True, metavar="ACTION")
    p = qsub.add_parser(
        "create",
        parents=[client],
        help="create a queue (or get the one with the same attributes)",
        description="Create a queue. Prints its ARN.",
    )
    p.add_argument("name")
    p.add_argument(
        "-a",
        "--attribute",
        action="append",
        metavar="NAME=VALUE",
        help="an SQS attribute, e.g. VisibilityTimeout=60 (repeatable)",
    )
    p.add_argument("-t", "--tag", action="append", metavar="KEY=VALUE", help="a tag (repeatable)")
    p.set_defaults(func=_queue_create)
    p = qsub.add_parser("list", parents=[client], help="list queues, sorted by name")
    p.add_argument("prefix", nargs="?", default="", help="only names starting with this")
    p.set_defaults(func=_queue_list)
    p = qsub.add_parser("delete", parents=[client], help="delete queues and their messages")
    p.add_argument("names", nargs="+", metavar="name")
    p.set_defaults(func=_queue_delete)
    p = qsub.add_parser(
        "attributes",
        parents=[client],
        help="show (or set) a queue's attributes",
        description="Print a queue's SQS attributes (all, or those named). With --set, set "
        "attributes first (all or nothing).",
    )
    p.add_argument("name")
    p.add_argument("names", nargs="*", metavar="attribute", help="attribute names (default all)")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="set an attribute")
    p.set_defaults(func=_queue_attributes)
    p = qsub.add_parser("purge", parents=[client], help="delete every message of a queue")
    p.add_argument("name")
    p.set_defaults(func=_queue_purge)

    p = sub.add_parser(
        "send",
        parents=[client],
        help="send messages to a queue",
        description="Send each BODY as a message (or, without BODY, each line of standard "
        "input). Prints the message ids.",
    )
    p.add_argument("queue")
    p.add_argument("bodies", nargs="*", metavar="body")
    p.add_argument("--delay", type=int, metavar="SECONDS", help="delay delivery (0-900 s)")
    p.set_defaults(func=_send)

    p = sub.add_parser(
        "receive",
        parents=[client],
        help="receive messages from a queue",
        description="Receive up to N messages (long-polling up to --wait seconds) and print their "
        "bodies (--json: ids, receipt handles, attributes too). They stay in flight for the "
        "visibility timeout unless --delete is given.",
    )
    p.add_argument("queue")
    p.add_argument("-n", "--max-messages", type=int, default=1, help="1-1000 (default 1)")
    p.add_argument("--wait", type=int, default=0, metavar="SECONDS", help="long-poll (0-20 s)")
    p.add_argument("--visibility-timeout", type=int, metavar="SECONDS")
    p.add_argument("--delete", action="store_true", help="delete what was received")
    p.set_defaults(func=_receive)

    _bench.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SqsfastError as e:
        print(f"error: {e.code}: {e.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
