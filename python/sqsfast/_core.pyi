"""Type stubs of the extension module ``sqsfast._core``, checked against it by mypy.stubtest."""

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final, Literal, TypedDict, final, type_check_only

from typing_extensions import Required

from sqsfast._types import AttributeValue, BatchResult

__all__ = ["Broker", "Message", "Queue", "__version__", "bench", "serve"]

__version__: Final[str]

@type_check_only
class QueueCounts(TypedDict):
    """What ``Queue.counts()`` returns."""

    visible: int
    in_flight: int
    delayed: int
    oldest_age_seconds: int

@type_check_only
class SendEntry(TypedDict, total=False):
    """A ``send_batch`` entry given as a dict; ``id`` defaults to the entry's position."""

    id: str
    body: Required[str | bytes]
    delay_seconds: int | None
    attributes: Mapping[str, AttributeValue] | None

@final
class Broker:
    """An in-process queue engine with Amazon SQS standard-queue semantics."""

    def __new__(
        cls,
        *,
        account_id: str | None = None,
        region: str | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        fsync: Literal["always", "interval", "never"] = "interval",
        fsync_interval_ms: int = 10,
        skip_corrupt: bool = False,
        memory_budget_mb: int | None = None,
    ) -> Broker: ...
    @property
    def durable(self) -> bool: ...
    @property
    def recovery(self) -> dict[str, Any] | None: ...
    def storage_stats(self) -> dict[str, Any] | None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Broker: ...
    def __exit__(self, _exc_type: object, _exc: object, _tb: object, /) -> None: ...
    @property
    def account_id(self) -> str: ...
    @property
    def region(self) -> str: ...
    def create_queue(
        self,
        name: str,
        *,
        visibility_timeout: int | None = None,
        message_retention_period: int | None = None,
        delay_seconds: int | None = None,
        receive_wait_time_seconds: int | None = None,
        maximum_message_size: int | None = None,
        dead_letter_queue: str | Queue | None = None,
        max_receive_count: int | None = None,
        attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Queue: ...
    def queue(self, name: str) -> Queue: ...
    def list_queues(self, prefix: str = "") -> list[Queue]: ...
    def delete_queue(self, name_or_queue: str | Queue) -> None: ...
    def dead_letter_source_queues(self, name_or_queue: str | Queue) -> list[Queue]: ...

@final
class Queue:
    """A standard queue of a ``Broker``; equal to another ``Queue`` of the same broker and name."""

    @property
    def name(self) -> str: ...
    @property
    def arn(self) -> str: ...
    @property
    def broker(self) -> Broker: ...
    @property
    def attributes(self) -> dict[str, str]: ...
    def get_attributes(self, *names: str) -> dict[str, str]: ...
    def set_attributes(
        self,
        attributes: Mapping[str, str] | None = None,
        *,
        visibility_timeout: int | None = None,
        message_retention_period: int | None = None,
        delay_seconds: int | None = None,
        receive_wait_time_seconds: int | None = None,
        maximum_message_size: int | None = None,
        dead_letter_queue: str | Queue | None = None,
        max_receive_count: int | None = None,
    ) -> None: ...
    @property
    def tags(self) -> dict[str, str]: ...
    def tag(self, tags: Mapping[str, str]) -> None: ...
    def untag(self, keys: Iterable[str]) -> None: ...
    def send(
        self,
        body: bytes | str,
        *,
        delay_seconds: int | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> str: ...
    def send_batch(self, entries: Iterable[bytes | str | SendEntry]) -> list[BatchResult]: ...
    def receive(
        self,
        max_messages: int = 1,
        *,
        wait_seconds: int | None = None,
        visibility_timeout: int | None = None,
    ) -> list[Message]: ...
    def consume(
        self,
        *,
        max_messages: int = 10,
        wait_seconds: int | None = 20,
        visibility_timeout: int | None = None,
    ) -> Iterator[Message]: ...
    def delete(self, receipt_handle: str | Message) -> None: ...
    def change_visibility(self, receipt_handle: str | Message, seconds: int) -> None: ...
    def delete_batch(self, items: Iterable[str | Message]) -> list[BatchResult]: ...
    def change_visibility_batch(
        self, items: Iterable[tuple[str | Message, int]]
    ) -> list[BatchResult]: ...
    def purge(self) -> None: ...
    def counts(self) -> QueueCounts: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Message:
    """One receive of a message; ``delete()`` and ``change_visibility()`` use its receipt handle."""

    @property
    def body(self) -> bytes: ...
    @property
    def text(self) -> str: ...
    @property
    def message_id(self) -> str: ...
    @property
    def receipt_handle(self) -> str: ...
    @property
    def receive_count(self) -> int: ...
    @property
    def sent_at(self) -> datetime: ...
    @property
    def first_received_at(self) -> datetime: ...
    @property
    def sender_id(self) -> str: ...
    @property
    def attributes(self) -> dict[str, AttributeValue]: ...
    @property
    def system_attributes(self) -> dict[str, str]: ...
    @property
    def md5_of_body(self) -> str: ...
    @property
    def md5_of_attributes(self) -> str | None: ...
    @property
    def queue(self) -> Queue: ...
    def delete(self) -> None: ...
    def change_visibility(self, seconds: int) -> None: ...

def serve(
    *,
    host: str | None = None,
    http_port: int | None = None,
    grpc_port: int | None = None,
    config: str | os.PathLike[str] | None = None,
    log_level: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    in_memory: bool = False,
    fsync: str | None = None,
    fsync_interval_ms: int | None = None,
    skip_corrupt: bool = False,
    memory_budget_mb: int | None = None,
    workers: int | None = None,
) -> None:
    """Run the server until SIGINT or SIGTERM (the GIL is released meanwhile).

    Settings come from ``config`` (a ``sqsfast.toml``), then from the arguments given.
    """

def bench(
    target: str | object,
    *,
    workload: str = "steady",
    producers: int = 4,
    consumers: int = 4,
    batch: int = 10,
    size: int = 256,
    queues: int = 1,
    duration: float | None = 10.0,
    messages: int | None = None,
    rate: float | None = None,
    wait: float = 1.0,
    drain_timeout: float = 10.0,
    queue_prefix: str = "sqsfast-bench",
    threads: int | None = None,
    progress: Callable[[dict[str, Any]], object] | None = None,
) -> str:
    """Run a benchmark (the GIL is released meanwhile); return its report as JSON text.

    ``target``: ``"embedded"``, ``"grpc://host:port"``, ``"http://host:port"``, or a driver object
    written in Python (see ``sqsfast._bench``). ``progress`` is called once a second.
    """
