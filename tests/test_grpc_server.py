"""The `sqsfast serve` process: shutdown with long polls in flight, bad requests, limits, the
configuration file, the error mapping seen by a plain gRPC client."""

from __future__ import annotations

import signal
import socket
import threading
import time
import uuid

import grpc
import pytest
import sqsfast
from sqsfast.v1 import queue_pb2 as pb
from sqsfast.v1 import queue_pb2_grpc as pb_grpc
from support import raises, start_server

METHOD = "/sqsfast.v1.QueueService/"


def unique() -> str:
    return "srv-" + uuid.uuid4().hex[:12]


@pytest.fixture
def raw(server):
    """A plain grpcio channel to the session's server."""
    with grpc.insecure_channel(server.grpc_url.removeprefix("grpc://")) as channel:
        yield channel


def test_sigterm_ends_long_polls_early_and_exits_0():
    s = start_server()
    try:
        b = sqsfast.connect(s.grpc_url)
        q = b.create_queue("drain")
        results: list = []
        errors: list = []

        def poll():
            try:
                results.append(q.receive(wait_seconds=20))
            except Exception as e:  # noqa: BLE001 - asserted below
                errors.append(e)

        pollers = [threading.Thread(target=poll, daemon=True) for _ in range(3)]
        for t in pollers:
            t.start()
        time.sleep(0.5)  # the polls are waiting on the server
        start = time.monotonic()
        s.signal(signal.SIGTERM)
        for t in pollers:
            t.join(15)
        assert not any(t.is_alive() for t in pollers)
        assert errors == [] and results == [[], [], []], "long polls return early, empty"
        assert s.wait(15) == 0
        assert time.monotonic() - start < 10, "shutdown waited for the 20 s polls"
        assert "sqsfast: shutting down" in s.output
        with raises("ServiceUnavailable"):
            b.list_queues()
        b.close()
    finally:
        s.stop()


def test_sigint_stops_the_server_with_exit_0():
    s = start_server()
    s.signal(signal.SIGINT)
    assert s.wait(15) == 0


def test_malformed_request_is_invalid_argument(raw):
    call = raw.unary_unary(METHOD + "SendMessage")
    with pytest.raises(grpc.RpcError) as info:
        call(b"\x0a\xff\xff\xff\xff", timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "malformed request" in info.value.details()
    assert "SendMessageRequest" in info.value.details()


def test_unknown_method_is_unimplemented(raw):
    with pytest.raises(grpc.RpcError) as info:
        raw.unary_unary(METHOD + "NoSuchAction")(b"", timeout=10)
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_errors_carry_the_sqs_code_in_metadata(raw):
    stub = pb_grpc.QueueServiceStub(raw)
    with pytest.raises(grpc.RpcError) as info:
        stub.GetQueue(pb.GetQueueRequest(queue_name=unique()), timeout=10)
    e = info.value
    assert e.code() == grpc.StatusCode.NOT_FOUND
    assert ("sqsfast-error-code", "QueueDoesNotExist") in e.trailing_metadata()
    assert any(k == "grpc-status-details-bin" for k, _ in e.trailing_metadata())


def test_empty_queue_name_and_negative_counts(raw):
    stub = pb_grpc.QueueServiceStub(raw)
    with pytest.raises(grpc.RpcError) as info:
        stub.CreateQueue(pb.CreateQueueRequest(queue_name=""), timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    name = unique()
    stub.CreateQueue(pb.CreateQueueRequest(queue_name=name), timeout=10)
    with pytest.raises(grpc.RpcError) as info:
        stub.ReceiveMessage(
            pb.ReceiveMessageRequest(queue_name=name, max_number_of_messages=-1), timeout=10
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "must not be negative" in info.value.details()


def test_batches_of_1000_over_grpc(server):
    with sqsfast.connect(server.grpc_url, max_batch=1000) as b:
        q = b.create_queue(unique())
        results = q.send_batch([f"m{i}" for i in range(1000)])
        assert len(results) == 1000 and all(r.ok for r in results)
        got = q.receive(1000)
        assert 1 <= len(got) <= 1000
        while len(got) < 1000:
            more = q.receive(1000)
            assert more
            got.extend(more)
        assert sorted(m.text for m in got) == sorted(f"m{i}" for i in range(1000))
        assert all(r.ok for r in q.delete_batch(got))
        with raises("TooManyEntriesInBatchRequest"):
            q.send_batch(["x"] * 1001)
        with pytest.raises(ValueError):
            sqsfast.connect(server.grpc_url, max_batch=1001)


def test_request_size_limit(tmp_path):
    config = tmp_path / "sqsfast.toml"
    config.write_text("[limits]\nmax_request_bytes = 65536\n")
    s = start_server("--config", str(config))
    try:
        with sqsfast.connect(s.grpc_url) as b:
            q = b.create_queue("big")
            q.send("x" * 60_000)
            with raises("InvalidParameterValue") as info:
                q.send("x" * 70_000)
            assert "too large" in info.value.message
            assert q.counts()["visible"] == 1
    finally:
        assert s.stop() == 0


def test_config_creates_queues(tmp_path):
    config = tmp_path / "sqsfast.toml"
    config.write_text(
        'region = "eu-west-1"\n'
        '[[queues]]\nname = "jobs"\nattributes = { VisibilityTimeout = "60" }\n'
        'tags = { team = "a" }\n'
    )
    s = start_server("--config", str(config), "--log-level", "info")
    try:
        with sqsfast.connect(s.grpc_url) as b:
            q = b.queue("jobs")
            assert q.arn == "arn:aws:sqs:eu-west-1:000000000000:jobs"
            assert q.attributes["VisibilityTimeout"] == "60"
            assert q.tags == {"team": "a"}
            assert b.region == "eu-west-1"
    finally:
        assert s.stop() == 0


def test_idle_connections_are_closed_and_calls_keep_theirs(tmp_path):
    config = tmp_path / "sqsfast.toml"
    config.write_text("[limits]\nidle_connection_seconds = 1\n")
    s = start_server("--config", str(config))
    try:
        host, port = s.grpc_url.removeprefix("grpc://").rsplit(":", 1)
        # A client that connects and never makes a call is disconnected.
        with socket.create_connection((host, int(port)), timeout=15) as sock:
            deadline = time.monotonic() + 15
            closed = False
            while time.monotonic() < deadline:
                try:
                    if sock.recv(4096) == b"":  # the server's HTTP/2 preface, then EOF
                        closed = True
                        break
                except ConnectionResetError:
                    closed = True
                    break
            assert closed, "an idle connection stayed open past idle_connection_seconds"
        # A long poll longer than the idle timeout is a call in flight: it keeps its connection
        # and gets the message sent while it waits.
        with sqsfast.connect(s.grpc_url) as b:
            q = b.create_queue("idle")
            got: list = []
            t = threading.Thread(target=lambda: got.extend(q.receive(wait_seconds=5)))
            t.start()
            time.sleep(2.5)
            q.send(b"late")
            t.join(20)
            assert [m.body for m in got] == [b"late"]
            # After the connection went idle and was closed, the channel reconnects by itself.
            time.sleep(2.5)
            assert q.counts()["in_flight"] == 1
    finally:
        assert s.stop() == 0


# A client's connection preface and an empty SETTINGS frame (RFC 9113, 3.4 and 6.5).
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS, PING, GOAWAY = 0x4, 0x6, 0x7


def h2_frame_types(sock: socket.socket, seconds: float, until: int | None = None) -> list[int]:
    """The types of the HTTP/2 frames the server sends within `seconds` (or until one of type
    `until`, or the end of the connection)."""
    types: list[int] = []
    buf = b""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
            length = int.from_bytes(buf[:3], "big")
            types.append(buf[3])
            buf = buf[9 + length :]
            if buf == b"" and types[-1] == SETTINGS:
                sock.sendall(b"\x00\x00\x00\x04\x01\x00\x00\x00\x00")  # SETTINGS ack
        if until is not None and until in types:
            break
    return types


def test_past_max_connections_a_connection_waits_to_be_accepted(tmp_path):
    config = tmp_path / "sqsfast.toml"
    config.write_text("[limits]\nmax_connections = 1\n")
    s = start_server("--in-memory", "--config", str(config))
    try:
        host, port = s.grpc_url.removeprefix("grpc://").rsplit(":", 1)
        first = sqsfast.connect(s.grpc_url)
        first.create_queue("limited")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(H2_PREFACE)
            # The kernel completed the handshake, but the server serves one connection at a time:
            # not even its SETTINGS frame comes while the first connection is open.
            assert h2_frame_types(sock, 1.5) == []
            first.close()
            assert SETTINGS in h2_frame_types(sock, 10, until=SETTINGS)
        with sqsfast.connect(s.grpc_url) as again:
            assert [q.name for q in again.list_queues()] == ["limited"]
    finally:
        assert s.stop() == 0


def test_a_connection_past_its_age_gets_goaway_and_clients_reconnect(tmp_path):
    config = tmp_path / "sqsfast.toml"
    config.write_text("[limits]\nmax_connection_age_seconds = 1\nidle_connection_seconds = 0\n")
    s = start_server("--in-memory", "--config", str(config))
    try:
        host, port = s.grpc_url.removeprefix("grpc://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(H2_PREFACE)
            assert GOAWAY in h2_frame_types(sock, 10, until=GOAWAY)
        with sqsfast.connect(s.grpc_url) as b:
            q = b.create_queue("aged")
            q.send(b"before")
            time.sleep(2.5)  # the channel's connection was told to go away meanwhile
            q.send(b"after")
            got = q.receive(max_messages=10, wait_seconds=1)
            assert sorted(m.body for m in got) == [b"after", b"before"]
    finally:
        assert s.stop() == 0


def test_zero_keepalive_and_age_mean_none(tmp_path):
    config = tmp_path / "sqsfast.toml"
    config.write_text(
        "[limits]\nmax_connection_age_seconds = 0\nkeepalive_seconds = 0\n"
        "idle_connection_seconds = 0\n"
    )
    s = start_server("--in-memory", "--config", str(config))
    try:
        host, port = s.grpc_url.removeprefix("grpc://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(H2_PREFACE)
            # SETTINGS, its ack and the connection's window: no GOAWAY for its age, no PING.
            types = h2_frame_types(sock, 2)
            assert SETTINGS in types and GOAWAY not in types and PING not in types
        with sqsfast.connect(s.grpc_url) as b:
            b.create_queue("zero").send(b"x")
    finally:
        assert s.stop() == 0


def test_shutdown_sends_goaway_to_open_connections():
    s = start_server("--in-memory")
    try:
        host, port = s.grpc_url.removeprefix("grpc://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(H2_PREFACE)
            assert SETTINGS in h2_frame_types(sock, 10, until=SETTINGS)
            s.signal(signal.SIGTERM)
            assert GOAWAY in h2_frame_types(sock, 10, until=GOAWAY)
        assert s.wait(15) == 0
    finally:
        s.stop()


def test_bad_config_fails_to_start(tmp_path):
    config = tmp_path / "sqsfast.toml"
    config.write_text('[[queues]]\nname = "bad name"\n')
    with pytest.raises(RuntimeError, match="before listening"):
        start_server("--config", str(config))


def test_many_connections_share_one_engine(server):
    name = unique()
    brokers = [sqsfast.connect(server.grpc_url) for _ in range(5)]
    try:
        brokers[0].create_queue(name)
        for i, b in enumerate(brokers):
            b.queue(name).send(f"from {i}")
        got = brokers[-1].queue(name).receive(10)
        assert sorted(m.text for m in got) == [f"from {i}" for i in range(5)]
    finally:
        for b in brokers:
            b.close()
