//! Generates the gRPC code of `proto/sqsfast/v1/queue.proto` at build time. The proto is parsed by
//! protox (pure Rust), so building needs no `protoc` installed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let file = root.join("sqsfast/v1/queue.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    let fds = protox::compile([&file], [&root])?;
    tonic_prost_build::configure()
        // Decode failures become INVALID_ARGUMENT (prost's codec says INTERNAL).
        .codec_path("crate::grpc::codec::Codec")
        // Sent bodies as `Bytes`: slices of the request, handed to the engine without a copy.
        .bytes(".sqsfast.v1.SendMessageRequest.message_body")
        // Batch send and delete requests, and their entries with ids and receipt handles as
        // slices of the request (grpc/request.rs).
        .extern_path(
            ".sqsfast.v1.SendMessageBatchEntry",
            "crate::grpc::request::SendMessageBatchEntry",
        )
        .extern_path(
            ".sqsfast.v1.DeleteMessageBatchEntry",
            "crate::grpc::request::DeleteMessageBatchEntry",
        )
        .extern_path(
            ".sqsfast.v1.SendMessageBatchRequest",
            "crate::grpc::request::SendMessageBatchRequest",
        )
        .extern_path(
            ".sqsfast.v1.DeleteMessageBatchRequest",
            "crate::grpc::request::DeleteMessageBatchRequest",
        )
        // Receive and batch replies are encoded straight from the engine's messages and results
        // (grpc/reply.rs).
        .extern_path(
            ".sqsfast.v1.DeleteMessageBatchResponse",
            "crate::grpc::reply::BatchResponse",
        )
        .extern_path(
            ".sqsfast.v1.ChangeMessageVisibilityBatchResponse",
            "crate::grpc::reply::BatchResponse",
        )
        .extern_path(
            ".sqsfast.v1.ReceiveMessageResponse",
            "crate::grpc::reply::ReceiveMessageResponse",
        )
        .extern_path(
            ".sqsfast.v1.SendMessageBatchResponse",
            "crate::grpc::reply::SendMessageBatchResponse",
        )
        .compile_fds(fds)?;
    Ok(())
}
