"""The exceptions of sqsfast: one root, one subclass per SQS error code.

Every error the engine reports is a :class:`SqsfastError` whose class is named after its SQS error
code (``QueueDoesNotExist``, ``ReceiptHandleIsInvalid``, ...), with ``.code`` (that name) and
``.message``.
The extension module looks the class up here by code, so a class name here *is* the mapping.
"""

from __future__ import annotations


class SqsfastError(Exception):
    """The root of every sqsfast error.

    ``code`` is the SQS error code (e.g. ``"QueueDoesNotExist"``), ``message`` the text for people.
    Each code has a subclass of the same name; catch those to handle one case.
    """

    #: The SQS error code: the class's, unless the instance was given another.
    code: str = "InternalFailure"
    message: str

    def __init__(self, message: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"

    def __reduce__(self) -> tuple[type[SqsfastError], tuple[str, str]]:
        return (type(self), (self.message, self.code))


class QueueDoesNotExist(SqsfastError):
    """The queue does not exist (or was deleted)."""

    code = "QueueDoesNotExist"


class QueueNameExists(SqsfastError):
    """A queue of that name exists with other attribute values."""

    code = "QueueNameExists"


class QueueDeletedRecently(SqsfastError):
    """A queue of that name was deleted less than 60 seconds ago."""

    code = "QueueDeletedRecently"


class PurgeQueueInProgress(SqsfastError):
    """The queue was purged less than 60 seconds ago."""

    code = "PurgeQueueInProgress"


class ReceiptHandleIsInvalid(SqsfastError):
    """The receipt handle was not made by this queue (or is not a receipt handle)."""

    code = "ReceiptHandleIsInvalid"


class MessageNotInflight(SqsfastError):
    """The message's visibility timeout had already expired."""

    code = "MessageNotInflight"


class TooManyEntriesInBatchRequest(SqsfastError):
    """More than 10 entries in a batch."""

    code = "TooManyEntriesInBatchRequest"


class EmptyBatchRequest(SqsfastError):
    """A batch without entries."""

    code = "EmptyBatchRequest"


class BatchEntryIdsNotDistinct(SqsfastError):
    """Two entries of a batch have the same id."""

    code = "BatchEntryIdsNotDistinct"


class BatchRequestTooLong(SqsfastError):
    """A batch larger than 1 MiB in all."""

    code = "BatchRequestTooLong"


class InvalidBatchEntryId(SqsfastError):
    """A batch entry id that is not 1-80 of ``[A-Za-z0-9_-]``."""

    code = "InvalidBatchEntryId"


class UnsupportedOperation(SqsfastError):
    """Something sqsfast does not do (FIFO queues)."""

    code = "UnsupportedOperation"


class OverLimit(SqsfastError):
    """Too many messages in flight (120 000 per queue)."""

    code = "OverLimit"


class InvalidAttributeName(SqsfastError):
    """An unknown queue attribute name."""

    code = "InvalidAttributeName"


class InvalidAttributeValue(SqsfastError):
    """A queue attribute value out of range."""

    code = "InvalidAttributeValue"


class InvalidMessageContents(SqsfastError):
    """A body with characters SQS does not allow."""

    code = "InvalidMessageContents"


class InvalidIdFormat(SqsfastError):
    """An id in the wrong format."""

    code = "InvalidIdFormat"


class InvalidParameterValue(SqsfastError):
    """A parameter out of range or malformed."""

    code = "InvalidParameterValue"


class MissingParameter(SqsfastError):
    """A required parameter is missing."""

    code = "MissingParameter"


class InternalFailure(SqsfastError):
    """An internal or storage failure; never bad input."""

    code = "InternalFailure"


class ServiceUnavailable(SqsfastError):
    """The service cannot answer now; try again."""

    code = "ServiceUnavailable"


#: Every exception class by its SQS error code.
ERRORS: dict[str, type[SqsfastError]] = {cls.code: cls for cls in SqsfastError.__subclasses__()}

__all__ = [
    "ERRORS",
    "SqsfastError",
    "QueueDoesNotExist",
    "QueueNameExists",
    "QueueDeletedRecently",
    "PurgeQueueInProgress",
    "ReceiptHandleIsInvalid",
    "MessageNotInflight",
    "TooManyEntriesInBatchRequest",
    "EmptyBatchRequest",
    "BatchEntryIdsNotDistinct",
    "BatchRequestTooLong",
    "InvalidBatchEntryId",
    "UnsupportedOperation",
    "OverLimit",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "InvalidMessageContents",
    "InvalidIdFormat",
    "InvalidParameterValue",
    "MissingParameter",
    "InternalFailure",
    "ServiceUnavailable",
]
