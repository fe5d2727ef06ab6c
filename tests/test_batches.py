"""send_batch, delete_batch, change_visibility_batch: per-entry and whole-batch errors."""

from __future__ import annotations

import uuid

import pytest
import sqsfast
from support import KIB, MIB, raises, receive_n


def counts3(q) -> tuple[int, int, int]:
    c = q.counts()
    return c["visible"], c["in_flight"], c["delayed"]


# ---- send_batch ----------------------------------------------------------------------------------


def test_send_batch_of_bodies(queue):
    results = queue.send_batch([b"a", "b", "c"])
    assert [r.id for r in results] == ["0", "1", "2"]
    assert all(r.ok for r in results)
    assert all(r.error is None for r in results)
    ids = [r.message_id for r in results]
    assert all(isinstance(i, str) and uuid.UUID(i) for i in ids)
    assert len(set(ids)) == 3
    got = receive_n(queue, 3)
    assert {m.message_id: m.text for m in got} == dict(zip(ids, ["a", "b", "c"]))


def test_send_batch_of_dicts(queue):
    results = queue.send_batch(
        [
            {"id": "first", "body": "one", "attributes": {"k": "v", "n": 3}},
            {"id": "second", "body": b"two", "delay_seconds": 900},
            {"id": "third-3_x", "body": "three"},
        ]
    )
    assert [r.id for r in results] == ["first", "second", "third-3_x"]
    assert all(r.ok for r in results)
    assert counts3(queue) == (2, 0, 1)
    got = {m.text: m for m in receive_n(queue, 2)}
    assert set(got) == {"one", "three"}
    assert got["one"].attributes == {"k": "v", "n": 3}
    assert got["one"].message_id == results[0].message_id
    assert got["three"].attributes == {}


def test_send_batch_of_ten(queue):
    results = queue.send_batch([f"m{i}" for i in range(10)])
    assert len(results) == 10 and all(r.ok for r in results)
    assert counts3(queue) == (10, 0, 0)


def test_send_batch_bad_entry_fails_alone(queue):
    results = queue.send_batch(
        [
            "good",
            "bad \x00",
            {"id": "x", "body": "late", "delay_seconds": 901},
            {"id": "y", "body": "attr", "attributes": {"AWS.reserved": "v"}},
            b"\xff",
            "also good",
        ]
    )
    assert [r.ok for r in results] == [True, False, False, False, False, True]
    assert [r.id for r in results] == ["0", "1", "x", "y", "4", "5"]
    expected = [
        None,
        "InvalidMessageContents",
        "InvalidParameterValue",
        "InvalidParameterValue",
        "InvalidMessageContents",
        None,
    ]
    for r, code in zip(results, expected):
        if code is None:
            assert r.error is None and r.message_id
        else:
            assert r.message_id is None
            assert isinstance(r.error, sqsfast.SqsfastError)
            assert isinstance(r.error, getattr(sqsfast, code))
            assert r.error.code == code
            assert r.error.message
    assert counts3(queue) == (2, 0, 0)
    assert sorted(m.text for m in receive_n(queue, 2)) == ["also good", "good"]


def test_send_batch_oversized_entry_fails_alone(broker, names):
    q = broker.create_queue(names(), maximum_message_size=KIB)
    results = q.send_batch(["x" * KIB, "x" * (KIB + 1)])
    assert [r.ok for r in results] == [True, False]
    assert results[1].error.code == "InvalidParameterValue"
    assert counts3(q) == (1, 0, 0)


def test_send_batch_empty_body_entry_fails_alone(queue):
    results = queue.send_batch(["a", ""])
    assert [r.ok for r in results] == [True, False]
    assert results[1].error.code == "MissingParameter"


def _entries(n):
    return [f"m{i}" for i in range(n)]


@pytest.mark.parametrize(
    "entries, code",
    [
        ([], "EmptyBatchRequest"),
        (_entries(11), "TooManyEntriesInBatchRequest"),
        (_entries(100), "TooManyEntriesInBatchRequest"),
        ([{"id": "a", "body": "1"}, {"id": "a", "body": "2"}], "BatchEntryIdsNotDistinct"),
        (
            [{"id": "a", "body": "1"}, {"id": "b", "body": "2"}, {"id": "a", "body": "3"}],
            "BatchEntryIdsNotDistinct",
        ),
        ([{"id": "", "body": "1"}], "InvalidBatchEntryId"),
        ([{"id": "a b", "body": "1"}], "InvalidBatchEntryId"),
        ([{"id": "a.b", "body": "1"}], "InvalidBatchEntryId"),
        ([{"id": "é", "body": "1"}], "InvalidBatchEntryId"),
        ([{"id": "x" * 81, "body": "1"}], "InvalidBatchEntryId"),
        (["ok", {"id": "bad!", "body": "1"}], "InvalidBatchEntryId"),
        (["x" * (MIB // 2), "y" * (MIB // 2 + 1)], "BatchRequestTooLong"),
        ([{"id": str(i), "body": "z" * (MIB // 8)} for i in range(9)], "BatchRequestTooLong"),
    ],
    ids=[
        "empty",
        "11",
        "100",
        "duplicate",
        "duplicate-not-adjacent",
        "id-empty",
        "id-space",
        "id-dot",
        "id-non-ascii",
        "id-81-chars",
        "id-bang",
        "1MiB+1",
        "9x128KiB",
    ],
)
def test_send_batch_whole_batch_errors(queue, entries, code):
    with raises(code):
        queue.send_batch(entries)
    assert counts3(queue) == (0, 0, 0), "nothing of a rejected batch is sent"


def test_send_batch_total_at_one_mib(queue):
    results = queue.send_batch(["x" * (MIB // 2), "y" * (MIB // 2)])
    assert all(r.ok for r in results)
    assert counts3(queue) == (2, 0, 0)


def test_send_batch_attributes_count_toward_batch_size(queue):
    body = "x" * (MIB // 2)
    attrs = {"a": "v"}  # 1 + 6 + 1 = 8 bytes
    with raises("BatchRequestTooLong"):
        queue.send_batch(
            [{"id": "a", "body": body}, {"id": "b", "body": body[:-7], "attributes": attrs}]
        )
    results = queue.send_batch(
        [{"id": "a", "body": body}, {"id": "b", "body": body[:-8], "attributes": attrs}]
    )
    assert all(r.ok for r in results)


def test_send_batch_id_of_80_characters(queue):
    [r] = queue.send_batch([{"id": "x" * 80, "body": "1"}])
    assert r.ok and r.id == "x" * 80


@pytest.mark.parametrize("entries", [[1], [None], ["ok", 3.5]], ids=["int", "None", "float"])
def test_send_batch_wrong_entry_type(queue, entries):
    with pytest.raises(TypeError):
        queue.send_batch(entries)


# ---- delete_batch --------------------------------------------------------------------------------


def test_delete_batch_with_messages_and_handles(queue):
    queue.send_batch([f"m{i}" for i in range(4)])
    got = receive_n(queue, 4)
    assert len(got) == 4
    items = [got[0], got[1].receipt_handle, got[2], got[3].receipt_handle]
    results = queue.delete_batch(items)
    assert [r.id for r in results] == ["0", "1", "2", "3"]
    assert all(r.ok and r.error is None for r in results)
    assert counts3(queue) == (0, 0, 0)


def test_delete_batch_bad_handle_fails_alone(queue):
    queue.send_batch(["a", "b"])
    got = receive_n(queue, 2)
    results = queue.delete_batch([got[0], "not-a-handle", got[1]])
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, sqsfast.ReceiptHandleIsInvalid)
    assert results[1].error.code == "ReceiptHandleIsInvalid"
    assert counts3(queue) == (0, 0, 0)


@pytest.mark.parametrize(
    "n, code", [(0, "EmptyBatchRequest"), (11, "TooManyEntriesInBatchRequest")]
)
def test_delete_batch_whole_batch_errors(queue, n, code):
    queue.send_batch(["x"])
    [m] = queue.receive()
    with raises(code):
        queue.delete_batch([m.receipt_handle] * n)
    assert counts3(queue) == (0, 1, 0)


def test_delete_batch_of_ten(queue):
    for i in range(0, 10, 5):
        queue.send_batch([f"m{j}" for j in range(i, i + 5)])
    got = receive_n(queue, 10)
    results = queue.delete_batch(got)
    assert len(results) == 10 and all(r.ok for r in results)
    assert counts3(queue) == (0, 0, 0)


# ---- change_visibility_batch ---------------------------------------------------------------------


def test_change_visibility_batch(queue):
    queue.send_batch(["a", "b", "c"])
    got = sorted(receive_n(queue, 3), key=lambda m: m.text)
    results = queue.change_visibility_batch(
        [(got[0], 0), (got[1].receipt_handle, 0), (got[2], 600)]
    )
    assert [r.id for r in results] == ["0", "1", "2"]
    assert all(r.ok and r.error is None for r in results)
    assert counts3(queue) == (2, 1, 0)
    again = receive_n(queue, 2)
    assert sorted(m.text for m in again) == ["a", "b"]
    assert all(m.receive_count == 2 for m in again)


def test_change_visibility_batch_bad_entries_fail_alone(queue):
    queue.send_batch(["a", "b", "c"])
    got = receive_n(queue, 3)
    results = queue.change_visibility_batch(
        [(got[0], 0), ("garbage", 0), (got[1], 43_201), (got[2], 0)]
    )
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[1].error.code == "ReceiptHandleIsInvalid"
    assert results[2].error.code == "InvalidParameterValue"
    assert counts3(queue) == (2, 1, 0)


def test_change_visibility_batch_not_in_flight_entry(queue):
    queue.send("a")
    [m] = queue.receive()
    m.change_visibility(0)
    [r] = queue.change_visibility_batch([(m, 30)])
    assert not r.ok
    assert r.error.code == "MessageNotInflight"


@pytest.mark.parametrize(
    "n, code", [(0, "EmptyBatchRequest"), (11, "TooManyEntriesInBatchRequest")]
)
def test_change_visibility_batch_whole_batch_errors(queue, n, code):
    queue.send("x")
    [m] = queue.receive()
    with raises(code):
        queue.change_visibility_batch([(m, 0)] * n)
    assert counts3(queue) == (0, 1, 0)
