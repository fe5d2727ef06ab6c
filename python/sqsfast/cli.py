"""The ``sqsfast`` command."""

from __future__ import annotations

import argparse
import sys

from sqsfast import _core


def _serve(args: argparse.Namespace) -> int:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    _core.serve(host=args.host, http_port=args.http_port, grpc_port=args.grpc_port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sqsfast",
        description="sqsfast: Amazon SQS semantics and API, fast.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="run the server (SQS HTTP API and gRPC)",
        description="Run the sqsfast server until SIGINT or SIGTERM. Port 0 picks a free port; "
        "the addresses are printed once listening.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default %(default)s)"
    )
    serve.add_argument(
        "--http-port", type=int, default=9324, help="SQS HTTP API port (default %(default)s)"
    )
    serve.add_argument(
        "--grpc-port", type=int, default=9325, help="gRPC port (default %(default)s)"
    )
    serve.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
