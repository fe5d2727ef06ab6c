"""sqsfast: Amazon SQS standard-queue semantics and API, fast.

``sqsfast.Broker()`` is a queue engine in this process; ``sqsfast.connect(url)`` is a broker on an
``sqsfast serve`` server with the same interface (``sqsfast.aio.connect(url)`` for asyncio). Queues,
messages and exceptions are those of ``docs/python.md``. Names of queue attributes and error codes
are Amazon SQS's.
"""

from typing import TYPE_CHECKING, Any

from sqsfast._core import Broker, Message, Queue, __version__
from sqsfast._types import AttributeValue, BatchResult, MessageAttribute
from sqsfast.errors import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InternalFailure,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidBatchEntryId,
    InvalidIdFormat,
    InvalidMessageContents,
    InvalidParameterValue,
    MessageNotInflight,
    MissingParameter,
    OverLimit,
    PurgeQueueInProgress,
    QueueDeletedRecently,
    QueueDoesNotExist,
    QueueNameExists,
    ReceiptHandleIsInvalid,
    ServiceUnavailable,
    SqsfastError,
    TooManyEntriesInBatchRequest,
    UnsupportedOperation,
)

if TYPE_CHECKING:
    from sqsfast import aio
    from sqsfast.client import RemoteBroker, RemoteMessage, RemoteQueue, connect

# The remote clients import grpc (~0.1 s): only when first used, so that the embedded broker
# starts fast.
_LAZY = {
    "aio": ("sqsfast.aio", None),
    "connect": ("sqsfast.client", "connect"),
    "RemoteBroker": ("sqsfast.client", "RemoteBroker"),
    "RemoteMessage": ("sqsfast.client", "RemoteMessage"),
    "RemoteQueue": ("sqsfast.client", "RemoteQueue"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        module = importlib.import_module(module_name)
        value = module if attr is None else getattr(module, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sqsfast' has no attribute {name!r}")


__all__ = [
    "AttributeValue",
    "BatchEntryIdsNotDistinct",
    "BatchRequestTooLong",
    "BatchResult",
    "Broker",
    "EmptyBatchRequest",
    "InternalFailure",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "InvalidBatchEntryId",
    "InvalidIdFormat",
    "InvalidMessageContents",
    "InvalidParameterValue",
    "Message",
    "MessageAttribute",
    "MessageNotInflight",
    "MissingParameter",
    "OverLimit",
    "PurgeQueueInProgress",
    "Queue",
    "QueueDeletedRecently",
    "QueueDoesNotExist",
    "QueueNameExists",
    "ReceiptHandleIsInvalid",
    "RemoteBroker",
    "RemoteMessage",
    "RemoteQueue",
    "ServiceUnavailable",
    "SqsfastError",
    "TooManyEntriesInBatchRequest",
    "UnsupportedOperation",
    "__version__",
    "aio",
    "connect",
]
