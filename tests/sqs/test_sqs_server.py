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
