"""Helpers shared by the tests (importable because tests/ is on sys.path under pytest)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import sqsfast

# Every exception class of the API, by SQS error code (docs/python.md, "Errors").
ERROR_CODES = [
    "QueueDoesNotExist",
    "QueueNameExists",
    "QueueDeletedRecently",
    "PurgeQueueInProgress",
    "ReceiptHandleIsInvalid",
    "MessageNotInflight",
    "TooManyEntriesInBatchRequest",
    "EmptyBatchRequest",
    "BatchEntryIdsNotDistinct",
    "BatchRequestTooLong",
    "InvalidBatchEntryId",
    "UnsupportedOperation",
    "OverLimit",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "InvalidMessageContents",
    "InvalidIdFormat",
    "InvalidParameterValue",
    "MissingParameter",
    "InternalFailure",
    "ServiceUnavailable",
]

KIB = 1024
MIB = 1024 * 1024


@contextlib.contextmanager
def raises(code: str):
    """Like pytest.raises(sqsfast.<code>), and checks the instance carries that SQS code."""
    cls = getattr(sqsfast, code)
    with pytest.raises(cls) as info:
        yield info
    err = info.value
    assert isinstance(err, sqsfast.SqsfastError)
    assert err.code == code, f"raised {type(err).__name__} with .code {err.code!r}"
    assert isinstance(err.message, str) and err.message


def receive_n(q, n: int, *, timeout: float = 5.0, **kwargs) -> list:
    """Receives until `n` messages arrived or `timeout` seconds passed (bounded in calls too)."""
    got: list = []
    deadline = time.monotonic() + timeout
    for _ in range(10_000):
        if len(got) >= n or time.monotonic() >= deadline:
            break
        got.extend(q.receive(min(10, n - len(got)), **kwargs))
    return got


def run_threads(targets, *, timeout: float = 30.0) -> None:
    """Runs callables in threads; re-raises the first exception of any; fails if one hangs."""
    errors: list[BaseException] = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        return run

    threads = [threading.Thread(target=wrap(fn), daemon=True) for fn in targets]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "a thread did not finish in time"
    if errors:
        raise errors[0]


def md5_of_attributes(attributes: dict[str, tuple[str, str | bytes]]) -> str:
    """MD5OfMessageAttributes computed as SQS documents it, from {name: (data_type, value)}."""

    def put(buf: bytearray, data: bytes) -> None:
        buf += struct.pack(">I", len(data))
        buf += data

    buf = bytearray()
    for name in sorted(attributes):
        data_type, value = attributes[name]
        put(buf, name.encode())
        put(buf, data_type.encode())
        if isinstance(value, bytes):
            buf.append(2)
            put(buf, value)
        else:
            buf.append(1)
            put(buf, value.encode())
    return hashlib.md5(bytes(buf)).hexdigest()


# ---- a real server -------------------------------------------------------------------------------

_LISTEN = re.compile(r"^sqsfast: (SQS HTTP API|gRPC) on (\w+)://(\S+)$")


class Server:
    """A running `sqsfast serve` process and the addresses it printed."""

    def __init__(
        self,
        proc: subprocess.Popen,
        http: str,
        grpc: str,
        output: list[str],
        data_dir: tempfile.TemporaryDirectory[str] | None = None,
    ) -> None:
        self.proc = proc
        self.http_url = http
        self.grpc_url = grpc
        self.output = output
        self._data_dir = data_dir

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 30) -> int:
        """Waits for the process to exit; returns its exit status. Collects the rest of stdout."""
        out, _ = self.proc.communicate(timeout=timeout)
        self.output.extend(out.splitlines())
        return self.proc.returncode

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                return self.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._data_dir is not None:
            self._data_dir.cleanup()
        return self.proc.returncode


def start_server(*args: str, timeout: float = 30) -> Server:
    """Starts `sqsfast serve` on free ports (port 0) and waits until it printed where it listens."""
    cmd = [sys.executable, "-m", "sqsfast.cli", "serve", "--http-port", "0", "--grpc-port", "0"]
    data_dir = None
    if "--data-dir" not in args and "--in-memory" not in args:
        # Durable, as `sqsfast serve` is by default, in a directory of the test's own.
        data_dir = tempfile.TemporaryDirectory(prefix="sqsfast-test-")
        args = ("--data-dir", data_dir.name, *args)
    proc = subprocess.Popen(
        [*cmd, *args],
        stdout=subprocess.PIPE,
        stderr=None,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    urls: dict[str, str] = {}
    output: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while len(urls) < 2:
        line = proc.stdout.readline()
        if not line:
            proc.wait(10)
            if data_dir is not None:
                data_dir.cleanup()
            raise RuntimeError(f"sqsfast serve exited with {proc.returncode} before listening")
        output.append(line.rstrip("\n"))
        m = _LISTEN.match(line.strip())
        if m:
            urls[m.group(1)] = f"{m.group(2)}://{m.group(3)}"
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("sqsfast serve did not print its addresses in time")
    return Server(proc, urls["SQS HTTP API"], urls["gRPC"], output, data_dir)
