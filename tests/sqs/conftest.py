"""Fixtures of the SQS HTTP API suite: one real `sqsfast serve` per session, real clients.

The server runs as a subprocess on free ports (port 0); clients reach it through the URL it
prints. Tests use unique queue names (the `names` fixture of tests/conftest.py), so they share
the server without seeing each other's queues.
"""

from __future__ import annotations

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.config import Config  # noqa: E402
from support import Server, start_server  # noqa: E402

ACCOUNT = "000000000000"
REGION = "us-east-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
    "AWS_DEFAULT_REGION": REGION,
}


class SqsServer:
    """A `sqsfast serve` process (started by tests/support.py) and boto3 clients of its SQS API."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.proc = server.proc
        self.endpoint = server.http_url  # http://127.0.0.1:PORT
        self.grpc_url = server.grpc_url  # grpc://127.0.0.1:PORT

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
        return self.server.stop()


def start_sqs_server(*args: str, timeout: float = 30) -> SqsServer:
    """Starts `sqsfast serve` on free ports and waits for the addresses it prints."""
    return SqsServer(start_server(*args, timeout=timeout))


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
