"""Fixtures of the SQS HTTP API suite: one real `sqsfast serve` per session, real clients.

The server runs as a subprocess on free ports (port 0); clients reach it through the URL it
prints. Tests use unique queue names (the `names` fixture of tests/conftest.py), so they share
the server without seeing each other's queues.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.config import Config  # noqa: E402

_LISTEN = re.compile(r"^sqsfast: (SQS HTTP API|gRPC) on (\w+)://(\S+)$")

ACCOUNT = "000000000000"
REGION = "us-east-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
    "AWS_DEFAULT_REGION": REGION,
}


@dataclass
class SqsServer:
    proc: subprocess.Popen
    endpoint: str  # http://127.0.0.1:PORT
    grpc_url: str  # grpc://127.0.0.1:PORT

    def client(self, endpoint: str | None = None, **config):
        """A boto3 SQS client of this server (at `endpoint` if given, e.g. another host name)."""
        return boto3.client(
            "sqs",
            endpoint_url=endpoint or self.endpoint,
            region_name=REGION,
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=Config(retries={"max_attempts": 1}, **config),
        )

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


def start_sqs_server(*args: str, timeout: float = 30) -> SqsServer:
    """Starts `sqsfast serve` on free ports and waits for the addresses it prints."""
    cmd = [sys.executable, "-m", "sqsfast.cli", "serve", "--http-port", "0", "--grpc-port", "0"]
    proc = subprocess.Popen(
        [*cmd, *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    urls: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while len(urls) < 2:
        line = proc.stdout.readline()
        if not line:
            proc.wait(10)
            raise RuntimeError(f"sqsfast serve exited with {proc.returncode} before listening")
        m = _LISTEN.match(line.strip())
        if m:
            urls[m.group(1)] = f"{m.group(2)}://{m.group(3)}"
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("sqsfast serve did not print its addresses in time")
    return SqsServer(proc, urls["SQS HTTP API"], urls["gRPC"])


@pytest.fixture(scope="session")
def sqs_server():
    server = start_sqs_server()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqs(sqs_server):
    """A boto3 SQS client (AWS JSON 1.0 protocol) pointed at the server."""
    return sqs_server.client()


@pytest.fixture
def queue_url(sqs, names):
    return sqs.create_queue(QueueName=names())["QueueUrl"]
