//! The one mapping from engine errors to gRPC statuses.
//!
//! An [`Error`] becomes a status whose gRPC code says what kind of failure it is, whose message is
//! the engine's, and which names the SQS error code twice: in the status details as a
//! `google.rpc.ErrorInfo` (reason = the code, domain = [`DOMAIN`]) for any gRPC client, and in the
//! trailing metadata key [`CODE_KEY`], which clients read without decoding the details.

use sqsfast_core::{Error, ErrorCode};
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};

/// The `ErrorInfo.domain` of sqsfast's errors.
pub const DOMAIN: &str = "sqsfast";
/// The trailing metadata key holding the SQS error code.
pub const CODE_KEY: &str = "sqsfast-error-code";

/// The gRPC code of an SQS error code.
pub fn grpc_code(code: ErrorCode) -> Code {
    use ErrorCode::*;
    match code {
        QueueDoesNotExist => Code::NotFound,
        QueueNameExists => Code::AlreadyExists,
        QueueDeletedRecently | PurgeQueueInProgress | MessageNotInflight => {
            Code::FailedPrecondition
        }
        OverLimit => Code::ResourceExhausted,
        UnsupportedOperation => Code::Unimplemented,
        InternalFailure => Code::Internal,
        ServiceUnavailable => Code::Unavailable,
        ReceiptHandleIsInvalid
        | TooManyEntriesInBatchRequest
        | EmptyBatchRequest
        | BatchEntryIdsNotDistinct
        | BatchRequestTooLong
        | InvalidBatchEntryId
        | InvalidAttributeName
        | InvalidAttributeValue
        | InvalidMessageContents
        | InvalidIdFormat
        | InvalidParameterValue
        | MissingParameter => Code::InvalidArgument,
        // A code newer than this mapping: by who is at fault.
        #[allow(unreachable_patterns)]
        other if other.sender_fault() => Code::InvalidArgument,
        #[allow(unreachable_patterns)]
        _ => Code::Internal,
    }
}

/// The gRPC status of an engine error.
pub fn status(err: &Error) -> Status {
    let name = err.code.name();
    let mut metadata = MetadataMap::new();
    metadata.insert(CODE_KEY, MetadataValue::from_static(name));
    Status::with_error_details_and_metadata(
        grpc_code(err.code),
        err.message.clone(),
        ErrorDetails::with_error_info(name, DOMAIN, std::collections::HashMap::new()),
        metadata,
    )
}

/// Converts engine results in handlers: `queue.send(m).map_err(to_status)?`.
pub fn to_status(err: Error) -> Status {
    status(&err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_to_its_status() {
        let table = [
            (ErrorCode::QueueDoesNotExist, Code::NotFound),
            (ErrorCode::QueueNameExists, Code::AlreadyExists),
            (ErrorCode::QueueDeletedRecently, Code::FailedPrecondition),
            (ErrorCode::PurgeQueueInProgress, Code::FailedPrecondition),
            (ErrorCode::ReceiptHandleIsInvalid, Code::InvalidArgument),
            (ErrorCode::MessageNotInflight, Code::FailedPrecondition),
            (
                ErrorCode::TooManyEntriesInBatchRequest,
                Code::InvalidArgument,
            ),
            (ErrorCode::EmptyBatchRequest, Code::InvalidArgument),
            (ErrorCode::BatchEntryIdsNotDistinct, Code::InvalidArgument),
            (ErrorCode::BatchRequestTooLong, Code::InvalidArgument),
            (ErrorCode::InvalidBatchEntryId, Code::InvalidArgument),
            (ErrorCode::UnsupportedOperation, Code::Unimplemented),
            (ErrorCode::OverLimit, Code::ResourceExhausted),
            (ErrorCode::InvalidAttributeName, Code::InvalidArgument),
            (ErrorCode::InvalidAttributeValue, Code::InvalidArgument),
            (ErrorCode::InvalidMessageContents, Code::InvalidArgument),
            (ErrorCode::InvalidIdFormat, Code::InvalidArgument),
            (ErrorCode::InvalidParameterValue, Code::InvalidArgument),
            (ErrorCode::MissingParameter, Code::InvalidArgument),
            (ErrorCode::InternalFailure, Code::Internal),
            (ErrorCode::ServiceUnavailable, Code::Unavailable),
        ];
        assert_eq!(table.len(), ErrorCode::ALL.len(), "a code without a row");
        for (code, grpc) in table {
            let s = status(&Error::new(code, "why"));
            assert_eq!(s.code(), grpc, "{code}");
            assert_eq!(s.message(), "why");
            assert_eq!(
                s.metadata().get(CODE_KEY).and_then(|v| v.to_str().ok()),
                Some(code.name())
            );
            let info = s
                .get_details_error_info()
                .expect("ErrorInfo in the details");
            assert_eq!(
                (info.reason.as_str(), info.domain.as_str()),
                (code.name(), DOMAIN)
            );
        }
    }
}
