"""Queues: create / get / list / delete, attributes and their limits, tags, purge."""

from __future__ import annotations

import json

import pytest
import sqsfast
from support import KIB, MIB, raises

# ---- create, get, list, delete -------------------------------------------------------------------


def test_create_queue_returns_queue_with_name_and_arn(broker, names):
    name = names()
    q = broker.create_queue(name)
    assert q.name == name
    assert q.arn == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    assert q.attributes["QueueArn"] == q.arn


def test_broker_identity_shows_in_arn():
    b = sqsfast.Broker(account_id="123456789012", region="eu-west-1")
    q = b.create_queue("orders")
    assert q.arn == "arn:aws:sqs:eu-west-1:123456789012:orders"
    assert q.attributes["QueueArn"] == q.arn


def test_queue_by_name_is_the_same_queue(broker, names):
    q = broker.create_queue(names())
    q.send("through the first handle")
    again = broker.queue(q.name)
    assert again.name == q.name and again.arn == q.arn
    [m] = again.receive()
    assert m.text == "through the first handle"


def test_queue_that_does_not_exist(broker, names):
    with raises("QueueDoesNotExist"):
        broker.queue(names())


def test_create_is_idempotent_with_same_attributes(broker, names):
    name = names()
    q1 = broker.create_queue(name, visibility_timeout=60, tags={"team": "a"})
    q1.send("kept")
    q2 = broker.create_queue(name, visibility_timeout=60)
    assert q2.name == name
    assert q2.attributes["VisibilityTimeout"] == "60"
    assert [m.text for m in q2.receive()] == ["kept"], "the existing queue, not a new one"
    assert len(broker.list_queues(names.prefix)) == 1


def test_create_is_idempotent_with_raw_attributes(broker, names):
    name = names()
    broker.create_queue(name, attributes={"DelaySeconds": "5"})
    q = broker.create_queue(name, delay_seconds=5)
    assert q.attributes["DelaySeconds"] == "5"


@pytest.mark.parametrize(
    "first, second",
    [
        ({"visibility_timeout": 60}, {"visibility_timeout": 61}),
        ({"delay_seconds": 1}, {"delay_seconds": 0}),
        ({"attributes": {"MaximumMessageSize": "2048"}}, {"maximum_message_size": 4096}),
        ({}, {"message_retention_period": 60}),
    ],
)
def test_create_with_other_attribute_values_raises_queue_name_exists(broker, names, first, second):
    name = names()
    broker.create_queue(name, **first)
    with raises("QueueNameExists"):
        broker.create_queue(name, **second)


def test_list_queues_sorted_and_filtered_by_prefix(broker, names):
    created = [broker.create_queue(f"{names.prefix}-{suffix}") for suffix in ["c", "a", "b", "aa"]]
    other = broker.create_queue("x" + names.prefix)
    listed = broker.list_queues(names.prefix)
    assert all(isinstance(q, type(created[0])) for q in listed)
    assert [q.name for q in listed] == sorted(q.name for q in created)
    assert [q.name for q in broker.list_queues(names.prefix + "-a")] == [
        f"{names.prefix}-a",
        f"{names.prefix}-aa",
    ]
    assert other.name in [q.name for q in broker.list_queues()]
    assert broker.list_queues(names.prefix + "-zzz") == []


def test_list_queues_default_prefix_lists_everything():
    b = sqsfast.Broker()
    assert b.list_queues() == []
    b.create_queue("b")
    b.create_queue("a")
    assert [q.name for q in b.list_queues()] == ["a", "b"]


def test_delete_queue_by_name_and_by_queue(broker, names):
    q1 = broker.create_queue(names())
    q2 = broker.create_queue(names())
    assert broker.delete_queue(q1.name) is None
    assert broker.delete_queue(q2) is None
    assert broker.list_queues(names.prefix) == []
    for q in (q1, q2):
        with raises("QueueDoesNotExist"):
            broker.queue(q.name)


def test_delete_missing_queue(broker, names):
    with raises("QueueDoesNotExist"):
        broker.delete_queue(names())


@pytest.mark.parametrize(
    "call",
    [
        lambda q: q.send("x"),
        lambda q: q.receive(),
        lambda q: q.purge(),
        lambda q: q.get_attributes("VisibilityTimeout"),
        lambda q: q.set_attributes(visibility_timeout=5),
        lambda q: q.send_batch(["x"]),
        lambda q: q.tag({"a": "b"}),
    ],
    ids=["send", "receive", "purge", "get_attributes", "set_attributes", "send_batch", "tag"],
)
def test_deleted_queue_object_raises_queue_does_not_exist(broker, names, call):
    q = broker.create_queue(names())
    broker.delete_queue(q)
    with raises("QueueDoesNotExist"):
        call(q)


def test_recreate_within_60s_raises_queue_deleted_recently(broker, names):
    name = names()
    broker.create_queue(name)
    broker.delete_queue(name)
    with raises("QueueDeletedRecently"):
        broker.create_queue(name)


# ---- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda prefix: prefix + "-A-b_9",
        lambda prefix: (prefix + "_" + "x" * 80)[:80],
        lambda prefix: prefix.upper(),
    ],
    ids=["punctuation", "80-chars", "upper-case"],
)
def test_valid_queue_names(broker, names, make):
    name = make(names.prefix)
    q = broker.create_queue(name)
    assert q.name == name
    assert broker.queue(name).name == name


def test_one_character_queue_name():
    b = sqsfast.Broker()
    assert b.create_queue("a").name == "a"
    # Names are case-sensitive: "A" is another queue.
    assert b.create_queue("A").name == "A"
    assert [q.name for q in b.list_queues()] == ["A", "a"]


@pytest.mark.parametrize(
    "name",
    ["", "x" * 81, "a.b", "a b", "a/b", "a:b", "é", "queue!", "a\x00"],
    ids=["empty", "81-chars", "dot", "space", "slash", "colon", "non-ascii", "bang", "nul"],
)
def test_invalid_queue_names(broker, name):
    with raises("InvalidParameterValue"):
        broker.create_queue(name)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name_suffix": ".fifo"},
        {"attributes": {"FifoQueue": "true"}},
        {"attributes": {"ContentBasedDeduplication": "true"}},
    ],
    ids=["fifo-name", "FifoQueue", "ContentBasedDeduplication"],
)
def test_fifo_queues_are_unsupported(broker, names, kwargs):
    kwargs = dict(kwargs)
    name = names() + kwargs.pop("name_suffix", "")
    with raises("UnsupportedOperation"):
        broker.create_queue(name, **kwargs)
    assert broker.list_queues(names.prefix) == []


# ---- attributes ----------------------------------------------------------------------------------

DEFAULTS = {
    "VisibilityTimeout": "30",
    "MaximumMessageSize": str(MIB),
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "ReceiveMessageWaitTimeSeconds": "0",
    "ApproximateNumberOfMessages": "0",
    "ApproximateNumberOfMessagesNotVisible": "0",
    "ApproximateNumberOfMessagesDelayed": "0",
}


def test_attributes_have_every_sqs_attribute_with_defaults(queue):
    attrs = queue.attributes
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in attrs.items())
    for name, value in DEFAULTS.items():
        assert attrs[name] == value, name
    assert attrs["QueueArn"] == queue.arn
    for stamp in ("CreatedTimestamp", "LastModifiedTimestamp"):
        assert attrs[stamp].isdigit()
        # Epoch seconds, as SQS gives them (not milliseconds).
        assert 1_600_000_000 < int(attrs[stamp]) < 10_000_000_000
    assert "RedrivePolicy" not in attrs


def test_get_attributes_by_name(queue):
    got = queue.get_attributes("VisibilityTimeout", "QueueArn", "ApproximateNumberOfMessages")
    assert got == {
        "VisibilityTimeout": "30",
        "QueueArn": queue.arn,
        "ApproximateNumberOfMessages": "0",
    }


def test_get_attributes_all(queue):
    assert queue.get_attributes("All") == queue.attributes


@pytest.mark.parametrize("bad", ["Nope", "visibilitytimeout", "FifoQueueX", ""])
def test_get_unknown_attribute(queue, bad):
    with raises("InvalidAttributeName"):
        queue.get_attributes("VisibilityTimeout", bad)


def test_attribute_counts_follow_messages(queue):
    queue.send("a")
    queue.send("b")
    queue.send("c", delay_seconds=900)
    queue.receive()
    got = queue.get_attributes(
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    )
    assert got == {
        "ApproximateNumberOfMessages": "1",
        "ApproximateNumberOfMessagesNotVisible": "1",
        "ApproximateNumberOfMessagesDelayed": "1",
    }


# (snake-case keyword, SQS name, value, valid): every edge of every ranged attribute.
LIMITS = [
    ("visibility_timeout", "VisibilityTimeout", 0, True),
    ("visibility_timeout", "VisibilityTimeout", 43_200, True),
    ("visibility_timeout", "VisibilityTimeout", 43_201, False),
    ("visibility_timeout", "VisibilityTimeout", -1, False),
    ("message_retention_period", "MessageRetentionPeriod", 60, True),
    ("message_retention_period", "MessageRetentionPeriod", 59, False),
    ("message_retention_period", "MessageRetentionPeriod", 1_209_600, True),
    ("message_retention_period", "MessageRetentionPeriod", 1_209_601, False),
    ("delay_seconds", "DelaySeconds", 0, True),
    ("delay_seconds", "DelaySeconds", 900, True),
    ("delay_seconds", "DelaySeconds", 901, False),
    ("delay_seconds", "DelaySeconds", -1, False),
    ("receive_wait_time_seconds", "ReceiveMessageWaitTimeSeconds", 0, True),
    ("receive_wait_time_seconds", "ReceiveMessageWaitTimeSeconds", 20, True),
    ("receive_wait_time_seconds", "ReceiveMessageWaitTimeSeconds", 21, False),
    ("receive_wait_time_seconds", "ReceiveMessageWaitTimeSeconds", -1, False),
    ("maximum_message_size", "MaximumMessageSize", KIB, True),
    ("maximum_message_size", "MaximumMessageSize", KIB - 1, False),
    ("maximum_message_size", "MaximumMessageSize", MIB, True),
    ("maximum_message_size", "MaximumMessageSize", MIB + 1, False),
]
LIMIT_IDS = [f"{sqs}={value}" for _, sqs, value, _ in LIMITS]


@pytest.mark.parametrize("kw, sqs_name, value, valid", LIMITS, ids=LIMIT_IDS)
def test_create_queue_limits_by_keyword(broker, names, kw, sqs_name, value, valid):
    name = names()
    if valid:
        q = broker.create_queue(name, **{kw: value})
        assert q.attributes[sqs_name] == str(value)
    else:
        with raises("InvalidAttributeValue"):
            broker.create_queue(name, **{kw: value})
        assert broker.list_queues(names.prefix) == []


@pytest.mark.parametrize("kw, sqs_name, value, valid", LIMITS, ids=LIMIT_IDS)
def test_create_queue_limits_by_raw_attribute(broker, names, kw, sqs_name, value, valid):
    name = names()
    if valid:
        q = broker.create_queue(name, attributes={sqs_name: str(value)})
        assert q.get_attributes(sqs_name) == {sqs_name: str(value)}
    else:
        with raises("InvalidAttributeValue"):
            broker.create_queue(name, attributes={sqs_name: str(value)})


@pytest.mark.parametrize("kw, sqs_name, value, valid", LIMITS, ids=LIMIT_IDS)
def test_set_attributes_limits(queue, kw, sqs_name, value, valid):
    before = queue.attributes[sqs_name]
    if valid:
        queue.set_attributes(**{kw: value})
        assert queue.attributes[sqs_name] == str(value)
    else:
        with raises("InvalidAttributeValue"):
            queue.set_attributes(**{kw: value})
        assert queue.attributes[sqs_name] == before


@pytest.mark.parametrize("value", ["abc", "1.5", "", "1e3"])
def test_non_integer_attribute_values(broker, names, value):
    with raises("InvalidAttributeValue"):
        broker.create_queue(names(), attributes={"VisibilityTimeout": value})


def test_raw_attributes_merge_with_keywords(broker, names):
    q = broker.create_queue(
        names(),
        visibility_timeout=45,
        attributes={"DelaySeconds": "7", "MaximumMessageSize": "2048"},
    )
    got = q.get_attributes("VisibilityTimeout", "DelaySeconds", "MaximumMessageSize")
    assert got == {"VisibilityTimeout": "45", "DelaySeconds": "7", "MaximumMessageSize": "2048"}


@pytest.mark.parametrize("name", ["Nope", "visibilityTimeout", "QueueArn", "CreatedTimestamp"])
def test_create_with_unknown_or_read_only_attribute(broker, names, name):
    with raises("InvalidAttributeName"):
        broker.create_queue(names(), attributes={name: "1"})


def test_set_attributes_by_keyword_and_raw(queue):
    queue.set_attributes(visibility_timeout=10, delay_seconds=3)
    queue.set_attributes({"ReceiveMessageWaitTimeSeconds": "4", "MessageRetentionPeriod": "600"})
    got = queue.get_attributes(
        "VisibilityTimeout",
        "DelaySeconds",
        "ReceiveMessageWaitTimeSeconds",
        "MessageRetentionPeriod",
    )
    assert got == {
        "VisibilityTimeout": "10",
        "DelaySeconds": "3",
        "ReceiveMessageWaitTimeSeconds": "4",
        "MessageRetentionPeriod": "600",
    }


def test_set_attributes_is_all_or_nothing(queue):
    with raises("InvalidAttributeValue"):
        queue.set_attributes(visibility_timeout=5, delay_seconds=901)
    with raises("InvalidAttributeName"):
        queue.set_attributes({"VisibilityTimeout": "6", "Bogus": "1"})
    assert queue.get_attributes("VisibilityTimeout", "DelaySeconds") == {
        "VisibilityTimeout": "30",
        "DelaySeconds": "0",
    }


def test_set_attributes_takes_no_tags(queue):
    with pytest.raises(TypeError):
        queue.set_attributes(tags={"a": "b"})
    assert queue.tags == {}


@pytest.mark.parametrize("name", ["QueueArn", "ApproximateNumberOfMessages", "CreatedTimestamp"])
def test_read_only_attributes_cannot_be_set(queue, name):
    with raises("InvalidAttributeName"):
        queue.set_attributes({name: "1"})


def test_set_attributes_applies_to_new_receives(queue):
    queue.set_attributes(delay_seconds=900)
    queue.send("delayed by the queue")
    assert queue.receive() == []
    assert queue.counts()["delayed"] == 1


@pytest.mark.parametrize(
    "name, value, valid",
    [
        ("KmsDataKeyReusePeriodSeconds", "60", True),
        ("KmsDataKeyReusePeriodSeconds", "86400", True),
        ("KmsDataKeyReusePeriodSeconds", "59", False),
        ("KmsDataKeyReusePeriodSeconds", "86401", False),
        ("SqsManagedSseEnabled", "false", True),
        ("SqsManagedSseEnabled", "true", True),
        ("SqsManagedSseEnabled", "maybe", False),
        ("Policy", '{"Version": "2012-10-17", "Statement": []}', True),
        ("Policy", "not json", False),
        ("RedriveAllowPolicy", '{"redrivePermission": "allowAll"}', True),
        ("RedriveAllowPolicy", "[1]", False),
    ],
)
def test_other_settable_attributes(queue, name, value, valid):
    if valid:
        queue.set_attributes({name: value})
        got = queue.get_attributes(name)[name]
        if name in ("Policy", "RedriveAllowPolicy"):
            assert json.loads(got) == json.loads(value)
        else:
            assert got == value
    else:
        with raises("InvalidAttributeValue"):
            queue.set_attributes({name: value})


# ---- tags ----------------------------------------------------------------------------------------


def test_tags_on_create_tag_and_untag(broker, names):
    q = broker.create_queue(names(), tags={"team": "payments", "env": "test"})
    assert q.tags == {"team": "payments", "env": "test"}
    q.tag({"env": "prod", "owner": "me"})
    assert q.tags == {"team": "payments", "env": "prod", "owner": "me"}
    q.untag(["team", "not-there"])
    assert q.tags == {"env": "prod", "owner": "me"}
    assert broker.queue(q.name).tags == {"env": "prod", "owner": "me"}


def test_new_queue_has_no_tags(queue):
    assert queue.tags == {}


@pytest.mark.parametrize(
    "tags, valid",
    [
        ({"k" * 128: "v"}, True),
        ({"k" * 129: "v"}, False),
        ({"k": "v" * 256}, True),
        ({"k": "v" * 257}, False),
        ({"": "v"}, False),
        ({"aws:reserved": "v"}, False),
        ({f"k{i}": "v" for i in range(50)}, True),
        ({f"k{i}": "v" for i in range(51)}, False),
    ],
    ids=["key-128", "key-129", "value-256", "value-257", "empty-key", "aws-prefix", "50", "51"],
)
def test_tag_limits(queue, tags, valid):
    if valid:
        queue.tag(tags)
        assert queue.tags == tags
    else:
        with raises("InvalidParameterValue"):
            queue.tag(tags)
        assert queue.tags == {}


def test_more_than_50_tags_in_total(queue):
    queue.tag({f"a{i}": "v" for i in range(30)})
    with raises("InvalidParameterValue"):
        queue.tag({f"b{i}": "v" for i in range(21)})
    assert len(queue.tags) == 30


# ---- purge ---------------------------------------------------------------------------------------


def test_purge_removes_visible_in_flight_and_delayed(queue):
    for i in range(5):
        queue.send(f"m{i}")
    queue.send("later", delay_seconds=900)
    in_flight = queue.receive(2)
    assert len(in_flight) == 2
    queue.purge()
    counts = queue.counts()
    assert (counts["visible"], counts["in_flight"], counts["delayed"]) == (0, 0, 0)
    assert queue.receive(10) == []
    queue.send("after purge")
    assert [m.text for m in queue.receive(10)] == ["after purge"]


def test_second_purge_within_60s(queue):
    queue.purge()
    queue.send("kept")
    with raises("PurgeQueueInProgress"):
        queue.purge()
    assert [m.text for m in queue.receive()] == ["kept"]


def test_purge_is_per_queue(broker, names):
    a = broker.create_queue(names())
    b = broker.create_queue(names())
    b.send("b's")
    a.purge()
    b.purge()  # not in progress for b
    a.send("a's")
    assert [m.text for m in a.receive()] == ["a's"]
