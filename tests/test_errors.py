"""The exception hierarchy, and one call per SQS error code that can happen in-process."""

from __future__ import annotations

import pytest
import sqsfast
from support import ERROR_CODES, MIB, raises


@pytest.mark.parametrize("code", ERROR_CODES)
def test_exception_class(code):
    cls = getattr(sqsfast, code)
    assert isinstance(cls, type)
    assert cls.__name__ == code
    assert issubclass(cls, sqsfast.SqsfastError)
    assert cls is not sqsfast.SqsfastError
    assert code in sqsfast.__all__


def test_exception_classes_carry_their_code():
    """`except sqsfast.QueueDoesNotExist` users can read the code off the class, too."""
    missing = [c for c in ERROR_CODES if getattr(getattr(sqsfast, c), "code", None) != c]
    assert missing == []


def test_base_class():
    assert issubclass(sqsfast.SqsfastError, Exception)


def test_classes_are_distinct_and_unrelated():
    classes = [getattr(sqsfast, code) for code in ERROR_CODES]
    assert len(set(classes)) == len(classes)
    for a in classes:
        for b in classes:
            assert a is b or not issubclass(a, b), f"{a.__name__} subclasses {b.__name__}"


# Each entry: setup(broker, names) -> the call that must raise that code. In-process, the codes
# InvalidIdFormat, InternalFailure and ServiceUnavailable have no trigger (OverLimit: see below).


def _queue_does_not_exist(broker, names):
    return lambda: broker.queue(names())


def _queue_name_exists(broker, names):
    name = names()
    broker.create_queue(name, visibility_timeout=60)
    return lambda: broker.create_queue(name, visibility_timeout=61)


def _queue_deleted_recently(broker, names):
    name = names()
    broker.delete_queue(broker.create_queue(name))
    return lambda: broker.create_queue(name)


def _purge_in_progress(broker, names):
    q = broker.create_queue(names())
    q.purge()
    return q.purge


def _receipt_handle_invalid(broker, names):
    q = broker.create_queue(names())
    return lambda: q.delete("not-a-receipt-handle")


def _message_not_inflight(broker, names):
    q = broker.create_queue(names())
    q.send("x")
    [m] = q.receive()
    m.change_visibility(0)
    return lambda: q.change_visibility(m.receipt_handle, 30)


def _batch(entries):
    def setup(broker, names):
        q = broker.create_queue(names())
        return lambda: q.send_batch(entries)

    return setup


def _unsupported(broker, names):
    return lambda: broker.create_queue(names() + ".fifo")


def _invalid_attribute_name(broker, names):
    q = broker.create_queue(names())
    return lambda: q.get_attributes("NoSuchAttribute")


def _invalid_attribute_value(broker, names):
    return lambda: broker.create_queue(names(), visibility_timeout=43_201)


def _invalid_message_contents(broker, names):
    q = broker.create_queue(names())
    return lambda: q.send("nul \x00 inside")


def _invalid_parameter_value(broker, names):
    return lambda: broker.create_queue("no spaces allowed")


def _missing_parameter(broker, names):
    q = broker.create_queue(names())
    return lambda: q.send("")


TRIGGERS = {
    "QueueDoesNotExist": _queue_does_not_exist,
    "QueueNameExists": _queue_name_exists,
    "QueueDeletedRecently": _queue_deleted_recently,
    "PurgeQueueInProgress": _purge_in_progress,
    "ReceiptHandleIsInvalid": _receipt_handle_invalid,
    "MessageNotInflight": _message_not_inflight,
    "TooManyEntriesInBatchRequest": _batch([f"m{i}" for i in range(11)]),
    "EmptyBatchRequest": _batch([]),
    "BatchEntryIdsNotDistinct": _batch([{"id": "a", "body": "1"}, {"id": "a", "body": "2"}]),
    "BatchRequestTooLong": _batch(["x" * (MIB // 2), "x" * (MIB // 2 + 1)]),
    "InvalidBatchEntryId": _batch([{"id": "not valid", "body": "1"}]),
    "UnsupportedOperation": _unsupported,
    "InvalidAttributeName": _invalid_attribute_name,
    "InvalidAttributeValue": _invalid_attribute_value,
    "InvalidMessageContents": _invalid_message_contents,
    "InvalidParameterValue": _invalid_parameter_value,
    "MissingParameter": _missing_parameter,
}


@pytest.mark.parametrize(
    "code",
    list(TRIGGERS),
)
def test_error_code_raised(broker, names, code):
    call = TRIGGERS[code](broker, names)
    with raises(code) as info:
        call()
    err = info.value
    assert type(err) is getattr(sqsfast, code)
    assert isinstance(err, Exception)
    assert code in ERROR_CODES


def test_errors_are_catchable_as_the_base_class(broker, names):
    try:
        broker.queue(names())
    except sqsfast.SqsfastError as e:
        assert e.code == "QueueDoesNotExist"
        assert "does not exist" in e.message
    else:
        pytest.fail("no error raised")


def test_over_limit_past_120000_in_flight(broker, names):
    q = broker.create_queue(names())
    limit = 120_000
    for start in range(0, limit + 10, 10):
        q.send_batch([str(i) for i in range(start, start + 10)])
    received = 0
    last: list = []
    # Receives may return fewer than asked: a bounded number of extra calls tops up to the limit.
    for _ in range(limit // 10 + 1000):
        if received >= limit:
            break
        batch = q.receive(min(10, limit - received))
        received += len(batch)
        last = batch or last
    assert received == limit
    assert q.counts()["in_flight"] == limit
    with raises("OverLimit"):
        q.receive()
    # Deleting one makes room for one more.
    q.delete(last[0].receipt_handle)
    assert len(q.receive()) == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda q: q.send(42),
        lambda q: q.send(None),
        lambda q: q.send("x", attributes={"a": [1]}),
        lambda q: q.send_batch([object()]),
    ],
    ids=["int-body", "None-body", "list-attribute", "object-entry"],
)
def test_type_errors(queue, call):
    with pytest.raises(TypeError):
        call(queue)
