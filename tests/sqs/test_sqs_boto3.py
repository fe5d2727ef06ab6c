"""Every SQS action and its error paths through boto3 (AWS JSON 1.0) against a real server.

botocore does not check SQS checksums itself, so the tests recompute MD5OfMessageBody and
MD5OfMessageAttributes the way SQS documents them and compare.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError
from conftest import ACCOUNT, REGION
from support import md5_of_attributes


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def error_of(info) -> tuple[str, str, int]:
    """(legacy code, shape name, HTTP status) of a ClientError."""
    err = info.value.response["Error"]
    return (
        err["Code"],
        err.get("QueryErrorCode", ""),
        info.value.response["ResponseMetadata"]["HTTPStatusCode"],
    )


def expect(code: str, shape: str | None = None, status: int = 400):
    """Checks a ClientError's legacy code (boto3's Error.Code), shape and HTTP status."""

    class _Ctx:
        def __enter__(self):
            self.cm = pytest.raises(ClientError)
            self.info = self.cm.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.cm.__exit__(*exc)
            got = error_of(self.info)
            assert got == (code, shape or code, status), got
            return handled

    return _Ctx()


def arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def raw(endpoint: str, body: bytes, headers: dict[str, str]):
    """POSTs a hand-made request; returns (status, headers, body)."""
    req = urllib.request.Request(endpoint + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def json_call(endpoint: str, action: str, body: bytes | dict):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw(
        endpoint,
        data,
        {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"AmazonSQS.{action}"},
    )


# ---- queues --------------------------------------------------------------------------------------


def test_readme_flow_with_checksums(sqs, sqs_server, names):
    name = names()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert url == f"{sqs_server.endpoint}/{ACCOUNT}/{name}"
    attrs = {
        "k": {"DataType": "String", "StringValue": "v"},
        "n": {"DataType": "Number", "StringValue": "42"},
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01bin"},
        "label": {"DataType": "String.custom", "StringValue": "ü"},
    }
    sent = sqs.send_message(QueueUrl=url, MessageBody="hello ✓", MessageAttributes=attrs)
    expected_attr_md5 = md5_of_attributes(
        {
            "k": ("String", "v"),
            "n": ("Number", "42"),
            "b": ("Binary", b"\x00\x01bin"),
            "label": ("String.custom", "ü"),
        }
    )
    assert sent["MD5OfMessageBody"] == md5("hello ✓")
    assert sent["MD5OfMessageAttributes"] == expected_attr_md5
    got = sqs.receive_message(
        QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"], AttributeNames=["All"]
    )["Messages"]
    assert len(got) == 1
    m = got[0]
    assert m["MessageId"] == sent["MessageId"]
    assert m["Body"] == "hello ✓"
    assert m["MD5OfBody"] == md5("hello ✓")
    assert m["MD5OfMessageAttributes"] == expected_attr_md5
    assert m["MessageAttributes"]["b"] == {"BinaryValue": b"\x00\x01bin", "DataType": "Binary"}
    assert m["MessageAttributes"]["k"] == {"StringValue": "v", "DataType": "String"}
    a = m["Attributes"]
    assert a["ApproximateReceiveCount"] == "1"
    assert len(a["SentTimestamp"]) == 13  # epoch milliseconds, as a string
    assert abs(int(a["SentTimestamp"]) / 1000 - time.time()) < 60
    assert int(a["ApproximateFirstReceiveTimestamp"]) >= int(a["SentTimestamp"])
    assert a["SenderId"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert "Messages" not in sqs.receive_message(QueueUrl=url)


def test_queue_urls_follow_the_host_header(sqs_server, names):
    port = sqs_server.endpoint.rsplit(":", 1)[1]
    client = sqs_server.client(f"http://localhost:{port}")
    name = names()
    url = client.create_queue(QueueName=name)["QueueUrl"]
    assert url == f"http://localhost:{port}/{ACCOUNT}/{name}"
    assert client.get_queue_url(QueueName=name)["QueueUrl"] == url


def test_create_is_idempotent_and_conflicts(sqs, names):
    name = names()
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "40"})["QueueUrl"]
    again = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "40"})
    assert again["QueueUrl"] == url
    with expect("QueueAlreadyExists", "QueueNameExists"):
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "41"})
    with expect("InvalidParameterValue"):
        sqs.create_queue(QueueName="bad name!")
    with expect("InvalidAttributeName"):
        sqs.create_queue(QueueName=names(), Attributes={"Nope": "1"})
    with expect("InvalidAttributeValue"):
        sqs.create_queue(QueueName=names(), Attributes={"DelaySeconds": "901"})


def test_get_queue_url_and_missing_queues(sqs, sqs_server, names):
    name = names()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=ACCOUNT)["QueueUrl"] == url
    nonexistent = "AWS.SimpleQueueService.NonExistentQueue"
    with expect(nonexistent, "QueueDoesNotExist"):
        sqs.get_queue_url(QueueName=names("missing"))
    with expect(nonexistent, "QueueDoesNotExist"):
        sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId="123456789012")
    with expect(nonexistent, "QueueDoesNotExist"):
        sqs.send_message(QueueUrl=f"{sqs_server.endpoint}/123456789012/{name}", MessageBody="x")
    with pytest.raises(sqs.exceptions.ClientError):
        sqs.get_queue_attributes(QueueUrl=f"{sqs_server.endpoint}/nothing-here")


def test_delete_queue_and_recently_deleted(sqs, names):
    name = names()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    with expect("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
        sqs.send_message(QueueUrl=url, MessageBody="x")
    with expect("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
        sqs.delete_queue(QueueUrl=url)
    with expect("AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently"):
        sqs.create_queue(QueueName=name)


def test_list_queues_prefix_and_paging(sqs, names):
    urls = [sqs.create_queue(QueueName=names())["QueueUrl"] for _ in range(5)]
    got = sqs.list_queues(QueueNamePrefix=names.prefix)
    assert got["QueueUrls"] == sorted(urls)
    assert "NextToken" not in got
    pages, token = [], None
    while True:
        kwargs = {"QueueNamePrefix": names.prefix, "MaxResults": 2}
        if token:
            kwargs["NextToken"] = token
        page = sqs.list_queues(**kwargs)
        pages.append(page["QueueUrls"])
        token = page.get("NextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sum(pages, []) == sorted(urls)
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=names.prefix + "-none")
    with expect("InvalidParameterValue"):
        sqs.list_queues(MaxResults=1001)
    # The paginator of boto3 drives NextToken itself.
    paginator = sqs.get_paginator("list_queues")
    seen = [
        u
        for p in paginator.paginate(QueueNamePrefix=names.prefix, MaxResults=2)
        for u in p["QueueUrls"]
    ]
    assert seen == sorted(urls)


def test_queue_attributes(sqs, names):
    name = names()
    url = sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "3"})["QueueUrl"]
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url)
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert a["QueueArn"] == arn(name)
    assert a["DelaySeconds"] == "3"
    assert a["VisibilityTimeout"] == "30"
    assert a["ApproximateNumberOfMessages"] == "0"
    assert len(a["CreatedTimestamp"]) == 10  # epoch seconds
    assert all(isinstance(v, str) for v in a.values())
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "45"})
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert a["Attributes"] == {"VisibilityTimeout": "45"}
    with expect("InvalidAttributeName"):
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Bogus"])
    with expect("InvalidAttributeName"):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"QueueArn": "x"})
    with expect("InvalidAttributeValue"):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "-1"})
    with expect("AWS.SimpleQueueService.UnsupportedOperation", "UnsupportedOperation"):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})


def test_purge(sqs, queue_url):
    sqs.send_message(QueueUrl=queue_url, MessageBody="x")
    sqs.purge_queue(QueueUrl=queue_url)
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url)
    with expect("AWS.SimpleQueueService.PurgeQueueInProgress", "PurgeQueueInProgress", status=403):
        sqs.purge_queue(QueueUrl=queue_url)


# ---- messages ------------------------------------------------------------------------------------


def test_send_errors(sqs, queue_url):
    with expect("InvalidMessageContents"):
        sqs.send_message(QueueUrl=queue_url, MessageBody="bad \x00 char")
    with expect("InvalidParameterValue"):
        sqs.send_message(QueueUrl=queue_url, MessageBody="x", DelaySeconds=901)
    with expect("InvalidParameterValue"):
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody="x",
            MessageAttributes={"AWS.x": {"DataType": "String", "StringValue": "v"}},
        )
    with expect("InvalidParameterValue"):
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody="x",
            MessageAttributes={"n": {"DataType": "Number", "StringValue": "nan"}},
        )
    with expect("InvalidParameterValue"):
        sqs.send_message(QueueUrl=queue_url, MessageBody="x" * (1024 * 1024 + 1))
    with expect("InvalidParameterValue"):
        sqs.send_message(QueueUrl=queue_url, MessageBody="x", MessageGroupId="g")


def test_send_batch_and_failed_entries(sqs, queue_url):
    r = sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[
            {"Id": "a", "MessageBody": "one"},
            {"Id": "b", "MessageBody": "bad \x01"},
            {
                "Id": "c",
                "MessageBody": "three",
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            },
        ],
    )
    ok = {e["Id"]: e for e in r["Successful"]}
    assert set(ok) == {"a", "c"}
    assert ok["a"]["MD5OfMessageBody"] == md5("one")
    assert ok["c"]["MD5OfMessageAttributes"] == md5_of_attributes({"k": ("String", "v")})
    assert r["Failed"] == [
        {
            "Id": "b",
            "SenderFault": True,
            "Code": "InvalidMessageContents",
            "Message": r["Failed"][0]["Message"],
        }
    ]
    assert r["Failed"][0]["Message"]


@pytest.mark.parametrize(
    "entries,code",
    [
        ([], "AWS.SimpleQueueService.EmptyBatchRequest"),
        (
            [{"Id": f"i{i}", "MessageBody": "x"} for i in range(11)],
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        ),
        (
            [{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}],
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
        ),
        ([{"Id": "bad id", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId"),
        (
            [{"Id": f"i{i}", "MessageBody": "x" * 200_000} for i in range(6)],
            "AWS.SimpleQueueService.BatchRequestTooLong",
        ),
    ],
)
def test_whole_batch_errors(sqs, queue_url, entries, code):
    with expect(code, code.rsplit(".", 1)[1]):
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)


def test_receive_attribute_selection(sqs, queue_url):
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody="x",
        MessageAttributes={
            "app.one": {"DataType": "String", "StringValue": "1"},
            "app.two": {"DataType": "String", "StringValue": "2"},
            "other": {"DataType": "String", "StringValue": "3"},
        },
    )
    m = sqs.receive_message(
        QueueUrl=queue_url,
        MessageAttributeNames=["app.*"],
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
        VisibilityTimeout=0,
    )["Messages"][0]
    assert set(m["MessageAttributes"]) == {"app.one", "app.two"}
    assert m["MD5OfMessageAttributes"] == md5_of_attributes(
        {"app.one": ("String", "1"), "app.two": ("String", "2")}
    )
    assert m["Attributes"] == {"ApproximateReceiveCount": "1"}
    m = sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=[".*"], VisibilityTimeout=0)
    assert set(m["Messages"][0]["MessageAttributes"]) == {"app.one", "app.two", "other"}
    m = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=0)["Messages"][0]
    assert "MessageAttributes" not in m and "Attributes" not in m
    m = sqs.receive_message(
        QueueUrl=queue_url, MessageAttributeNames=["other"], AttributeNames=["SentTimestamp"]
    )["Messages"][0]
    assert set(m["MessageAttributes"]) == {"other"}
    assert set(m["Attributes"]) == {"SentTimestamp"}


def test_receive_errors(sqs, queue_url):
    with expect("InvalidParameterValue"):
        sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=11)
    with expect("InvalidParameterValue"):
        sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=21)
    with expect("InvalidParameterValue"):
        sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=43201)


def test_receive_ten_and_delete_batch(sqs, queue_url):
    sqs.send_message_batch(
        QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)]
    )
    got = []
    for _ in range(20):
        got += sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if len(got) == 10:
            break
    assert sorted(m["Body"] for m in got) == sorted(f"m{i}" for i in range(10))
    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
    r = sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    assert sorted(e["Id"] for e in r["Successful"]) == sorted(str(i) for i in range(10))
    assert r["Failed"] == []
    entries = [entries[0], {"Id": "bad", "ReceiptHandle": "not-a-handle"}]
    r = sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    assert [e["Id"] for e in r["Successful"]] == ["0"]  # an old handle: success, as in SQS
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in r["Failed"]] == [
        ("bad", "ReceiptHandleIsInvalid", True)
    ]
    a = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert a["ApproximateNumberOfMessages"] == "0"
    assert a["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_delete_errors(sqs, queue_url):
    with expect("ReceiptHandleIsInvalid", status=404):
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle="garbage")


def test_change_visibility(sqs, queue_url):
    sqs.send_message(QueueUrl=queue_url, MessageBody="x")
    m = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=30)["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url)
    sqs.change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
    )
    again = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=30, AttributeNames=["All"])
    m2 = again["Messages"][0]
    assert m2["MessageId"] == m["MessageId"]
    assert m2["Attributes"]["ApproximateReceiveCount"] == "2"
    r = sqs.change_message_visibility_batch(
        QueueUrl=queue_url,
        Entries=[
            {"Id": "ok", "ReceiptHandle": m2["ReceiptHandle"], "VisibilityTimeout": 60},
            {"Id": "bad", "ReceiptHandle": "garbage", "VisibilityTimeout": 60},
        ],
    )
    assert [e["Id"] for e in r["Successful"]] == ["ok"]
    assert [(f["Id"], f["Code"]) for f in r["Failed"]] == [("bad", "ReceiptHandleIsInvalid")]
    with expect("InvalidParameterValue"):
        sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=m2["ReceiptHandle"], VisibilityTimeout=43201
        )
    with expect("ReceiptHandleIsInvalid", status=404):
        sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle="garbage", VisibilityTimeout=5
        )
    with expect("AWS.SimpleQueueService.EmptyBatchRequest", "EmptyBatchRequest"):
        sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=[])


def test_message_not_inflight(sqs, queue_url):
    sqs.send_message(QueueUrl=queue_url, MessageBody="x")
    m = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=30)["Messages"][0]
    sqs.change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
    )
    with expect("AWS.SimpleQueueService.MessageNotInflight", "MessageNotInflight"):
        sqs.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=10
        )


def test_long_poll_wakes_on_send(sqs, sqs_server, queue_url):
    other = sqs_server.client()
    result: dict = {}

    def poll():
        result["r"] = other.receive_message(QueueUrl=queue_url, WaitTimeSeconds=10)

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.3)
    sqs.send_message(QueueUrl=queue_url, MessageBody="wake")
    t.join(15)
    assert not t.is_alive()
    assert result["r"]["Messages"][0]["Body"] == "wake"


def test_many_long_polls_at_once(sqs_server, queue_url):
    """100 concurrent long polls, then 100 messages: every poll gets one."""
    n = 100
    bodies: list[str] = []
    lock = threading.Lock()
    clients = [sqs_server.client(max_pool_connections=1) for _ in range(n)]

    def poll(c):
        r = c.receive_message(QueueUrl=queue_url, WaitTimeSeconds=15, VisibilityTimeout=60)
        with lock:
            bodies.extend(m["Body"] for m in r.get("Messages", []))

    threads = [threading.Thread(target=poll, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    time.sleep(0.5)
    sender = sqs_server.client()
    for i in range(0, n, 10):
        sender.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(j), "MessageBody": str(i + j)} for j in range(10)],
        )
    for t in threads:
        t.join(30)
    assert sorted(bodies, key=int) == [str(i) for i in range(n)]


def test_long_poll_sees_delayed_message(sqs, queue_url):
    sqs.send_message(QueueUrl=queue_url, MessageBody="later", DelaySeconds=1)
    r = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5)
    assert r["Messages"][0]["Body"] == "later"


# ---- tags, dead letters, permissions, move tasks -------------------------------------------------


def test_tags(sqs, names):
    url = sqs.create_queue(QueueName=names(), tags={"team": "a", "env": "dev"})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "dev"}
    sqs.tag_queue(QueueUrl=url, Tags={"team": "b", "x": "1"})
    sqs.untag_queue(QueueUrl=url, TagKeys=["env"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "b", "x": "1"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team", "x"])
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)
    with expect("InvalidParameterValue"):
        sqs.tag_queue(QueueUrl=url, Tags={"aws:x": "1"})


def make_dlq_pair(sqs, names, max_receive: int = 1):
    dlq_name, src_name = names("dlq"), names("src")
    dlq = sqs.create_queue(QueueName=dlq_name)["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": arn(dlq_name), "maxReceiveCount": max_receive})
    src = sqs.create_queue(QueueName=src_name, Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return dlq_name, dlq, src_name, src


def dead_letter(sqs, src: str, dlq: str, bodies: list[str]) -> dict[str, str]:
    """Sends `bodies` to `src` and receives until they are dead-lettered; returns {body: id}."""
    ids = {b: sqs.send_message(QueueUrl=src, MessageBody=b)["MessageId"] for b in bodies}
    for _ in range(len(bodies) * 4):
        sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10, VisibilityTimeout=0)
    a = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
    assert a["Attributes"]["ApproximateNumberOfMessages"] == str(len(bodies))
    return ids


def test_dead_letter_sources_and_redrive_back(sqs, names):
    dlq_name, dlq, src_name, src = make_dlq_pair(sqs, names)
    r = sqs.list_dead_letter_source_queues(QueueUrl=dlq)
    assert r["queueUrls"] == [src]
    assert sqs.list_dead_letter_source_queues(QueueUrl=src)["queueUrls"] == []
    ids = dead_letter(sqs, src, dlq, ["a", "b", "c"])
    m = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"], VisibilityTimeout=0)
    assert m["Messages"][0]["Attributes"]["DeadLetterQueueSourceArn"] == arn(src_name)
    assert m["Messages"][0]["MessageId"] == ids[m["Messages"][0]["Body"]]

    handle = sqs.start_message_move_task(SourceArn=arn(dlq_name))["TaskHandle"]
    assert handle
    for _ in range(100):
        tasks = sqs.list_message_move_tasks(SourceArn=arn(dlq_name), MaxResults=10)["Results"]
        if tasks[0]["Status"] == "COMPLETED":
            break
        time.sleep(0.05)
    t = tasks[0]
    assert t["Status"] == "COMPLETED"
    assert t["SourceArn"] == arn(dlq_name)
    assert t["ApproximateNumberOfMessagesMoved"] == 3
    assert t["ApproximateNumberOfMessagesToMove"] == 3
    assert "TaskHandle" not in t
    assert abs(t["StartedTimestamp"] / 1000 - time.time()) < 60  # epoch milliseconds
    got = []
    for _ in range(10):
        got += sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10).get("Messages", [])
    assert sorted(m["Body"] for m in got) == ["a", "b", "c"]
    assert {m["Body"]: m["MessageId"] for m in got} == ids  # redriven with their ids
    with expect("InvalidParameterValue"):
        sqs.cancel_message_move_task(TaskHandle=handle)


def test_move_task_to_destination_and_cancel(sqs, names):
    dlq_name, dlq, _, src = make_dlq_pair(sqs, names)
    dest_name = names("dest")
    dest = sqs.create_queue(QueueName=dest_name)["QueueUrl"]
    dead_letter(sqs, src, dlq, [f"m{i}" for i in range(5)])
    handle = sqs.start_message_move_task(
        SourceArn=arn(dlq_name), DestinationArn=arn(dest_name), MaxNumberOfMessagesPerSecond=1
    )["TaskHandle"]
    with expect("InvalidParameterValue"):  # one running task per source
        sqs.start_message_move_task(SourceArn=arn(dlq_name))
    moved = sqs.cancel_message_move_task(TaskHandle=handle)["ApproximateNumberOfMessagesMoved"]
    assert moved < 5
    for _ in range(100):
        t = sqs.list_message_move_tasks(SourceArn=arn(dlq_name))["Results"][0]
        if t["Status"] == "CANCELLED":
            break
        time.sleep(0.05)
    assert t["Status"] == "CANCELLED"
    assert t["DestinationArn"] == arn(dest_name)
    assert t["MaxNumberOfMessagesPerSecond"] == 1
    handle = sqs.start_message_move_task(SourceArn=arn(dlq_name), DestinationArn=arn(dest_name))[
        "TaskHandle"
    ]
    for _ in range(100):
        t = sqs.list_message_move_tasks(SourceArn=arn(dlq_name))["Results"][0]
        if t["Status"] == "COMPLETED":
            break
        time.sleep(0.05)
    a = sqs.get_queue_attributes(QueueUrl=dest, AttributeNames=["ApproximateNumberOfMessages"])
    assert a["Attributes"]["ApproximateNumberOfMessages"] == "5"


def test_move_task_errors(sqs, names):
    url = sqs.create_queue(QueueName=names())["QueueUrl"]
    plain = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    plain_arn = plain["Attributes"]["QueueArn"]
    with expect("ResourceNotFoundException", status=404):
        sqs.start_message_move_task(SourceArn=arn(names("missing")))
    with expect("InvalidParameterValue"):  # not a dead-letter queue
        sqs.start_message_move_task(SourceArn=plain_arn)
    with expect("ResourceNotFoundException", status=404):
        sqs.cancel_message_move_task(TaskHandle="nope")
    with expect("ResourceNotFoundException", status=404):
        sqs.list_message_move_tasks(SourceArn=arn(names("missing")))
    assert sqs.list_message_move_tasks(SourceArn=plain_arn)["Results"] == []
    dlq_name, *_ = make_dlq_pair(sqs, names)
    with expect("InvalidParameterValue"):
        sqs.start_message_move_task(SourceArn=arn(dlq_name), MaxNumberOfMessagesPerSecond=501)


def test_permissions(sqs, queue_url):
    sqs.add_permission(
        QueueUrl=queue_url,
        Label="share",
        AWSAccountIds=["111122223333"],
        Actions=["SendMessage", "ReceiveMessage"],
    )
    policy = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])
    doc = json.loads(policy["Attributes"]["Policy"])
    (st,) = doc["Statement"]
    assert st["Sid"] == "share"
    assert st["Principal"]["AWS"] == "arn:aws:iam::111122223333:root"
    assert st["Action"] == ["SQS:SendMessage", "SQS:ReceiveMessage"]
    with expect("InvalidParameterValue"):
        sqs.add_permission(
            QueueUrl=queue_url, Label="share", AWSAccountIds=["1"], Actions=["SendMessage"]
        )
    with expect("InvalidParameterValue"):
        sqs.add_permission(QueueUrl=queue_url, Label="x", AWSAccountIds=["1"], Actions=["Fly"])
    sqs.remove_permission(QueueUrl=queue_url, Label="share")
    assert "Attributes" not in sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["Policy"]
    )
    with expect("InvalidParameterValue"):
        sqs.remove_permission(QueueUrl=queue_url, Label="share")


# ---- protocol-level errors -----------------------------------------------------------------------


def test_json_protocol_errors(sqs_server, queue_url):
    ep = sqs_server.endpoint
    status, headers, body = json_call(ep, "Fly", {})
    assert status == 400
    assert json.loads(body)["__type"] == "com.amazonaws.sqs#InvalidAction"
    assert headers["x-amzn-query-error"] == "InvalidAction;Sender"

    status, headers, body = json_call(ep, "SendMessage", b"{not json")
    assert status == 400
    assert json.loads(body)["__type"].endswith("#SerializationException")

    status, headers, body = json_call(ep, "SendMessage", {"QueueUrl": queue_url})
    assert status == 400
    doc = json.loads(body)
    assert doc["__type"] == "com.amazonaws.sqs#MissingParameter"
    assert "MessageBody" in doc["message"]
    assert headers["x-amzn-query-error"] == "MissingParameter;Sender"

    status, headers, body = json_call(ep, "DeleteQueue", {})
    assert status == 400 and json.loads(body)["__type"] == "com.amazonaws.sqs#MissingParameter"

    status, headers, body = json_call(ep, "GetQueueUrl", {"QueueName": "no-such-queue-x"})
    assert status == 400
    assert json.loads(body) == {
        "__type": "com.amazonaws.sqs#QueueDoesNotExist",
        "message": "The specified queue does not exist or you do not have access to it.",
    }
    assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert headers["x-amzn-requestid"]

    status, _, body = json_call(
        ep, "ReceiveMessage", {"QueueUrl": queue_url, "WaitTimeSeconds": []}
    )
    assert status == 400

    big = b'{"QueueUrl": "x", "MessageBody": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    status, _, body = json_call(ep, "SendMessage", big)
    assert status == 413
    assert json.loads(body)["__type"].endswith("#RequestEntityTooLarge")


def test_health(sqs_server):
    with urllib.request.urlopen(sqs_server.endpoint + "/health", timeout=5) as r:
        assert r.read() == b"ok\n"
