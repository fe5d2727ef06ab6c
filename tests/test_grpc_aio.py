"""The asyncio client, `sqsfast.aio.connect(url)`: awaitable methods, the same exceptions, and
`async for m in q.consume()` over the streaming receive."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import pytest_asyncio
import sqsfast
import sqsfast.aio

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def abroker(server):
    async with sqsfast.aio.connect(server.grpc_url) as b:
        yield b


def unique(label: str = "q") -> str:
    return f"aio-{label}-{uuid.uuid4().hex[:12]}"


async def test_send_receive_delete(abroker):
    q = await abroker.create_queue(unique(), visibility_timeout=60, tags={"t": "1"})
    message_id = await q.send("hello", attributes={"n": 3, "b": b"\x01"})
    [m] = await q.receive(wait_seconds=1)
    assert (m.message_id, m.text, m.receive_count) == (message_id, "hello", 1)
    assert m.attributes == {"n": 3, "b": b"\x01"}
    assert m.queue == q
    await m.delete()
    assert (await q.counts())["in_flight"] == 0
    assert (await q.attributes)["VisibilityTimeout"] == "60"
    assert await q.tags == {"t": "1"}
    assert await abroker.account_id == "000000000000"
    assert [x.name for x in await abroker.list_queues(q.name)] == [q.name]


async def test_batches_and_errors(abroker):
    q = await abroker.create_queue(unique())
    results = await q.send_batch(["a", "bad \x00", {"id": "x", "body": "c"}])
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, sqsfast.InvalidMessageContents)
    got = await q.receive(10)
    assert sorted(m.text for m in got) == ["a", "c"]
    assert all(r.ok for r in await q.change_visibility_batch([(m, 0) for m in got]))
    got = await q.receive(10)
    assert all(r.ok for r in await q.delete_batch(got))
    with pytest.raises(sqsfast.QueueDoesNotExist) as info:
        await abroker.queue(unique("missing"))
    assert info.value.code == "QueueDoesNotExist"
    with pytest.raises(sqsfast.TooManyEntriesInBatchRequest):
        await q.send_batch([str(i) for i in range(11)])
    with pytest.raises(TypeError):
        await q.send(42)  # type: ignore[arg-type]


async def test_long_poll_returns_when_a_message_arrives(abroker):
    q = await abroker.create_queue(unique())
    waiter = asyncio.ensure_future(q.receive(wait_seconds=20))
    await asyncio.sleep(0.2)
    assert not waiter.done()
    await q.send("arrived")
    got = await asyncio.wait_for(waiter, 10)
    assert [m.text for m in got] == ["arrived"]


async def test_concurrent_long_polls_each_get_a_message(abroker):
    q = await abroker.create_queue(unique())
    waiters = [asyncio.ensure_future(q.receive(wait_seconds=15)) for _ in range(5)]
    await asyncio.sleep(0.2)
    await q.send_batch([f"m{i}" for i in range(5)])
    results = await asyncio.wait_for(asyncio.gather(*waiters), 20)
    assert sorted(m.text for r in results for m in r) == [f"m{i}" for i in range(5)]


async def test_consume_streams_messages_as_they_arrive(abroker):
    q = await abroker.create_queue(unique())
    await q.send_batch([f"m{i}" for i in range(3)])

    async def later():
        await asyncio.sleep(0.2)
        await q.send_batch([f"m{i}" for i in range(3, 6)])

    sender = asyncio.ensure_future(later())
    seen = []

    async def take():
        async for m in q.consume(max_messages=2):
            seen.append(m.text)
            await m.delete()
            if len(seen) == 6:
                return

    await asyncio.wait_for(take(), 10)
    await sender
    assert sorted(seen) == [f"m{i}" for i in range(6)]
    c = await q.counts()
    assert (c["visible"], c["in_flight"]) == (0, 0)


async def test_consume_takes_no_more_than_its_credit(abroker):
    """Flow control: a consumer that stops after one message leaves the rest of the queue alone
    (at most one batch, max_messages, was taken in flight)."""
    q = await abroker.create_queue(unique())
    await q.send_batch([f"m{i}" for i in range(10)])
    async for m in q.consume(max_messages=2):
        assert m.text.startswith("m")
        break
    await asyncio.sleep(0.3)
    c = await q.counts()
    assert c["in_flight"] <= 2
    assert c["visible"] >= 8


async def test_consume_of_a_missing_queue_raises(abroker):
    q = sqsfast.aio.AsyncQueue(abroker, unique("gone"), "arn:aws:sqs:us-east-1:000000000000:gone")
    with pytest.raises(sqsfast.QueueDoesNotExist):
        async for _ in q.consume():
            pass
