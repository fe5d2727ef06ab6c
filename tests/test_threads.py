"""Many threads sharing one Broker and Queue: nothing lost, nothing given to two at once."""

from __future__ import annotations

import collections
import threading
import time

from support import run_threads

PRODUCERS = 4
CONSUMERS = 4
PER_PRODUCER = 250
TOTAL = PRODUCERS * PER_PRODUCER
DEADLINE_S = 20


def counts3(q) -> tuple[int, int, int]:
    c = q.counts()
    return c["visible"], c["in_flight"], c["delayed"]


def producer(q, p: int):
    def run():
        bodies = [f"p{p}-{i}" for i in range(PER_PRODUCER)]
        # Half one by one, half in batches of 10.
        half = PER_PRODUCER // 2
        for body in bodies[:half]:
            q.send(body)
        for start in range(half, PER_PRODUCER, 10):
            results = q.send_batch(bodies[start : start + 10])
            assert all(r.ok for r in results), [r.error for r in results if not r.ok]

    return run


def test_producers_and_consumers_lose_nothing(queue):
    expected = {f"p{p}-{i}" for p in range(PRODUCERS) for i in range(PER_PRODUCER)}
    deleted: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + DEADLINE_S

    def consumer():
        while time.monotonic() < deadline:
            with lock:
                if len(deleted) >= TOTAL:
                    return
            got = queue.receive(10, wait_seconds=1)
            if not got:
                continue
            results = queue.delete_batch(got)
            assert all(r.ok for r in results)
            with lock:
                deleted.update(m.text for m in got)

    run_threads(
        [producer(queue, p) for p in range(PRODUCERS)] + [consumer] * CONSUMERS,
        timeout=DEADLINE_S + 10,
    )
    assert set(deleted) == expected, f"missing {len(expected - set(deleted))}"
    # Visibility timeouts (30 s) are longer than the test: no message may come twice.
    assert max(deleted.values()) == 1
    assert counts3(queue) == (0, 0, 0)
    assert queue.receive(10, visibility_timeout=0) == []


def test_concurrent_receivers_never_share_an_in_flight_message(queue):
    for start in range(0, TOTAL, 10):
        queue.send_batch([f"m{i}" for i in range(start, start + 10)])
    per_thread: list[list[str]] = [[] for _ in range(8)]
    deadline = time.monotonic() + DEADLINE_S

    def receiver(i):
        def run():
            misses = 0
            while time.monotonic() < deadline and misses < 3:
                got = queue.receive(10)
                if not got:
                    misses += 1
                    continue
                misses = 0
                per_thread[i].extend(m.message_id for m in got)

        return run

    run_threads([receiver(i) for i in range(8)], timeout=DEADLINE_S + 10)
    ids = [mid for chunk in per_thread for mid in chunk]
    assert len(ids) == TOTAL
    assert len(set(ids)) == TOTAL, "a message was handed to two receivers"
    assert counts3(queue) == (0, TOTAL, 0)


def test_redelivery_under_concurrency(queue):
    """Consumers give back (change_visibility(0)) every third message on its first receive; every
    message is still deleted exactly once, the given-back ones after a redelivery."""
    for start in range(0, TOTAL, 10):
        queue.send_batch([f"m{i}" for i in range(start, start + 10)])
    deleted: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + DEADLINE_S

    def consumer():
        while time.monotonic() < deadline:
            with lock:
                if len(deleted) >= TOTAL:
                    return
            got = queue.receive(10, wait_seconds=1)
            first_of_third = [m.receive_count == 1 and int(m.text[1:]) % 3 == 0 for m in got]
            keep = [m for m, back in zip(got, first_of_third) if not back]
            give_back = [(m, 0) for m, back in zip(got, first_of_third) if back]
            if give_back:
                assert all(r.ok for r in queue.change_visibility_batch(give_back))
            if keep:
                assert all(r.ok for r in queue.delete_batch(keep))
                with lock:
                    for m in keep:
                        assert m.text not in deleted, f"{m.text} deleted twice"
                        deleted[m.text] = m.receive_count

    run_threads([consumer] * CONSUMERS, timeout=DEADLINE_S + 10)
    assert set(deleted) == {f"m{i}" for i in range(TOTAL)}
    assert all(deleted[f"m{i}"] >= 2 for i in range(0, TOTAL, 3))
    assert counts3(queue) == (0, 0, 0)


def test_concurrent_create_queue_with_one_name(broker, names):
    name = names()
    created = []
    barrier = threading.Barrier(8)

    def create():
        barrier.wait(5)
        q = broker.create_queue(name, visibility_timeout=45)
        created.append(q)
        q.send(f"from {threading.get_ident()}")

    run_threads([create] * 8, timeout=15)
    assert [q.name for q in broker.list_queues(names.prefix)] == [name]
    assert len(created) == 8
    assert counts3(broker.queue(name)) == (8, 0, 0), "every thread got the one queue"


def test_threads_on_many_queues_of_one_broker(broker, names):
    queues = [broker.create_queue(names()) for _ in range(8)]

    def work(q):
        def run():
            for i in range(50):
                q.send(f"{q.name}-{i}")
            got = []
            for _ in range(100):
                batch = q.receive(10)
                if not batch:
                    break
                got.extend(batch)
                q.delete_batch(batch)
            assert sorted(m.text for m in got) == sorted(f"{q.name}-{i}" for i in range(50))

        return run

    run_threads([work(q) for q in queues], timeout=30)
    for q in queues:
        assert counts3(q) == (0, 0, 0)
