"""sqsfast: Amazon SQS standard-queue semantics and API, fast.

``sqsfast.Broker()`` is a queue engine in this process; queues, messages and exceptions are those of
``docs/python.md``. Names of queue attributes and error codes are Amazon SQS's.
"""

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
    "ServiceUnavailable",
    "SqsfastError",
    "TooManyEntriesInBatchRequest",
    "UnsupportedOperation",
    "__version__",
]
