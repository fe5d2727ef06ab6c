"""The checked-in Python stubs of the gRPC API (python/sqsfast/v1) are what grpcio-tools makes of
proto/sqsfast/v1/queue.proto today: regenerated into a temporary folder, byte for byte equal.
If this fails, regenerate them (the command is in python/sqsfast/v1/__init__.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
STUBS = ["queue_pb2.py", "queue_pb2.pyi", "queue_pb2_grpc.py"]


@pytest.mark.skipif(not PROTO.is_dir(), reason="needs the source tree (proto/)")
def test_stubs_match_the_proto(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO}",
            f"--python_out={tmp_path}",
            f"--pyi_out={tmp_path}",
            f"--grpc_python_out={tmp_path}",
            str(PROTO / "sqsfast/v1/queue.proto"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for name in STUBS:
        fresh = (tmp_path / "sqsfast/v1" / name).read_text()
        checked_in = (ROOT / "python/sqsfast/v1" / name).read_text()
        assert fresh == checked_in, f"python/sqsfast/v1/{name} drifted from queue.proto"


def test_stubs_ship_with_the_package() -> None:
    package = resources.files("sqsfast.v1")
    for name in STUBS:
        assert package.joinpath(name).is_file(), name


USAGE = """
from __future__ import annotations

from datetime import datetime

import sqsfast
import sqsfast.aio

broker: sqsfast.RemoteBroker = sqsfast.connect("grpc://127.0.0.1:9325", max_batch=100)
q: sqsfast.RemoteQueue = broker.create_queue("q", visibility_timeout=60, tags={"a": "b"})
mid: str = q.send("hi", attributes={"n": 1})
results: list[sqsfast.BatchResult] = q.send_batch([b"a", {"id": "x", "body": "b"}])
for m in q.receive(10, wait_seconds=1):
    body: bytes = m.body
    sent: datetime = m.sent_at
    m.delete()
attrs: dict[str, str] = q.attributes
counts: dict[str, int] = q.counts()


async def main() -> None:
    async with sqsfast.aio.connect() as b:
        aq = await b.create_queue("q")
        await aq.send(b"x")
        got: list[sqsfast.aio.AsyncMessage] = await aq.receive(10)
        a: dict[str, str] = await aq.attributes
        async for msg in aq.consume():
            await msg.delete()
            break
"""


def test_remote_api_type_checks(tmp_path: Path) -> None:
    program = tmp_path / "usage.py"
    program.write_text(textwrap.dedent(USAGE))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(program),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
