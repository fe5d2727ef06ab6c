//! `grpc://host:port`: sqsfast's gRPC API with its batch RPCs (up to 1000 entries), one HTTP/2
//! connection per producer and consumer.
//!
//! The three RPCs of the hot loop (batch send, receive, batch delete) are written and read by hand
//! ([`wire`]): requests straight from the runner's bodies and tokens, replies read in place, the
//! fields a load generator does not use (message ids, sender ids, timestamps, attributes) stepped
//! over, as a client that only wants bodies would. The rest uses the generated client.

mod wire;

use crate::driver::{Conn, Driver, Error, Received, Token};
use crate::pb::{self, queue_service_client::QueueServiceClient};
use bytes::Bytes;
use hyper_util::rt::TokioIo;
use prost::Message as _;
use sqsfast_server::net::Coalesced;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tonic::codegen::Service;
use tonic::codegen::http::Uri;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};

/// Replies of `SendMessageBatch`, `ReceiveMessage` and `DeleteMessageBatch` with only the fields
/// the runner reads, decoded by prost; tags as in `proto/sqsfast/v1/queue.proto`. A batch reply
/// that reports failed entries is read with these, for its first error.
pub mod lean {
    use super::pb::BatchError;
    use bytes::Bytes;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ReceiveMessageResponse {
        #[prost(message, repeated, tag = "1")]
        pub messages: Vec<Message>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Message {
        #[prost(string, tag = "2")]
        pub receipt_handle: String,
        #[prost(bytes = "bytes", tag = "3")]
        pub body: Bytes,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SendMessageBatchResponse {
        #[prost(message, repeated, tag = "1")]
        pub results: Vec<SendResult>,
        #[prost(uint32, tag = "2")]
        pub failed: u32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SendResult {
        #[prost(message, optional, tag = "4")]
        pub error: Option<BatchError>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct DeleteMessageBatchResponse {
        #[prost(message, repeated, tag = "1")]
        pub results: Vec<DeleteResult>,
        #[prost(uint32, tag = "2")]
        pub failed: u32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct DeleteResult {
        #[prost(message, optional, tag = "2")]
        pub error: Option<BatchError>,
    }
}

pub struct Grpc {
    endpoint: Endpoint,
    url: String,
}

impl Grpc {
    /// `addr` is `host:port`.
    ///
    /// # Errors
    /// An address that is not a valid URI authority.
    pub fn new(addr: &str) -> Result<Self, Error> {
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))?
            .connect_timeout(Duration::from_secs(5))
            // Batches of 1000 messages of several KiB: windows large enough to keep them flowing.
            .initial_stream_window_size(Some(4 << 20))
            .initial_connection_window_size(Some(8 << 20));
        Ok(Self {
            endpoint,
            url: format!("grpc://{addr}"),
        })
    }

    async fn client(&self) -> Result<QueueServiceClient<Channel>, Error> {
        let channel = self.endpoint.connect_with_connector(Connector).await?;
        Ok(QueueServiceClient::new(channel)
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20))
    }
}

/// TCP with Nagle's algorithm off, through the same read and write buffers as the server's end
/// ([`Coalesced`]): a batch request leaves in one write rather than one per HTTP/2 frame.
#[derive(Clone, Copy, Debug)]
struct Connector;

impl Service<Uri> for Connector {
    type Response = TokioIo<Coalesced<TcpStream>>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        Box::pin(async move {
            let host = uri.host().unwrap_or("127.0.0.1").trim_matches(['[', ']']);
            let tcp = TcpStream::connect((host, uri.port_u16().unwrap_or(80))).await?;
            tcp.set_nodelay(true)?;
            Ok(TokioIo::new(Coalesced::new(tcp)))
        })
    }
}

impl Driver for Grpc {
    type Conn = GrpcConn;

    fn name(&self) -> String {
        self.url.clone()
    }

    async fn connect(&self) -> Result<GrpcConn, Error> {
        let channel = self.endpoint.connect_with_connector(Connector).await?;
        Ok(GrpcConn {
            grpc: tonic::client::Grpc::new(channel)
                .max_decoding_message_size(64 << 20)
                .max_encoding_message_size(64 << 20),
        })
    }

    async fn create_queue(&self, name: &str) -> Result<String, Error> {
        self.client()
            .await?
            .create_queue(pb::CreateQueueRequest {
                queue_name: name.to_owned(),
                ..Default::default()
            })
            .await?;
        Ok(name.to_owned())
    }

    async fn delete_queue(&self, queue: &str) -> Result<(), Error> {
        self.client()
            .await?
            .delete_queue(pb::DeleteQueueRequest {
                queue_name: queue.to_owned(),
            })
            .await?;
        Ok(())
    }
}

pub struct GrpcConn {
    grpc: tonic::client::Grpc<Channel>,
}

impl GrpcConn {
    /// Calls `path` with `req` and returns the reply's protobuf bytes.
    async fn unary<Req>(&mut self, path: &'static str, req: Req) -> Result<Bytes, Error>
    where
        Req: prost::Message + Send + Sync + 'static,
    {
        self.grpc.ready().await?;
        let resp = self
            .grpc
            .unary(
                tonic::Request::new(req),
                PathAndQuery::from_static(path),
                wire::RawCodec::<Req>::default(),
            )
            .await?;
        Ok(resp.into_inner())
    }
}

fn batch_error(failed: u32, first: Option<&pb::BatchError>) -> Error {
    match first {
        Some(e) => format!("{failed} entries failed, first: {}: {}", e.code, e.message).into(),
        None => format!("{failed} entries failed").into(),
    }
}

impl Conn for GrpcConn {
    async fn send(&mut self, queue: &str, bodies: &[Bytes]) -> Result<(), Error> {
        let req = wire::Batch {
            queue: queue.to_owned(),
            values: bodies.to_vec(),
        };
        let reply = self
            .unary("/sqsfast.v1.QueueService/SendMessageBatch", req)
            .await?;
        let failed = wire::failed(&reply, "SendMessageBatch")?;
        if failed > 0 {
            let r = lean::SendMessageBatchResponse::decode(reply)?;
            let first = r.results.iter().find_map(|e| e.error.as_ref());
            return Err(batch_error(failed, first));
        }
        Ok(())
    }

    async fn receive(
        &mut self,
        queue: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Received>, Error> {
        let req = pb::ReceiveMessageRequest {
            queue_name: queue.to_owned(),
            max_number_of_messages: Some(max as i64),
            visibility_timeout: None,
            // The API counts whole seconds: a wait under one second rounds up.
            wait_time_seconds: Some(wait.as_secs_f64().ceil() as i64),
            max_entries: 0,
        };
        let reply = self
            .unary("/sqsfast.v1.QueueService/ReceiveMessage", req)
            .await?;
        wire::received(&reply)
    }

    async fn delete(&mut self, queue: &str, tokens: Vec<Token>) -> Result<(), Error> {
        let handles = tokens
            .into_iter()
            .map(|t| match t {
                Token::Bytes(b) => b,
                Token::Str(s) => Bytes::from(s),
                Token::U64(n) => Bytes::from(n.to_string()),
            })
            .collect();
        let req = wire::Batch {
            queue: queue.to_owned(),
            values: handles,
        };
        let reply = self
            .unary("/sqsfast.v1.QueueService/DeleteMessageBatch", req)
            .await?;
        let failed = wire::failed(&reply, "DeleteMessageBatch")?;
        if failed > 0 {
            let r = lean::DeleteMessageBatchResponse::decode(reply)?;
            let first = r.results.iter().find_map(|e| e.error.as_ref());
            return Err(batch_error(failed, first));
        }
        Ok(())
    }
}
