"""``sqsfast.connect(url)``: a broker on a server, over gRPC, with the API of ``sqsfast.Broker``.

Code written against the embedded broker runs against a server by changing the line that makes the
broker: the same methods, the same ``Queue`` and ``Message`` members, the same exceptions with the
same ``.code``. One gRPC channel per broker, shared by its queues and safe to use from many threads.

``max_batch`` (default 10, as in SQS) is the most entries a batch call and messages a receive may
have; the server takes up to 1000 (``connect(url, max_batch=1000)``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import grpc

from sqsfast import _convert as cv
from sqsfast._consume import consume as _consume
from sqsfast._types import AttributeValue, BatchResult
from sqsfast.v1 import queue_pb2 as pb
from sqsfast.v1 import queue_pb2_grpc as pb_grpc

#: Where ``connect()`` goes without a URL: ``sqsfast serve``'s default.
DEFAULT_URL = "grpc://127.0.0.1:9325"
#: Extra time a long poll's deadline allows beyond its wait.
_DEADLINE_MARGIN_S = 30.0
#: The longest wait a receive can have (ReceiveMessageWaitTimeSeconds at most).
_MAX_WAIT_S = 20


def connect(
    url: str = DEFAULT_URL,
    *,
    max_batch: int = cv.SQS_BATCH_LIMIT,
    options: Iterable[tuple[str, Any]] = (),
) -> RemoteBroker:
    """A broker on the sqsfast server at ``url`` (``grpc://host:port``).

    The connection is made lazily; the first call that cannot reach the server raises
    ``sqsfast.ServiceUnavailable``. ``options`` are extra grpc channel options.
    """
    return RemoteBroker(url, max_batch=max_batch, options=options)


class RemoteBroker:
    """The queues of an sqsfast server, with the methods of ``sqsfast.Broker``."""

    __slots__ = ("_account_id", "_channel", "_region", "_stub", "max_batch", "url")

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
            self._channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(), opts)
        else:
            self._channel = grpc.insecure_channel(target, opts)
        self._stub = pb_grpc.QueueServiceStub(self._channel)
        self.url = url
        self.max_batch = max_batch
        self._account_id: str | None = None
        self._region: str | None = None

    # -- plumbing

    def _call(self, method: Any, request: Any, timeout: float | None = None) -> Any:
        try:
            return method(request, timeout=timeout)
        except grpc.RpcError as e:
            raise cv.from_rpc_error(e) from None

    def _info(self) -> None:
        info = self._call(self._stub.GetServerInfo, pb.GetServerInfoRequest())
        self._account_id, self._region = info.account_id, info.region

    def _queue(self, q: Any) -> RemoteQueue:
        return RemoteQueue(self, q.queue_name, q.queue_arn, q.receive_message_wait_time_seconds)

    def _arn(self, name: str) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account_id}:{name}"

    def _arn_of(self, dlq: object) -> str:
        if isinstance(dlq, RemoteQueue):
            return dlq.arn
        if isinstance(dlq, str):
            return self._arn(dlq)
        raise TypeError("dead_letter_queue must be a queue name (str) or a Queue")

    # -- the API of sqsfast.Broker

    @property
    def account_id(self) -> str:
        """The account id in queue ARNs (the server's)."""
        if self._account_id is None:
            self._info()
        return self._account_id  # type: ignore[return-value]

    @property
    def region(self) -> str:
        """The region in queue ARNs (the server's)."""
        if self._region is None:
            self._info()
        return self._region  # type: ignore[return-value]

    def create_queue(
        self,
        name: str,
        *,
        visibility_timeout: int | None = None,
        message_retention_period: int | None = None,
        delay_seconds: int | None = None,
        receive_wait_time_seconds: int | None = None,
        maximum_message_size: int | None = None,
        dead_letter_queue: str | RemoteQueue | None = None,
        max_receive_count: int | None = None,
        attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RemoteQueue:
        """Creates a queue, or returns the one of that name if its attributes are the ones given."""
        settings = cv.queue_settings(
            arn_of=self._arn_of,
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
        return self._queue(self._call(self._stub.CreateQueue, request).queue)

    def queue(self, name: str) -> RemoteQueue:
        """The queue of that name."""
        return self._queue(
            self._call(self._stub.GetQueue, pb.GetQueueRequest(queue_name=name)).queue
        )

    def list_queues(self, prefix: str = "") -> list[RemoteQueue]:
        """The queues whose name starts with ``prefix``, sorted by name."""
        response = self._call(self._stub.ListQueues, pb.ListQueuesRequest(queue_name_prefix=prefix))
        return [self._queue(q) for q in response.queues]

    def delete_queue(self, name_or_queue: str | RemoteQueue) -> None:
        """Deletes a queue (by name or ``Queue``) and its messages."""
        request = pb.DeleteQueueRequest(queue_name=_queue_name(name_or_queue))
        self._call(self._stub.DeleteQueue, request)

    def dead_letter_source_queues(self, name_or_queue: str | RemoteQueue) -> list[RemoteQueue]:
        """The queues whose dead-letter queue is this one, sorted by name."""
        request = pb.ListDeadLetterSourceQueuesRequest(queue_name=_queue_name(name_or_queue))
        response = self._call(self._stub.ListDeadLetterSourceQueues, request)
        return [self._queue(q) for q in response.queues]

    # -- connection

    def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        self._channel.close()

    def __enter__(self) -> RemoteBroker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RemoteBroker(url={self.url!r})"


def _queue_name(ob: object) -> str:
    if isinstance(ob, RemoteQueue):
        return ob.name
    if isinstance(ob, str):
        return ob
    raise TypeError("expected a queue name (str) or a Queue")


def _handle(ob: object) -> str:
    if isinstance(ob, RemoteMessage):
        return ob.receipt_handle
    if isinstance(ob, str):
        return ob
    raise TypeError("expected a receipt handle (str) or a Message")


class RemoteQueue:
    """A standard queue on a server, with the members of ``sqsfast.Queue``. Equal to another
    ``Queue`` of the same broker and name."""

    __slots__ = ("_broker", "_call", "_stub", "_wait", "arn", "name")

    def __init__(self, broker: RemoteBroker, name: str, arn: str, wait: int | None = None) -> None:
        self._broker = broker
        self._stub = broker._stub
        self._call = broker._call
        self.name = name
        self.arn = arn
        # The queue's ReceiveMessageWaitTimeSeconds as last seen (None: unknown). It only picks
        # how a receive without wait_seconds is made; the server applies the current value.
        self._wait = wait

    @property
    def broker(self) -> RemoteBroker:
        """The broker this queue belongs to."""
        return self._broker

    # -- attributes and tags

    @property
    def attributes(self) -> dict[str, str]:
        """Every SQS attribute, values as strings."""
        return self.get_attributes()

    def get_attributes(self, *names: str) -> dict[str, str]:
        """The attributes of those SQS names (all of them for none, or for ``"All"``)."""
        request = pb.GetQueueAttributesRequest(queue_name=self.name, attribute_names=names)
        response = self._call(self._stub.GetQueueAttributes, request)
        return {a.name: a.value for a in response.attributes}

    def _current_dead_letter_arn(self) -> str | None:
        import json

        policy = self.get_attributes("RedrivePolicy").get("RedrivePolicy")
        if not policy:
            return None
        arn = json.loads(policy).get("deadLetterTargetArn")
        return arn if isinstance(arn, str) else None

    def set_attributes(
        self,
        attributes: Mapping[str, str] | None = None,
        *,
        visibility_timeout: int | None = None,
        message_retention_period: int | None = None,
        delay_seconds: int | None = None,
        receive_wait_time_seconds: int | None = None,
        maximum_message_size: int | None = None,
        dead_letter_queue: str | RemoteQueue | None = None,
        max_receive_count: int | None = None,
    ) -> None:
        """Sets attributes, all or nothing: raw SQS names in ``attributes``, or the keywords of
        ``create_queue``."""
        settings = cv.queue_settings(
            arn_of=self._broker._arn_of,
            current_dead_letter_arn=self._current_dead_letter_arn,
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
        self._call(self._stub.SetQueueAttributes, request)
        if any(n == "ReceiveMessageWaitTimeSeconds" for n, _ in settings):
            self._wait = None

    @property
    def tags(self) -> dict[str, str]:
        """The queue's tags."""
        response = self._call(
            self._stub.ListQueueTags, pb.ListQueueTagsRequest(queue_name=self.name)
        )
        return dict(response.tags)

    def tag(self, tags: Mapping[str, str]) -> None:
        """Adds or replaces tags."""
        request = pb.TagQueueRequest(queue_name=self.name, tags=dict(cv.str_pairs(tags, "tags")))
        self._call(self._stub.TagQueue, request)

    def untag(self, keys: Iterable[str]) -> None:
        """Removes tags by key; absent keys are ignored."""
        request = pb.UntagQueueRequest(queue_name=self.name, tag_keys=cv.strings(keys, "keys"))
        self._call(self._stub.UntagQueue, request)

    # -- messages

    def send(
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
        return self._call(self._stub.SendMessage, request).message_id  # type: ignore[no-any-return]

    def send_batch(self, entries: Iterable[Any]) -> list[BatchResult]:
        """Sends up to ``max_batch`` messages: bodies, or dicts with ``id``, ``body``,
        ``delay_seconds``, ``attributes``."""
        entries = cv.items(entries, "send_batch entries")
        request = pb.SendMessageBatchRequest(
            queue_name=self.name, max_entries=self._broker.max_batch
        )
        out = request.entries
        for i, entry in enumerate(entries):
            cv.send_entry(i, entry, out.add())
        return cv.send_batch_results(self._call(self._stub.SendMessageBatch, request))

    def receive(
        self,
        max_messages: int = 1,
        *,
        wait_seconds: int | None = None,
        visibility_timeout: int | None = None,
    ) -> list[RemoteMessage]:
        """Receives up to ``max_messages`` messages, long-polling up to ``wait_seconds``."""
        request = pb.ReceiveMessageRequest(
            queue_name=self.name,
            max_number_of_messages=cv.integer(max_messages),
            max_entries=self._broker.max_batch,
        )
        if visibility_timeout is not None:
            request.visibility_timeout = cv.integer(visibility_timeout)
        if wait_seconds is None:
            may_wait = self._wait != 0
            timeout: float | None = _MAX_WAIT_S + _DEADLINE_MARGIN_S
        else:
            request.wait_time_seconds = cv.integer(wait_seconds)
            may_wait = wait_seconds != 0
            timeout = wait_seconds + _DEADLINE_MARGIN_S if may_wait else None
        if may_wait:
            response = self._long_poll(request, timeout)
        else:
            # Cannot wait: the plain blocking call, cheaper than a future.
            response = self._call(self._stub.ReceiveMessage, request, timeout)
        return [RemoteMessage(m, self) for m in response.messages]

    def _long_poll(self, request: Any, timeout: float | None) -> Any:
        # A call that may wait runs as a future: the wait wakes for signals (Ctrl-C), and the call
        # is cancelled when one raises, so that the server does not go on to take a message for a
        # caller that is gone. (A blocking call would be interrupted but not cancelled.)
        future = self._stub.ReceiveMessage.future(request, timeout=timeout)
        try:
            return future.result()
        except grpc.RpcError as e:
            raise cv.from_rpc_error(e) from None
        except BaseException:
            future.cancel()
            raise

    def consume(
        self,
        *,
        max_messages: int = 10,
        wait_seconds: int | None = 20,
        visibility_timeout: int | None = None,
    ) -> Iterator[RemoteMessage]:
        """An endless iterator of messages, long-polling ``wait_seconds`` at a time."""
        return _consume(self, max_messages, wait_seconds, visibility_timeout)  # type: ignore[arg-type, return-value]

    def delete(self, receipt_handle: str | RemoteMessage) -> None:
        """Deletes the message received with this receipt handle (or this ``Message``)."""
        request = pb.DeleteMessageRequest(
            queue_name=self.name, receipt_handle=_handle(receipt_handle)
        )
        self._call(self._stub.DeleteMessage, request)

    def change_visibility(self, receipt_handle: str | RemoteMessage, seconds: int) -> None:
        """Makes the message received with this handle invisible for ``seconds`` from now."""
        request = pb.ChangeMessageVisibilityRequest(
            queue_name=self.name,
            receipt_handle=_handle(receipt_handle),
            visibility_timeout=cv.integer(seconds),
        )
        self._call(self._stub.ChangeMessageVisibility, request)

    def delete_batch(self, items: Iterable[str | RemoteMessage]) -> list[BatchResult]:
        """Deletes up to ``max_batch`` messages, given as ``Message``s or receipt handles."""
        handles = [_handle(item) for item in cv.items(items, "delete_batch items")]
        request = pb.DeleteMessageBatchRequest(
            queue_name=self.name, max_entries=self._broker.max_batch
        )
        add = request.entries.add
        ids = cv.IDS
        for i, h in enumerate(handles):
            add(id=ids[i] if i < len(ids) else str(i), receipt_handle=h)
        return cv.unit_batch_results(self._call(self._stub.DeleteMessageBatch, request))

    def change_visibility_batch(
        self, items: Iterable[tuple[str | RemoteMessage, int]]
    ) -> list[BatchResult]:
        """Changes the visibility of up to ``max_batch`` messages, given as
        ``(Message or handle, seconds)``."""
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
        return cv.unit_batch_results(self._call(self._stub.ChangeMessageVisibilityBatch, request))

    def purge(self) -> None:
        """Deletes every message. Fails with ``PurgeQueueInProgress`` within 60 s of the last."""
        self._call(self._stub.PurgeQueue, pb.PurgeQueueRequest(queue_name=self.name))

    def counts(self) -> dict[str, int]:
        """Message counts: ``visible``, ``in_flight``, ``delayed``, and ``oldest_age_seconds``."""
        response = self._call(
            self._stub.GetQueueCounts, pb.GetQueueCountsRequest(queue_name=self.name)
        )
        return cv.counts(response)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RemoteQueue):
            return NotImplemented
        return self._broker is other._broker and self.name == other.name

    def __hash__(self) -> int:
        return hash((id(self._broker), self.name))

    def __repr__(self) -> str:
        return f"Queue(name='{self.name}', arn='{self.arn}')"


class MessageFields:
    """The data members of a received message, read from the received protobuf message when asked
    for, so that receiving many costs little. Shared by the sync and the asyncio client."""

    __slots__ = ("_m", "_queue")

    def __init__(self, m: Any, queue: Any) -> None:
        self._m = m
        self._queue = queue

    @property
    def body(self) -> bytes:
        return self._m.body  # type: ignore[no-any-return]

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self._m.body.decode()  # type: ignore[no-any-return]

    @property
    def message_id(self) -> str:
        return self._m.message_id  # type: ignore[no-any-return]

    @property
    def receipt_handle(self) -> str:
        return self._m.receipt_handle  # type: ignore[no-any-return]

    @property
    def receive_count(self) -> int:
        """How many times the message has been received (``ApproximateReceiveCount``)."""
        return self._m.receive_count  # type: ignore[no-any-return]

    @property
    def sent_at(self) -> _dt.datetime:
        """When the message was first sent (UTC)."""
        return cv.utc(self._m.sent_timestamp)

    @property
    def first_received_at(self) -> _dt.datetime:
        """When the message was first received (UTC)."""
        return cv.utc(self._m.first_receive_timestamp)

    @property
    def sender_id(self) -> str:
        return self._m.sender_id  # type: ignore[no-any-return]

    @property
    def attributes(self) -> dict[str, AttributeValue]:
        """Message attributes: ``str``, ``bytes``, ``int`` or ``float``, or ``MessageAttribute``
        for labelled types."""
        return cv.attributes_from_pb(self._m.message_attributes)

    @property
    def system_attributes(self) -> dict[str, str]:
        """System attributes by SQS name, as strings."""
        return cv.system_attributes(self._m)

    @property
    def md5_of_body(self) -> str:
        """Hex MD5 of the body, as SQS computes it."""
        return hashlib.md5(self._m.body).hexdigest()

    @property
    def md5_of_attributes(self) -> str | None:
        """Hex MD5 of the message attributes as SQS computes it; ``None`` without attributes."""
        return self._m.md5_of_message_attributes or None

    def __repr__(self) -> str:
        body = self._m.body
        more = "..." if len(body) > 48 else ""
        return (
            f"Message(message_id='{self.message_id}', receive_count={self.receive_count}, "
            f"body={body[:48]!r}{more})"
        )


class RemoteMessage(MessageFields):
    """One receive of a message, with the members of ``sqsfast.Message``."""

    __slots__ = ()
    _queue: RemoteQueue

    @property
    def queue(self) -> RemoteQueue:
        """The queue the message was received from."""
        return self._queue

    def delete(self) -> None:
        """Deletes the message, by this receive's handle."""
        self._queue.delete(self._m.receipt_handle)

    def change_visibility(self, seconds: int) -> None:
        """Makes the message invisible for ``seconds`` from now (0: visible now)."""
        self._queue.change_visibility(self._m.receipt_handle, seconds)


__all__ = ["DEFAULT_URL", "RemoteBroker", "RemoteMessage", "RemoteQueue", "connect"]
