from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Queue(_message.Message):
    __slots__ = ("queue_name", "queue_arn", "receive_message_wait_time_seconds")
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ARN_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_MESSAGE_WAIT_TIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    queue_arn: str
    receive_message_wait_time_seconds: int
    def __init__(self, queue_name: _Optional[str] = ..., queue_arn: _Optional[str] = ..., receive_message_wait_time_seconds: _Optional[int] = ...) -> None: ...

class CreateQueueRequest(_message.Message):
    __slots__ = ("queue_name", "attributes", "tags")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    attributes: _containers.ScalarMap[str, str]
    tags: _containers.ScalarMap[str, str]
    def __init__(self, queue_name: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateQueueResponse(_message.Message):
    __slots__ = ("queue",)
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: Queue
    def __init__(self, queue: _Optional[_Union[Queue, _Mapping]] = ...) -> None: ...

class GetQueueRequest(_message.Message):
    __slots__ = ("queue_name",)
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    def __init__(self, queue_name: _Optional[str] = ...) -> None: ...

class GetQueueResponse(_message.Message):
    __slots__ = ("queue",)
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: Queue
    def __init__(self, queue: _Optional[_Union[Queue, _Mapping]] = ...) -> None: ...

class ListQueuesRequest(_message.Message):
    __slots__ = ("queue_name_prefix",)
    QUEUE_NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    queue_name_prefix: str
    def __init__(self, queue_name_prefix: _Optional[str] = ...) -> None: ...

class ListQueuesResponse(_message.Message):
    __slots__ = ("queues",)
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedCompositeFieldContainer[Queue]
    def __init__(self, queues: _Optional[_Iterable[_Union[Queue, _Mapping]]] = ...) -> None: ...

class DeleteQueueRequest(_message.Message):
    __slots__ = ("queue_name",)
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    def __init__(self, queue_name: _Optional[str] = ...) -> None: ...

class DeleteQueueResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListDeadLetterSourceQueuesRequest(_message.Message):
    __slots__ = ("queue_name",)
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    def __init__(self, queue_name: _Optional[str] = ...) -> None: ...

class ListDeadLetterSourceQueuesResponse(_message.Message):
    __slots__ = ("queues",)
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedCompositeFieldContainer[Queue]
    def __init__(self, queues: _Optional[_Iterable[_Union[Queue, _Mapping]]] = ...) -> None: ...

class GetQueueAttributesRequest(_message.Message):
    __slots__ = ("queue_name", "attribute_names")
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTE_NAMES_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    attribute_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, queue_name: _Optional[str] = ..., attribute_names: _Optional[_Iterable[str]] = ...) -> None: ...

class GetQueueAttributesResponse(_message.Message):
    __slots__ = ("attributes",)
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    attributes: _containers.RepeatedCompositeFieldContainer[Attribute]
    def __init__(self, attributes: _Optional[_Iterable[_Union[Attribute, _Mapping]]] = ...) -> None: ...

class Attribute(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class SetQueueAttributesRequest(_message.Message):
    __slots__ = ("queue_name", "attributes")
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    attributes: _containers.RepeatedCompositeFieldContainer[Attribute]
    def __init__(self, queue_name: _Optional[str] = ..., attributes: _Optional[_Iterable[_Union[Attribute, _Mapping]]] = ...) -> None: ...

class SetQueueAttributesResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListQueueTagsRequest(_message.Message):
    __slots__ = ("queue_name",)
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    def __init__(self, queue_name: _Optional[str] = ...) -> None: ...

class ListQueueTagsResponse(_message.Message):
    __slots__ = ("tags",)
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TAGS_FIELD_NUMBER: _ClassVar[int]
    tags: _containers.ScalarMap[str, str]
    def __init__(self, tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class TagQueueRequest(_message.Message):
    __slots__ = ("queue_name", "tags")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    tags: _containers.ScalarMap[str, str]
    def __init__(self, queue_name: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class TagQueueResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UntagQueueRequest(_message.Message):
    __slots__ = ("queue_name", "tag_keys")
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    TAG_KEYS_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    tag_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, queue_name: _Optional[str] = ..., tag_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class UntagQueueResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PurgeQueueRequest(_message.Message):
    __slots__ = ("queue_name",)
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    def __init__(self, queue_name: _Optional[str] = ...) -> None: ...

class PurgeQueueResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetQueueCountsRequest(_message.Message):
    __slots__ = ("queue_name",)
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    def __init__(self, queue_name: _Optional[str] = ...) -> None: ...

class GetQueueCountsResponse(_message.Message):
    __slots__ = ("visible", "in_flight", "delayed", "oldest_age_ms")
    VISIBLE_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    DELAYED_FIELD_NUMBER: _ClassVar[int]
    OLDEST_AGE_MS_FIELD_NUMBER: _ClassVar[int]
    visible: int
    in_flight: int
    delayed: int
    oldest_age_ms: int
    def __init__(self, visible: _Optional[int] = ..., in_flight: _Optional[int] = ..., delayed: _Optional[int] = ..., oldest_age_ms: _Optional[int] = ...) -> None: ...

class MessageAttributeValue(_message.Message):
    __slots__ = ("data_type", "string_value", "binary_value")
    DATA_TYPE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    BINARY_VALUE_FIELD_NUMBER: _ClassVar[int]
    data_type: str
    string_value: str
    binary_value: bytes
    def __init__(self, data_type: _Optional[str] = ..., string_value: _Optional[str] = ..., binary_value: _Optional[bytes] = ...) -> None: ...

class SendMessageRequest(_message.Message):
    __slots__ = ("queue_name", "message_body", "delay_seconds", "message_attributes")
    class MessageAttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: MessageAttributeValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[MessageAttributeValue, _Mapping]] = ...) -> None: ...
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_BODY_FIELD_NUMBER: _ClassVar[int]
    DELAY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    message_body: bytes
    delay_seconds: int
    message_attributes: _containers.MessageMap[str, MessageAttributeValue]
    def __init__(self, queue_name: _Optional[str] = ..., message_body: _Optional[bytes] = ..., delay_seconds: _Optional[int] = ..., message_attributes: _Optional[_Mapping[str, MessageAttributeValue]] = ...) -> None: ...

class SendMessageResponse(_message.Message):
    __slots__ = ("message_id", "md5_of_message_attributes")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    MD5_OF_MESSAGE_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    md5_of_message_attributes: str
    def __init__(self, message_id: _Optional[str] = ..., md5_of_message_attributes: _Optional[str] = ...) -> None: ...

class SendMessageBatchRequest(_message.Message):
    __slots__ = ("queue_name", "entries", "max_entries")
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    MAX_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    entries: _containers.RepeatedCompositeFieldContainer[SendMessageBatchEntry]
    max_entries: int
    def __init__(self, queue_name: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[SendMessageBatchEntry, _Mapping]]] = ..., max_entries: _Optional[int] = ...) -> None: ...

class SendMessageBatchEntry(_message.Message):
    __slots__ = ("id", "message_body", "delay_seconds", "message_attributes")
    class MessageAttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: MessageAttributeValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[MessageAttributeValue, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_BODY_FIELD_NUMBER: _ClassVar[int]
    DELAY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    message_body: bytes
    delay_seconds: int
    message_attributes: _containers.MessageMap[str, MessageAttributeValue]
    def __init__(self, id: _Optional[str] = ..., message_body: _Optional[bytes] = ..., delay_seconds: _Optional[int] = ..., message_attributes: _Optional[_Mapping[str, MessageAttributeValue]] = ...) -> None: ...

class SendMessageBatchResponse(_message.Message):
    __slots__ = ("results", "failed")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SendMessageBatchResult]
    failed: int
    def __init__(self, results: _Optional[_Iterable[_Union[SendMessageBatchResult, _Mapping]]] = ..., failed: _Optional[int] = ...) -> None: ...

class SendMessageBatchResult(_message.Message):
    __slots__ = ("id", "message_id", "md5_of_message_attributes", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    MD5_OF_MESSAGE_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    message_id: str
    md5_of_message_attributes: str
    error: BatchError
    def __init__(self, id: _Optional[str] = ..., message_id: _Optional[str] = ..., md5_of_message_attributes: _Optional[str] = ..., error: _Optional[_Union[BatchError, _Mapping]] = ...) -> None: ...

class BatchError(_message.Message):
    __slots__ = ("code", "message", "sender_fault")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SENDER_FAULT_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    sender_fault: bool
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., sender_fault: _Optional[bool] = ...) -> None: ...

class ReceiveMessageRequest(_message.Message):
    __slots__ = ("queue_name", "max_number_of_messages", "visibility_timeout", "wait_time_seconds", "max_entries")
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_NUMBER_OF_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    WAIT_TIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    max_number_of_messages: int
    visibility_timeout: int
    wait_time_seconds: int
    max_entries: int
    def __init__(self, queue_name: _Optional[str] = ..., max_number_of_messages: _Optional[int] = ..., visibility_timeout: _Optional[int] = ..., wait_time_seconds: _Optional[int] = ..., max_entries: _Optional[int] = ...) -> None: ...

class ReceiveMessageResponse(_message.Message):
    __slots__ = ("messages",)
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    def __init__(self, messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("message_id", "receipt_handle", "body", "message_attributes", "md5_of_message_attributes", "receive_count", "sent_timestamp", "first_receive_timestamp", "sender_id", "dead_letter_source_arn")
    class MessageAttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: MessageAttributeValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[MessageAttributeValue, _Mapping]] = ...) -> None: ...
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_HANDLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    MD5_OF_MESSAGE_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_COUNT_FIELD_NUMBER: _ClassVar[int]
    SENT_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    FIRST_RECEIVE_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_SOURCE_ARN_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    receipt_handle: str
    body: bytes
    message_attributes: _containers.MessageMap[str, MessageAttributeValue]
    md5_of_message_attributes: str
    receive_count: int
    sent_timestamp: int
    first_receive_timestamp: int
    sender_id: str
    dead_letter_source_arn: str
    def __init__(self, message_id: _Optional[str] = ..., receipt_handle: _Optional[str] = ..., body: _Optional[bytes] = ..., message_attributes: _Optional[_Mapping[str, MessageAttributeValue]] = ..., md5_of_message_attributes: _Optional[str] = ..., receive_count: _Optional[int] = ..., sent_timestamp: _Optional[int] = ..., first_receive_timestamp: _Optional[int] = ..., sender_id: _Optional[str] = ..., dead_letter_source_arn: _Optional[str] = ...) -> None: ...

class ReceiveMessageStreamRequest(_message.Message):
    __slots__ = ("queue_name", "max_number_of_messages", "visibility_timeout", "credit")
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_NUMBER_OF_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    max_number_of_messages: int
    visibility_timeout: int
    credit: int
    def __init__(self, queue_name: _Optional[str] = ..., max_number_of_messages: _Optional[int] = ..., visibility_timeout: _Optional[int] = ..., credit: _Optional[int] = ...) -> None: ...

class DeleteMessageRequest(_message.Message):
    __slots__ = ("queue_name", "receipt_handle")
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_HANDLE_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    receipt_handle: str
    def __init__(self, queue_name: _Optional[str] = ..., receipt_handle: _Optional[str] = ...) -> None: ...

class DeleteMessageResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeleteMessageBatchRequest(_message.Message):
    __slots__ = ("queue_name", "entries", "max_entries")
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    MAX_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    entries: _containers.RepeatedCompositeFieldContainer[DeleteMessageBatchEntry]
    max_entries: int
    def __init__(self, queue_name: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[DeleteMessageBatchEntry, _Mapping]]] = ..., max_entries: _Optional[int] = ...) -> None: ...

class DeleteMessageBatchEntry(_message.Message):
    __slots__ = ("id", "receipt_handle")
    ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_HANDLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    receipt_handle: str
    def __init__(self, id: _Optional[str] = ..., receipt_handle: _Optional[str] = ...) -> None: ...

class DeleteMessageBatchResponse(_message.Message):
    __slots__ = ("results", "failed")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BatchResult]
    failed: int
    def __init__(self, results: _Optional[_Iterable[_Union[BatchResult, _Mapping]]] = ..., failed: _Optional[int] = ...) -> None: ...

class BatchResult(_message.Message):
    __slots__ = ("id", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    error: BatchError
    def __init__(self, id: _Optional[str] = ..., error: _Optional[_Union[BatchError, _Mapping]] = ...) -> None: ...

class ChangeMessageVisibilityRequest(_message.Message):
    __slots__ = ("queue_name", "receipt_handle", "visibility_timeout")
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_HANDLE_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    receipt_handle: str
    visibility_timeout: int
    def __init__(self, queue_name: _Optional[str] = ..., receipt_handle: _Optional[str] = ..., visibility_timeout: _Optional[int] = ...) -> None: ...

class ChangeMessageVisibilityResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ChangeMessageVisibilityBatchRequest(_message.Message):
    __slots__ = ("queue_name", "entries", "max_entries")
    QUEUE_NAME_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    MAX_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    queue_name: str
    entries: _containers.RepeatedCompositeFieldContainer[ChangeMessageVisibilityBatchEntry]
    max_entries: int
    def __init__(self, queue_name: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[ChangeMessageVisibilityBatchEntry, _Mapping]]] = ..., max_entries: _Optional[int] = ...) -> None: ...

class ChangeMessageVisibilityBatchEntry(_message.Message):
    __slots__ = ("id", "receipt_handle", "visibility_timeout")
    ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_HANDLE_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    id: str
    receipt_handle: str
    visibility_timeout: int
    def __init__(self, id: _Optional[str] = ..., receipt_handle: _Optional[str] = ..., visibility_timeout: _Optional[int] = ...) -> None: ...

class ChangeMessageVisibilityBatchResponse(_message.Message):
    __slots__ = ("results", "failed")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BatchResult]
    failed: int
    def __init__(self, results: _Optional[_Iterable[_Union[BatchResult, _Mapping]]] = ..., failed: _Optional[int] = ...) -> None: ...

class GetServerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetServerInfoResponse(_message.Message):
    __slots__ = ("account_id", "region", "version", "max_batch_entries")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    region: str
    version: str
    max_batch_entries: int
    def __init__(self, account_id: _Optional[str] = ..., region: _Optional[str] = ..., version: _Optional[str] = ..., max_batch_entries: _Optional[int] = ...) -> None: ...
