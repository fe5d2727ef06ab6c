//! The one error type of the engine. Every variant carries the SQS error code users know, so each
//! front end maps it the same way: a Python exception class, a gRPC status, an SQS error body.

use std::fmt;

/// The SQS error codes the engine produces.
///
/// Names are the shape names of the AWS JSON protocol (`__type`); [`ErrorCode::legacy_code`] gives the
/// code of the Query protocol and of the `x-amzn-query-error` header. Codes are never renumbered or reused.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    QueueDoesNotExist,
    QueueNameExists,
    QueueDeletedRecently,
    PurgeQueueInProgress,
    ReceiptHandleIsInvalid,
    MessageNotInflight,
    TooManyEntriesInBatchRequest,
    EmptyBatchRequest,
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    InvalidBatchEntryId,
    UnsupportedOperation,
    OverLimit,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidMessageContents,
    InvalidIdFormat,
    InvalidParameterValue,
    MissingParameter,
    /// An I/O or internal failure (storage); never bad input.
    InternalFailure,
    ServiceUnavailable,
}

impl ErrorCode {
    /// Every code, for front ends that build tables from them.
    pub const ALL: &'static [ErrorCode] = &[
        Self::QueueDoesNotExist,
        Self::QueueNameExists,
        Self::QueueDeletedRecently,
        Self::PurgeQueueInProgress,
        Self::ReceiptHandleIsInvalid,
        Self::MessageNotInflight,
        Self::TooManyEntriesInBatchRequest,
        Self::EmptyBatchRequest,
        Self::BatchEntryIdsNotDistinct,
        Self::BatchRequestTooLong,
        Self::InvalidBatchEntryId,
        Self::UnsupportedOperation,
        Self::OverLimit,
        Self::InvalidAttributeName,
        Self::InvalidAttributeValue,
        Self::InvalidMessageContents,
        Self::InvalidIdFormat,
        Self::InvalidParameterValue,
        Self::MissingParameter,
        Self::InternalFailure,
        Self::ServiceUnavailable,
    ];

    /// The shape name, as in `com.amazonaws.sqs#<name>` and in sqsfast's exception class names.
    pub fn name(self) -> &'static str {
        match self {
            Self::QueueDoesNotExist => "QueueDoesNotExist",
            Self::QueueNameExists => "QueueNameExists",
            Self::QueueDeletedRecently => "QueueDeletedRecently",
            Self::PurgeQueueInProgress => "PurgeQueueInProgress",
            Self::ReceiptHandleIsInvalid => "ReceiptHandleIsInvalid",
            Self::MessageNotInflight => "MessageNotInflight",
            Self::TooManyEntriesInBatchRequest => "TooManyEntriesInBatchRequest",
            Self::EmptyBatchRequest => "EmptyBatchRequest",
            Self::BatchEntryIdsNotDistinct => "BatchEntryIdsNotDistinct",
            Self::BatchRequestTooLong => "BatchRequestTooLong",
            Self::InvalidBatchEntryId => "InvalidBatchEntryId",
            Self::UnsupportedOperation => "UnsupportedOperation",
            Self::OverLimit => "OverLimit",
            Self::InvalidAttributeName => "InvalidAttributeName",
            Self::InvalidAttributeValue => "InvalidAttributeValue",
            Self::InvalidMessageContents => "InvalidMessageContents",
            Self::InvalidIdFormat => "InvalidIdFormat",
            Self::InvalidParameterValue => "InvalidParameterValue",
            Self::MissingParameter => "MissingParameter",
            Self::InternalFailure => "InternalFailure",
            Self::ServiceUnavailable => "ServiceUnavailable",
        }
    }

    /// The code of the Query protocol and of the `x-amzn-query-error` header.
    pub fn legacy_code(self) -> &'static str {
        match self {
            Self::QueueDoesNotExist => "AWS.SimpleQueueService.NonExistentQueue",
            Self::QueueNameExists => "QueueAlreadyExists",
            Self::QueueDeletedRecently => "AWS.SimpleQueueService.QueueDeletedRecently",
            Self::PurgeQueueInProgress => "AWS.SimpleQueueService.PurgeQueueInProgress",
            Self::MessageNotInflight => "AWS.SimpleQueueService.MessageNotInflight",
            Self::TooManyEntriesInBatchRequest => {
                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
            }
            Self::EmptyBatchRequest => "AWS.SimpleQueueService.EmptyBatchRequest",
            Self::BatchEntryIdsNotDistinct => "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            Self::BatchRequestTooLong => "AWS.SimpleQueueService.BatchRequestTooLong",
            Self::InvalidBatchEntryId => "AWS.SimpleQueueService.InvalidBatchEntryId",
            Self::UnsupportedOperation => "AWS.SimpleQueueService.UnsupportedOperation",
            other => other.name(),
        }
    }

    /// The HTTP status SQS answers with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::PurgeQueueInProgress | Self::OverLimit => 403,
            Self::ReceiptHandleIsInvalid => 404,
            Self::InternalFailure => 500,
            Self::ServiceUnavailable => 503,
            _ => 400,
        }
    }

    /// Whether the caller is at fault (`Sender`) rather than the service (`Receiver`).
    pub fn sender_fault(self) -> bool {
        !matches!(self, Self::InternalFailure | Self::ServiceUnavailable)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An engine error: an SQS error code and a message for people.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn queue_does_not_exist() -> Self {
        Self::new(
            ErrorCode::QueueDoesNotExist,
            "The specified queue does not exist or you do not have access to it.",
        )
    }

    pub(crate) fn invalid_parameter(name: &str, value: impl fmt::Display, reason: &str) -> Self {
        Self::new(
            ErrorCode::InvalidParameterValue,
            format!("Value {value} for parameter {name} is invalid. Reason: {reason}"),
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_mapped() {
        let mut names = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(names.insert(code.name()), "duplicate {code}");
            assert!(!code.legacy_code().is_empty());
        }
        assert_eq!(
            ErrorCode::QueueDoesNotExist.legacy_code(),
            "AWS.SimpleQueueService.NonExistentQueue"
        );
        assert_eq!(
            ErrorCode::QueueNameExists.legacy_code(),
            "QueueAlreadyExists"
        );
        assert_eq!(ErrorCode::ReceiptHandleIsInvalid.http_status(), 404);
        assert_eq!(ErrorCode::OverLimit.http_status(), 403);
        assert!(!ErrorCode::InternalFailure.sender_fault());
    }
}
