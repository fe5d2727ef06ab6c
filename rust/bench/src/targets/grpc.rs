//! `grpc://host:port`: sqsfast's gRPC API with its batch RPCs (up to 1000 entries), one HTTP/2
//! connection per producer and consumer.
//!
//! Requests are the generated messages; replies of the hot RPCs are decoded into the few fields a
//! load generator needs ([`lean`]): protobuf skips the other fields (message ids, sender ids,
//! timestamps, attributes) without materialising them, as a client that only wants bodies would.

use crate::driver::{Conn, Driver, Error, Received, Token};
use crate::pb::{self, queue_service_client::QueueServiceClient};
use bytes::Bytes;
use hyper_util::rt::TokioIo;
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
use tonic_prost::ProstCodec;

/// Replies of `SendMessageBatch`, `ReceiveMessage` and `DeleteMessageBatch` with only the fields
/// the runner reads; tags as in `proto/sqsfast/v1/queue.proto`.
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
    async fn unary<Req, Resp>(&mut self, path: &'static str, req: Req) -> Result<Resp, Error>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        self.grpc.ready().await?;
        let codec = ProstCodec::<Req, Resp>::default();
        let resp = self
            .grpc
            .unary(
                tonic::Request::new(req),
                PathAndQuery::from_static(path),
                codec,
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
        let entries = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| pb::SendMessageBatchEntry {
                id: i.to_string(),
                message_body: b.clone(),
                ..Default::default()
            })
            .collect();
        let r: lean::SendMessageBatchResponse = self
            .unary(
                "/sqsfast.v1.QueueService/SendMessageBatch",
                pb::SendMessageBatchRequest {
                    queue_name: queue.to_owned(),
                    entries,
                    max_entries: 0,
                },
            )
            .await?;
        if r.failed > 0 {
            let first = r.results.iter().find_map(|e| e.error.as_ref());
            return Err(batch_error(r.failed, first));
        }
        Ok(())
    }

    async fn receive(
        &mut self,
        queue: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Received>, Error> {
        let r: lean::ReceiveMessageResponse = self
            .unary(
                "/sqsfast.v1.QueueService/ReceiveMessage",
                pb::ReceiveMessageRequest {
                    queue_name: queue.to_owned(),
                    max_number_of_messages: Some(max as i64),
                    visibility_timeout: None,
                    // The API counts whole seconds: a wait under one second rounds up.
                    wait_time_seconds: Some(wait.as_secs_f64().ceil() as i64),
                    max_entries: 0,
                },
            )
            .await?;
        Ok(r.messages
            .into_iter()
            .map(|m| Received {
                body: m.body,
                token: Token::Str(m.receipt_handle),
            })
            .collect())
    }

    async fn delete(&mut self, queue: &str, tokens: Vec<Token>) -> Result<(), Error> {
        let entries = tokens
            .into_iter()
            .enumerate()
            .map(|(i, t)| pb::DeleteMessageBatchEntry {
                id: i.to_string(),
                receipt_handle: match t {
                    Token::Str(s) => s,
                    Token::U64(n) => n.to_string(),
                },
            })
            .collect();
        let r: lean::DeleteMessageBatchResponse = self
            .unary(
                "/sqsfast.v1.QueueService/DeleteMessageBatch",
                pb::DeleteMessageBatchRequest {
                    queue_name: queue.to_owned(),
                    entries,
                    max_entries: 0,
                },
            )
            .await?;
        if r.failed > 0 {
            let first = r.results.iter().find_map(|e| e.error.as_ref());
            return Err(batch_error(r.failed, first));
        }
        Ok(())
    }
}
