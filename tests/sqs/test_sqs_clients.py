"""Clients other than boto3 itself: the AWS CLI, kombu's SQS transport (Celery's broker), and the
other front ends of the same engine (gRPC)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CREDENTIALS


def aws(server, *args: str) -> dict:
    exe = Path(sys.executable).with_name("aws")
    if not exe.exists():
        pytest.skip("the AWS CLI (awscli) is not installed")
    out = subprocess.run(
        [str(exe), "--endpoint-url", server.endpoint, "--output", "json", "sqs", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **CREDENTIALS},
    ).stdout
    return json.loads(out) if out.strip() else {}


def test_aws_cli(sqs_server, names):
    name = names()
    url = aws(sqs_server, "create-queue", "--queue-name", name)["QueueUrl"]
    assert url.endswith(f"/{name}")
    listed = aws(sqs_server, "list-queues", "--queue-name-prefix", names.prefix)
    assert listed["QueueUrls"] == [url]
    sent = aws(sqs_server, "send-message", "--queue-url", url, "--message-body", "from the cli")
    got = aws(
        sqs_server,
        "receive-message",
        "--queue-url",
        url,
        "--attribute-names",
        "All",
        "--wait-time-seconds",
        "1",
    )
    (m,) = got["Messages"]
    assert m["MessageId"] == sent["MessageId"]
    assert m["Body"] == "from the cli"
    aws(sqs_server, "delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
    attrs = aws(
        sqs_server,
        "get-queue-attributes",
        "--queue-url",
        url,
        "--attribute-names",
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
    )["Attributes"]
    assert attrs == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }
    failed = subprocess.run(
        [
            str(Path(sys.executable).with_name("aws")),
            "--endpoint-url",
            sqs_server.endpoint,
            "sqs",
            "get-queue-url",
            "--queue-name",
            names("missing"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **CREDENTIALS},
    )
    assert failed.returncode != 0
    assert "NonExistentQueue" in failed.stderr


def test_kombu_sqs_transport(sqs_server, names, monkeypatch):
    kombu = pytest.importorskip("kombu")
    for k, v in CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    host_port = sqs_server.endpoint.removeprefix("http://")
    queue_name = names("celery")
    with kombu.Connection(
        f"sqs://x:x@{host_port}",
        transport_options={"region": "us-east-1", "is_secure": False, "wait_time_seconds": 1},
    ) as conn:
        exchange = kombu.Exchange(queue_name, type="direct")
        queue = kombu.Queue(queue_name, exchange, routing_key=queue_name)
        producer = conn.Producer(serializer="json")
        # A Celery task message: the task protocol 2 headers and [args, kwargs, embed] body.
        producer.publish(
            [[2, 3], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}],
            exchange=exchange,
            routing_key=queue_name,
            declare=[queue],
            headers={"lang": "py", "task": "tasks.add", "id": "task-1", "retries": 0},
        )
        received = []

        def on_message(body, message):
            received.append((body, message.headers))
            message.ack()

        with conn.Consumer(queue, callbacks=[on_message], accept=["json"]):
            for _ in range(20):
                try:
                    conn.drain_events(timeout=1)
                except TimeoutError:
                    pass
                if received:
                    break
        assert received, "kombu consumed nothing"
        body, headers = received[0]
        assert body[0] == [2, 3]
        assert headers["task"] == "tasks.add"
        # Acknowledged means deleted from the queue.
        sqs = conn.default_channel.sqs()
        url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attrs["ApproximateNumberOfMessages"] == "0"
        assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_same_engine_as_grpc(sqs, sqs_server, names):
    sqsfast = pytest.importorskip("sqsfast")
    connect = getattr(sqsfast, "connect", None)
    if connect is None:
        pytest.skip("the gRPC client (sqsfast.connect) does not exist yet")
    name = names()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody="over http",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    broker = connect(sqs_server.grpc_url)
    try:
        q = broker.queue(name)
        got = q.receive(1, wait_seconds=5)
        assert [m.text for m in got] == ["over http"]
        assert got[0].attributes["k"] is not None
        got[0].delete()
        q.send("over grpc")
    finally:
        broker.close()
    m = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"]
    assert [x["Body"] for x in m] == ["over grpc"]
