"""The type stubs of `sqsfast._core` match the extension module, and ship with the package.

`mypy.stubtest` imports the built module and compares every name and signature with `_core.pyi`:
a method added, renamed or given another parameter in Rust without its stub fails here. A typed
program using the public API must also pass `mypy --strict`, so the stubs are usable, not only
present.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path

USAGE = """
from datetime import datetime

import sqsfast

broker = sqsfast.Broker(account_id="000000000000", region="us-east-1")
dlq = broker.create_queue("stub-dlq")
q = broker.create_queue("stub-q", visibility_timeout=60, dead_letter_queue=dlq)
attrs: dict[str, str] = q.attributes
message_id: str = q.send("hi", attributes={"n": 1, "s": "x", "b": b"y"})
results: list[sqsfast.BatchResult] = q.send_batch([b"a", {"id": "x", "body": "b"}])
ok: bool = results[0].ok
error: sqsfast.SqsfastError | None = results[0].error
for m in q.receive(10, wait_seconds=0):
    body: bytes = m.body
    sent: datetime = m.sent_at
    value = m.attributes["n"]
    m.change_visibility(0)
    m.delete()
counts = q.counts()
visible: int = counts["visible"]
q.delete_batch(["handle"])
q.change_visibility_batch([("handle", 10)])
queues: list[sqsfast.Queue] = broker.list_queues(prefix="stub-")
try:
    broker.queue("nope")
except sqsfast.QueueDoesNotExist as e:
    code: str = e.code
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def test_stubs_match_the_extension_module(tmp_path: Path) -> None:
    result = run("-m", "mypy.stubtest", "sqsfast._core", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_api_type_checks(tmp_path: Path) -> None:
    program = tmp_path / "usage.py"
    program.write_text(textwrap.dedent(USAGE))
    result = run(
        "-m",
        "mypy",
        "--strict",
        "--no-error-summary",
        "--cache-dir",
        str(tmp_path / "cache"),
        str(program),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_stubs_and_marker_ship_with_the_package() -> None:
    package = resources.files("sqsfast")
    assert package.joinpath("py.typed").is_file()
    assert package.joinpath("_core.pyi").is_file()
