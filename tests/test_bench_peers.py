"""benches/peers/run.py: its arguments, its dry run and its table, without starting any peer.

The comparison itself is a benchmark (it needs Redis, RabbitMQ, PostgreSQL...), not a test.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benches" / "peers" / "run.py"


@pytest.fixture(scope="module")
def run():
    spec = importlib.util.spec_from_file_location("peers_run", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["peers_run"] = module
    spec.loader.exec_module(module)
    return module


def test_every_peer_is_listed_by_default_with_the_shared_workload(run):
    args = run.parse_args([])
    assert args.peer_names == list(run.PEERS)
    assert {"sqsfast-grpc", "moto", "redis", "rabbitmq", "postgresql"} <= set(run.PEERS)
    flags = run.workload_flags(args, "steady")
    assert flags[:2] == ["--workload", "steady"]
    assert "--rate" not in flags
    assert run.workload_flags(args, "rate")[-2:] == ["--rate", "1000"]


def test_sqsfast_and_peers_get_the_same_workload_flags(run):
    args = run.parse_args(["--batch", "7", "--size", "100", "--duration", "2s"])
    peer = run.bench_command(args, run.PEERS["redis"], "redis://127.0.0.1:1", "steady")
    sqs = run.bench_command(args, run.PEERS["moto"], "http://127.0.0.1:2", "steady")
    assert peer[1:3] == ["--target", "redis://127.0.0.1:1"]
    assert sqs[-len(peer[3:]) :] == peer[3:]
    assert "--batch" in peer and peer[peer.index("--batch") + 1] == "7"


@pytest.mark.parametrize(
    "argv",
    [["--peers", "redis,nosuch"], ["--workloads", "burst"], ["--duration", "ten seconds"]],
)
def test_bad_arguments_are_refused(run, argv):
    with pytest.raises(SystemExit):
        run.parse_args(argv)


def test_a_dry_run_starts_nothing_and_accounts_for_every_peer(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry-run", "--peer-bench", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if not line.startswith(" ")]
    assert [line.split(":")[0] for line in lines] == [
        "sqsfast-embedded",
        "sqsfast-grpc-mem",
        "sqsfast-http-mem",
        "sqsfast-grpc",
        "sqsfast-http",
        "moto",
        "elasticmq",
        "redis",
        "rabbitmq",
        "postgresql",
    ]
    # The peer load generator is missing here: those peers are skipped, with the reason.
    for name in ("redis", "rabbitmq", "postgresql"):
        line = next(line for line in lines if line.startswith(name + ":"))
        assert "skip" in line


def test_the_table_has_every_figure_its_command_and_every_skip(run):
    report = {
        "receive": {"msg_per_s": 250_000.0},
        "send": {"msg_per_s": 251_000.0},
        "latency_us": {
            "send": {"p50": 150.0, "p99": 900.0},
            "end_to_end": {"p50": 300.0, "p99": 2500.0},
        },
        "lost": 0,
        "duplicates": 0,
        "errors": {"total": 0},
        "cpu": {"cores": 1.2},
        "ok": True,
    }
    redis = dict(report, receive={"msg_per_s": 50_000.0})
    row = {"load_before": [1.0, 1.0, 1.0], "load_after": [1.5, 1.0, 1.0], "version": "x"}
    result = {
        "command": "python benches/peers/run.py",
        "date_utc": "2026-01-01 00:00 UTC",
        "machine": {
            "cpu": "cpu",
            "cores": 2,
            "memory_gib": "24",
            "os": "os",
            "kernel": "k",
            "python": "3",
            "rustc": "rustc",
        },
        "params": {
            "peers": ["sqsfast-grpc", "redis", "elasticmq"],
            "workloads": ["steady"],
            "producers": 4,
            "consumers": 4,
            "batch": 10,
            "size": 256,
            "duration": "10s",
            "rate": 1000.0,
        },
        "load_start": [1.0, 1.0, 1.0],
        "load_end": [1.0, 1.0, 1.0],
        "runs": [
            dict(
                row,
                peer="sqsfast-grpc",
                workload="steady",
                command="sqsfast bench A",
                report=report,
            ),
            dict(
                row, peer="redis", workload="steady", command="sqsfast-peer-bench B", report=redis
            ),
        ],
        "servers": [{"peer": "redis", "server_command": "redis-server --port 1"}],
        "skipped": [{"peer": "elasticmq", "reason": "no jar"}],
    }
    table = run.markdown(result)
    assert "| sqsfast-grpc | steady | 250 k |" in table
    assert "1. `sqsfast bench A`" in table and "2. `sqsfast-peer-bench B`" in table
    assert "steady, sqsfast over redis: grpc 5.0×" in table
    assert "**skipped**: no jar" in table
    assert "`redis-server --port 1`" in table
