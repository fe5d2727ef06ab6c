"""Visibility timeouts, change-visibility, receipt handles across receives, and delays.

Messages are made visible again with visibility_timeout=0 or change_visibility(0); the few tests
that need a real timeout to pass use 1 second.
"""

from __future__ import annotations

import time

import pytest
from support import raises


def counts3(q) -> tuple[int, int, int]:
    c = q.counts()
    return c["visible"], c["in_flight"], c["delayed"]


def test_received_message_is_invisible(queue):
    queue.send("x")
    [m] = queue.receive()
    assert queue.receive(10) == []
    assert counts3(queue) == (0, 1, 0)
    assert queue.get_attributes("ApproximateNumberOfMessagesNotVisible") == {
        "ApproximateNumberOfMessagesNotVisible": "1"
    }


def test_change_visibility_zero_makes_it_visible_again(queue):
    queue.send("x")
    [m1] = queue.receive()
    assert queue.change_visibility(m1.receipt_handle, 0) is None
    assert counts3(queue) == (1, 0, 0)
    [m2] = queue.receive()
    assert m2.message_id == m1.message_id
    assert m2.receive_count == 2
    assert m2.receipt_handle != m1.receipt_handle


def test_message_change_visibility_method(queue):
    queue.send("x")
    [m1] = queue.receive()
    m1.change_visibility(0)
    [m2] = queue.receive()
    assert m2.message_id == m1.message_id


def test_older_handle_deletes_nothing_latest_deletes(queue):
    queue.send("x")
    [m1] = queue.receive()
    m1.change_visibility(0)
    [m2] = queue.receive()
    queue.delete(m1.receipt_handle)  # succeeds, as in SQS ...
    assert counts3(queue) == (0, 1, 0), "... without deleting the message received again since"
    m2.change_visibility(0)
    [m3] = queue.receive()
    assert m3.message_id == m1.message_id and m3.receive_count == 3
    m1.delete()
    m2.delete()
    assert counts3(queue) == (0, 1, 0)
    m3.delete()
    assert counts3(queue) == (0, 0, 0)
    assert queue.receive(10, visibility_timeout=0) == []


def test_receive_with_visibility_timeout_zero_leaves_message_visible(queue):
    queue.send("x")
    [m1] = queue.receive(visibility_timeout=0)
    assert counts3(queue) == (1, 0, 0)
    [m2] = queue.receive(visibility_timeout=0)
    assert m2.message_id == m1.message_id
    assert (m1.receive_count, m2.receive_count) == (1, 2)
    queue.delete(m2.receipt_handle)
    assert counts3(queue) == (0, 0, 0)


@pytest.mark.parametrize("where", ["queue", "receive"])
def test_one_receive_never_returns_a_message_twice(broker, names, where):
    q = broker.create_queue(names(), **({"visibility_timeout": 0} if where == "queue" else {}))
    q.send("a")
    q.send("b")
    kwargs = {"visibility_timeout": 0} if where == "receive" else {}
    got = q.receive(10, **kwargs)
    assert sorted(m.text for m in got) == ["a", "b"]
    again = q.receive(10, **kwargs)
    assert sorted(m.text for m in again) == ["a", "b"]
    assert all(m.receive_count == 2 for m in again)


def test_queue_visibility_timeout_zero(broker, names):
    q = broker.create_queue(names(), visibility_timeout=0)
    q.send("x")
    [m1] = q.receive()
    [m2] = q.receive()
    assert m2.message_id == m1.message_id and m2.receive_count == 2


@pytest.mark.parametrize("where", ["queue", "receive"])
def test_visibility_timeout_expires(broker, names, where):
    """A message not deleted within its (1 s) visibility timeout is delivered again."""
    if where == "queue":
        q = broker.create_queue(names(), visibility_timeout=1)
        kwargs = {}
    else:
        q = broker.create_queue(names())  # 30 s, overridden by the receive
        kwargs = {"visibility_timeout": 1}
    q.send("x")
    [m1] = q.receive(**kwargs)
    assert q.receive() == []
    [m2] = q.receive(wait_seconds=10)
    assert m2.message_id == m1.message_id
    assert m2.receive_count == 2
    q.delete(m2.receipt_handle)
    assert counts3(q) == (0, 0, 0)


def test_change_visibility_extends_the_timeout(queue):
    queue.send("x")
    [m] = queue.receive(visibility_timeout=1)
    queue.change_visibility(m.receipt_handle, 60)
    # Without the change it would be back after 1 s.
    assert queue.receive(wait_seconds=2) == []
    assert counts3(queue) == (0, 1, 0)
    queue.delete(m.receipt_handle)
    assert counts3(queue) == (0, 0, 0)


def test_change_visibility_cannot_pass_12_hours_from_the_receive(queue):
    queue.send("x")
    [m] = queue.receive()
    time.sleep(1.1)
    # SQS: "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]".
    with raises("InvalidParameterValue"):
        queue.change_visibility(m.receipt_handle, 43_200)
    queue.change_visibility(m.receipt_handle, 43_000)
    assert counts3(queue) == (0, 1, 0)


@pytest.mark.parametrize("seconds", [43_201, -1, 100_000])
def test_change_visibility_out_of_range(queue, seconds):
    queue.send("x")
    [m] = queue.receive()
    with raises("InvalidParameterValue"):
        queue.change_visibility(m.receipt_handle, seconds)
    assert counts3(queue) == (0, 1, 0)


def test_change_visibility_at_maximum(queue):
    queue.send("x")
    [m] = queue.receive()
    queue.change_visibility(m.receipt_handle, 43_200)
    assert counts3(queue) == (0, 1, 0)


@pytest.mark.parametrize("seconds", [43_201, -1])
def test_receive_visibility_timeout_out_of_range(queue, seconds):
    queue.send("x")
    with raises("InvalidParameterValue"):
        queue.receive(visibility_timeout=seconds)
    assert counts3(queue) == (1, 0, 0)


def test_change_visibility_of_visible_message_is_not_inflight(queue):
    queue.send("x")
    [m] = queue.receive()
    m.change_visibility(0)
    with raises("MessageNotInflight"):
        queue.change_visibility(m.receipt_handle, 30)
    assert counts3(queue) == (1, 0, 0)


def test_change_visibility_after_receive_with_zero_timeout(queue):
    queue.send("x")
    [m] = queue.receive(visibility_timeout=0)
    with raises("MessageNotInflight"):
        m.change_visibility(30)


def test_change_visibility_of_deleted_message(queue):
    queue.send("x")
    [m] = queue.receive()
    m.delete()
    # SQS: InvalidParameterValue, "Message does not exist or is not available for visibility
    # timeout change."
    with raises("InvalidParameterValue"):
        m.change_visibility(10)


@pytest.mark.parametrize("handle", ["", "garbage", "Zm9vYmFy"])
def test_change_visibility_with_invalid_handle(queue, handle):
    with raises("ReceiptHandleIsInvalid"):
        queue.change_visibility(handle, 0)


# ---- delays --------------------------------------------------------------------------------------


def test_delayed_message_is_not_received_until_its_delay_ends(queue):
    queue.send("later", delay_seconds=900)
    assert queue.receive(10) == []
    assert counts3(queue) == (0, 0, 1)
    assert queue.get_attributes("ApproximateNumberOfMessagesDelayed") == {
        "ApproximateNumberOfMessagesDelayed": "1"
    }


def test_delay_of_one_second(queue):
    queue.send("soon", delay_seconds=1)
    assert queue.receive() == []
    [m] = queue.receive(wait_seconds=10)
    assert m.text == "soon"
    assert m.receive_count == 1
    assert queue.counts()["oldest_age_seconds"] >= 1


def test_message_delay_overrides_queue_delay(broker, names):
    q = broker.create_queue(names(), delay_seconds=900)
    q.send("queue delay")
    q.send("no delay", delay_seconds=0)
    assert [m.text for m in q.receive(10)] == ["no delay"]
    assert q.counts()["delayed"] == 1


@pytest.mark.parametrize("seconds", [901, -1])
def test_delay_out_of_range(queue, seconds):
    with raises("InvalidParameterValue"):
        queue.send("x", delay_seconds=seconds)
    assert counts3(queue) == (0, 0, 0)


def test_delay_at_maximum(queue):
    queue.send("x", delay_seconds=900)
    assert counts3(queue) == (0, 0, 1)


def test_counts_of_an_empty_queue(queue):
    assert queue.counts() == {"visible": 0, "in_flight": 0, "delayed": 0, "oldest_age_seconds": 0}
