"""The `sqsfast` command: queue create|list|delete|attributes|purge, send, receive against a
server, text and --json output, errors, --help."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from support import start_server


def sqsfast(*args: str, url: str | None = None, stdin: str | None = None):
    extra = ["--url", url] if url else []
    return subprocess.run(
        [sys.executable, "-m", "sqsfast.cli", *args, *extra],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
    )


@pytest.fixture
def run(server):
    def run(*args: str, stdin: str | None = None, ok: bool = True):
        result = sqsfast(*args, url=server.grpc_url, stdin=stdin)
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    return run


def test_queue_lifecycle(run):
    name = "cli-" + uuid.uuid4().hex[:12]
    created = json.loads(
        run("queue", "create", name, "-a", "VisibilityTimeout=60", "--json").stdout
    )
    assert created["name"] == name and created["arn"].endswith(":" + name)
    assert run("queue", "list", name).stdout.split() == [name]
    listed = json.loads(run("queue", "list", name, "--json").stdout)
    assert [q["name"] for q in listed] == [name]
    attrs = json.loads(run("queue", "attributes", name, "--json").stdout)
    assert attrs["VisibilityTimeout"] == "60"
    out = run("queue", "attributes", name, "DelaySeconds", "--set", "DelaySeconds=0").stdout
    assert out.strip() == "DelaySeconds\t0"

    ids = run("send", name, "one", "two").stdout.split()
    assert len(ids) == 2
    run("send", name, stdin="three\nfour\n")
    got = json.loads(run("receive", name, "-n", "10", "--wait", "1", "--json").stdout)
    assert sorted(m["body"] for m in got) == ["four", "one", "three", "two"]
    assert all(m["receive_count"] == 1 and m["receipt_handle"] for m in got)
    run("queue", "purge", name)
    run("send", name, "five")
    assert run("receive", name, "--delete").stdout.strip() == "five"
    run("queue", "delete", name)
    assert run("queue", "list", name).stdout == ""


def test_errors_exit_1_with_the_sqs_code(run):
    result = run("queue", "purge", "cli-missing-" + uuid.uuid4().hex[:8], ok=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: QueueDoesNotExist:")


def test_no_server_is_service_unavailable():
    result = sqsfast("queue", "list", url="grpc://127.0.0.1:1")
    assert result.returncode == 1
    assert "ServiceUnavailable" in result.stderr


@pytest.mark.parametrize(
    "args",
    [[], ["serve"], ["queue"], ["queue", "create"], ["send"], ["receive"]],
    ids=["top", "serve", "queue", "create", "send", "receive"],
)
def test_help(args):
    result = sqsfast(*args, "--help")
    assert result.returncode == 0
    assert "usage: sqsfast" in result.stdout
    assert len(result.stdout.splitlines()) > 3


def test_version_is_the_package_version():
    from sqsfast import __version__

    result = sqsfast("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"sqsfast {__version__}"
    assert __version__[0].isdigit()


def runtime_threads(pid: int) -> int:
    """Threads of the server's runtime (they are named `sqsfast`; the interpreter's own thread,
    started as `python -m sqsfast.cli`, is not)."""
    tasks = Path(f"/proc/{pid}/task")
    return sum((t / "comm").read_text().strip() == "sqsfast" for t in tasks.iterdir())


@pytest.mark.parametrize("workers", [1, 3])
def test_workers_sets_the_threads_serving_requests(workers):
    server = start_server("--in-memory", "--workers", str(workers))
    try:
        name = "workers-" + uuid.uuid4().hex[:12]
        assert sqsfast("queue", "create", name, url=server.grpc_url).returncode == 0
        assert sqsfast("send", name, "hello", url=server.grpc_url).returncode == 0
        got = sqsfast("receive", name, "--json", url=server.grpc_url)
        assert got.returncode == 0 and "hello" in got.stdout
        assert runtime_threads(server.proc.pid) == workers
    finally:
        server.stop()


def test_bad_workers_are_refused(tmp_path):
    bad = sqsfast("serve", "--in-memory", "--workers", "0")
    assert bad.returncode == 2 and "must be at least 1" in bad.stderr
    config = tmp_path / "sqsfast.toml"
    config.write_text("workers = 5000\n")
    bad = sqsfast("serve", "--in-memory", "--config", str(config))
    assert bad.returncode == 1 and "workers must be 1-1024" in bad.stderr
