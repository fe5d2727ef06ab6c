"""``Queue.consume``: an endless, long-polling iterator of messages, over ``Queue.receive``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqsfast._core import Message, Queue

#: How long to pause after an empty receive that did not wait (``wait_seconds=0``, or ``None`` on a
#: queue without long polling), so that consuming an empty queue does not spin a core.
_IDLE_PAUSE_S = 0.05


def consume(
    queue: Queue, max_messages: int, wait_seconds: int | None, visibility_timeout: int | None
) -> Iterator[Message]:
    """Yields messages as they arrive, receiving up to ``max_messages`` at a time, forever.

    Messages received but not yet yielded when the caller stops iterating stay in flight until their
    visibility timeout ends, then are delivered again, as with any receive.
    """
    while True:
        started = time.monotonic()
        got = queue.receive(
            max_messages, wait_seconds=wait_seconds, visibility_timeout=visibility_timeout
        )
        if got:
            yield from got
        elif time.monotonic() - started < _IDLE_PAUSE_S:
            time.sleep(_IDLE_PAUSE_S)
