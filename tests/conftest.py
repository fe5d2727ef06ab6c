"""Fixtures of the embedded-API suite.

Every test talks to a broker through the one fixture `broker`, parametrised by backend. Today
the only backend is the in-process engine (`sqsfast.Broker()`); a server-backed broker
(`sqsfast.connect(url)`) is meant to join BACKENDS later and run the same tests unchanged. Tests
therefore use unique queue names (the `names` fixture) and never assume the broker is empty.
"""

from __future__ import annotations

import itertools
import uuid

import pytest
import sqsfast

BACKENDS = ["embedded"]


@pytest.fixture(params=BACKENDS)
def broker(request):
    """A fresh broker per test."""
    if request.param == "embedded":
        return sqsfast.Broker()
    raise NotImplementedError(f"backend {request.param!r}")  # pragma: no cover


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
