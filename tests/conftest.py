"""Fixtures of the embedded-API suite.

Every test talks to a broker through the one fixture `broker`, parametrised by backend: the
in-process engine (`sqsfast.Broker()`), and a real `sqsfast serve` process reached over gRPC
(`sqsfast.connect(url)`), one server for the whole session. The same tests run unchanged on both:
they use unique queue names (the `names` fixture) and never assume the broker is empty. A test that
inherently needs the in-process broker skips the remote backend with its reason (`embedded_only`).
"""

from __future__ import annotations

import itertools
import uuid

import pytest
import sqsfast
from support import Server, start_server

BACKENDS = ["embedded", "grpc"]


@pytest.fixture(scope="session")
def server():
    """One `sqsfast serve --http-port 0 --grpc-port 0` process for the session."""
    s = start_server()
    yield s
    s.stop()


@pytest.fixture(params=BACKENDS)
def broker(request):
    """A fresh broker per test (on the gRPC backend: a new connection to the session's server)."""
    if request.param == "embedded":
        yield sqsfast.Broker()
    elif request.param == "grpc":
        server: Server = request.getfixturevalue("server")
        with sqsfast.connect(server.grpc_url) as remote:
            yield remote
    else:  # pragma: no cover
        raise NotImplementedError(f"backend {request.param!r}")


def embedded_only(broker, reason: str) -> None:
    """Skips the test on a remote broker, for `reason`."""
    if not isinstance(broker, sqsfast.Broker):
        pytest.skip(f"needs the in-process broker: {reason}")


class Names:
    """Unique queue names sharing one per-test prefix (list_queues(prefix) sees only ours)."""

    def __init__(self) -> None:
        self.prefix = "t" + uuid.uuid4().hex[:12]
        self._counter = itertools.count()

    def __call__(self, label: str = "q") -> str:
        return f"{self.prefix}-{label}-{next(self._counter)}"


@pytest.fixture
def names() -> Names:
    return Names()


@pytest.fixture
def queue(broker, names):
    """A queue with every attribute at its default."""
    return broker.create_queue(names())
