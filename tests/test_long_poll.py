"""Long polling: wait_seconds, the queue's ReceiveMessageWaitTimeSeconds, consume(), Ctrl-C.

A few tests bound how long a wait took, loosely (seconds against a 10-20 s wait): the behaviour
under test is that a long poll returns when a message arrives, or when interrupted, rather than
when its wait ends.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time

import pytest
from support import raises, run_threads


def send_later(q, body, delay=0.2):
    t = threading.Timer(delay, q.send, args=(body,))
    t.daemon = True
    t.start()
    return t


def test_receive_waits_for_a_message_sent_from_another_thread(queue):
    sender = send_later(queue, "arrived")
    start = time.monotonic()
    got = queue.receive(wait_seconds=20)
    elapsed = time.monotonic() - start
    sender.join(5)
    assert [m.text for m in got] == ["arrived"]
    assert elapsed < 10, f"returned after {elapsed:.1f}s: not when the message arrived"


def test_waiting_thread_gets_message_sent_from_main_thread(queue):
    results = []
    waiter = threading.Thread(target=lambda: results.append(queue.receive(wait_seconds=20)))
    start = time.monotonic()
    waiter.start()
    time.sleep(0.2)
    queue.send("to the waiter")
    waiter.join(15)
    elapsed = time.monotonic() - start
    assert not waiter.is_alive()
    assert [[m.text for m in r] for r in results] == [["to the waiter"]]
    assert elapsed < 10


def test_queue_wait_time_is_the_default(broker, names):
    q = broker.create_queue(names(), receive_wait_time_seconds=20)
    sender = send_later(q, "via queue default")
    got = q.receive()  # wait_seconds=None: the queue's 20 s
    sender.join(5)
    assert [m.text for m in got] == ["via queue default"]


def test_wait_seconds_zero_overrides_queue_wait(broker, names):
    q = broker.create_queue(names(), receive_wait_time_seconds=20)
    start = time.monotonic()
    assert q.receive(wait_seconds=0) == []
    assert time.monotonic() - start < 10, "wait_seconds=0 must not wait for the queue's 20 s"


def test_long_poll_returns_empty_when_wait_ends(queue):
    start = time.monotonic()
    assert queue.receive(10, wait_seconds=1) == []
    assert time.monotonic() - start >= 0.5, "it did not wait"


def test_long_poll_returns_immediately_when_messages_are_there(queue):
    queue.send("ready")
    start = time.monotonic()
    [m] = queue.receive(wait_seconds=20)
    assert m.text == "ready"
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("seconds", [21, -1, 100])
def test_wait_seconds_out_of_range(queue, seconds):
    queue.send("x")
    with raises("InvalidParameterValue"):
        queue.receive(wait_seconds=seconds)
    assert queue.counts()["visible"] == 1


def test_many_waiters_each_get_a_message(queue):
    n = 8
    results: list[list] = [[] for _ in range(n)]
    ready = threading.Barrier(n + 1)

    def waiter(i):
        ready.wait(5)
        results[i] = queue.receive(wait_seconds=15)

    threads = [threading.Thread(target=waiter, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    ready.wait(5)
    time.sleep(0.2)
    for i in range(n):
        queue.send(f"m{i}")
    for t in threads:
        t.join(20)
    assert not any(t.is_alive() for t in threads)
    assert sorted(m.text for r in results for m in r) == sorted(f"m{i}" for i in range(n))
    assert all(len(r) == 1 for r in results)


# ---- consume -------------------------------------------------------------------------------------


def test_consume_yields_messages(queue):
    for i in range(5):
        queue.send(f"m{i}")
    it = queue.consume(wait_seconds=1)
    assert iter(it) is it
    got = list(itertools.islice(it, 5))
    assert sorted(m.text for m in got) == [f"m{i}" for i in range(5)]
    for m in got:
        m.delete()
    c = queue.counts()
    assert (c["visible"], c["in_flight"]) == (0, 0)


def test_consume_waits_for_later_messages(queue):
    it = queue.consume(max_messages=10, wait_seconds=20)
    timer = threading.Timer(0.2, lambda: queue.send_batch(["a", "b", "c"]))
    timer.daemon = True
    timer.start()
    got = list(itertools.islice(it, 3))
    timer.join(5)
    assert sorted(m.text for m in got) == ["a", "b", "c"]


def test_consume_keeps_polling_past_empty_waits(queue):
    """An endless iterator: an empty long poll does not end it."""
    it = queue.consume(wait_seconds=1)
    timer = threading.Timer(1.5, queue.send, args=("after an empty poll",))
    timer.daemon = True
    timer.start()
    m = next(it)
    timer.join(5)
    assert m.text == "after an empty poll"


def test_consume_uses_visibility_timeout(queue):
    queue.send("x")
    it = queue.consume(wait_seconds=1, visibility_timeout=0)
    first = next(it)
    second = next(it)
    assert first.message_id == second.message_id
    assert second.receive_count == first.receive_count + 1


def test_consume_in_threads(queue):
    """Several consumers share the work; every message is consumed."""
    total = 40
    queue.send_batch([f"m{i}" for i in range(10)])
    for start in range(10, total, 10):
        queue.send_batch([f"m{i}" for i in range(start, start + 10)])
    seen: set[str] = set()
    lock = threading.Lock()
    deadline = time.monotonic() + 15

    def consumer():
        for m in queue.consume(max_messages=1, wait_seconds=1):
            if m.text.startswith("stop"):
                return
            with lock:
                seen.add(m.text)
            m.delete()
            with lock:
                if len(seen) >= total or time.monotonic() > deadline:
                    return

    # A consumer blocked in consume() only returns with its next message: once every message was
    # seen, send one stop message per consumer.
    def finisher():
        while time.monotonic() < deadline:
            with lock:
                if len(seen) >= total:
                    break
            time.sleep(0.05)
        queue.send_batch([f"stop{i}" for i in range(4)])

    run_threads([consumer] * 4 + [finisher], timeout=20)
    assert {f"m{i}" for i in range(total)} <= seen


# ---- Ctrl-C --------------------------------------------------------------------------------------


@pytest.fixture
def sigint_soon():
    """Sends SIGINT to the main thread after a short delay, with Python's default handler."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread only")
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    main = threading.main_thread().ident
    timer = threading.Timer(0.3, signal.pthread_kill, args=(main, signal.SIGINT))
    timer.daemon = True
    try:
        yield timer
    finally:
        timer.cancel()
        timer.join(5)
        signal.signal(signal.SIGINT, old)


def test_ctrl_c_interrupts_a_long_poll(queue, sigint_soon):
    start = time.monotonic()
    sigint_soon.start()
    with pytest.raises(KeyboardInterrupt):
        queue.receive(wait_seconds=20)
    elapsed = time.monotonic() - start
    assert elapsed < 10, f"interrupted only after {elapsed:.1f}s, when the wait ended"
    # The queue still works afterwards.
    queue.send("after")
    assert [m.text for m in queue.receive()] == ["after"]


def test_ctrl_c_interrupts_consume(queue, sigint_soon):
    start = time.monotonic()
    sigint_soon.start()
    with pytest.raises(KeyboardInterrupt):
        for _ in queue.consume(wait_seconds=20):
            pass
    assert time.monotonic() - start < 10
