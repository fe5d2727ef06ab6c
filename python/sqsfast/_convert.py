"""Python values to gRPC requests and responses back, for the remote clients (sync and asyncio).

The conversions follow the extension module's (``rust/python/src/convert.rs``) case by case, so
that the same call raises the same ``TypeError`` locally, or reaches the server and gets the same
SQS error as the embedded broker: range checks are the engine's, type checks are Python's.
"""

from __future__ import annotations

import datetime as _dt
import json
import operator
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable

import grpc

from sqsfast import errors as _errors
from sqsfast._types import AttributeValue, BatchResult, MessageAttribute
from sqsfast.v1 import queue_pb2 as pb

if TYPE_CHECKING:
    from sqsfast.errors import SqsfastError

#: The trailing metadata key holding the SQS error code of a failed call.
ERROR_CODE_KEY = "sqsfast-error-code"
#: The `maxReceiveCount` of a RedrivePolicy made from `dead_letter_queue` alone.
DEFAULT_MAX_RECEIVE_COUNT = 10
#: Entries of a batch call and messages of a receive, as in SQS and the embedded broker.
SQS_BATCH_LIMIT = 10
#: What the server takes at most (`max_batch=` of `connect`).
GRPC_BATCH_LIMIT = 1000

UTC = _dt.timezone.utc
_CLASSES: dict[str, type[SqsfastError]] = {}
#: Batch entry ids "0", "1", ...: made once.
IDS = [str(i) for i in range(GRPC_BATCH_LIMIT)]

# Without an SQS code (the server did not answer, a malformed request): the closest SQS error.
_BY_STATUS = {
    grpc.StatusCode.UNAVAILABLE: "ServiceUnavailable",
    grpc.StatusCode.INVALID_ARGUMENT: "InvalidParameterValue",
    # A request over the server's max_request_bytes.
    grpc.StatusCode.OUT_OF_RANGE: "InvalidParameterValue",
    grpc.StatusCode.NOT_FOUND: "QueueDoesNotExist",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "OverLimit",
    grpc.StatusCode.UNIMPLEMENTED: "UnsupportedOperation",
}


def error_class(code: str) -> type[SqsfastError]:
    cls = _CLASSES.get(code)
    if cls is None:
        found = getattr(_errors, code, None)
        if not (isinstance(found, type) and issubclass(found, _errors.SqsfastError)):
            found = _errors.SqsfastError
        cls = _CLASSES[code] = found
    return cls


def error(code: str, message: str) -> SqsfastError:
    """The exception instance of an SQS error code, not raised."""
    return error_class(code)(message, code)


def from_rpc_error(e: grpc.RpcError) -> SqsfastError:
    """The sqsfast exception of a failed gRPC call: by the SQS code the server put in the trailing
    metadata; without one (connection refused, a proxy's error), the closest SQS error."""
    call: Any = e
    code = None
    try:
        for key, value in call.trailing_metadata() or ():
            if key == ERROR_CODE_KEY:
                code = value
                break
        status = call.code()
        details = call.details() or ""
    except Exception:  # noqa: BLE001 - not a call: report it as it is
        return error("InternalFailure", str(e))
    if code is None:
        code = _BY_STATUS.get(status, "InternalFailure")
        details = f"{details} (gRPC {status.name})" if details else f"gRPC {status.name}"
    return error(code, details)


def _type_name(ob: object) -> str:
    return type(ob).__name__


# ---- requests ------------------------------------------------------------------------------------


def body(ob: object) -> bytes:
    """A message body: bytes as is, str as UTF-8 (lone surrogates passed through, so that the
    server rejects them as it rejects any character outside SQS's set)."""
    if isinstance(ob, bytes):
        return ob
    if isinstance(ob, str):
        try:
            return ob.encode()
        except UnicodeEncodeError:
            return ob.encode("utf-8", "surrogatepass")
    raise TypeError(f"a message body must be bytes or str, not {_type_name(ob)}")


def integer(ob: object) -> int:
    """An int argument (seconds, counts): other types are a TypeError, as in the extension."""
    if type(ob) is int:
        return ob
    return operator.index(ob)  # type: ignore[arg-type]


def _pairs(ob: object, what: str) -> list[tuple[str, Any]]:
    if isinstance(ob, dict):
        items = ob.items()
    elif hasattr(ob, "items") and not isinstance(ob, str):
        items = ob.items()
    else:
        raise TypeError(f"{what} must be a mapping, not {_type_name(ob)}")
    out = []
    for key, value in items:
        if not isinstance(key, str):
            raise TypeError(f"{what} keys must be str, not {_type_name(key)}")
        out.append((key, value))
    return out


def str_pairs(ob: object, what: str) -> list[tuple[str, str]]:
    """A dict[str, str] (queue attributes by SQS name, tags) as pairs, in order."""
    out = _pairs(ob, what)
    for key, value in out:
        if not isinstance(value, str):
            raise TypeError(f"{what} values must be str, not {_type_name(value)} (for {key!r})")
    return out


def strings(ob: object, what: str) -> list[str]:
    """The strings of an iterable, but not the characters of one string."""
    if isinstance(ob, (str, bytes)):
        raise TypeError(f"{what} must be an iterable of str, not a single {_type_name(ob)}")
    out: list[str] = list(ob)  # type: ignore[call-overload]
    for item in out:
        if not isinstance(item, str):
            raise TypeError(f"{what} must be str, not {_type_name(item)}")
    return out


def items(ob: object, what: str) -> list[Any]:
    """The items of a batch argument, which must be an iterable but not one body."""
    if isinstance(ob, (str, bytes)):
        raise TypeError(f"{what} must be a list, not a single str or bytes")
    out: list[Any] = list(ob)  # type: ignore[call-overload]
    return out


def _attribute_text(name: str, s: str) -> str:
    try:
        s.encode()
    except UnicodeEncodeError:
        raise error(
            "InvalidParameterValue",
            f"The message attribute '{name}' contains characters outside the allowed set.",
        ) from None
    return s


def set_attributes(target: Any, attributes: object) -> None:
    """Fills a protobuf map<string, MessageAttributeValue> from Python values: str → String,
    int/float → Number, bytes → Binary, MessageAttribute → its type."""
    if attributes is None:
        return
    for name, ob in _pairs(attributes, "message attributes"):
        v = target[name]
        if isinstance(ob, str):
            v.data_type = "String"
            v.string_value = _attribute_text(name, ob)
        elif isinstance(ob, bytes):
            v.data_type = "Binary"
            v.binary_value = ob
        elif isinstance(ob, bool):
            raise TypeError(
                f"message attribute {name!r}: bool is not a Number; "
                "send it as str or as MessageAttribute"
            )
        elif isinstance(ob, int):
            v.data_type = "Number"
            v.string_value = str(int(ob))
        elif isinstance(ob, float):
            v.data_type = "Number"
            v.string_value = str(float(ob))
        elif isinstance(ob, MessageAttribute):
            value = ob.value
            if isinstance(value, str):
                v.string_value = _attribute_text(name, value)
            elif isinstance(value, bytes):
                v.binary_value = value
            else:
                raise TypeError(
                    f"message attribute {name!r}: a MessageAttribute value must be str or bytes, "
                    f"not {_type_name(value)}"
                )
            v.data_type = ob.data_type
        else:
            raise TypeError(
                f"message attribute {name!r} must be str, int, float, bytes or MessageAttribute, "
                f"not {_type_name(ob)}"
            )


def send_entry(index: int, entry: object, out: Any) -> None:
    """Fills one SendMessageBatchEntry from a body (id = its position) or a dict."""
    if isinstance(entry, (bytes, str)):
        out.id = IDS[index] if index < len(IDS) else str(index)
        out.message_body = body(entry)
        return
    if not isinstance(entry, dict):
        raise TypeError("send_batch entries must be bodies (bytes or str) or dicts")
    has_body = False
    entry_id = None
    for key, value in entry.items():
        if key == "id":
            if not isinstance(value, str):
                raise TypeError(f"a send_batch entry id must be str, not {_type_name(value)}")
            entry_id = value
        elif key == "body":
            out.message_body = body(value)
            has_body = True
        elif key == "delay_seconds":
            if value is not None:
                out.delay_seconds = integer(value)
        elif key == "attributes":
            set_attributes(out.message_attributes, value)
        else:
            raise TypeError(
                f"unexpected key {key!r} in a send_batch entry "
                "(keys: id, body, delay_seconds, attributes)"
            )
    if not has_body:
        raise TypeError("a send_batch entry dict needs a 'body'")
    out.id = entry_id if entry_id is not None else str(index)


def queue_settings(
    *,
    arn_of: Callable[[object], str],
    current_dead_letter_arn: Callable[[], str | None],
    attributes: object,
    numbers: Iterable[tuple[str, object]],
    dead_letter_queue: object,
    max_receive_count: object,
) -> list[tuple[str, str]]:
    """The attribute keywords of create_queue / set_attributes as SQS names and string values, in
    the order they apply: `attributes` first, then the keywords."""
    out = str_pairs(attributes, "attributes") if attributes is not None else []
    for name, value in numbers:
        if value is not None:
            out.append((name, str(integer(value))))
    target = arn_of(dead_letter_queue) if dead_letter_queue is not None else None
    if target is not None or max_receive_count is not None:
        policy: dict[str, object] = {}
        arn = target if target is not None else current_dead_letter_arn()
        if arn is not None:
            policy["deadLetterTargetArn"] = arn
        count = (
            integer(max_receive_count)
            if max_receive_count is not None
            else DEFAULT_MAX_RECEIVE_COUNT
        )
        policy["maxReceiveCount"] = count
        out.append(("RedrivePolicy", json.dumps(policy, separators=(",", ":"))))
    return out


def number_keywords(
    visibility_timeout: object,
    message_retention_period: object,
    delay_seconds: object,
    receive_wait_time_seconds: object,
    maximum_message_size: object,
) -> list[tuple[str, object]]:
    return [
        ("VisibilityTimeout", visibility_timeout),
        ("MessageRetentionPeriod", message_retention_period),
        ("DelaySeconds", delay_seconds),
        ("ReceiveMessageWaitTimeSeconds", receive_wait_time_seconds),
        ("MaximumMessageSize", maximum_message_size),
    ]


# ---- responses -----------------------------------------------------------------------------------


def _number(s: str) -> int | float | None:
    t = s.strip()
    digits = t[1:] if t[:1] in "+-" else t
    if digits and digits.isascii() and digits.isdigit():
        return int(t)
    try:
        return float(t)
    except ValueError:
        return None


def attributes_from_pb(attributes: Any) -> dict[str, AttributeValue]:
    """Received message attributes: String → str, Binary → bytes, Number → int or float, labelled
    types → MessageAttribute."""
    out: dict[str, AttributeValue] = {}
    for name, v in attributes.items():
        data_type = v.data_type
        is_binary = v.WhichOneof("value") == "binary_value"
        if data_type == "String" and not is_binary:
            out[name] = v.string_value
        elif data_type == "Binary" and is_binary:
            out[name] = v.binary_value
        elif data_type == "Number" and not is_binary:
            n = _number(v.string_value)
            out[name] = n if n is not None else MessageAttribute(data_type, v.string_value)
        else:
            out[name] = MessageAttribute(data_type, v.binary_value if is_binary else v.string_value)
    return out


def utc(epoch_ms: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(epoch_ms / 1000, UTC)


def system_attributes(m: Any) -> dict[str, str]:
    out = {
        "SenderId": m.sender_id,
        "SentTimestamp": str(m.sent_timestamp),
        "ApproximateReceiveCount": str(m.receive_count),
        "ApproximateFirstReceiveTimestamp": str(m.first_receive_timestamp),
    }
    if m.dead_letter_source_arn:
        out["DeadLetterQueueSourceArn"] = m.dead_letter_source_arn
    return out


def send_batch_results(response: Any) -> list[BatchResult]:
    if not response.failed:
        return [BatchResult(r.id, r.message_id, None) for r in response.results]
    return [
        BatchResult(r.id, None, error(r.error.code, r.error.message))
        if r.HasField("error")
        else BatchResult(r.id, r.message_id, None)
        for r in response.results
    ]


def unit_batch_results(response: Any) -> list[BatchResult]:
    if not response.failed:
        return [BatchResult(r.id) for r in response.results]
    return [
        BatchResult(
            r.id, None, error(r.error.code, r.error.message) if r.HasField("error") else None
        )
        for r in response.results
    ]


def counts(response: Any) -> dict[str, int]:
    return {
        "visible": response.visible,
        "in_flight": response.in_flight,
        "delayed": response.delayed,
        "oldest_age_seconds": response.oldest_age_ms // 1000,
    }


def target_of(url: str) -> tuple[str, bool]:
    """The gRPC target of a URL: ``grpc://host:port`` (or ``host:port``) and whether it is TLS
    (``grpcs://``)."""
    for scheme, tls in (("grpc://", False), ("grpcs://", True)):
        if url.startswith(scheme):
            rest = url[len(scheme) :].rstrip("/")
            if not rest:
                raise ValueError(f"no host in {url!r}")
            return rest, tls
    if "://" in url:
        raise ValueError(f"unsupported URL scheme in {url!r}: use grpc://host:port")
    return url, False


def channel_options(extra: Iterable[tuple[str, Any]] = ()) -> list[tuple[str, Any]]:
    """gRPC channel options for low latency on a local network."""
    return [
        # Received batches can be large (1000 messages of up to 1 MiB each).
        ("grpc.max_receive_message_length", 1 << 30),
        ("grpc.max_send_message_length", 64 << 20),
        # A local server: no proxy from the environment, no retry buffering on the hot path.
        ("grpc.enable_http_proxy", 0),
        ("grpc.enable_retries", 0),
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.keepalive_permit_without_calls", 1),
        *extra,
    ]


__all__ = ["pb"]
