"""``sqsfast.aio.connect(url)``: the remote broker for asyncio.

The same methods as ``sqsfast.Broker`` and ``sqsfast.connect()``, awaitable: ``await
broker.create_queue("jobs")``, ``await q.send(b"x")``, ``await q.receive(10, wait_seconds=20)``,
``await m.delete()``. Members that call the server are awaitable too: ``await q.attributes``,
``await q.tags``, ``await broker.account_id``. ``async for m in q.consume()`` streams messages as
they arrive (the ReceiveMessageStream RPC), taking no more from the queue than the loop has
consumed plus one batch. Errors are the same exceptions with the same ``.code``.

    async with sqsfast.aio.connect("grpc://127.0.0.1:9325") as broker:
        q = await broker.create_queue("jobs")
        await q.send("hello")
        async for m in q.consume():
            print(m.text)
            await m.delete()
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from typing import Any

import grpc
import grpc.aio

from sqsfast import _convert as cv
from sqsfast._types import AttributeValue, BatchResult
from sqsfast.client import DEFAULT_URL, MessageFields
from sqsfast.v1 import queue_pb2 as pb
from sqsfast.v1 import queue_pb2_grpc as pb_grpc

_DEADLINE_MARGIN_S = 30.0
_MAX_WAIT_S = 20


def connect(
    url: str = DEFAULT_URL,
    *,
    max_batch: int = cv.SQS_BATCH_LIMIT,
    options: Iterable[tuple[str, Any]] = (),
) -> AsyncBroker:
    """A broker on the sqsfast server at ``url`` (``grpc://host:port``), for asyncio."""
    return AsyncBroker(url, max_batch=max_batch, options=options)


async def _call(method: Any, request: Any, timeout: float | None = None) -> Any:
    try:
        return await method(request, timeout=timeout)
    except grpc.RpcError as e:
        raise cv.from_rpc_error(e) from None


class AsyncBroker:
    """The queues of an sqsfast server, with the methods of ``sqsfast.Broker``, awaitable."""

    __slots__ = ("_channel", "_info", "_stub", "max_batch", "url")

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        max_batch: int = cv.SQS_BATCH_LIMIT,
        options: Iterable[tuple[str, Any]] = (),
    ) -> None:
        if not 1 <= max_batch <= cv.GRPC_BATCH_LIMIT:
            raise ValueError(f"max_batch must be 1 to {cv.GRPC_BATCH_LIMIT}, not {max_batch}")
        target, tls = cv.target_of(url)
        opts = cv.channel_options(options)
        if tls:
            self._channel = grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(), opts)
        else:
            self._channel = grpc.aio.insecure_channel(target, opts)
        self._stub = pb_grpc.QueueServiceStub(self._channel)
        self.url = url
        self.max_batch = max_batch
        self._info: Any = None

    async def _server_info(self) -> Any:
        if self._info is None:
            self._info = await _call(self._stub.GetServerInfo, pb.GetServerInfoRequest())
        return self._info

    @property
    def account_id(self) -> Awaitable[str]:
        """The account id in queue ARNs (the server's): ``await broker.account_id``."""

        async def get() -> str:
            return (await self._server_info()).account_id  # type: ignore[no-any-return]

        return get()

    @property
    def region(self) -> Awaitable[str]:
        """The region in queue ARNs (the server's): ``await broker.region``."""

        async def get() -> str:
            return (await self._server_info()).region  # type: ignore[no-any-return]

        return get()

    def _queue(self, q: Any) -> AsyncQueue:
        return AsyncQueue(self, q.queue_name, q.queue_arn)

    async def _arn_of(self, dlq: object) -> str:
        if isinstance(dlq, AsyncQueue):
            return dlq.arn
        if isinstance(dlq, str):
            info = await self._server_info()
            return f"arn:aws:sqs:{info.region}:{info.account_id}:{dlq}"
        raise TypeError("dead_letter_queue must be a queue name (str) or a Queue")

    async def create_queue(
        self,
        name: str,
        *,
        visibility_timeout: int | None = None,
        message_retention_period: int | None = None,
        delay_seconds: int | None = None,
        receive_wait_time_seconds: int | None = None,
        maximum_message_size: int | None = None,
        dead_letter_queue: str | AsyncQueue | None = None,
        max_receive_count: int | None = None,
        attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> AsyncQueue:
        """Creates a queue, or returns the one of that name if its attributes are the ones given."""
        arn = await self._arn_of(dead_letter_queue) if dead_letter_queue is not None else None
        settings = cv.queue_settings(
            arn_of=lambda _: arn,  # type: ignore[arg-type, return-value]
            current_dead_letter_arn=lambda: None,
            attributes=attributes,
            numbers=cv.number_keywords(
                visibility_timeout,
                message_retention_period,
                delay_seconds,
                receive_wait_time_seconds,
                maximum_message_size,
            ),
            dead_letter_queue=dead_letter_queue,
            max_receive_count=max_receive_count,
        )
        request = pb.CreateQueueRequest(
            queue_name=name,
            attributes=dict(settings),
            tags=dict(cv.str_pairs(tags, "tags")) if tags is not None else {},
        )
        return self._queue((await _call(self._stub.CreateQueue, request)).queue)

    async def queue(self, name: str) -> AsyncQueue:
        """The queue of that name."""
        response = await _call(self._stub.GetQueue, pb.GetQueueRequest(queue_name=name))
        return self._queue(response.queue)

    async def list_queues(self, prefix: str = "") -> list[AsyncQueue]:
        """The queues whose name starts with ``prefix``, sorted by name."""
        request = pb.ListQueuesRequest(queue_name_prefix=prefix)
        return [self._queue(q) for q in (await _call(self._stub.ListQueues, request)).queues]

    async def delete_queue(self, name_or_queue: str | AsyncQueue) -> None:
        """Deletes a queue (by name or ``Queue``) and its messages."""
        request = pb.DeleteQueueRequest(queue_name=_queue_name(name_or_queue))
        await _call(self._stub.DeleteQueue, request)

    async def dead_letter_source_queues(self, name_or_queue: str | AsyncQueue) -> list[AsyncQueue]:
        """The queues whose dead-letter queue is this one, sorted by name."""
        request = pb.ListDeadLetterSourceQueuesRequest(queue_name=_queue_name(name_or_queue))
        response = await _call(self._stub.ListDeadLetterSourceQueues, request)
        return [self._queue(q) for q in response.queues]

    async def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        await self._channel.close()

    async def __aenter__(self) -> AsyncBroker:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncBroker(url={self.url!r})"


def _queue_name(ob: object) -> str:
    if isinstance(ob, AsyncQueue):
        return ob.name
    if isinstance(ob, str):
        return ob
    raise TypeError("expected a queue name (str) or a Queue")


def _handle(ob: object) -> str:
    if isinstance(ob, AsyncMessage):
        return ob.receipt_handle
    if isinstance(ob, str):
        return ob
    raise TypeError("expected a receipt handle (str) or a Message")


class AsyncQueue:
    """A standard queue on a server, with the members of ``sqsfast.Queue``, awaitable."""

    __slots__ = ("_broker", "_stub", "arn", "name")

    def __init__(self, broker: AsyncBroker, name: str, arn: str) -> None:
        self._broker = broker
        self._stub = broker._stub
        self.name = name
        self.arn = arn

    @property
    def broker(self) -> AsyncBroker:
        return self._broker

    @property
    def attributes(self) -> Awaitable[dict[str, str]]:
        """Every SQS attribute: ``await q.attributes``."""
        return self.get_attributes()

    async def get_attributes(self, *names: str) -> dict[str, str]:
        """The attributes of those SQS names (all of them for none, or for ``"All"``)."""
        request = pb.GetQueueAttributesRequest(queue_name=self.name, attribute_names=names)
        response = await _call(self._stub.GetQueueAttributes, request)
        return {a.name: a.value for a in response.attributes}

    async def set_attributes(
        self,
        attributes: Mapping[str, str] | None = None,
        *,
        visibility_timeout: int | None = None,
        message_retention_period: int | None = None,
        delay_seconds: int | None = None,
        receive_wait_time_seconds: int | None = None,
        maximum_message_size: int | None = None,
        dead_letter_queue: str | AsyncQueue | None = None,
        max_receive_count: int | None = None,
    ) -> None:
        """Sets attributes, all or nothing (the keywords of ``create_queue``)."""
        arn = None
        if dead_letter_queue is not None:
            arn = await self._broker._arn_of(dead_letter_queue)
        elif max_receive_count is not None:
            policy = (await self.get_attributes("RedrivePolicy")).get("RedrivePolicy")
            found = json.loads(policy).get("deadLetterTargetArn") if policy else None
            arn = found if isinstance(found, str) else None
        settings = cv.queue_settings(
            arn_of=lambda _: arn,  # type: ignore[arg-type, return-value]
            current_dead_letter_arn=lambda: arn,
            attributes=attributes,
            numbers=cv.number_keywords(
                visibility_timeout,
                message_retention_period,
                delay_seconds,
                receive_wait_time_seconds,
                maximum_message_size,
            ),
            dead_letter_queue=dead_letter_queue,
            max_receive_count=max_receive_count,
        )
        request = pb.SetQueueAttributesRequest(
            queue_name=self.name,
            attributes=[pb.Attribute(name=n, value=v) for n, v in settings],
        )
        await _call(self._stub.SetQueueAttributes, request)

    @property
    def tags(self) -> Awaitable[dict[str, str]]:
        """The queue's tags: ``await q.tags``."""

        async def get() -> dict[str, str]:
            request = pb.ListQueueTagsRequest(queue_name=self.name)
            return dict((await _call(self._stub.ListQueueTags, request)).tags)

        return get()

    async def tag(self, tags: Mapping[str, str]) -> None:
        request = pb.TagQueueRequest(queue_name=self.name, tags=dict(cv.str_pairs(tags, "tags")))
        await _call(self._stub.TagQueue, request)

    async def untag(self, keys: Iterable[str]) -> None:
        request = pb.UntagQueueRequest(queue_name=self.name, tag_keys=cv.strings(keys, "keys"))
        await _call(self._stub.UntagQueue, request)

    async def send(
        self,
        body: bytes | str,
        *,
        delay_seconds: int | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> str:
        """Sends a message; returns its id."""
        request = pb.SendMessageRequest(queue_name=self.name, message_body=cv.body(body))
        if delay_seconds is not None:
            request.delay_seconds = cv.integer(delay_seconds)
        if attributes is not None:
            cv.set_attributes(request.message_attributes, attributes)
        return (await _call(self._stub.SendMessage, request)).message_id  # type: ignore[no-any-return]

    async def send_batch(self, entries: Iterable[Any]) -> list[BatchResult]:
        """Sends up to ``max_batch`` messages: bodies, or dicts."""
        request = pb.SendMessageBatchRequest(
            queue_name=self.name, max_entries=self._broker.max_batch
        )
        out = request.entries
        for i, entry in enumerate(cv.items(entries, "send_batch entries")):
            cv.send_entry(i, entry, out.add())
        return cv.send_batch_results(await _call(self._stub.SendMessageBatch, request))

    async def receive(
        self,
        max_messages: int = 1,
        *,
        wait_seconds: int | None = None,
        visibility_timeout: int | None = None,
    ) -> list[AsyncMessage]:
        """Receives up to ``max_messages`` messages, long-polling up to ``wait_seconds``."""
        request = pb.ReceiveMessageRequest(
            queue_name=self.name,
            max_number_of_messages=cv.integer(max_messages),
            max_entries=self._broker.max_batch,
        )
        if visibility_timeout is not None:
            request.visibility_timeout = cv.integer(visibility_timeout)
        timeout: float | None = _MAX_WAIT_S + _DEADLINE_MARGIN_S
        if wait_seconds is not None:
            request.wait_time_seconds = cv.integer(wait_seconds)
            timeout = wait_seconds + _DEADLINE_MARGIN_S
        response = await _call(self._stub.ReceiveMessage, request, timeout)
        return [AsyncMessage(m, self) for m in response.messages]

    async def consume(
        self,
        *,
        max_messages: int = 10,
        wait_seconds: int | None = 20,
        visibility_timeout: int | None = None,
    ) -> AsyncIterator[AsyncMessage]:
        """An endless stream of messages, pushed by the server as they arrive.

        The server takes at most ``max_messages`` more from the queue than this loop has
        consumed. ``wait_seconds`` is accepted for the interface of ``Queue.consume``; a stream
        has no end to wait for.
        """
        del wait_seconds
        first = pb.ReceiveMessageStreamRequest(
            queue_name=self.name,
            max_number_of_messages=cv.integer(max_messages),
            credit=max(0, cv.integer(max_messages)),
        )
        if visibility_timeout is not None:
            first.visibility_timeout = cv.integer(visibility_timeout)
        call = self._stub.ReceiveMessageStream()
        try:
            await call.write(first)
            while True:
                response = await call.read()
                if response is grpc.aio.EOF:
                    return
                for m in response.messages:
                    yield AsyncMessage(m, self)
                await call.write(pb.ReceiveMessageStreamRequest(credit=len(response.messages)))
        except grpc.RpcError as e:
            raise cv.from_rpc_error(e) from None
        finally:
            call.cancel()

    async def delete(self, receipt_handle: str | AsyncMessage) -> None:
        request = pb.DeleteMessageRequest(
            queue_name=self.name, receipt_handle=_handle(receipt_handle)
        )
        await _call(self._stub.DeleteMessage, request)

    async def change_visibility(self, receipt_handle: str | AsyncMessage, seconds: int) -> None:
        request = pb.ChangeMessageVisibilityRequest(
            queue_name=self.name,
            receipt_handle=_handle(receipt_handle),
            visibility_timeout=cv.integer(seconds),
        )
        await _call(self._stub.ChangeMessageVisibility, request)

    async def delete_batch(self, items: Iterable[str | AsyncMessage]) -> list[BatchResult]:
        handles = [_handle(item) for item in cv.items(items, "delete_batch items")]
        request = pb.DeleteMessageBatchRequest(
            queue_name=self.name, max_entries=self._broker.max_batch
        )
        for i, h in enumerate(handles):
            request.entries.add(id=str(i), receipt_handle=h)
        return cv.unit_batch_results(await _call(self._stub.DeleteMessageBatch, request))

    async def change_visibility_batch(
        self, items: Iterable[tuple[str | AsyncMessage, int]]
    ) -> list[BatchResult]:
        request = pb.ChangeMessageVisibilityBatchRequest(
            queue_name=self.name, max_entries=self._broker.max_batch
        )
        for i, item in enumerate(cv.items(items, "change_visibility_batch items")):
            try:
                handle, seconds = item
            except (TypeError, ValueError):
                raise TypeError(
                    "change_visibility_batch items must be (Message or receipt handle, seconds)"
                ) from None
            request.entries.add(
                id=str(i), receipt_handle=_handle(handle), visibility_timeout=cv.integer(seconds)
            )
        return cv.unit_batch_results(await _call(self._stub.ChangeMessageVisibilityBatch, request))

    async def purge(self) -> None:
        await _call(self._stub.PurgeQueue, pb.PurgeQueueRequest(queue_name=self.name))

    async def counts(self) -> dict[str, int]:
        request = pb.GetQueueCountsRequest(queue_name=self.name)
        return cv.counts(await _call(self._stub.GetQueueCounts, request))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AsyncQueue):
            return NotImplemented
        return self._broker is other._broker and self.name == other.name

    def __hash__(self) -> int:
        return hash((id(self._broker), self.name))

    def __repr__(self) -> str:
        return f"Queue(name='{self.name}', arn='{self.arn}')"


class AsyncMessage(MessageFields):
    """One receive of a message, with the members of ``sqsfast.Message``; ``delete()`` and
    ``change_visibility()`` are awaitable."""

    __slots__ = ()
    _queue: AsyncQueue

    @property
    def queue(self) -> AsyncQueue:
        return self._queue

    async def delete(self) -> None:
        """Deletes the message, by this receive's handle."""
        await self._queue.delete(self._m.receipt_handle)

    async def change_visibility(self, seconds: int) -> None:
        """Makes the message invisible for ``seconds`` from now (0: visible now)."""
        await self._queue.change_visibility(self._m.receipt_handle, seconds)


__all__ = ["AsyncBroker", "AsyncMessage", "AsyncQueue", "connect"]
