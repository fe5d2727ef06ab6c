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
use hyper::body::Incoming;
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use prost::Message as _;
use sqsfast_server::net::Coalesced;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tonic::codegen::Service;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::codegen::http::{Request, Response, Uri};
use tonic::transport::{Channel, Endpoint};

/// The settings of the hot loop's HTTP/2 connections, as [`Endpoint`] has them for the rest.
const STREAM_WINDOW: u32 = 4 << 20;
const CONNECTION_WINDOW: u32 = 8 << 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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
    origin: Uri,
    url: String,
}

impl Grpc {
    /// `addr` is `host:port`.
    ///
    /// # Errors
    /// An address that is not a valid URI authority.
    pub fn new(addr: &str) -> Result<Self, Error> {
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))?
            .connect_timeout(CONNECT_TIMEOUT)
            // Batches of 1000 messages of several KiB: windows large enough to keep them flowing.
            .initial_stream_window_size(Some(STREAM_WINDOW))
            .initial_connection_window_size(Some(CONNECTION_WINDOW));
        Ok(Self {
            origin: endpoint.uri().clone(),
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
        let (grpc, send) = h2_client(&self.origin).await?;
        Ok(GrpcConn {
            grpc,
            send,
            origin: self.origin.clone(),
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

/// A producer's or consumer's own HTTP/2 connection, on hyper's client straight: a [`Channel`]
/// would first hand every call through a queue to a task of its own.
pub struct GrpcConn {
    grpc: tonic::client::Grpc<H2>,
    /// The connection under `grpc`, to see whether it has closed.
    send: http2::SendRequest<tonic::body::Body>,
    origin: Uri,
}

async fn h2_client(
    origin: &Uri,
) -> Result<
    (
        tonic::client::Grpc<H2>,
        http2::SendRequest<tonic::body::Body>,
    ),
    Error,
> {
    let io = tokio::time::timeout(CONNECT_TIMEOUT, Connector.call(origin.clone()))
        .await
        .map_err(|_| format!("connecting to {origin} timed out"))??;
    let (send, conn) = http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .handshake(io)
        .await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let grpc = tonic::client::Grpc::with_origin(H2(send.clone()), origin.clone())
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20);
    Ok((grpc, send))
}

/// Whether a call failed before the server took it up, so that making it again cannot repeat it:
/// hyper cancels the calls it still holds when their connection closes, and a server's GOAWAY
/// fails the streams it will not process (those past its last stream id, RFC 9113 section 6.8).
fn not_sent(status: &tonic::Status) -> bool {
    let Some(e) = std::error::Error::source(status).and_then(|e| e.downcast_ref::<hyper::Error>())
    else {
        return false;
    };
    e.is_canceled()
        || std::error::Error::source(e)
            .and_then(|e| e.downcast_ref::<h2::Error>())
            .is_some_and(|e| e.is_go_away() && e.is_remote())
}

impl GrpcConn {
    /// Calls `path` with the request `req` makes and returns the reply's protobuf bytes. A closed
    /// connection (the server's `max_connection_age_seconds`, idle timeout or restart) is replaced
    /// first, and a call it failed before sending is made once more on the new one.
    async fn unary<Req>(
        &mut self,
        path: &'static str,
        req: impl Fn() -> Req,
    ) -> Result<Bytes, Error>
    where
        Req: prost::Message + Send + Sync + 'static,
    {
        for first in [true, false] {
            if self.send.is_closed() {
                (self.grpc, self.send) = h2_client(&self.origin).await?;
            }
            // Not ready: the connection closed since, and nothing was sent.
            if let Err(e) = self.grpc.ready().await {
                if first {
                    (self.grpc, self.send) = h2_client(&self.origin).await?;
                    continue;
                }
                return Err(e.into());
            }
            let sent = self
                .grpc
                .unary(
                    tonic::Request::new(req()),
                    PathAndQuery::from_static(path),
                    wire::RawCodec::<Req>::default(),
                )
                .await;
            match sent {
                Ok(resp) => return Ok(resp.into_inner()),
                Err(status) if first && not_sent(&status) => {
                    (self.grpc, self.send) = h2_client(&self.origin).await?;
                }
                Err(status) => return Err(status.into()),
            }
        }
        unreachable!("the second attempt returns")
    }
}

/// hyper's HTTP/2 client as the service under tonic's `Grpc`.
#[derive(Clone, Debug)]
struct H2(http2::SendRequest<tonic::body::Body>);

impl Service<Request<tonic::body::Body>> for H2 {
    type Response = Response<Incoming>;
    type Error = hyper::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Incoming>, hyper::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), hyper::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request<tonic::body::Body>) -> Self::Future {
        Box::pin(self.0.send_request(req))
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
        let values: Arc<[Bytes]> = bodies.into();
        let req = || wire::Batch {
            queue: queue.to_owned(),
            values: values.clone(),
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
        let req = || pb::ReceiveMessageRequest {
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
        let handles: Arc<[Bytes]> = tokens
            .into_iter()
            .map(|t| match t {
                Token::Bytes(b) => b,
                Token::Str(s) => Bytes::from(s),
                Token::U64(n) => Bytes::from(n.to_string()),
            })
            .collect();
        let req = || wire::Batch {
            queue: queue.to_owned(),
            values: handles.clone(),
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
