"""Messages: send / receive / delete, bodies, sizes, message attributes, checksums, system
attributes."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid

import pytest
import sqsfast
from sqsfast import MessageAttribute
from support import (
    KIB,
    MIB,
    md5_of_attributes,
    raises,
    receive_n,
)

UTC = dt.timezone.utc

# ---- send, receive, delete -----------------------------------------------------------------------


def test_send_receive_delete(queue):
    message_id = queue.send("hello")
    assert isinstance(message_id, str)
    assert str(uuid.UUID(message_id)) == message_id.lower()
    [m] = queue.receive()
    assert m.message_id == message_id
    assert m.body == b"hello"
    assert m.text == "hello"
    assert isinstance(m.receipt_handle, str) and m.receipt_handle
    assert m.receive_count == 1
    assert m.queue.name == queue.name
    assert queue.counts()["in_flight"] == 1
    queue.delete(m.receipt_handle)
    c = queue.counts()
    assert (c["visible"], c["in_flight"], c["delayed"]) == (0, 0, 0)
    assert queue.receive() == []


def test_message_delete_method(queue):
    queue.send("x")
    [m] = queue.receive()
    m.delete()
    m2 = queue.receive(10, visibility_timeout=0)
    assert m2 == []
    assert queue.counts()["in_flight"] == 0


def test_receive_on_empty_queue_returns_empty_list(queue):
    assert queue.receive() == []
    assert queue.receive(10) == []


def test_message_ids_are_distinct(queue):
    ids = {queue.send(f"m{i}") for i in range(50)}
    assert len(ids) == 50
    got = receive_n(queue, 50)
    assert {m.message_id for m in got} == ids


def test_receive_max_messages(queue):
    for i in range(15):
        queue.send(f"m{i}")
    first = queue.receive(10)
    assert 1 <= len(first) <= 10
    rest = receive_n(queue, 15 - len(first))
    bodies = [m.text for m in first + rest]
    assert sorted(bodies) == sorted(f"m{i}" for i in range(15)), "each exactly once while in flight"
    assert queue.receive(10) == []


def test_receive_default_is_one_message(queue):
    for i in range(3):
        queue.send(f"m{i}")
    assert len(queue.receive()) == 1


@pytest.mark.parametrize("n", [0, 11, -1])
def test_receive_max_messages_out_of_range(queue, n):
    queue.send("x")
    with raises("InvalidParameterValue"):
        queue.receive(n)
    assert queue.counts()["visible"] == 1, "nothing received by a rejected call"


def test_delete_same_handle_twice_succeeds(queue):
    queue.send("x")
    [m] = queue.receive()
    queue.delete(m.receipt_handle)
    queue.delete(m.receipt_handle)


@pytest.mark.parametrize("handle", ["", "garbage", "AAAA", "x" * 2000, "Zm9vYmFy"])
def test_delete_with_invalid_handle(queue, handle):
    with raises("ReceiptHandleIsInvalid"):
        queue.delete(handle)


def test_handle_of_another_queue_is_invalid(broker, names):
    a = broker.create_queue(names())
    b = broker.create_queue(names())
    a.send("a")
    b.send("b")
    [ma] = a.receive()
    with raises("ReceiptHandleIsInvalid"):
        b.delete(ma.receipt_handle)
    with raises("ReceiptHandleIsInvalid"):
        b.change_visibility(ma.receipt_handle, 0)
    assert b.counts()["visible"] == 1
    assert a.counts()["in_flight"] == 1


def test_tampered_handle_is_invalid(queue):
    queue.send("x")
    [m] = queue.receive()
    h = m.receipt_handle
    tampered = h[:-2] + ("AA" if h[-2:] != "AA" else "BB")
    with raises("ReceiptHandleIsInvalid"):
        queue.delete(tampered)
    assert queue.counts()["in_flight"] == 1


# ---- bodies --------------------------------------------------------------------------------------


def test_str_body_is_sent_as_utf8(queue):
    text = "héllo ✓ 😀 中文"
    queue.send(text)
    [m] = queue.receive()
    assert m.body == text.encode("utf-8")
    assert isinstance(m.body, bytes)
    assert m.text == text


def test_bytes_body(queue):
    body = "naïve\tline\r\n".encode()
    queue.send(body)
    [m] = queue.receive()
    assert m.body == body
    assert m.text == body.decode()


@pytest.mark.parametrize(
    "char",
    [
        "\t",
        "\n",
        "\r",
        " ",
        "~",
        "\x7f",
        "\x80",
        "\ud7ff",
        "\ue000",
        "\ufffd",
        "\U00010000",
        "\U0010ffff",
    ],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_allowed_characters(queue, char):
    body = "a" + char + "b"
    queue.send(body)
    queue.send(body.encode())
    got = receive_n(queue, 2)
    assert [m.text for m in got] == [body, body]


@pytest.mark.parametrize(
    "char",
    ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\ufffe", "\uffff"],
    ids=lambda c: f"U+{ord(c):04X}",
)
def test_forbidden_characters(queue, char):
    with raises("InvalidMessageContents"):
        queue.send("a" + char + "b")
    with raises("InvalidMessageContents"):
        queue.send(("a" + char + "b").encode())
    assert queue.counts()["visible"] == 0


@pytest.mark.parametrize(
    "body",
    [b"\xff", b"ab\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"a\x80b"],
    ids=["0xff", "truncated", "overlong", "encoded-surrogate", "above-10FFFF", "lone-continuation"],
)
def test_invalid_utf8(queue, body):
    with raises("InvalidMessageContents"):
        queue.send(body)
    assert queue.counts()["visible"] == 0


def test_lone_surrogate_in_str(queue):
    # U+D800 is outside SQS's allowed characters; a str holding it cannot even be UTF-8.
    with raises("InvalidMessageContents"):
        queue.send("a\ud800b")


@pytest.mark.parametrize("body", ["", b""], ids=["str", "bytes"])
def test_empty_body(queue, body):
    # SQS: "The request must contain the parameter MessageBody." (MissingParameter).
    with raises("MissingParameter"):
        queue.send(body)


@pytest.mark.parametrize("body", [123, None, 1.5, ["a"], {"a": 1}])
def test_body_of_wrong_type(queue, body):
    with pytest.raises(TypeError):
        queue.send(body)


# ---- size ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [KIB, 4 * KIB, MIB])
def test_body_at_and_past_maximum_message_size(broker, names, limit):
    q = broker.create_queue(names(), maximum_message_size=limit)
    q.send(b"x" * limit)
    [m] = q.receive()
    assert len(m.body) == limit
    with raises("InvalidParameterValue"):
        q.send(b"x" * (limit + 1))
    with raises("InvalidParameterValue"):
        q.send("x" * (limit + 1))


def test_default_maximum_is_one_mib(queue):
    queue.send("y" * MIB)
    with raises("InvalidParameterValue"):
        queue.send("y" * (MIB + 1))
    assert queue.counts()["visible"] == 1


def test_size_counts_utf8_bytes_not_characters(broker, names):
    q = broker.create_queue(names(), maximum_message_size=KIB)
    q.send("é" * 512)  # 1024 bytes
    with raises("InvalidParameterValue"):
        q.send("é" * 512 + "x")  # 513 characters would be fine, 1025 bytes are not
    with raises("InvalidParameterValue"):
        q.send("😀" * 257)  # 1028 bytes


@pytest.mark.parametrize(
    "attributes, attr_bytes",
    [
        ({"a": "xyz"}, 1 + len("String") + 3),
        ({"n": MessageAttribute("Number", "12")}, 1 + len("Number") + 2),
        ({"bin": b"\x00\x01\x02"}, 3 + len("Binary") + 3),
        ({"lbl": MessageAttribute("String.custom", "v")}, 3 + len("String.custom") + 1),
        ({"a": "1", "b": b"22"}, (1 + 6 + 1) + (1 + 6 + 2)),
    ],
    ids=["string", "number", "binary", "labelled", "two"],
)
def test_attributes_count_toward_message_size(broker, names, attributes, attr_bytes):
    q = broker.create_queue(names(), maximum_message_size=KIB)
    q.send("x" * (KIB - attr_bytes), attributes=attributes)
    with raises("InvalidParameterValue"):
        q.send("x" * (KIB - attr_bytes + 1), attributes=attributes)
    assert q.counts()["visible"] == 1


# ---- message attributes --------------------------------------------------------------------------


def test_attribute_types_round_trip(queue):
    sent = {
        "s": "text ✓",
        "i": 42,
        "neg": -7,
        "f": 1.5,
        "big": 12345678901234567890123,
        "b": b"\x00\xffbytes",
    }
    queue.send("body", attributes=sent)
    [m] = queue.receive()
    got = m.attributes
    assert got == sent
    assert type(got["s"]) is str
    assert type(got["i"]) is int and type(got["neg"]) is int and type(got["big"]) is int
    assert type(got["f"]) is float
    assert type(got["b"]) is bytes


def test_unlabelled_message_attribute_comes_back_plain(queue):
    queue.send(
        "body",
        attributes={
            "s": MessageAttribute("String", "v"),
            "n": MessageAttribute("Number", "3"),
            "x": MessageAttribute("Number", "2.25"),
            "b": MessageAttribute("Binary", b"\x01"),
        },
    )
    [m] = queue.receive()
    assert m.attributes == {"s": "v", "n": 3, "x": 2.25, "b": b"\x01"}


@pytest.mark.parametrize(
    "data_type, value",
    [
        ("Number.float", "1.5"),
        ("Number.int", "7"),
        ("String.json", '{"a": 1}'),
        ("Binary.png", b"\x89PNG\r\n"),
        ("String.a-b_c.d", "label with punctuation"),
    ],
)
def test_labelled_types_come_back_as_message_attribute(queue, data_type, value):
    queue.send("body", attributes={"attr": MessageAttribute(data_type, value)})
    [m] = queue.receive()
    got = m.attributes["attr"]
    assert isinstance(got, MessageAttribute)
    assert got.data_type == data_type
    assert got.value == value


def test_no_attributes_gives_empty_mapping(queue):
    queue.send("plain")
    [m] = queue.receive()
    assert m.attributes == {}
    assert m.md5_of_attributes is None


def test_ten_attributes_allowed_eleven_not(queue):
    ten = {f"a{i}": str(i) for i in range(10)}
    queue.send("ok", attributes=ten)
    with raises("InvalidParameterValue"):
        queue.send("too many", attributes={**ten, "a10": "x"})
    [m] = queue.receive(10)
    assert m.attributes == ten


def test_attribute_names_are_case_sensitive(queue):
    queue.send("x", attributes={"key": "lower", "KEY": "upper", "Key": "title"})
    [m] = queue.receive()
    assert m.attributes == {"key": "lower", "KEY": "upper", "Key": "title"}


@pytest.mark.parametrize(
    "name",
    ["a", "a.b", "a-b_c", "A9", "x" * 256, "a.b.c", "AWSx", "Amazonx", "aws", "my.AWS.x"],
)
def test_valid_attribute_names(queue, name):
    queue.send("x", attributes={name: "v"})
    [m] = queue.receive()
    assert m.attributes == {name: "v"}


@pytest.mark.parametrize(
    "name",
    [
        "",
        "x" * 257,
        ".a",
        "a.",
        "a..b",
        "AWS.x",
        "aws.x",
        "Amazon.x",
        "amazon.x",
        "AMAZON.x",
        "a b",
        "a/b",
        "a:b",
        "é",
        "a*",
    ],
)
def test_invalid_attribute_names(queue, name):
    with raises("InvalidParameterValue"):
        queue.send("x", attributes={name: "v"})
    assert queue.counts()["visible"] == 0


@pytest.mark.parametrize(
    "value",
    [
        MessageAttribute("Blob", "x"),
        MessageAttribute("string", "x"),
        MessageAttribute("String.", "x"),
        MessageAttribute("", "x"),
        MessageAttribute("Numberx", "1"),
        MessageAttribute("Number", "abc"),
        MessageAttribute("Number", "1e200"),
        MessageAttribute("Number", "1" * 39),
        MessageAttribute("Number", ""),
        MessageAttribute("String", ""),
        MessageAttribute("Binary", b""),
        "",
        b"",
        float("nan"),
        float("inf"),
        "bad \x00 char",
    ],
    ids=[
        "type-Blob",
        "type-lowercase",
        "type-trailing-dot",
        "type-empty",
        "type-Numberx",
        "number-abc",
        "number-too-large",
        "number-39-digits",
        "number-empty",
        "string-empty",
        "binary-empty",
        "str-empty",
        "bytes-empty",
        "nan",
        "inf",
        "string-forbidden-char",
    ],
)
def test_invalid_attribute_values(queue, value):
    with raises("InvalidParameterValue"):
        queue.send("x", attributes={"attr": value})
    assert queue.counts()["visible"] == 0


@pytest.mark.parametrize(
    "number",
    ["0", "-1", "1.5", "-0.25", "1e10", "1E-5", "1" * 38, "0.0001", "007"],
)
def test_valid_number_strings(queue, number):
    queue.send("x", attributes={"n": MessageAttribute("Number", number)})
    [m] = queue.receive()
    got = m.attributes["n"]
    assert isinstance(got, (int, float))
    assert float(got) == pytest.approx(float(number))


@pytest.mark.parametrize(
    "value", [[1], None, {"a": 1}, object()], ids=["list", "None", "dict", "obj"]
)
def test_attribute_value_of_wrong_type(queue, value):
    with pytest.raises(TypeError):
        queue.send("x", attributes={"attr": value})


# ---- checksums -----------------------------------------------------------------------------------


def test_md5_published_vector_string(queue):
    queue.send("body", attributes={"attribName1": "attribValue 1"})
    [m] = queue.receive()
    assert m.md5_of_attributes == "19e27d4e946b072f3f58da80d94fd778"


def test_md5_published_vector_binary(queue):
    queue.send("body", attributes={"binaryAttribute": b"Hello binary world!"})
    [m] = queue.receive()
    assert m.md5_of_attributes == "31a92b15d92f8db860eda32aceb656c3"


@pytest.mark.parametrize(
    "body",
    ["hello", "héllo ✓ 😀", "x" * 10_000, b"raw\tbytes\n"],
    ids=["ascii", "unicode", "long", "bytes"],
)
def test_md5_of_body(queue, body):
    queue.send(body)
    [m] = queue.receive()
    raw = body.encode() if isinstance(body, str) else body
    assert m.md5_of_body == hashlib.md5(raw).hexdigest()


def test_md5_of_body_known_value(queue):
    queue.send("hello")
    [m] = queue.receive()
    assert m.md5_of_body == "5d41402abc4b2a76b9719d911017c592"


def test_md5_of_attributes_matches_sqs_algorithm(queue):
    # Names given out of order: SQS sorts them before hashing.
    spec = {
        "zeta": ("String", "last ✓"),
        "alpha": ("Binary", b"\x00\x01\xfe"),
        "num": ("Number", "3.14"),
        "lab.el": ("Number.float", "2.5"),
        "img": ("Binary.png", b"\x89PNG"),
        "Upper": ("String.custom", "u"),
    }
    queue.send("body", attributes={name: MessageAttribute(t, v) for name, (t, v) in spec.items()})
    [m] = queue.receive()
    assert m.md5_of_attributes == md5_of_attributes(spec)
    assert m.md5_of_body == hashlib.md5(b"body").hexdigest()


def test_md5_of_attributes_from_plain_python_values(queue):
    queue.send("body", attributes={"s": "v", "b": b"\x01\x02"})
    [m] = queue.receive()
    assert m.md5_of_attributes == md5_of_attributes(
        {"s": ("String", "v"), "b": ("Binary", b"\x01\x02")}
    )


# ---- system attributes, times, receive count -----------------------------------------------------


def test_system_attributes(queue):
    before_ms = int(time.time() * 1000)
    queue.send("x")
    [m] = queue.receive()
    after_ms = int(time.time() * 1000)
    sys_attrs = m.system_attributes
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in sys_attrs.items())
    for key in (
        "SenderId",
        "SentTimestamp",
        "ApproximateReceiveCount",
        "ApproximateFirstReceiveTimestamp",
    ):
        assert key in sys_attrs, key
    sent_ms = int(sys_attrs["SentTimestamp"])
    first_ms = int(sys_attrs["ApproximateFirstReceiveTimestamp"])
    # Epoch milliseconds (a small allowance for clock granularity), not seconds.
    assert before_ms - 1000 <= sent_ms <= first_ms <= after_ms + 1000
    assert sys_attrs["ApproximateReceiveCount"] == "1"
    assert sys_attrs["SenderId"] == m.sender_id
    assert isinstance(m.sender_id, str) and m.sender_id
    assert "DeadLetterQueueSourceArn" not in sys_attrs


def test_sent_at_and_first_received_at_are_aware_utc(queue):
    queue.send("x")
    [m] = queue.receive()
    for stamp in (m.sent_at, m.first_received_at):
        assert isinstance(stamp, dt.datetime)
        assert stamp.tzinfo is not None
        assert stamp.utcoffset() == dt.timedelta(0)
    sent_ms = int(m.system_attributes["SentTimestamp"])
    first_ms = int(m.system_attributes["ApproximateFirstReceiveTimestamp"])
    assert m.sent_at == dt.datetime.fromtimestamp(sent_ms / 1000, UTC)
    assert m.first_received_at == dt.datetime.fromtimestamp(first_ms / 1000, UTC)
    now = dt.datetime.now(UTC)
    assert abs((now - m.sent_at).total_seconds()) < 60
    assert m.first_received_at >= m.sent_at


def test_receive_count_and_first_receive_kept_across_receives(queue):
    queue.send("x")
    [m1] = queue.receive()
    queue.change_visibility(m1.receipt_handle, 0)
    [m2] = queue.receive()
    assert m2.message_id == m1.message_id
    assert (m1.receive_count, m2.receive_count) == (1, 2)
    assert m2.system_attributes["ApproximateReceiveCount"] == "2"
    assert m2.receipt_handle != m1.receipt_handle
    assert m2.sent_at == m1.sent_at
    assert m2.first_received_at == m1.first_received_at


def test_message_attributes_kept_across_receives(queue):
    attrs = {"s": "v", "n": 5, "b": b"\x01", "l": MessageAttribute("Number.x", "1")}
    queue.send("x", attributes=attrs)
    [m1] = queue.receive()
    m1.change_visibility(0)
    [m2] = queue.receive()
    for m in (m1, m2):
        assert m.attributes["s"] == "v" and m.attributes["n"] == 5 and m.attributes["b"] == b"\x01"
        assert m.attributes["l"].data_type == "Number.x" and m.attributes["l"].value == "1"
    assert m1.md5_of_attributes == m2.md5_of_attributes is not None


def test_message_attribute_constructor():
    a = MessageAttribute("Number.float", "1.5")
    assert a.data_type == "Number.float"
    assert a.value == "1.5"
    b = MessageAttribute("Binary.png", b"\x89")
    assert b.value == b"\x89"
    assert isinstance(sqsfast.MessageAttribute("String", "x"), MessageAttribute)
