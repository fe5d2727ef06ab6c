"""The HTTP server itself: keep-alive, shutdown with long polls waiting."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import threading
import time

from conftest import start_sqs_server


def test_keep_alive_serves_many_requests_on_one_connection(sqs_server, names):
    host = sqs_server.endpoint.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=10)
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    name = names()
    for i in range(50):
        action = "CreateQueue" if i == 0 else "GetQueueUrl"
        conn.request(
            "POST",
            "/",
            body=json.dumps({"QueueName": name}),
            headers={**headers, "X-Amz-Target": f"AmazonSQS.{action}"},
        )
        r = conn.getresponse()
        assert r.status == 200
        assert json.loads(r.read())["QueueUrl"].endswith(f"/{name}")
    conn.close()


def test_shutdown_ends_long_polls_early():
    server = start_sqs_server()
    try:
        sqs = server.client()
        url = sqs.create_queue(QueueName="waiting")["QueueUrl"]
        results: list = []

        def poll():
            results.append(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20))

        threads = [threading.Thread(target=poll) for _ in range(5)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(15)
        assert all(not t.is_alive() for t in threads)
        # Answered (empty) well before their 20 s wait, and the server exits cleanly.
        assert time.monotonic() - started < 15
        assert [r.get("Messages") for r in results] == [None] * 5
        assert server.proc.wait(15) == 0
    finally:
        server.stop()


def test_queue_url_without_host_header_uses_the_bound_address(sqs_server, names):
    host, port = sqs_server.endpoint.removeprefix("http://").rsplit(":", 1)
    name = names()
    body = json.dumps({"QueueName": name}).encode()
    request = (
        b"POST / HTTP/1.0\r\n"
        b"Content-Type: application/x-amz-json-1.0\r\n"
        b"X-Amz-Target: AmazonSQS.CreateQueue\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") or head.startswith(b"HTTP/1.1 200"), head
    assert json.loads(payload)["QueueUrl"] == f"{sqs_server.endpoint}/000000000000/{name}"


def test_fsync_always_acknowledges_concurrent_sends_and_keeps_them(tmp_path):
    """With `--fsync always` many concurrent SQS clients' sends are acknowledged (their requests
    share group commits) and every acknowledged message is there after kill -9 and a restart."""
    data = str(tmp_path / "data")
    server = start_sqs_server("--fsync", "always", "--data-dir", data)
    try:
        sqs = server.client()
        url = sqs.create_queue(QueueName="always")["QueueUrl"]
        sent: set[str] = set()
        lock = threading.Lock()
        failures: list[BaseException] = []

        def producer(n: int) -> None:
            try:
                client = server.client()
                for i in range(20):
                    body = f"p{n}-{i}"
                    if i % 2:
                        client.send_message(QueueUrl=url, MessageBody=body)
                        bodies = [body]
                    else:
                        bodies = [f"{body}-{j}" for j in range(5)]
                        entries = [{"Id": str(j), "MessageBody": b} for j, b in enumerate(bodies)]
                        r = client.send_message_batch(QueueUrl=url, Entries=entries)
                        assert len(r["Successful"]) == 5 and not r.get("Failed")
                    with lock:
                        sent.update(bodies)
            except BaseException as e:  # noqa: BLE001 - reported below
                failures.append(e)

        threads = [threading.Thread(target=producer, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not failures, failures
        assert len(sent) == 16 * (10 * 5 + 10)
    finally:
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(10)
    server = start_sqs_server("--fsync", "always", "--data-dir", data)
    try:
        sqs = server.client()
        url = sqs.get_queue_url(QueueName="always")["QueueUrl"]
        got: set[str] = set()
        for _ in range(200):
            r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)
            if not r.get("Messages"):
                break
            got.update(m["Body"] for m in r["Messages"])
        assert got == sent
    finally:
        server.stop()


def test_memory_budget_keeps_bodies_on_disk_and_returns_them_whole(tmp_path):
    """With `--memory-budget-mb 1`, bodies past 1 MiB stay on disk only: boto3 receives each one
    whole (it checks every MD5) before and after kill -9 and a restart, and through a dead-letter
    move."""
    data = str(tmp_path / "data")
    args = ("--data-dir", data, "--memory-budget-mb", "1")
    server = start_sqs_server(*args)
    bodies = {f"{i:04}-" + chr(ord("a") + i % 26) * 10_000 for i in range(300)}
    try:
        assert any("bodies in memory up to 1 MiB" in line for line in server.server.output)
        sqs = server.client()
        dlq = sqs.create_queue(QueueName="budget-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
        url = sqs.create_queue(QueueName="budget", Attributes={"RedrivePolicy": policy})["QueueUrl"]
        ordered = sorted(bodies)
        for start in range(0, len(ordered), 10):
            entries = [
                {"Id": str(j), "MessageBody": b} for j, b in enumerate(ordered[start : start + 10])
            ]
            r = sqs.send_message_batch(QueueUrl=url, Entries=entries)
            assert len(r["Successful"]) == len(entries) and not r.get("Failed")
        got: dict[str, str] = {}
        for _ in range(100):
            r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=1)
            for m in r.get("Messages", []):
                got[m["Body"]] = m["MessageId"]
            if len(got) == len(bodies):
                break
        assert set(got) == bodies
    finally:
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(10)
    server = start_sqs_server(*args)
    try:
        sqs = server.client()
        url = sqs.get_queue_url(QueueName="budget")["QueueUrl"]
        dlq = sqs.get_queue_url(QueueName="budget-dlq")["QueueUrl"]
        # Received once before the kill: each receive now moves its messages to the dead-letter
        # queue, reading their bodies back from disk for the move.
        for _ in range(100):
            r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            assert not r.get("Messages")
            count = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
            if count == "0":
                break
        moved: dict[str, str] = {}
        for _ in range(100):
            r = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=600)
            if not r.get("Messages"):
                break
            for m in r["Messages"]:
                moved[m["Body"]] = m["MessageId"]
        assert moved == got, "every body, with its id, in the dead-letter queue"
    finally:
        server.stop()
