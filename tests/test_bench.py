"""`sqsfast bench`: short bounded runs against every target, the accounting of messages, the report,
and the command's errors. Runs assert what a user relies on (every message counted, a loss fails
the run, queues removed after), never speed.
"""

from __future__ import annotations

import json
import sys

import pytest
import sqsfast
from sqsfast import _bench, _core
from sqsfast.cli import main
from support import start_server

PREFIX = "sqsfast-bench"


@pytest.fixture(scope="module")
def server():
    s = start_server()
    yield s
    s.stop()


def bench(capsys, *args: str) -> tuple[int, dict | None, str, str]:
    """Runs `sqsfast bench ARGS --json -`; returns the exit code, the report, stdout and stderr."""
    code = main(["bench", "--quiet", "--json", "-", *args])
    out, err = capsys.readouterr()
    start = out.find("\n{")
    report = json.loads(out[start:]) if start >= 0 else None
    return code, report, out, err


def assert_complete(report: dict, messages: int) -> None:
    assert report["sent"] == messages
    assert report["received"] == messages
    assert report["lost"] == 0
    assert report["duplicates"] == 0
    assert report["errors"]["total"] == 0, report["errors"]
    assert report["ok"] is True
    assert report["latency_us"]["end_to_end"]["count"] == messages
    assert report["latency_us"]["send"]["count"] == messages


def remote_bench_queues(server) -> list[str]:
    with sqsfast.connect(server.grpc_url) as b:
        return [q.name for q in b.list_queues(PREFIX)]


def test_embedded_report_fields(capsys, tmp_path):
    path = tmp_path / "report.json"
    code = main(
        ["bench", "--quiet", "--target", "embedded", "--messages", "3000", "--batch", "100"]
        + ["--producers", "2", "--consumers", "3", "--size", "512", "--json", str(path)]
        + ["--threads", "1"]
    )
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads(path.read_text())
    assert_complete(report, 3000)
    assert report["target"] == "embedded"
    assert report["workload"] == "steady"
    assert report["config"]["batch"] == 100 and report["config"]["size"] == 512
    assert report["config"]["threads"] == 1
    for part in ("send", "receive"):
        t = report[part]
        assert t["messages"] == 3000 and t["seconds"] > 0
        assert t["mb_per_s"] == pytest.approx(t["msg_per_s"] * 512 / 1e6)
    for kind in ("send", "end_to_end"):
        s = report["latency_us"][kind]
        assert 0 < s["p50"] <= s["p90"] <= s["p99"] <= s["p999"] <= s["max"]
    assert report["cpu"]["cores"] >= 0 and report["cpu"]["user_s"] >= 0
    assert len(report["queues"]) == 1 and report["queues"][0].startswith(PREFIX)
    # The table for people.
    assert "end to end" in out and "p99.9" in out and "OK" in out
    assert "lost 0" in out


def test_grpc_target_deletes_its_queues(capsys, server):
    code, report, _, _ = bench(
        capsys, "--target", server.grpc_url, "--messages", "5000", "--batch", "100", "--queues", "2"
    )
    assert code == 0
    assert_complete(report, 5000)
    assert len(report["queues"]) == 2
    assert remote_bench_queues(server) == []


def test_grpc_connections_closed_by_the_server_are_replaced(capsys, tmp_path):
    """A server that sends every connection away after a second (GOAWAY): the load generator opens
    new ones and makes again the calls the server did not take up, so nothing fails."""
    config = tmp_path / "sqsfast.toml"
    config.write_text("[limits]\nmax_connection_age_seconds = 1\n")
    s = start_server("--in-memory", "--config", str(config))
    try:
        code, report, _, _ = bench(
            capsys, "--target", s.grpc_url, "--duration", "3s", "--batch", "100",
            "--producers", "2", "--consumers", "2", "--threads", "1",
        )  # fmt: skip
        assert code == 0
        assert report["lost"] == 0 and report["ok"] is True
        assert report["sent"] == report["received"] > 0
        assert report["errors"]["total"] == 0, report["errors"]
    finally:
        assert s.stop() == 0


def test_http_target(capsys, server):
    code, report, _, _ = bench(
        capsys, "--target", server.http_url, "--messages", "2000", "--batch", "10"
    )
    assert code == 0
    assert_complete(report, 2000)
    assert report["queues"][0].startswith("http://")
    assert remote_bench_queues(server) == []


@pytest.mark.parametrize("workload", ["fill-drain", "rate", "long-poll"])
def test_workloads(capsys, server, workload):
    args = ["--target", server.grpc_url, "--workload", workload]
    if workload == "fill-drain":
        args += ["--messages", "4000", "--batch", "50"]
        n = 4000
    elif workload == "rate":
        args += ["--messages", "1000", "--rate", "2000", "--producers", "2"]
        n = 1000
    else:
        args += ["--messages", "20", "--rate", "40", "--producers", "1", "--consumers", "2"]
        n = 20
    code, report, _, _ = bench(capsys, *args)
    assert code == 0
    assert report["workload"] == workload
    assert_complete(report, n)


@pytest.mark.parametrize("target", ["embedded", "grpc", "http"])
def test_python_client(capsys, server, target):
    url = {"embedded": "embedded", "grpc": server.grpc_url, "http": server.http_url}[target]
    code, report, _, _ = bench(
        capsys, "--client", "python", "--target", url, "--messages", "600", "--batch", "10"
    )
    assert code == 0
    assert_complete(report, 600)
    assert "python" in report["target"] or "boto3" in report["target"]


class FlakyDriver:
    """A Python driver over an embedded broker that drops or repeats one received message."""

    def __init__(self, fault: str) -> None:
        self.name = f"flaky ({fault})"
        self.broker = sqsfast.Broker()
        self.fault = fault
        self.done = False

    def connect(self):
        return FlakyConn(self)

    def create_queue(self, name: str) -> str:
        self.broker.create_queue(name)
        return name

    def delete_queue(self, queue: str) -> None:
        self.broker.delete_queue(queue)


class FlakyConn:
    def __init__(self, driver: FlakyDriver) -> None:
        self.d = driver

    def send(self, queue, bodies):
        for r in self.d.broker.queue(queue).send_batch(bodies):
            assert r.error is None
        if self.d.fault == "unacknowledged" and not self.d.done:
            self.d.done = True
            raise ConnectionError("the reply was lost")  # stored, but the sender never knew

    def receive(self, queue, max_messages, wait):
        got = [(m.body, m.receipt_handle) for m in self.d.broker.queue(queue).receive(max_messages)]
        if got and not self.d.done and self.d.fault in ("drop", "repeat"):
            self.d.done = True
            if self.d.fault == "drop":
                # Deleted behind the runner's back: the message is gone, never seen.
                self.d.broker.queue(queue).delete(got[0][1])
                return got[1:]
            return got + got[:1]
        return got

    def delete(self, queue, tokens):
        self.d.broker.queue(queue).delete_batch(tokens)


def run_flaky(fault: str) -> dict:
    text = _core.bench(
        FlakyDriver(fault),
        messages=500,
        duration=None,
        producers=1,
        consumers=1,
        batch=10,
        wait=0.0,
        drain_timeout=0.5,
    )
    return json.loads(text)


def test_a_lost_message_fails_the_run(capsys, monkeypatch):
    report = run_flaky("drop")
    assert report["lost"] == 1
    assert report["received"] == 499
    assert report["drain_timed_out"] is True
    assert report["ok"] is False
    # The command exits 1 and says why.
    monkeypatch.setattr(_bench, "python_driver", lambda target: FlakyDriver("drop"))
    code = main(
        ["bench", "--quiet", "--client", "python", "--target", "embedded", "--messages", "200"]
        + ["--drain-timeout", "500ms", "--wait", "0s"]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED: 1 acknowledged messages never received" in out


def test_duplicates_are_counted_not_failed():
    report = run_flaky("repeat")
    assert report["duplicates"] == 1
    assert report["received"] == 500 and report["lost"] == 0
    assert report["ok"] is True


def test_a_failed_send_that_arrived_is_not_a_loss():
    report = run_flaky("unacknowledged")
    assert report["errors"]["send"] == 1
    assert "the reply was lost" in report["errors"]["samples"][0]
    assert report["sent"] == 490  # the failed batch of 10 does not count as sent...
    assert report["received"] == 500  # ...but its messages arrived
    assert report["received_unacknowledged"] == 10
    assert report["lost"] == 0 and report["ok"] is True


def test_progress_each_second_and_stopping_deletes_queues():
    driver = FlakyDriver("none")
    seen: list[dict] = []

    def progress(p: dict) -> None:
        seen.append(p)
        raise KeyboardInterrupt  # what Ctrl-C raises in the waiting thread

    with pytest.raises(KeyboardInterrupt):
        _core.bench(
            driver,
            workload="rate",
            rate=200,
            duration=30.0,
            producers=1,
            consumers=1,
            batch=1,
            wait=0.0,
            progress=progress,
        )
    assert len(seen) == 1
    p = seen[0]
    assert p["phase"] == "run" and p["elapsed_s"] >= 1.0 and p["sent"] > 0
    assert set(p) >= {"sent", "received", "duplicates", "errors", "send_per_s", "receive_per_s"}
    assert driver.broker.list_queues(PREFIX) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "http://127.0.0.1:1", "--batch", "11"], "--batch 11"),
        (["--target", "embedded", "--batch", "1001"], "--batch must be 1-1000"),
        (["--target", "embedded", "--duration", "soon"], "invalid duration"),
        (["--target", "embedded", "--workload", "rate"], "needs --rate"),
        (["--target", "embedded", "--queues", "3", "--consumers", "2"], "every queue needs"),
        (["--target", "sqs://us-east-1"], "--client python"),
        (["--target", "ftp://x:1"], "expected embedded"),
        (["--target", "embedded", "--producers", "0"], "at least 1"),
        (["--target", "embedded", "--threads", "0"], "at least 1"),
        (["--target", "embedded", "--threads", "2000"], "--threads must be 1-1024"),
        (["--target", "embedded", "--plot", "out.svg"], "FILE.png"),
    ],
)
def test_bad_arguments(capsys, args, message):
    with pytest.raises(SystemExit) as info:
        main(["bench", "--quiet", *args])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_unreachable_target_is_an_error_not_a_hang(capsys):
    code = main(["bench", "--quiet", "--target", "grpc://127.0.0.1:1", "--messages", "10"])
    assert code == 1
    assert "sqsfast bench: error:" in capsys.readouterr().err


def test_duration_syntax():
    parse = _bench.parse_duration
    assert parse("30s") == 30 and parse("2m") == 120 and parse("500ms") == 0.5
    assert parse("1.5") == 1.5 and parse("1h") == 3600


def test_plot_without_matplotlib_says_what_to_install(monkeypatch, tmp_path):
    report = json.loads(_core.bench("embedded", messages=100, duration=None, producers=1))
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SystemExit) as info:
        _bench.plot(report, str(tmp_path / "x.png"))
    assert "pip install matplotlib" in str(info.value)
