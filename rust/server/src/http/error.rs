//! Errors of the SQS HTTP API, encoded as SQS encodes them.
//!
//! One type, [`ApiError`], for every failure a request can meet; [`ApiError::from_core`] is the one
//! mapping from engine errors. A JSON-protocol error is `{"__type":"com.amazonaws.sqs#<Shape>",
//! "message":…}` with the header `x-amzn-query-error: <legacy code>;Sender|Receiver`; a Query-protocol
//! error is an XML `ErrorResponse` whose `Code` is the legacy code.

use sqsfast_core::{Error as CoreError, ErrorCode};

/// An error answer: the JSON shape name, the legacy (Query) code, the HTTP status, who is at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The shape name (`__type` suffix of the JSON protocol).
    pub shape: &'static str,
    /// The `__type` namespace: SQS's own errors and AWS common errors live in `com.amazonaws.sqs`;
    /// protocol-level failures come from the service framework (`com.amazon.coral.service`).
    pub namespace: &'static str,
    /// The code of the Query protocol and of the `x-amzn-query-error` header.
    pub legacy_code: &'static str,
    pub status: u16,
    pub sender_fault: bool,
    pub message: String,
}

impl ApiError {
    const SQS: &'static str = "com.amazonaws.sqs";

    /// The one mapping from engine errors to SQS wire errors.
    pub fn from_core(e: &CoreError) -> Self {
        Self::from_code(e.code, e.message.clone())
    }

    /// An error with one of the engine's codes.
    pub fn from_code(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            shape: code.name(),
            namespace: Self::SQS,
            legacy_code: code.legacy_code(),
            status: code.http_status(),
            sender_fault: code.sender_fault(),
            message: message.into(),
        }
    }

    fn common(shape: &'static str, status: u16, message: impl Into<String>) -> Self {
        Self {
            shape,
            namespace: Self::SQS,
            legacy_code: shape,
            status,
            sender_fault: status < 500,
            message: message.into(),
        }
    }

    /// `MissingParameter`: a required member is absent.
    pub fn missing(name: &str) -> Self {
        Self::from_code(
            ErrorCode::MissingParameter,
            format!("The request must contain the parameter {name}."),
        )
    }

    /// `InvalidParameterValue` with SQS's wording.
    pub fn invalid(name: &str, value: impl std::fmt::Display, reason: &str) -> Self {
        Self::from_code(
            ErrorCode::InvalidParameterValue,
            format!("Value {value} for parameter {name} is invalid. Reason: {reason}"),
        )
    }

    /// `QueueDoesNotExist`, as SQS words it.
    pub fn no_queue() -> Self {
        Self::from_code(
            ErrorCode::QueueDoesNotExist,
            "The specified queue does not exist or you do not have access to it.",
        )
    }

    /// An action this API does not know (or a request naming none).
    pub fn invalid_action(action: &str) -> Self {
        Self::common(
            "InvalidAction",
            400,
            format!("The action {action} is not valid for this endpoint."),
        )
    }

    /// A Query request without `Action`.
    pub fn missing_action() -> Self {
        Self::common(
            "MissingAction",
            400,
            "The request must contain the parameter Action.",
        )
    }

    /// A form body or query string that does not decode.
    pub fn malformed_query(reason: &str) -> Self {
        Self::common(
            "MalformedQueryString",
            404,
            format!("The query string is malformed: {reason}"),
        )
    }

    /// A JSON body that does not parse, or whose members have the wrong types.
    pub fn serialization(reason: impl std::fmt::Display) -> Self {
        Self {
            shape: "SerializationException",
            namespace: "com.amazon.coral.service",
            legacy_code: "SerializationException",
            status: 400,
            sender_fault: true,
            message: format!("The request body could not be read: {reason}"),
        }
    }

    /// A body past the size limit.
    pub fn too_large(limit: usize) -> Self {
        Self::common(
            "RequestEntityTooLarge",
            413,
            format!("The request body is larger than {limit} bytes."),
        )
    }

    /// `ResourceNotFoundException` (message move tasks).
    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::common("ResourceNotFoundException", 404, message)
    }

    /// The `x-amzn-query-error` header value.
    pub fn query_error_header(&self) -> String {
        format!(
            "{};{}",
            self.legacy_code,
            if self.sender_fault {
                "Sender"
            } else {
                "Receiver"
            }
        )
    }

    /// The JSON `__type`.
    pub fn json_type(&self) -> String {
        format!("{}#{}", self.namespace, self.shape)
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        Self::from_core(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every engine code, case by case: shape, legacy code, HTTP status, fault.
    #[test]
    fn core_codes_map_as_sqs_encodes_them() {
        use ErrorCode::*;
        let table: &[(ErrorCode, &str, &str, u16, bool)] = &[
            (
                QueueDoesNotExist,
                "QueueDoesNotExist",
                "AWS.SimpleQueueService.NonExistentQueue",
                400,
                true,
            ),
            (
                QueueNameExists,
                "QueueNameExists",
                "QueueAlreadyExists",
                400,
                true,
            ),
            (
                QueueDeletedRecently,
                "QueueDeletedRecently",
                "AWS.SimpleQueueService.QueueDeletedRecently",
                400,
                true,
            ),
            (
                PurgeQueueInProgress,
                "PurgeQueueInProgress",
                "AWS.SimpleQueueService.PurgeQueueInProgress",
                403,
                true,
            ),
            (
                ReceiptHandleIsInvalid,
                "ReceiptHandleIsInvalid",
                "ReceiptHandleIsInvalid",
                404,
                true,
            ),
            (
                MessageNotInflight,
                "MessageNotInflight",
                "AWS.SimpleQueueService.MessageNotInflight",
                400,
                true,
            ),
            (
                TooManyEntriesInBatchRequest,
                "TooManyEntriesInBatchRequest",
                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                400,
                true,
            ),
            (
                EmptyBatchRequest,
                "EmptyBatchRequest",
                "AWS.SimpleQueueService.EmptyBatchRequest",
                400,
                true,
            ),
            (
                BatchEntryIdsNotDistinct,
                "BatchEntryIdsNotDistinct",
                "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                400,
                true,
            ),
            (
                BatchRequestTooLong,
                "BatchRequestTooLong",
                "AWS.SimpleQueueService.BatchRequestTooLong",
                400,
                true,
            ),
            (
                InvalidBatchEntryId,
                "InvalidBatchEntryId",
                "AWS.SimpleQueueService.InvalidBatchEntryId",
                400,
                true,
            ),
            (
                UnsupportedOperation,
                "UnsupportedOperation",
                "AWS.SimpleQueueService.UnsupportedOperation",
                400,
                true,
            ),
            (OverLimit, "OverLimit", "OverLimit", 403, true),
            (
                InvalidAttributeName,
                "InvalidAttributeName",
                "InvalidAttributeName",
                400,
                true,
            ),
            (
                InvalidAttributeValue,
                "InvalidAttributeValue",
                "InvalidAttributeValue",
                400,
                true,
            ),
            (
                InvalidMessageContents,
                "InvalidMessageContents",
                "InvalidMessageContents",
                400,
                true,
            ),
            (
                InvalidIdFormat,
                "InvalidIdFormat",
                "InvalidIdFormat",
                400,
                true,
            ),
            (
                InvalidParameterValue,
                "InvalidParameterValue",
                "InvalidParameterValue",
                400,
                true,
            ),
            (
                MissingParameter,
                "MissingParameter",
                "MissingParameter",
                400,
                true,
            ),
            (
                InternalFailure,
                "InternalFailure",
                "InternalFailure",
                500,
                false,
            ),
            (
                ServiceUnavailable,
                "ServiceUnavailable",
                "ServiceUnavailable",
                503,
                false,
            ),
        ];
        assert_eq!(table.len(), ErrorCode::ALL.len(), "a code is missing here");
        for &(code, shape, legacy, status, sender) in table {
            let e = ApiError::from_core(&CoreError::new(code, "m"));
            assert_eq!(e.shape, shape, "{code}");
            assert_eq!(
                e.json_type(),
                format!("com.amazonaws.sqs#{shape}"),
                "{code}"
            );
            assert_eq!(e.legacy_code, legacy, "{code}");
            assert_eq!(e.status, status, "{code}");
            assert_eq!(e.sender_fault, sender, "{code}");
            let fault = if sender { "Sender" } else { "Receiver" };
            assert_eq!(e.query_error_header(), format!("{legacy};{fault}"));
            assert_eq!(e.message, "m");
        }
    }

    #[test]
    fn protocol_errors() {
        let table: &[(ApiError, &str, &str, u16)] = &[
            (
                ApiError::invalid_action("X"),
                "InvalidAction",
                "InvalidAction",
                400,
            ),
            (
                ApiError::missing_action(),
                "MissingAction",
                "MissingAction",
                400,
            ),
            (
                ApiError::malformed_query("x"),
                "MalformedQueryString",
                "MalformedQueryString",
                404,
            ),
            (
                ApiError::serialization("x"),
                "SerializationException",
                "SerializationException",
                400,
            ),
            (
                ApiError::resource_not_found("x"),
                "ResourceNotFoundException",
                "ResourceNotFoundException",
                404,
            ),
            (
                ApiError::missing("QueueUrl"),
                "MissingParameter",
                "MissingParameter",
                400,
            ),
        ];
        for (e, shape, legacy, status) in table {
            assert_eq!(e.shape, *shape);
            assert_eq!(e.legacy_code, *legacy);
            assert_eq!(e.status, *status);
            assert!(e.sender_fault);
        }
        assert_eq!(
            ApiError::serialization("x").json_type(),
            "com.amazon.coral.service#SerializationException"
        );
    }
}
