"""The Query protocol (form-encoded `Action=…`, XML answers) by hand-made requests, as older SDKs,
scripts and some frameworks send them."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from conftest import ACCOUNT
from support import md5_of_attributes

NS = {"sqs": "http://queue.amazonaws.com/doc/2012-11-05/"}


def call(url: str, params: dict[str, str], *, method: str = "POST"):
    """Sends a Query request; returns (status, headers, parsed XML root)."""
    data = urllib.parse.urlencode({"Version": "2012-11-05", **params})
    if method == "GET":
        req = urllib.request.Request(f"{url}?{data}", method="GET")
    else:
        req = urllib.request.Request(
            url,
            data=data.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), ET.fromstring(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), ET.fromstring(e.read())


def text(root, path: str) -> str:
    node = root.find(path, NS)
    assert node is not None, f"{path} missing in {ET.tostring(root)!r}"
    return node.text or ""


def test_query_protocol_round_trip(sqs_server, names):
    ep = sqs_server.endpoint + "/"
    name = names()
    status, _, root = call(
        ep,
        {
            "Action": "CreateQueue",
            "QueueName": name,
            "Attribute.1.Name": "VisibilityTimeout",
            "Attribute.1.Value": "40",
            "Tag.1.Key": "team",
            "Tag.1.Value": "a",
        },
    )
    assert status == 200
    assert root.tag == f"{{{NS['sqs']}}}CreateQueueResponse"
    url = text(root, "sqs:CreateQueueResult/sqs:QueueUrl")
    assert url == f"{sqs_server.endpoint}/{ACCOUNT}/{name}"
    assert text(root, "sqs:ResponseMetadata/sqs:RequestId")

    status, _, root = call(
        ep,
        {
            "Action": "SendMessage",
            "QueueUrl": url,
            "MessageBody": 'hello <xml> & "friends"\r\n',
            "MessageAttribute.1.Name": "k",
            "MessageAttribute.1.Value.DataType": "String",
            "MessageAttribute.1.Value.StringValue": "v",
            "MessageAttribute.2.Name": "b",
            "MessageAttribute.2.Value.DataType": "Binary",
            "MessageAttribute.2.Value.BinaryValue": "AAE=",
        },
    )
    assert status == 200
    body = 'hello <xml> & "friends"\r\n'
    attr_md5 = md5_of_attributes({"k": ("String", "v"), "b": ("Binary", b"\x00\x01")})
    assert (
        text(root, "sqs:SendMessageResult/sqs:MD5OfMessageBody")
        == hashlib.md5(body.encode()).hexdigest()
    )
    assert text(root, "sqs:SendMessageResult/sqs:MD5OfMessageAttributes") == attr_md5
    message_id = text(root, "sqs:SendMessageResult/sqs:MessageId")

    # Sent to the queue URL itself, without a QueueUrl parameter.
    status, _, root = call(
        url,
        {
            "Action": "ReceiveMessage",
            "AttributeName.1": "All",
            "MessageAttributeName.1": "All",
            "MaxNumberOfMessages": "10",
        },
    )
    assert status == 200
    (msg,) = root.findall("sqs:ReceiveMessageResult/sqs:Message", NS)
    assert text(msg, "sqs:MessageId") == message_id
    assert text(msg, "sqs:Body") == body
    attrs = {text(a, "sqs:Name"): text(a, "sqs:Value") for a in msg.findall("sqs:Attribute", NS)}
    assert attrs["ApproximateReceiveCount"] == "1"
    assert len(attrs["SentTimestamp"]) == 13
    user = {
        text(a, "sqs:Name"): (
            text(a, "sqs:Value/sqs:DataType"),
            text(
                a,
                "sqs:Value/sqs:StringValue"
                if text(a, "sqs:Name") == "k"
                else "sqs:Value/sqs:BinaryValue",
            ),
        )
        for a in msg.findall("sqs:MessageAttribute", NS)
    }
    assert user == {"k": ("String", "v"), "b": ("Binary", "AAE=")}
    assert text(msg, "sqs:MD5OfMessageAttributes") == attr_md5
    handle = text(msg, "sqs:ReceiptHandle")

    status, _, root = call(
        ep,
        {
            "Action": "DeleteMessageBatch",
            "QueueUrl": url,
            "DeleteMessageBatchRequestEntry.1.Id": "a",
            "DeleteMessageBatchRequestEntry.1.ReceiptHandle": handle,
            "DeleteMessageBatchRequestEntry.2.Id": "b",
            "DeleteMessageBatchRequestEntry.2.ReceiptHandle": "garbage",
        },
    )
    assert status == 200
    result = root.find("sqs:DeleteMessageBatchResult", NS)
    assert [text(e, "sqs:Id") for e in result.findall("sqs:DeleteMessageBatchResultEntry", NS)] == [
        "a"
    ]
    (bad,) = result.findall("sqs:BatchResultErrorEntry", NS)
    assert text(bad, "sqs:Id") == "b"
    assert text(bad, "sqs:Code") == "ReceiptHandleIsInvalid"
    assert text(bad, "sqs:SenderFault") == "true"

    status, _, root = call(
        ep, {"Action": "GetQueueAttributes", "QueueUrl": url, "AttributeName.1": "All"}
    )
    attrs = {
        text(a, "sqs:Name"): text(a, "sqs:Value")
        for a in root.findall("sqs:GetQueueAttributesResult/sqs:Attribute", NS)
    }
    assert attrs["VisibilityTimeout"] == "40"
    assert attrs["ApproximateNumberOfMessages"] == "0"

    status, _, root = call(ep, {"Action": "ListQueueTags", "QueueUrl": url})
    tags = root.findall("sqs:ListQueueTagsResult/sqs:Tag", NS)
    assert [(text(t, "sqs:Key"), text(t, "sqs:Value")) for t in tags] == [("team", "a")]

    # GET with the parameters in the query string.
    status, _, root = call(
        ep, {"Action": "ListQueues", "QueueNamePrefix": names.prefix}, method="GET"
    )
    assert status == 200
    assert [u.text for u in root.findall("sqs:ListQueuesResult/sqs:QueueUrl", NS)] == [url]

    status, _, root = call(ep, {"Action": "DeleteQueue", "QueueUrl": url})
    assert status == 200
    assert root.find("sqs:DeleteQueueResult", NS) is None


def test_query_errors(sqs_server, names):
    ep = sqs_server.endpoint + "/"
    status, headers, root = call(ep, {"Action": "GetQueueUrl", "QueueName": names("missing")})
    assert status == 400
    assert root.tag == f"{{{NS['sqs']}}}ErrorResponse"
    assert text(root, "sqs:Error/sqs:Type") == "Sender"
    assert text(root, "sqs:Error/sqs:Code") == "AWS.SimpleQueueService.NonExistentQueue"
    assert "does not exist" in text(root, "sqs:Error/sqs:Message")
    assert text(root, "sqs:RequestId")
    assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"

    status, _, root = call(ep, {"Action": "Fly"})
    assert (status, text(root, "sqs:Error/sqs:Code")) == (400, "InvalidAction")

    status, _, root = call(ep, {"QueueName": "x"})
    assert (status, text(root, "sqs:Error/sqs:Code")) == (400, "MissingAction")

    status, _, root = call(ep, {"Action": "CreateQueue"})
    assert (status, text(root, "sqs:Error/sqs:Code")) == (400, "MissingParameter")

    url = call(ep, {"Action": "CreateQueue", "QueueName": names()})[2][0][0].text
    status, _, root = call(
        ep, {"Action": "ReceiveMessage", "QueueUrl": url, "MaxNumberOfMessages": "many"}
    )
    assert (status, text(root, "sqs:Error/sqs:Code")) == (400, "InvalidParameterValue")

    status, _, root = call(ep, {"Action": "PurgeQueue", "QueueUrl": url})
    assert status == 200
    status, _, root = call(ep, {"Action": "PurgeQueue", "QueueUrl": url})
    assert (status, text(root, "sqs:Error/sqs:Code")) == (
        403,
        "AWS.SimpleQueueService.PurgeQueueInProgress",
    )

    req = urllib.request.Request(
        ep,
        data=b"Action=ListQueues&QueueNamePrefix=%zz",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("a malformed form was accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 404
        root = ET.fromstring(e.read())
        assert text(root, "sqs:Error/sqs:Code") == "MalformedQueryString"
