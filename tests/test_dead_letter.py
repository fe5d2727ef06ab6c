"""Dead-letter queues: redrive policy, moves after max_receive_count, what a moved message keeps."""

from __future__ import annotations

import json

import pytest
import sqsfast
from support import raises


def redrive(q) -> dict:
    return json.loads(q.attributes["RedrivePolicy"])


@pytest.fixture
def dlq(broker, names):
    return broker.create_queue(names("dlq"))


def test_dead_letter_queue_sets_redrive_policy(broker, names, dlq):
    src = broker.create_queue(names("src"), dead_letter_queue=dlq, max_receive_count=3)
    assert redrive(src) == {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 3}


def test_dead_letter_queue_by_name(broker, names, dlq):
    src = broker.create_queue(names("src"), dead_letter_queue=dlq.name, max_receive_count=5)
    assert redrive(src) == {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 5}


def test_max_receive_count_defaults_to_10(broker, names, dlq):
    src = broker.create_queue(names("src"), dead_letter_queue=dlq)
    assert redrive(src)["maxReceiveCount"] == 10


def test_redrive_policy_as_raw_attribute(broker, names, dlq):
    policy = json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": "4"})
    src = broker.create_queue(names("src"), attributes={"RedrivePolicy": policy})
    assert redrive(src) == {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 4}


def test_set_and_remove_redrive_policy(queue, dlq):
    queue.set_attributes(dead_letter_queue=dlq, max_receive_count=2)
    assert redrive(queue) == {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 2}
    queue.set_attributes({"RedrivePolicy": ""})
    assert "RedrivePolicy" not in queue.attributes


@pytest.mark.parametrize(
    "count, valid", [(1, True), (1000, True), (0, False), (1001, False), (-1, False)]
)
def test_max_receive_count_limits(broker, names, dlq, count, valid):
    name = names("src")
    if valid:
        q = broker.create_queue(name, dead_letter_queue=dlq, max_receive_count=count)
        assert redrive(q)["maxReceiveCount"] == count
    else:
        # SQS: InvalidParameterValue for a bad RedrivePolicy.
        with raises("InvalidParameterValue"):
            broker.create_queue(name, dead_letter_queue=dlq, max_receive_count=count)


@pytest.mark.parametrize(
    "policy",
    [
        "not json",
        "[]",
        '{"maxReceiveCount": 3}',
        '{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:nope", "maxReceiveCount": 3}',
    ],
    ids=["not-json", "not-object", "no-arn", "missing-target"],
)
def test_invalid_redrive_policy(broker, names, policy):
    with raises("InvalidParameterValue"):
        broker.create_queue(names("src"), attributes={"RedrivePolicy": policy})


def test_redrive_policy_without_max_receive_count(broker, names, dlq):
    policy = json.dumps({"deadLetterTargetArn": dlq.arn})
    with raises("InvalidParameterValue"):
        broker.create_queue(names("src"), attributes={"RedrivePolicy": policy})


def test_dead_letter_queue_that_does_not_exist(broker, names):
    with pytest.raises((sqsfast.InvalidParameterValue, sqsfast.QueueDoesNotExist)):
        broker.create_queue(names("src"), dead_letter_queue=names("missing"))


def _receive_until_moved(src, max_receive_count, make_visible):
    """Receives the one message max_receive_count times; the next receive must move it."""
    seen = []
    for _ in range(max_receive_count):
        [m] = src.receive(**({"visibility_timeout": 0} if make_visible == "vt0" else {}))
        if make_visible == "change":
            m.change_visibility(0)
        seen.append(m)
    assert [m.receive_count for m in seen] == list(range(1, max_receive_count + 1))
    assert src.receive(10) == [], "the max_receive_count + 1-th receive moves it instead"
    return seen


@pytest.mark.parametrize("make_visible", ["vt0", "change"])
def test_message_moves_after_max_receive_count(broker, names, dlq, make_visible):
    src = broker.create_queue(names("src"), dead_letter_queue=dlq, max_receive_count=2)
    message_id = src.send("poison", attributes={"k": "v", "n": 7, "b": b"\x01"})
    seen = _receive_until_moved(src, 2, make_visible)
    c = src.counts()
    assert (c["visible"], c["in_flight"], c["delayed"]) == (0, 0, 0)
    assert dlq.counts()["visible"] == 1
    [d] = dlq.receive()
    assert d.message_id == message_id
    assert d.text == "poison"
    assert d.attributes == {"k": "v", "n": 7, "b": b"\x01"}
    assert d.md5_of_attributes == seen[0].md5_of_attributes
    assert d.md5_of_body == seen[0].md5_of_body
    assert d.sent_at == seen[0].sent_at
    assert d.system_attributes["SentTimestamp"] == seen[0].system_attributes["SentTimestamp"]
    assert d.system_attributes["DeadLetterQueueSourceArn"] == src.arn
    assert d.queue.name == dlq.name
    d.delete()
    c = dlq.counts()
    assert (c["visible"], c["in_flight"], c["delayed"]) == (0, 0, 0)


def test_max_receive_count_one(broker, names, dlq):
    src = broker.create_queue(names("src"), dead_letter_queue=dlq, max_receive_count=1)
    src.send("once")
    _receive_until_moved(src, 1, "change")
    [d] = dlq.receive()
    assert d.text == "once"


def test_messages_under_the_limit_stay(broker, names, dlq):
    src = broker.create_queue(names("src"), dead_letter_queue=dlq, max_receive_count=3)
    src.send("ok")
    for _ in range(3):
        [m] = src.receive(visibility_timeout=0)
    assert dlq.counts()["visible"] == 0
    m.delete()
    assert dlq.receive(10) == []


def test_only_the_exhausted_message_moves(broker, names, dlq):
    src = broker.create_queue(names("src"), dead_letter_queue=dlq, max_receive_count=1)
    src.send("poison")
    [m] = src.receive()
    m.change_visibility(0)
    src.send("fresh")
    got = src.receive(10)
    assert [x.text for x in got] == ["fresh"]
    assert [x.text for x in dlq.receive(10)] == ["poison"]


def test_dead_letter_source_queues(broker, names, dlq):
    a = broker.create_queue(names("a"), dead_letter_queue=dlq)
    b = broker.create_queue(names("b"), dead_letter_queue=dlq.name, max_receive_count=2)
    broker.create_queue(names("unrelated"))
    expected = sorted([a.name, b.name])
    assert sorted(q.name for q in broker.dead_letter_source_queues(dlq)) == expected
    assert sorted(q.name for q in broker.dead_letter_source_queues(dlq.name)) == expected
    assert broker.dead_letter_source_queues(a) == []


def test_dead_letter_source_queues_of_missing_queue(broker, names):
    with raises("QueueDoesNotExist"):
        broker.dead_letter_source_queues(names("missing"))
