"""Small value types of the Python API, made by the extension module as well as by users."""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from sqsfast.errors import SqsfastError


class MessageAttribute:
    """A message attribute of any SQS data type, labels included.

    ``MessageAttribute("Number.float", "1.5")``, ``MessageAttribute("Binary.png", b"...")``.
    ``String`` and ``Number`` types take a ``str`` value (an ``int`` or ``float`` is turned into
    one), ``Binary`` types ``bytes``. Plain ``str``, ``int``/``float`` and ``bytes`` values need no
    wrapper; received messages give labelled types back as ``MessageAttribute``.
    """

    __slots__ = ("data_type", "value")

    data_type: str
    value: str | bytes

    def __init__(self, data_type: str, value: str | bytes | int | float) -> None:
        if not isinstance(data_type, str):
            raise TypeError(f"data_type must be str, not {type(data_type).__name__}")
        if isinstance(value, bool) or not isinstance(value, (str, bytes, int, float)):
            raise TypeError(
                f"a MessageAttribute value must be str, bytes, int or float, "
                f"not {type(value).__name__}"
            )
        if isinstance(value, (int, float)):
            value = str(value)
        object.__setattr__(self, "data_type", data_type)
        object.__setattr__(self, "value", value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"MessageAttribute is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"MessageAttribute is immutable; cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MessageAttribute):
            return NotImplemented
        return self.data_type == other.data_type and self.value == other.value

    def __hash__(self) -> int:
        return hash((self.data_type, self.value))

    def __repr__(self) -> str:
        return f"MessageAttribute({self.data_type!r}, {self.value!r})"

    def __reduce__(self) -> tuple[type[MessageAttribute], tuple[str, str | bytes]]:
        return (MessageAttribute, (self.data_type, self.value))


#: What a message attribute value can be when sending: ``str`` → ``String``, ``int``/``float`` →
#: ``Number``, ``bytes`` → ``Binary``, or a ``MessageAttribute`` for any type.
AttributeValue = Union[str, int, float, bytes, MessageAttribute]


class BatchResult:
    """The outcome of one entry of a batch call, in the order of the entries.

    ``ok`` is true when the entry succeeded; ``message_id`` is the id of a message sent by
    ``send_batch`` (``None`` otherwise); ``error`` is the :class:`~sqsfast.SqsfastError` of a failed
    entry (``None`` when it succeeded).
    """

    __slots__ = ("error", "id", "message_id")

    id: str
    message_id: str | None
    error: SqsfastError | None

    # Plain attributes, not made read-only: batch calls make one per entry, and read-only slots
    # (object.__setattr__ in __init__) cost three times as much to build.
    def __init__(
        self, id: str, message_id: str | None = None, error: SqsfastError | None = None
    ) -> None:
        self.id = id
        self.message_id = message_id
        self.error = error

    @property
    def ok(self) -> bool:
        """Whether the entry succeeded."""
        return self.error is None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BatchResult):
            return NotImplemented
        return (self.id, self.message_id, self.error) == (other.id, other.message_id, other.error)

    __hash__ = None  # type: ignore[assignment]  # holds an exception: not hashable by value

    def __repr__(self) -> str:
        if self.error is None:
            return f"BatchResult(id={self.id!r}, ok=True, message_id={self.message_id!r})"
        return f"BatchResult(id={self.id!r}, ok=False, error={self.error!r})"
